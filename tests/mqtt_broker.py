"""A real MQTT broker for the tests: Debian's mosquitto on a loopback port, started and stopped.

``make install`` installs mosquitto (the Makefile's SYSTEM_PKGS); a machine without it fails
these tests with that message rather than skipping them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest


def mosquitto_binary() -> str:
    """The mosquitto executable (Debian puts it in /usr/sbin)."""
    found = shutil.which('mosquitto') or shutil.which('mosquitto', path='/usr/sbin:/usr/bin')
    if found is None:
        pytest.fail('mosquitto is not installed: `make install` installs it (apt: mosquitto)')
    return found


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto on 127.0.0.1:``port``, anonymous, no persistence; :meth:`restart` keeps port."""

    def __init__(self, folder: Path, port: int | None = None, extra: str = '') -> None:
        """Write the configuration into ``folder``; :meth:`start` runs it.

        ``extra``: more configuration lines (TLS files, a password file); anonymous clients
        are allowed unless ``extra`` says otherwise.
        """
        self.port = port or free_port()
        self.conf = folder / 'mosquitto.conf'
        self.log = folder / 'mosquitto.log'
        anonymous = '' if 'allow_anonymous' in extra else 'allow_anonymous true\n'
        # started as root, mosquitto drops to the user 'mosquitto', who cannot read the test's
        # files; 'user root' keeps it as it was started (mosquitto.conf(5), user)
        user = 'user root\n' if os.geteuid() == 0 else ''
        self.conf.write_text(
            f'listener {self.port} 127.0.0.1\n{anonymous}{user}persistence false\n'
            f'log_dest file {self.log}\nlog_type all\n{extra}'
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        """Start and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [mosquitto_binary(), '-c', str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'mosquitto exited: {self.proc.stderr.read().decode()}')
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('mosquitto did not start in 10 s')

    def stop(self) -> None:
        """Stop it (and wait)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, down_s: float = 0.5) -> None:
        """Stop, stay down ``down_s``, start again on the same port (retained messages lost)."""
        self.stop()
        time.sleep(down_s)
        self.start()


class Watcher:
    """A test client: records every message on ``topics``; publishes commands."""

    def __init__(
        self,
        port: int,
        topics: tuple[str, ...] = ('#',),
        login: tuple[str, str] | None = None,
        ca_certs: str | None = None,
    ) -> None:
        """Connect and subscribe (blocking until subscribed); with a login and TLS if given."""
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f'watch-{port}')
        if login is not None:
            self.client.username_pw_set(*login)
        if ca_certs is not None:
            self.client.tls_set(ca_certs=ca_certs)
        subscribed = threading.Event()
        self.connected = threading.Event()
        self.client.on_message = self._on_message
        self.connections = 0  # subscriptions made (one per connection)
        self.client.on_subscribe = lambda *a: (subscribed.set(), self._connected())
        self.client.on_connect = lambda c, *a: c.subscribe([(t, 1) for t in topics])
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.reconnect_delay_set(1, 2)
        self.client.connect('127.0.0.1', port, 30)
        self.client.loop_start()
        assert subscribed.wait(10), 'the watcher could not subscribe'

    def _connected(self) -> None:
        self.connections += 1
        self.connected.set()

    def _on_message(self, client, userdata, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, topic: str) -> list[bytes]:
        """Payloads seen on ``topic``, in order."""
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def last_json(self, topic: str) -> dict | None:
        """The last JSON payload on ``topic``."""
        got = self.on(topic)
        return json.loads(got[-1]) if got else None

    def wait_for(self, condition, timeout_s: float = 20.0, what: str = '') -> None:
        """Wait until ``condition()`` is true; fail with ``what``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError(f'timed out waiting for {what or condition}')

    def publish(self, topic: str, payload: str | bytes) -> None:
        """Publish (QoS 1) and wait for the broker's acknowledgement (reconnected first)."""
        assert self.connected.wait(15), 'the watcher is not connected'
        self.client.publish(topic, payload, 1).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def make_certificates(folder: Path) -> dict[str, Path]:
    """A test CA and a server certificate for 127.0.0.1 (openssl), valid for two days."""
    openssl = shutil.which('openssl')
    if openssl is None:
        pytest.fail('openssl is not installed: `make install` installs it (apt: openssl)')
    f = {
        k: folder / f'{k}' for k in ('ca.key', 'ca.crt', 'server.key', 'server.csr', 'server.crt')
    }
    san = folder / 'san.ext'
    san.write_text('subjectAltName=IP:127.0.0.1,DNS:localhost\n')
    steps = [
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f['ca.key'], '-out',
         f['ca.crt'], '-days', '2', '-subj', '/CN=mower test CA'],
        ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f['server.key'], '-out',
         f['server.csr'], '-subj', '/CN=localhost'],
        ['x509', '-req', '-in', f['server.csr'], '-CA', f['ca.crt'], '-CAkey', f['ca.key'],
         '-CAcreateserial', '-out', f['server.crt'], '-days', '2', '-extfile', san],
    ]  # fmt: skip
    for step in steps:
        subprocess.run([openssl, *map(str, step)], check=True, capture_output=True)
    return f


def password_file(folder: Path, user: str, password: str) -> Path:
    """A mosquitto password file with one user (mosquitto_passwd)."""
    tool = shutil.which('mosquitto_passwd', path='/usr/bin:/usr/sbin:/bin')
    if tool is None:
        pytest.fail('mosquitto_passwd is missing: `make install` installs mosquitto')
    path = folder / 'passwd'
    subprocess.run([tool, '-c', '-b', str(path), user, password], check=True, capture_output=True)
    path.chmod(0o600)
    return path
