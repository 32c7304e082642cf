"""Home Assistant MQTT discovery, status and command parsing: checked against HA's own rules.

The schema below is Home Assistant's, transcribed from its MQTT integration
(home-assistant/core, ``homeassistant/components/mqtt/``: ``lawn_mower.py`` PLATFORM_SCHEMA_MODERN,
``sensor.py``, ``binary_sensor.py``, ``button.py`` and the common entity / availability / device
schemas of ``schemas.py`` and ``entity.py``) and its documentation pages
(home-assistant.io/integrations/{lawn_mower,sensor,binary_sensor,button}.mqtt). HA drops keys it
does not know (``vol.REMOVE_EXTRA``), so an unknown key here is a typo that would silently do
nothing: refused. The value templates are rendered with Jinja2 as HA renders them
(``value_json`` is the decoded payload) against real status payloads.
"""

from __future__ import annotations

import json
import re

import jinja2
import pytest

from mower_control.mission import STATES
from mower_control.operator import ACTIVITIES, MowerStatus, StatusTracker
from mower_integrations.ha_mqtt import (
    BridgeError,
    MqttSettings,
    discovery,
    parse_command,
    status_payload,
)

COMMON = {  # every MQTT entity (schemas.py MQTT_ENTITY_COMMON_SCHEMA, MQTT_AVAILABILITY_SCHEMA)
    'availability',
    'availability_mode',
    'availability_template',
    'availability_topic',
    'payload_available',
    'payload_not_available',
    'device',
    'enabled_by_default',
    'entity_category',
    'entity_picture',
    'icon',
    'json_attributes_template',
    'json_attributes_topic',
    'name',
    'default_entity_id',
    'object_id',
    'origin',
    'unique_id',
    'encoding',
    'qos',
}
PLATFORM = {  # platform keys: required ones first in each tuple
    'lawn_mower': (
        (),
        {
            'activity_state_topic',
            'activity_value_template',
            'dock_command_topic',
            'dock_command_template',
            'pause_command_topic',
            'pause_command_template',
            'start_mowing_command_topic',
            'start_mowing_command_template',
            'optimistic',
            'retain',
        },
    ),
    'sensor': (
        ('state_topic',),
        {
            'device_class',
            'expire_after',
            'force_update',
            'last_reset_value_template',
            'options',
            'state_class',
            'suggested_display_precision',
            'unit_of_measurement',
            'value_template',
        },
    ),
    'binary_sensor': (
        ('state_topic',),
        {
            'device_class',
            'expire_after',
            'force_update',
            'off_delay',
            'payload_off',
            'payload_on',
            'value_template',
        },
    ),
    'button': (
        ('command_topic',),
        {'command_template', 'device_class', 'payload_press', 'retain'},
    ),
}
SENSOR_DEVICE_CLASSES = {'battery': {'%'}, 'distance': {'km', 'm', 'cm', 'mm', 'mi', 'yd', 'in'}}
STATE_CLASSES = {'measurement', 'measurement_angle', 'total', 'total_increasing'}
BINARY_DEVICE_CLASSES = {'problem', 'battery', 'moving', 'running', 'safety', 'connectivity'}
ENTITY_CATEGORIES = {'config', 'diagnostic'}
DEVICE_KEYS = {
    'identifiers',
    'connections',
    'manufacturer',
    'model',
    'model_id',
    'name',
    'hw_version',
    'serial_number',
    'sw_version',
    'via_device',
    'suggested_area',
    'configuration_url',
}
TOPIC_ID = re.compile(r'[a-zA-Z0-9_-]+')  # discovery's node_id and object_id


def valid_publish_topic(t: str) -> bool:
    """util.valid_publish_topic: non-empty UTF-8, no wildcards, no NUL, at most 65535 bytes."""
    return bool(t) and '+' not in t and '#' not in t and '\0' not in t and len(t.encode()) < 65536


def check_entity(component: str, config: dict) -> None:
    required, own = PLATFORM[component]
    for key in required:
        assert key in config, f'{component}: {key} is required'
    unknown = set(config) - COMMON - own - set(required)
    assert not unknown, f'{component}: keys Home Assistant does not know: {unknown}'
    for key, value in config.items():
        if key.endswith('_topic'):
            assert isinstance(value, str) and valid_publish_topic(value), (key, value)
    device = config['device']
    assert set(device) <= DEVICE_KEYS and device['identifiers'], device
    assert config['origin']['name'], 'origin needs a name'
    assert config['qos'] in (0, 1, 2)
    if 'entity_category' in config:
        assert config['entity_category'] in ENTITY_CATEGORIES
    if component == 'sensor':
        dc = config.get('device_class')
        if dc == 'enum':  # HA: an enum sensor has options, no unit and no state class
            assert config['options'] and 'unit_of_measurement' not in config
            assert 'state_class' not in config
        elif dc is not None:
            assert config.get('unit_of_measurement') in SENSOR_DEVICE_CLASSES[dc], config
        else:
            assert 'options' not in config
        if 'state_class' in config:
            assert config['state_class'] in STATE_CLASSES
    if component == 'binary_sensor':
        assert config.get('device_class', 'problem') in BINARY_DEVICE_CLASSES


def render(template: str, payload: dict) -> str:
    """A value template as Home Assistant renders it: ``value_json`` is the payload."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(value_json=payload, value=json.dumps(payload))


SETTINGS = MqttSettings(topic_prefix='garden/mower-1', device_name='Front lawn')


def test_every_entity_is_valid_and_unique():
    configs = discovery(SETTINGS, zones=2)
    seen_ids = set()
    components = {}
    for topic, config in configs.items():
        parts = topic.split('/')
        assert parts[0] == 'homeassistant' and parts[-1] == 'config' and len(parts) == 5, topic
        component, node_id, object_id = parts[1:4]
        assert TOPIC_ID.fullmatch(node_id) and TOPIC_ID.fullmatch(object_id), topic
        check_entity(component, config)
        assert config['unique_id'] not in seen_ids
        seen_ids.add(config['unique_id'])
        components.setdefault(component, []).append(object_id)
        assert config['availability_topic'] == 'garden/mower-1/availability'
        assert json.loads(json.dumps(config)) == config  # what goes on the wire
    assert components['lawn_mower'] == ['mower']
    assert set(components['sensor']) >= {
        'battery',
        'mowed',
        'state',
        'last_error',
        'blade',
        'position',
        'distance_today',
    }
    assert components['binary_sensor'] == ['problem']
    assert set(components['button']) == {'emergency_stop', 'start_zone_1', 'start_zone_2'}
    mower = configs['homeassistant/lawn_mower/garden_mower-1/mower/config']
    for cmd in ('start_mowing', 'pause', 'dock'):
        assert mower[f'{cmd}_command_topic'] == f'garden/mower-1/command/{cmd}'


STATUSES = [
    MowerStatus(),
    MowerStatus(state='IDLE', activity='docked', battery_pct=100.0, charging=True, zones=1),
    MowerStatus(
        state='MOWING',
        activity='mowing',
        battery_pct=63.4,
        mowed_pct=41.25,
        blade=True,
        x_m=3.2,
        y_m=-1.5,
        heading_deg=271.0,
        distance_today_m=180.4,
    ),
    MowerStatus(state='ERROR', activity='error', last_error='safety stop: lift', problem=True),
]


@pytest.mark.parametrize('status', STATUSES, ids=lambda s: s.state)
def test_templates_render_values_home_assistant_accepts(status):
    payload = json.loads(json.dumps(status_payload(status, rejected=3)))
    for topic, config in discovery(SETTINGS, zones=1).items():
        component = topic.split('/')[1]
        if component == 'lawn_mower':
            assert render(config['activity_value_template'], payload) in ACTIVITIES
        if component == 'binary_sensor':
            value = render(config['value_template'], payload)
            assert value in (config['payload_on'], config['payload_off'])
            assert (value == 'ON') == status.problem
        if component == 'sensor':
            value = render(config['value_template'], payload)
            if config.get('device_class') == 'enum':
                assert value in config['options'], (topic, value)
            elif 'unit_of_measurement' in config or 'state_class' in config:
                # numbers, or 'None' which HA's MQTT sensor reads as unknown
                assert value == 'None' or float(value) >= 0, (topic, value)
            if 'json_attributes_template' in config:
                attrs = json.loads(render(config['json_attributes_template'], payload))
                assert isinstance(attrs, dict) and attrs
    if status.x_m is not None:
        assert payload['position'] == f'{status.x_m:.2f}, {status.y_m:.2f}'


def test_state_options_cover_every_mission_state():
    config = discovery(SETTINGS, 0)['homeassistant/sensor/garden_mower-1/state/config']
    assert {cls.name for cls in STATES} <= set(config['options'])


@pytest.mark.parametrize(
    ('topic', 'payload', 'expected'),
    [
        ('garden/mower-1/command/start_mowing', b'start_mowing', ('start', 0)),
        ('garden/mower-1/command/pause', b'pause', ('pause', 0)),
        ('garden/mower-1/command/dock', b' dock\n', ('dock', 0)),
        ('garden/mower-1/command/emergency_stop', b'PRESS', ('emergency_stop', 0)),
        ('garden/mower-1/command/start_zone_2', b'PRESS', ('start_zone', 2)),
    ],
)
def test_commands_home_assistant_sends_are_understood(topic, payload, expected):
    assert parse_command(SETTINGS, topic, payload, zones=2) == expected


@pytest.mark.parametrize(
    ('topic', 'payload', 'why'),
    [
        ('garden/mower-1/command/start_mowing', b'dock', 'expected'),
        ('garden/mower-1/command/start_mowing', b'', 'expected'),
        ('garden/mower-1/command/pause', b'\xff\xfe', 'UTF-8'),
        ('garden/mower-1/command/pause', b'pause' * 100, 'bytes'),
        ('garden/mower-1/command/emergency_stop', b'1', 'expected'),
        ('garden/mower-1/command/start_zone_3', b'PRESS', 'no zone'),
        ('garden/mower-1/command/start_zone_0', b'PRESS', 'no zone'),
        ('garden/mower-1/command/start_zone_x', b'PRESS', 'no zone'),
        ('garden/mower-1/command/self_destruct', b'PRESS', 'unknown'),
        ('garden/mower-2/command/start_mowing', b'start_mowing', 'not one of'),
        ('garden/mower-1/status', b'{}', 'not one of'),
    ],
)
def test_wrong_commands_are_refused_with_a_reason(topic, payload, why):
    with pytest.raises(ValueError, match=why):
        parse_command(SETTINGS, topic, payload, zones=2)


@pytest.mark.parametrize(
    ('changes', 'why'),
    [
        ({'topic_prefix': ''}, 'topic_prefix'),
        ({'topic_prefix': 'a/#'}, 'topic_prefix'),
        ({'topic_prefix': 'mower/'}, 'topic_prefix'),
        ({'topic_prefix': '/mower'}, 'topic_prefix'),
        ({'discovery_prefix': 'home+assistant'}, 'discovery_prefix'),
        ({'device_name': '  '}, 'device_name'),
        ({'port': 0}, 'port'),
        ({'port': 70000}, 'port'),
        ({'keepalive_s': 1}, 'keepalive_s'),
        ({'reconnect_min_s': 30, 'reconnect_max_s': 5}, 'reconnect_max_s'),
        ({'ca_certs': '/etc/ssl/ca.pem'}, 'tls is off'),
        ({'state_interval_s': float('nan')}, 'state_interval_s'),
    ],
)
def test_hostile_settings_are_refused_in_one_line(changes, why):
    with pytest.raises(BridgeError, match=why) as info:
        MqttSettings(**changes)
    assert '\n' not in str(info.value)


def test_two_mowers_on_one_broker_share_no_topic_and_no_id():
    a = discovery(MqttSettings(topic_prefix='front', device_name='Front'), 1)
    b = discovery(MqttSettings(topic_prefix='back', device_name='Back'), 1)
    assert not set(a) & set(b)
    ids_a = {c['unique_id'] for c in a.values()}
    ids_b = {c['unique_id'] for c in b.values()}
    assert not ids_a & ids_b
    topics_a = {v for c in a.values() for k, v in c.items() if k.endswith('_topic')}
    topics_b = {v for c in b.values() for k, v in c.items() if k.endswith('_topic')}
    assert not topics_a & topics_b


def test_status_payload_is_json_with_the_counts():
    tracker = StatusTracker(zones=2)
    tracker.mission('MOWING', '', 12.5)
    payload = status_payload(tracker.status(), rejected=4)
    text = json.dumps(payload, allow_nan=False)
    back = json.loads(text)
    assert back['activity'] == 'mowing' and back['rejected_commands'] == 4
    assert back['zones'] == 2 and back['mowed_pct'] == 12.5 and back['position'] is None


class RecordingClient:
    """Stands in for paho's client: records what is published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, bool]] = []

    def publish(self, topic, payload, qos=0, retain=False):
        self.published.append((topic, payload, retain))


class ZonesOperator:
    def __init__(self, zones: int) -> None:
        self.tracker = StatusTracker(zones=zones)

    def status(self):
        return self.tracker.status()

    def command(self, name, zone=0):
        return True, 'ok'


def test_a_map_with_other_zones_updates_the_zone_buttons():
    from mower_integrations.ha_mqtt import HaBridge

    client, operator = RecordingClient(), ZonesOperator(3)
    bridge = HaBridge(MqttSettings(min_interval_s=0.0), operator, client=client)
    bridge.connected.set()
    assert bridge.publish_status()
    assert not any('start_zone' in t for t, _, _ in client.published)  # nothing changed
    operator.tracker.set_zones(1)  # the owner saved a map with one zone
    client.published.clear()
    assert bridge.publish_status()
    removed = {t for t, payload, retain in client.published if payload == '' and retain}
    assert removed == {
        f'homeassistant/button/mower/start_zone_{n}/config' for n in (2, 3)
    }  # an empty retained config removes the entity in Home Assistant
    assert bridge.zones == 1
    status = json.loads(next(p for t, p, _ in client.published if t == 'mower/status'))
    assert status['zones'] == 1
    client.published.clear()
    operator.tracker.set_zones(2)
    bridge.publish_status(force=True)
    added = [t for t, payload, _ in client.published if payload and 'start_zone' in t]
    assert added == ['homeassistant/button/mower/start_zone_2/config']
