"""Home Assistant over MQTT: discovery, state and commands, for any :class:`Operator`.

One bridge for the robot (``mqtt_bridge_node``, over the stack's topics and services) and the
simulator (``mower sim --mqtt``): both hand :class:`HaBridge` an operator
(:class:`mower_control.operator.Operator`); the bridge does the MQTT side alone.

Topics (``P`` is ``topic_prefix``, ``mower`` by default; give each mower its own so that two
share one broker):

- ``P/availability``: ``online`` / ``offline`` (retained; ``offline`` is also the broker's
  last-will message, so Home Assistant greys the mower out when the bridge dies);
- ``P/status``: the status as one JSON object (retained), published on every change (at most
  every ``min_interval_s``) and at least every ``state_interval_s``;
- ``P/command/<name>``: commands from Home Assistant: ``start_mowing``, ``pause``, ``dock``
  (the payload is the command's name, as Home Assistant's lawn_mower sends it without a
  template), ``emergency_stop`` and ``start_zone_<n>`` (payload ``PRESS``, a button's);
- ``P/command_result``: what became of each command (JSON: command, accepted, message);
- ``<discovery_prefix>/<component>/<node id>/<object id>/config``: Home Assistant MQTT
  discovery (retained), one per entity: the ``lawn_mower``, sensors (battery, mowed share,
  state, last error, blade, position, distance today, rejected commands), a ``problem``
  binary sensor and buttons (emergency stop, start zone N).

Only ``P/command/+`` is subscribed, and a command is acted on only when its topic is one of
the mower's own and its payload is the one expected; anything else is logged and counted
(``rejected_commands`` in the status), never acted on. The client (paho-mqtt) reconnects by
itself with a backoff between ``reconnect_min_s`` and ``reconnect_max_s``; on every
(re)connection the discovery, the availability and the status are published again.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mower_control.mission import STATES
from mower_control.operator import MowerStatus, Operator
from mower_node_kit.params import ConfigError, check_ranges, param

LOG = logging.getLogger('mower_integrations.ha_mqtt')

#: The software's name and version, as Home Assistant's device and origin show them.
ORIGIN = {'name': 'mower stack', 'sw_version': '0.1.0'}
#: Largest payload looked at (bytes); longer ones are rejected unread.
MAX_PAYLOAD = 256
#: The lawn_mower entity's commands and the payloads Home Assistant sends for them.
MOWER_COMMANDS = {'start_mowing': 'start', 'pause': 'pause', 'dock': 'dock'}
BUTTON_PAYLOAD = 'PRESS'
_TOPIC_PART = re.compile(r'[^#+\x00/]+')
_NODE_ID = re.compile(r'[^a-zA-Z0-9_-]+')


class BridgeError(ValueError):
    """Settings the bridge cannot use, in one line."""


@dataclass(frozen=True)
class MqttSettings:
    """The bridge's settings (mqtt_bridge_node parameters of the same names)."""

    host: str = param('127.0.0.1', 'MQTT broker host name or address')
    port: int = param(1883, 'MQTT broker port', 1, 65535)
    username: str = param('', "broker user name ('': no login)")
    password_file: str = param('', "file holding the broker password ('': none)")
    tls: bool = param(False, 'connect with TLS')
    ca_certs: str = param('', "CA certificates file for TLS ('': the system's)")
    certfile: str = param('', "client certificate for TLS ('': none)")
    keyfile: str = param('', "client key for TLS ('': none)")
    tls_insecure: bool = param(False, 'TLS without checking the host name (test brokers only)')
    client_id: str = param('', "MQTT client id ('': <topic_prefix>-bridge)")
    keepalive_s: int = param(30, 'MQTT keep-alive (s)', 5, 3600)
    topic_prefix: str = param('mower', "this mower's topics start with it (one per mower)")
    device_name: str = param('Mower', 'the device name Home Assistant shows')
    discovery_prefix: str = param('homeassistant', "Home Assistant's discovery prefix")
    state_interval_s: float = param(30.0, 'publish the status at least this often (s)', 1, 3600)
    min_interval_s: float = param(0.5, 'publish the status at most this often (s)', 0.0, 60.0)
    reconnect_min_s: int = param(1, 'first wait before reconnecting (s)', 1, 600)
    reconnect_max_s: int = param(60, 'longest wait between reconnections (s)', 1, 3600)

    def __post_init__(self) -> None:
        """Ranges, topics and TLS files checked."""
        try:
            check_ranges(self)
        except ConfigError as exc:
            raise BridgeError(str(exc)) from None
        for name in ('topic_prefix', 'discovery_prefix'):
            value = getattr(self, name)
            if not value or any(not _TOPIC_PART.fullmatch(p) for p in value.split('/')):
                raise BridgeError(
                    f'{name} {value!r}: not a topic prefix (non-empty parts, no + # or '
                    'empty parts or leading/trailing /)'
                )
        if not self.device_name.strip():
            raise BridgeError('device_name is empty')
        if self.reconnect_max_s < self.reconnect_min_s:
            raise BridgeError('reconnect_max_s is below reconnect_min_s')
        if (self.certfile or self.keyfile or self.ca_certs or self.tls_insecure) and not self.tls:
            raise BridgeError('TLS files or tls_insecure given but tls is off')

    @property
    def node_id(self) -> str:
        """The prefix made safe for discovery topics and unique ids."""
        return _NODE_ID.sub('_', self.topic_prefix).strip('_') or 'mower'

    def topic(self, leaf: str) -> str:
        """``<topic_prefix>/<leaf>``."""
        return f'{self.topic_prefix}/{leaf}'


# -- discovery -----------------------------------------------------------------------------


def _device(s: MqttSettings) -> dict:
    return {
        'identifiers': [s.node_id],
        'name': s.device_name,
        'manufacturer': 'mower stack',
        'model': 'camera-guided robotic lawn mower',
        'sw_version': ORIGIN['sw_version'],
    }


def _value(key: str) -> str:
    return '{{ value_json.%s }}' % key  # noqa: UP031 (Jinja braces)


def discovery(s: MqttSettings, zones: int) -> dict[str, dict]:
    """Discovery topic -> config payload, one per entity (Home Assistant MQTT discovery)."""
    status, availability = s.topic('status'), s.topic('availability')
    base = {'availability_topic': availability, 'device': _device(s), 'origin': ORIGIN, 'qos': 1}
    states = sorted({cls.name for cls in STATES} | {'UNKNOWN'})
    entities: list[tuple[str, str, dict]] = [
        (
            'lawn_mower',
            'mower',
            {
                'name': None,  # the device's name
                'activity_state_topic': status,
                'activity_value_template': _value('activity'),
                **{
                    f'{cmd}_command_topic': s.topic(f'command/{cmd}')
                    for cmd in ('start_mowing', 'pause', 'dock')
                },
            },
        ),
        (
            'sensor',
            'battery',
            {
                'name': 'Battery',
                'device_class': 'battery',
                'unit_of_measurement': '%',
                'state_class': 'measurement',
                'value_template': _value('battery_pct'),
            },
        ),
        (
            'sensor',
            'mowed',
            {
                'name': 'Mowed',
                'unit_of_measurement': '%',
                'state_class': 'measurement',
                'icon': 'mdi:grass',
                'value_template': _value('mowed_pct'),
            },
        ),
        (
            'sensor',
            'state',
            {
                'name': 'State',
                'device_class': 'enum',
                'options': states,
                'value_template': _value('state'),
                'json_attributes_topic': status,
                'json_attributes_template': '{{ {"message": value_json.message} | tojson }}',
            },
        ),
        (
            'sensor',
            'last_error',
            {
                'name': 'Last error',
                'entity_category': 'diagnostic',
                'icon': 'mdi:alert-circle-outline',
                'value_template': _value('last_error'),
            },
        ),
        (
            'sensor',
            'blade',
            {
                'name': 'Blade',
                'device_class': 'enum',
                'options': ['on', 'off'],
                'icon': 'mdi:saw-blade',
                'value_template': _value('blade_state'),
            },
        ),
        (
            'sensor',
            'position',
            {
                'name': 'Position',
                'icon': 'mdi:map-marker',
                'value_template': _value('position'),
                'json_attributes_topic': status,
                'json_attributes_template': (
                    '{{ {"x_m": value_json.x_m, "y_m": value_json.y_m, '
                    '"heading_deg": value_json.heading_deg} | tojson }}'
                ),
            },
        ),
        (
            'sensor',
            'distance_today',
            {
                'name': 'Distance today',
                'device_class': 'distance',
                'unit_of_measurement': 'm',
                'state_class': 'total_increasing',
                'value_template': _value('distance_today_m'),
            },
        ),
        (
            'sensor',
            'rejected_commands',
            {
                'name': 'Rejected commands',
                'entity_category': 'diagnostic',
                'state_class': 'total_increasing',
                'value_template': _value('rejected_commands'),
            },
        ),
        (
            'binary_sensor',
            'problem',
            {
                'name': 'Problem',
                'device_class': 'problem',
                'value_template': "{{ 'ON' if value_json.problem else 'OFF' }}",
                'payload_on': 'ON',
                'payload_off': 'OFF',
            },
        ),
        (
            'button',
            'emergency_stop',
            {
                'name': 'Emergency stop',
                'icon': 'mdi:alert-octagon',
                'command_topic': s.topic('command/emergency_stop'),
                'payload_press': BUTTON_PAYLOAD,
            },
        ),
    ]
    for n in range(1, zones + 1):
        entities.append(
            (
                'button',
                f'start_zone_{n}',
                {
                    'name': f'Start zone {n}',
                    'icon': 'mdi:play',
                    'command_topic': s.topic(f'command/start_zone_{n}'),
                    'payload_press': BUTTON_PAYLOAD,
                },
            )
        )
    out = {}
    for component, object_id, config in entities:
        if component in ('sensor', 'binary_sensor'):
            config = {'state_topic': status, **config}
        topic = f'{s.discovery_prefix}/{component}/{s.node_id}/{object_id}/config'
        out[topic] = {**config, 'unique_id': f'{s.node_id}_{object_id}', **base}
    return out


def status_payload(status: MowerStatus, rejected: int) -> dict:
    """The JSON object of ``P/status``: the status, and the derived fields the entities show."""
    out = status.as_dict()
    x, y = out['x_m'], out['y_m']
    out['position'] = None if x is None or y is None else f'{x:.2f}, {y:.2f}'
    out['blade_state'] = 'on' if status.blade else 'off'
    out['rejected_commands'] = rejected
    return out


# -- commands ------------------------------------------------------------------------------


def parse_command(s: MqttSettings, topic: str, payload: bytes, zones: int) -> tuple[str, int]:
    """The operator command and zone of a message; ValueError (why) when it is not one."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f'payload of {len(payload)} bytes (at most {MAX_PAYLOAD})')
    try:
        text = payload.decode('utf-8').strip()
    except UnicodeDecodeError:
        raise ValueError('payload is not UTF-8') from None
    prefix = s.topic('command/')
    if not topic.startswith(prefix):
        raise ValueError(f"{topic!r} is not one of this mower's command topics")
    name = topic[len(prefix) :]
    if name in MOWER_COMMANDS:
        if text != name:
            raise ValueError(f'payload {text[:40]!r} on {name} (expected {name!r})')
        return MOWER_COMMANDS[name], 0
    if name == 'emergency_stop' or name.startswith('start_zone_'):
        if text != BUTTON_PAYLOAD:
            raise ValueError(f'payload {text[:40]!r} on {name} (expected {BUTTON_PAYLOAD!r})')
        if name == 'emergency_stop':
            return 'emergency_stop', 0
        digits = name.removeprefix('start_zone_')
        if not digits.isdigit() or not 1 <= int(digits) <= zones:
            raise ValueError(f'no zone {digits!r} (the map has {zones})')
        return 'start_zone', int(digits)
    raise ValueError(f'unknown command topic {topic!r}')


def _read_password(path: str) -> str | None:
    if not path:
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return f.read().strip()
    except OSError as exc:
        raise BridgeError(f'{path}: cannot read the password file: {exc.strerror}') from None


def make_client(s: MqttSettings) -> Any:
    """A paho-mqtt client with the settings' login, TLS, last will and reconnect backoff."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=s.client_id or f'{s.node_id}-bridge',
        reconnect_on_failure=True,
    )
    if s.username:
        client.username_pw_set(s.username, _read_password(s.password_file))
    if s.tls:
        try:
            client.tls_set(
                ca_certs=s.ca_certs or None,
                certfile=s.certfile or None,
                keyfile=s.keyfile or None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise BridgeError(f'TLS settings: {exc}') from None
        client.tls_insecure_set(s.tls_insecure)
    client.will_set(s.topic('availability'), 'offline', qos=1, retain=True)
    client.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)
    return client


class HaBridge:
    """Connects an :class:`Operator` to Home Assistant through an MQTT broker."""

    def __init__(
        self,
        settings: MqttSettings,
        operator: Operator,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
        log: Any = LOG,
    ) -> None:
        """Wire the client's callbacks; nothing connects before :meth:`start`.

        ``client``: a paho-mqtt client (default: :func:`make_client`); ``log``: a logger with
        ``info`` and ``warning`` (a node's, on the robot).
        """
        self.s = settings
        self.operator = operator
        self.clock = clock
        self.log = log
        self.zones = operator.status().zones
        self.client = client if client is not None else make_client(settings)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.rejected = 0
        self.accepted = 0
        self.connections = 0
        self.connected = threading.Event()
        self._lock = threading.Lock()
        # a command's acceptance goes out before the mission's answer to it: on the robot the
        # answer (on_result, the executor's thread) can come while handle() still holds the
        # acceptance, and Home Assistant would show 'queued' last (CI, 2026-12-02)
        self._results = threading.RLock()
        self._last: tuple[str, float] | None = None  # (payload without 'updated', when)
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None

    # -- lifetime ------------------------------------------------------------------------------
    def start(self, poll_s: float = 0.1) -> None:
        """Connect in the background (retrying with backoff until the broker answers).

        A thread then looks at the operator's status every ``poll_s`` and publishes it as
        :meth:`publish_status` says (on a change, and at least every ``state_interval_s``).
        """
        self.client.connect_async(self.s.host, self.s.port, self.s.keepalive_s)
        self.client.loop_start()
        self._stopping.clear()
        self._poller = threading.Thread(
            target=self._poll, args=(poll_s,), name='ha-mqtt-status', daemon=True
        )
        self._poller.start()

    def _poll(self, poll_s: float) -> None:
        while not self._stopping.wait(poll_s):
            try:
                self.publish_status()
            except Exception as exc:  # noqa: BLE001 (the thread must outlive one bad status)
                self.log.warning(f'MQTT: status not published: {exc}')

    def stop(self, timeout_s: float = 2.0) -> None:
        """Say ``offline``, disconnect and stop the threads."""
        self._stopping.set()
        if self._poller is not None:
            self._poller.join(timeout_s)
        if self.connected.is_set():
            info = self.client.publish(self.s.topic('availability'), 'offline', 1, retain=True)
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho callbacks (its network thread) ---------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if getattr(reason_code, 'is_failure', False):
            self.log.warning(f'MQTT broker {self.s.host}:{self.s.port} refused: {reason_code}')
            return
        self.connections += 1
        for topic, config in discovery(self.s, self.zones).items():
            client.publish(topic, json.dumps(config), 1, retain=True)
        client.publish(self.s.topic('availability'), 'online', 1, retain=True)
        client.subscribe(self.s.topic('command/+'), 1)
        with self._lock:
            self._last = None  # publish the status again now
        self.connected.set()
        self.log.info(f'MQTT: connected to {self.s.host}:{self.s.port} as {self.s.topic_prefix}')
        self.publish_status()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            self.log.warning(f'MQTT: disconnected ({reason_code}); reconnecting with backoff')

    def _on_message(self, client, userdata, msg) -> None:
        self.handle(msg.topic, bytes(msg.payload))

    # -- commands and status -------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> tuple[bool, str]:
        """One command message: parsed, checked, handed to the operator, its result published."""
        try:
            name, zone = parse_command(self.s, topic, payload, self.zones)
        except ValueError as exc:
            with self._lock:
                self.rejected += 1
            self.log.warning(f'MQTT: command rejected on {topic}: {exc}')
            self.publish_status(force=True)
            return False, str(exc)
        with self._results:  # operator.command only queues: nothing waits on the answer here
            ok, message = self.operator.command(name, zone)
            with self._lock:
                self.accepted += 1
            self.publish_result(name, zone, ok, message)
        return ok, message

    def publish_result(self, name: str, zone: int, ok: bool, message: str) -> None:
        """Say on ``P/command_result`` (and in the log) what became of a command."""
        self.log.info(f'MQTT: {name}{f" {zone}" if zone else ""}: {message}')
        result = {'command': name, 'zone': zone, 'accepted': ok, 'message': message}
        with self._results:
            self.client.publish(self.s.topic('command_result'), json.dumps(result), 1)

    def _rediscover(self, zones: int) -> None:
        """New zone buttons after a map change.

        The buttons gone are removed (an empty retained config); new or changed ones published.
        """
        old = discovery(self.s, self.zones)
        self.zones = zones
        new = discovery(self.s, zones)
        for topic in old.keys() - new.keys():
            self.client.publish(topic, '', 1, retain=True)  # Home Assistant removes the entity
        for topic, config in new.items():
            if old.get(topic) != config:
                self.client.publish(topic, json.dumps(config), 1, retain=True)
        self.log.info(f'MQTT: the map has {zones} zone(s) now: zone buttons published again')

    def publish_status(self, force: bool = False) -> bool:
        """Publish ``P/status`` when it changed or is due (call it often); True when sent."""
        if not self.connected.is_set():
            return False
        status = self.operator.status()
        if status.zones != self.zones:  # the owner saved a map with other zones
            self._rediscover(status.zones)
        with self._lock:
            payload = status_payload(status, self.rejected)
            key = json.dumps({k: v for k, v in payload.items() if k != 'updated'})
            now = self.clock()
            if self._last is not None and not force:
                same = key == self._last[0]
                age = now - self._last[1]
                if age < self.s.min_interval_s or same and age < self.s.state_interval_s:
                    return False
            self._last = (key, now)
        self.client.publish(self.s.topic('status'), json.dumps(payload), 1, retain=True)
        return True


#: mqtt_bridge_node's own parameters besides :class:`MqttSettings` (name -> default,
#: description, low, high), the table its config file is checked against.
NODE_PARAMETERS: dict[str, tuple] = {
    'pose_topic': ('odom', 'nav_msgs/Odometry of base_link in the map frame'),
    'map_file': ('', "the lawn map, for its zones ('': no zone buttons)"),
    'poll_s': (0.1, 'how often the status is looked at (s)', 0.01, 10.0),
}
