"""Home Assistant's side of the simulated mower, through a real broker (Debian's mosquitto).

``mower sim --mqtt`` runs as a user would run it; the test plays Home Assistant: it reads the
discovery, presses the buttons the entities offer and watches the state follow, restarts the
broker under the running mower, sends wrong payloads and another mower's commands, and kills
the process to see the broker's last will.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import MAPS
from mqtt_broker import Broker, Watcher

MOWER = str(Path(sys.executable).parent / 'mower')


def status(w: Watcher) -> dict:
    return w.last_json('mower/status') or {}


def test_home_assistant_drives_the_simulated_mower(tmp_path):
    broker = Broker(tmp_path).start()
    w = Watcher(broker.port)
    env = {**os.environ, 'MUJOCO_GL': 'egl'}
    proc = subprocess.Popen(
        [
            MOWER,
            'sim',
            str(MAPS / 'demo_lawn.geojson'),
            '--mqtt',
            f'127.0.0.1:{broker.port}',
            '--speed',
            '10',
            '--no-bag',
            '--json',
            '--out',
            str(tmp_path / 'sim'),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # discovery, availability and the first status, as Home Assistant sees them
        w.wait_for(lambda: w.on('mower/availability')[-1:] == [b'online'], 120, 'online')
        w.wait_for(lambda: status(w).get('state') == 'IDLE', 30, 'IDLE')
        late = Watcher(broker.port)  # Home Assistant starting later finds it all retained
        late.wait_for(lambda: status(late).get('state') == 'IDLE', 10, 'retained status')
        configs = {
            t for t, _, retain in late.messages if t.startswith('homeassistant/') and retain
        }
        assert len(configs) == 12, configs  # 11 entities + 1 zone button
        assert late.on('mower/availability') == [b'online']
        late.close()
        assert status(w)['activity'] == 'docked' and status(w)['zones'] == 1

        # another mower's command and a malformed payload: counted or ignored, never acted on
        w.publish('other_mower/command/start_mowing', 'start_mowing')
        w.publish('mower/command/start_mowing', 'start!')
        w.wait_for(lambda: status(w).get('rejected_commands') == 1, 20, 'the rejection')
        time.sleep(1.0)  # 10 simulated seconds
        assert status(w)['state'] == 'IDLE' and status(w)['rejected_commands'] == 1

        # start_mowing: the state follows into mowing, the blade runs, the mower moves
        w.publish('mower/command/start_mowing', 'start_mowing')
        w.wait_for(lambda: status(w).get('state') == 'MOWING', 60, 'MOWING')
        w.wait_for(lambda: status(w).get('blade_state') == 'on', 60, 'the blade')
        assert status(w)['activity'] == 'mowing'
        result = w.last_json('mower/command_result')
        assert result['command'] == 'start' and result['accepted']

        # the broker restarts under the running mower: the bridge reconnects, says it is
        # online, republishes its discovery and takes commands again
        before = w.connections
        broker.restart()  # mosquitto sends the mower's last will ('offline') as it stops
        w.wait_for(lambda: w.connections > before, 60, 'the watcher back')
        w.wait_for(lambda: w.on('mower/availability')[-1] == b'online', 60, 'online again')
        assert b'offline' in w.on('mower/availability')
        w.wait_for(lambda: status(w).get('state') == 'MOWING', 30, 'status after restart')
        w.publish('mower/command/pause', 'pause')
        w.wait_for(lambda: status(w).get('activity') == 'paused', 30, 'paused')
        assert status(w)['blade_state'] == 'off'
        w.publish('mower/command/start_mowing', 'start_mowing')  # start or resume
        w.wait_for(lambda: status(w).get('state') == 'MOWING', 30, 'resumed')

        # the emergency stop: latched, a problem, wheels and blade stopped
        w.publish('mower/command/emergency_stop', 'PRESS')
        w.wait_for(lambda: status(w).get('emergency_stop') is True, 30, 'emergency stop')
        w.wait_for(lambda: status(w).get('problem') is True, 30, 'problem')
        w.wait_for(lambda: status(w).get('blade_state') == 'off', 10, 'blade off')
        here = (status(w)['x_m'], status(w)['y_m'])
        time.sleep(2.0)  # 20 simulated seconds
        assert (status(w)['x_m'], status(w)['y_m']) == here
        assert 'emergency stop' in status(w)['last_error']
    finally:
        proc.send_signal(signal.SIGKILL)  # no goodbye: the broker's last will speaks
        out = proc.communicate(timeout=30)[0].decode(errors='replace')
    w.wait_for(lambda: w.on('mower/availability')[-1] == b'offline', 30, 'the last will')
    w.close()
    broker.stop()
    assert 'Traceback' not in out, out


def test_mqtt_options_are_checked_before_anything_runs(tmp_path):
    for args, why in (
        (['--mqtt', 'localhost:70000'], 'the port must be a whole number'),
        (['--mqtt', 'maps/demo_lawn.geojson'], 'expected HOST:PORT'),
        (['--mqtt', '--mqtt-prefix', 'a/#'], 'topic_prefix'),
        (['--mqtt', '--speed', '-1'], 'must be at least 0'),
        (['--mqtt', '--drive-test'], 'not with --drive-test'),
        (['--mqtt', '--mqtt-config', str(tmp_path / 'none.yaml')], 'none.yaml'),
    ):
        run = subprocess.run(
            [MOWER, 'sim', str(MAPS / 'demo_lawn.geojson'), '--no-bag', '--out', tmp_path / 'o']
            + args,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, 'MUJOCO_GL': 'egl'},
        )
        assert run.returncode in (1, 2), (args, run.stdout, run.stderr)
        assert why in run.stderr, (args, run.stderr)
        assert 'Traceback' not in run.stderr


class Docked:
    """A stand-in operator: a mower on its dock that records the commands it gets."""

    def __init__(self) -> None:
        from mower_control.operator import StatusTracker

        self.tracker = StatusTracker(zones=1)
        self.tracker.mission('IDLE', '', 0.0)
        self.got: list[tuple[str, int]] = []

    def status(self):
        return self.tracker.status()

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        self.got.append((name, zone))
        return True, 'ok'


def test_login_and_tls_are_used_and_a_wrong_login_gets_nothing(tmp_path):
    from mqtt_broker import make_certificates, password_file

    from mower_integrations.ha_mqtt import HaBridge, MqttSettings

    certs = make_certificates(tmp_path)
    pw = password_file(tmp_path, 'mower', 's3cret word')
    broker = Broker(
        tmp_path,
        extra=f'cafile {certs["ca.crt"]}\ncertfile {certs["server.crt"]}\n'
        f'keyfile {certs["server.key"]}\nallow_anonymous false\npassword_file {pw}\n',
    ).start()
    secret = tmp_path / 'mqtt_password'
    secret.write_text('s3cret word\n')
    wrong = tmp_path / 'wrong_password'
    wrong.write_text('guess\n')
    w = Watcher(broker.port, login=('mower', 's3cret word'), ca_certs=str(certs['ca.crt']))
    base = {
        'port': broker.port,
        'username': 'mower',
        'tls': True,
        'ca_certs': str(certs['ca.crt']),
    }
    good = HaBridge(MqttSettings(**base, password_file=str(secret)), Docked())
    bad_login = HaBridge(
        MqttSettings(**base, password_file=str(wrong), topic_prefix='intruder'), Docked()
    )
    plain = HaBridge(
        MqttSettings(port=broker.port, username='mower', password_file=str(secret),
                     topic_prefix='plain'),
        Docked(),
    )  # fmt: skip
    try:
        for bridge in (good, bad_login, plain):
            bridge.start()
        assert good.connected.wait(20), 'the bridge with the right login and TLS did not connect'
        w.wait_for(lambda: w.on('mower/availability')[-1:] == [b'online'], 20, 'online')
        w.publish('mower/command/dock', 'dock')
        w.wait_for(lambda: good.operator.got == [('dock', 0)], 10, 'the command over TLS')
        assert not bad_login.connected.wait(2) and not plain.connected.is_set()
        topics = {t.split('/')[0] for t, _, _ in w.messages}
        assert 'intruder' not in topics and 'plain' not in topics
    finally:
        for bridge in (good, bad_login, plain):
            bridge.stop()
        w.close()
        broker.stop()


class Recorder:
    """A stand-in paho client: records what is published, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []

    def publish(self, topic: str, payload, qos: int = 0, retain: bool = False) -> None:
        self.published.append((topic, payload))


def test_a_commands_acceptance_goes_out_before_the_missions_answer():
    import json
    import threading

    from mower_integrations.ha_mqtt import HaBridge, MqttSettings

    class Answering(Docked):
        """Queues, and the mission's answer comes on another thread before command returns."""

        bridge: HaBridge

        def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
            answer = threading.Thread(
                target=self.bridge.publish_result, args=(name, zone, True, 'starting')
            )
            answer.start()
            answer.join(0.5)  # the executor's thread answers while the command is in hand
            self.answer = answer
            return True, 'queued (the mission answers next)'

    operator = Answering()
    client = Recorder()
    bridge = HaBridge(MqttSettings(topic_prefix='robot'), operator, client=client)
    operator.bridge = bridge
    assert bridge.handle('robot/command/start_mowing', b'start_mowing')[0]
    operator.answer.join(5)
    results = [json.loads(p)['message'] for t, p in client.published if t.endswith('result')]
    assert results == ['queued (the mission answers next)', 'starting']
