"""mqtt_bridge_node on the strict rclpy double, talking to a real broker (mosquitto).

The node's topics are delivered by the test as mission_node, safety_node and the localisation
would publish them; its service calls are answered as mission_node answers; Home Assistant is a
test MQTT client. Not run on ROS 2 (not installable here): the double models rclpy's API.
"""

from __future__ import annotations

import json
import math

import pytest
from conftest import MAPS
from mqtt_broker import Broker, Watcher

pytestmark = pytest.mark.usefixtures('ros')


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def make(port: int, **changes):
    from rclpy.parameter import Parameter

    from mower_integrations.mqtt_bridge_node import MqttBridgeNode

    values = {
        'port': port,
        'topic_prefix': 'robot',
        'map_file': str(MAPS / 'demo_lawn.geojson'),
        'min_interval_s': 0.0,
        **changes,
    }
    return MqttBridgeNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


def sub(node, topic):
    return next(s for s in node.subscriptions if s.topic == topic)


def pub(node, topic):
    return next(p for p in node.publishers if p.topic == topic)


def state(name: str, zone: int = 0, message: str = '', mowed=12.5):
    from std_msgs.msg import String

    return String(
        data=json.dumps(
            {
                'state': name,
                'mowed_pct': mowed,
                'progress_m': 0.0,
                'message': message,
                'zone': zone,
            }
        )
    )


def feed(node, w: Watcher) -> None:
    """What the stack publishes while the mower stands charged on the dock."""
    from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
    from nav_msgs.msg import Odometry
    from sensor_msgs.msg import BatteryState
    from std_msgs.msg import Bool

    sub(node, 'mower/state').deliver(state('IDLE'))
    odom = Odometry()
    odom.pose.pose.position.x, odom.pose.pose.position.y = 0.3, 5.0
    yaw = math.pi / 2
    odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = (
        math.sin(yaw / 2),
        math.cos(yaw / 2),
    )
    sub(node, 'odom').deliver(odom)
    sub(node, 'battery').deliver(
        BatteryState(
            percentage=0.87, power_supply_status=BatteryState.POWER_SUPPLY_STATUS_CHARGING
        )
    )
    sub(node, 'mower/blade').deliver(Bool(data=False))
    sub(node, 'safety/status').deliver(
        DiagnosticStatus(
            values=[KeyValue(key='active', value=''), KeyValue(key='latched', value='')]
        )
    )
    w.wait_for(lambda: (w.last_json('robot/status') or {}).get('state') == 'IDLE', 20, 'IDLE')


def run_until(node, condition, w: Watcher, what: str) -> None:
    def fired():
        node.operator.step()  # the node's timer, as the executor would fire it
        return condition()

    w.wait_for(fired, 20, what)


def test_status_follows_the_topics_and_commands_reach_the_services(broker):
    w = Watcher(broker.port)
    node = make(broker.port)
    try:
        feed(node, w)
        s = w.last_json('robot/status')
        assert s['activity'] == 'docked' and s['battery_pct'] == 87.0 and s['charging']
        assert s['position'] == '0.30, 5.00' and s['heading_deg'] == 90.0 and s['zones'] == 1
        assert w.on('robot/availability')[-1] == b'online'
        assert any(t.startswith('homeassistant/lawn_mower/robot/') for t, _, _ in w.messages)

        # start_mowing -> mower/start, and the mission's answer goes back to Home Assistant
        w.publish('robot/command/start_mowing', 'start_mowing')
        start = node.operator.requests['start']
        run_until(node, lambda: len(start.requests) == 1, w, 'the start call')
        start.respond(success=True, message='starting')
        w.wait_for(
            lambda: (w.last_json('robot/command_result') or {}).get('message') == 'starting',
            10,
            'the result',
        )
        # paused: start_mowing resumes
        sub(node, 'mower/state').deliver(state('PAUSED'))
        w.publish('robot/command/start_mowing', 'start_mowing')
        resume = node.operator.requests['resume']
        run_until(node, lambda: len(resume.requests) == 1, w, 'the resume call')
        assert len(start.requests) == 1
        # a service that is not there: said, not hung
        node.operator.requests['dock'].ready = False
        w.publish('robot/command/dock', 'dock')
        run_until(
            node,
            lambda: 'not available' in (w.last_json('robot/command_result') or {})['message'],
            w,
            'the refusal',
        )
        # the emergency stop goes to safety_node's topic
        w.publish('robot/command/emergency_stop', 'PRESS')
        estop = pub(node, 'mower/emergency_stop')
        run_until(node, lambda: [m.data for m in estop.published] == [True], w, 'the stop')
        # malformed payloads: counted, nothing called
        w.publish('robot/command/pause', '{"pause": 1}')
        w.wait_for(
            lambda: (w.last_json('robot/status') or {}).get('rejected_commands') == 1, 10, 'count'
        )
        node.operator.step()
        assert not node.operator.requests['pause'].requests
        # a malformed mower/state: counted, the status kept
        from std_msgs.msg import String

        sub(node, 'mower/state').deliver(String(data='not json'))
        assert node.operator.counts['bad_messages'] == 1
        assert w.last_json('robot/status')['state'] == 'PAUSED'
    finally:
        node.destroy_node()
    w.wait_for(lambda: w.on('robot/availability')[-1] == b'offline', 10, 'offline')
    w.close()


def test_a_zone_starts_once_its_plan_reached_the_mission(broker):
    w = Watcher(broker.port)
    node = make(broker.port)
    try:
        feed(node, w)
        zone_pub = pub(node, 'coverage/zone')
        start = node.operator.requests['start']
        w.publish('robot/command/start_zone_1', 'PRESS')
        run_until(node, lambda: [m.data for m in zone_pub.published] == [1], w, 'zone 1')
        node.operator.step()
        assert not start.requests  # the mission still has the old plan
        sub(node, 'mower/state').deliver(state('IDLE', zone=1))
        node.operator.step()
        assert len(start.requests) == 1
        start.respond(success=True, message='starting')
        w.wait_for(lambda: (w.last_json('robot/status') or {}).get('zone') == 1, 10, 'zone')
        # start after a zone's run: the whole lawn is planned again first
        w.publish('robot/command/start_mowing', 'start_mowing')
        run_until(node, lambda: [m.data for m in zone_pub.published] == [1, 0], w, 'zone 0')
        # no plan for it comes: given up after ZONE_TIMEOUT_S, and said so
        from mower_integrations.operator_node import ZONE_TIMEOUT_S

        node.get_clock().set_now(ZONE_TIMEOUT_S + 1.0)
        node.operator.step()
        assert node.operator.counts['zone_timeouts'] == 1 and len(start.requests) == 1
        w.wait_for(
            lambda: 'no plan for zone 0' in (w.last_json('robot/command_result') or {})['message'],
            10,
            'the timeout',
        )
        # a zone the map does not have is refused on the MQTT side
        w.publish('robot/command/start_zone_2', 'PRESS')
        w.wait_for(lambda: w.last_json('robot/status')['rejected_commands'] == 1, 10, 'refused')
    finally:
        node.destroy_node()
    w.close()


def test_bad_settings_and_maps_stop_the_node_with_one_line(tmp_path):
    from mower_integrations.ha_mqtt import BridgeError
    from mower_node_kit.params import ConfigError

    with pytest.raises((BridgeError, ConfigError), match='topic_prefix'):
        make(1883, topic_prefix='a/+/b')
    with pytest.raises(SystemExit, match='no such file'):
        make(1883, map_file=str(tmp_path / 'missing.geojson'))
