"""mqtt_bridge_node: the robot in Home Assistant, over MQTT.

The robot's :class:`~mower_control.operator.Operator`: a thin adapter between the stack's
topics and services and :class:`~mower_integrations.ha_mqtt.HaBridge` (the same bridge
``mower sim --mqtt`` runs against the simulator).

Subscribes to ``mower/state`` (mission_node's JSON), the pose (``pose_topic``,
nav_msgs/Odometry in the map frame), ``battery`` (sensor_msgs/BatteryState), ``mower/blade``
(std_msgs/Bool: what the safety supervisor lets the blade do) and ``safety/status``; these
feed a :class:`~mower_control.operator.StatusTracker`, whose status the bridge publishes.
Commands from the broker are queued by the MQTT thread and carried out on the node's timer:
``mower/start``, ``mower/pause``, ``mower/resume``, ``mower/dock`` (std_srvs/Trigger, called
asynchronously; their answers go to ``<topic_prefix>/command_result``), the emergency stop on
``mower/emergency_stop`` (std_msgs/Bool), and a zone on ``coverage/zone`` (std_msgs/UInt8):
the mission is started once ``mower/state`` reports the new plan's zone, or the start is given
up after ``ZONE_TIMEOUT_S``.
"""

from __future__ import annotations

import queue
from typing import Any

from diagnostic_msgs.msg import DiagnosticStatus
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from std_msgs.msg import Bool, String, UInt8
from std_srvs.srv import Trigger

from mower_control.conversions import battery_of, pose_of, safety_of, state_of
from mower_control.operator import (
    MowerStatus,
    StatusTracker,
    check_command,
    mission_request,
    zone_to_plan,
)
from mower_control.parameters import build, declare
from mower_integrations.ha_mqtt import NODE_PARAMETERS, BridgeError, HaBridge, MqttSettings
from mower_maps import MapError, load_map
from mower_node_kit.main import run_node
from mower_node_kit.params import Spec

EXTRA = {name: Spec(*raw) for name, raw in NODE_PARAMETERS.items()}
ZONE_TIMEOUT_S = 60.0  # a zone's plan must reach the mission within this (s)
REQUESTS = ('start', 'pause', 'resume', 'dock')


class MqttBridgeNode(Node):
    """The robot's operator for Home Assistant: topics and services in, MQTT out."""

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        """Declare parameters, connect to the broker (in the background), create endpoints.

        ``client``: a paho-mqtt client to use instead of one made from the parameters.
        """
        super().__init__('mqtt_bridge_node', **kwargs)
        self.p = p = declare(self, MqttSettings, EXTRA)
        settings = build(MqttSettings, p)
        zones = 0
        if p['map_file']:
            try:
                zones = len(load_map(p['map_file']).zones)
            except MapError as exc:
                raise SystemExit(f'mqtt_bridge_node: {exc}') from exc
        self.tracker = StatusTracker(zones=zones)
        self.counts = {'bad_messages': 0, 'commands': 0, 'zone_timeouts': 0}
        self.planned_zone = 0  # the zone of the mission's plan (mower/state)
        self.pending_zone: tuple[int, float] | None = None  # (zone, give up at node time)
        self._commands: queue.Queue[tuple[str, int]] = queue.Queue()
        self.pub_estop = self.create_publisher(Bool, 'mower/emergency_stop', 10)
        self.pub_zone = self.create_publisher(UInt8, 'coverage/zone', 10)
        self.create_subscription(String, 'mower/state', self.on_state, 10)
        self.create_subscription(Odometry, p['pose_topic'], self.on_odom, 20)
        self.create_subscription(BatteryState, 'battery', self.on_battery, 5)
        self.create_subscription(Bool, 'mower/blade', self.on_blade, 10)
        self.create_subscription(DiagnosticStatus, 'safety/status', self.on_safety, 10)
        self.requests = {r: self.create_client(Trigger, f'mower/{r}') for r in REQUESTS}
        self.timer = self.create_timer(p['poll_s'], self.step)
        self.bridge = HaBridge(settings, self, client=client, log=_Logger(self))
        self.bridge.start(p['poll_s'])

    # -- the Operator interface (called on the MQTT thread) ------------------------------------
    def status(self) -> MowerStatus:
        """The latest status."""
        return self.tracker.status()

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        """Queue a command for the node's timer (ROS calls stay on the executor's thread)."""
        why = check_command(name, zone, self.tracker.zones)
        if why:
            return False, why
        self._commands.put((name, zone))
        return True, 'queued (the mission answers next)'

    # -- the executor's side -------------------------------------------------------------------
    def now_s(self) -> float:
        """The node clock in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def step(self) -> None:
        """Carry out queued commands; start a zone's run once its plan reached the mission."""
        while True:
            try:
                name, zone = self._commands.get_nowait()
            except queue.Empty:
                break
            self.counts['commands'] += 1
            self._do(name, zone)
        if self.pending_zone is not None:
            zone, give_up = self.pending_zone
            if self.planned_zone == zone:
                self.pending_zone = None
                self._call('start', 'start_zone', zone)
            elif self.now_s() > give_up:
                self.pending_zone = None
                self.counts['zone_timeouts'] += 1
                why = f'no plan for zone {zone} reached the mission in {ZONE_TIMEOUT_S:.0f} s'
                self.get_logger().error(why)
                self.bridge.publish_result('start_zone', zone, False, why)

    def _do(self, name: str, zone: int) -> None:
        if name == 'emergency_stop':
            self.pub_estop.publish(Bool(data=True))
            self.bridge.publish_result(name, 0, True, 'emergency stop sent')
            return
        state = self.tracker.status().state
        target = zone_to_plan(name, zone, self.planned_zone, state)
        if target is not None:
            self.pub_zone.publish(UInt8(data=target))
            self.pending_zone = (target, self.now_s() + ZONE_TIMEOUT_S)
            return
        self._call(mission_request(name, state), name, zone)

    def _call(self, request: str, name: str, zone: int) -> None:
        client = self.requests[request]
        if not client.service_is_ready():
            self.bridge.publish_result(name, zone, False, f'mower/{request} is not available')
            return
        future = client.call_async(Trigger.Request())

        def answered(done: Any) -> None:
            try:
                response = done.result()
            except Exception as exc:  # noqa: BLE001 (the service call failed: say so)
                response, why = None, f'mower/{request} failed: {exc}'
            else:
                why = f'mower/{request} gave no answer'
            if response is None:
                self.bridge.publish_result(name, zone, False, why)
            else:
                self.bridge.publish_result(name, zone, bool(response.success), response.message)

        future.add_done_callback(answered)

    # -- subscriptions -------------------------------------------------------------------------
    def _bad(self, topic: str, exc: Exception) -> None:
        self.counts['bad_messages'] += 1
        self.get_logger().warning(f'malformed message on {topic} skipped: {exc}')

    def on_state(self, msg: String) -> None:
        """The mission's state, message, mowed share and zone."""
        try:
            data = state_of(msg)
            zone = int(data.get('zone', 0))
        except (ValueError, TypeError) as exc:
            self._bad('mower/state', exc)
            return
        mowed = data.get('mowed_pct')
        self.planned_zone = zone
        self.tracker.mission(
            data['state'],
            str(data.get('message', '')),
            float(mowed) if isinstance(mowed, (int, float)) else None,
            zone,
        )

    def on_odom(self, msg: Odometry) -> None:
        """The pose: position, heading, distance today."""
        try:
            self.tracker.pose(*pose_of(msg))
        except (AttributeError, TypeError) as exc:
            self._bad(self.p['pose_topic'], exc)

    def on_battery(self, msg: BatteryState) -> None:
        """Charge and charging."""
        self.tracker.battery(*battery_of(msg))

    def on_blade(self, msg: Bool) -> None:
        """Whether the blade runs."""
        self.tracker.blade(bool(msg.data))

    def on_safety(self, msg: DiagnosticStatus) -> None:
        """Latched safety stops, the emergency stop among them."""
        _, latched = safety_of(msg)
        self.tracker.safety(latched, any('emergency stop' in r for r in latched))

    def destroy_node(self) -> None:
        """Say offline to the broker, then go."""
        self.bridge.stop()
        super().destroy_node()


class _Logger:
    """The node's logger with the standard library's method names the bridge calls."""

    def __init__(self, node: Node) -> None:
        self._log = node.get_logger()

    def info(self, msg: str) -> None:
        self._log.info(msg)

    def warning(self, msg: str) -> None:
        self._log.warning(msg)


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_integrations mqtt_bridge_node``."""
    return run_node(MqttBridgeNode, args, startup_errors=(BridgeError,))


if __name__ == '__main__':
    main()
