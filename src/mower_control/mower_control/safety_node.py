"""safety_node: the safety supervisor between the controller and the motors.

Subscribes to ``cmd_vel`` (from the controller), ``cmd_vel_teleop`` (geometry_msgs/Twist: the
owner's gamepad or the app's joystick, taken instead of ``cmd_vel`` while the mission is
TEACHING and ignored otherwise: :func:`~mower_control.safety.takes_teleop`), ``imu/data``
(SensorDataQoS), the pose (``pose_topic``, nav_msgs/Odometry in the map frame),
``mower/emergency_stop`` (std_msgs/Bool, the operator), ``motor/estop_input`` (the board's
hardware input), ``map/obstacle_cells`` (obstacle stop), ``mower/state`` and
``mower/blade_request`` (from the mission). Publishes, at
``rate_hz``, ``cmd_vel_safe`` (to the motor driver), ``mower/blade`` (std_msgs/Bool) and
``safety/status`` (diagnostic_msgs/DiagnosticStatus: keys ``active`` and ``latched``); serves
``safety/reset`` (std_srvs/Trigger). The lawn map (``map_file``) is the geofence; without one the
geofence is off and a warning says so. ``map/lawn`` (std_msgs/String, transient local: the map the
owner saved, GeoJSON) replaces it (latched stops stay); a malformed map is logged and counted, the
old fence kept. Input times are arrival times on the node's clock.
"""

from __future__ import annotations

from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Imu
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from mower_control.conversions import (
    imu_arrays,
    obstacle_grid,
    pose_of,
    state_of,
    twist_msg,
    twist_of,
)
from mower_control.parameters import NODE_EXTRA, build, declare
from mower_control.safety import SafetyParams, SafetySupervisor, fence_region, takes_teleop
from mower_maps import MapError, load_map, parse_map
from mower_node_kit.diagnostics import diagnostic_status, diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.qos import LATCHED

EXTRA = NODE_EXTRA['safety_node']  # the node's own parameters: one table, in parameters.py
HARDWARE_ID = 'mower'  # of safety/status and the diagnostics


class SafetyNode(Node):
    """A thin adapter around SafetySupervisor."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, load the geofence, create endpoints."""
        super().__init__('safety_node', **kwargs)
        self.p = p = declare(self, SafetyParams, EXTRA)
        lawn = None
        if p['map_file']:
            try:
                lawn = fence_region(load_map(p['map_file']))
            except MapError as exc:
                raise SystemExit(f'safety_node: {exc}') from exc
        else:
            self.get_logger().warning('no map_file: the geofence is off')
        self.supervisor = SafetySupervisor(build(SafetyParams, p), lawn)
        self.counts = {'bad_messages': 0, 'resets': 0, 'teleop_ignored': 0}
        self.last_reasons: tuple[str, ...] = ()
        twist = TwistStamped if p['cmd_vel_stamped'] else Twist
        self.pub_cmd = self.create_publisher(twist, 'cmd_vel_safe', 10)
        self.pub_blade = self.create_publisher(Bool, 'mower/blade', 10)
        self.pub_status = self.create_publisher(DiagnosticStatus, 'safety/status', 10)
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(twist, 'cmd_vel', self.on_cmd, 10)
        self.create_subscription(Twist, 'cmd_vel_teleop', self.on_teleop, 10)
        self.create_subscription(Imu, 'imu/data', self.on_imu, qos_profile_sensor_data)
        self.create_subscription(Odometry, p['pose_topic'], self.on_odom, 20)
        self.create_subscription(Bool, 'mower/emergency_stop', self.on_estop, 10)
        self.create_subscription(Bool, 'motor/estop_input', self.on_hw_estop, 10)
        self.create_subscription(OccupancyGrid, 'map/obstacle_cells', self.on_grid, LATCHED)
        self.create_subscription(String, 'mower/state', self.on_state, 10)
        self.create_subscription(Bool, 'mower/blade_request', self.on_blade_request, 10)
        self.create_subscription(String, 'map/lawn', self.on_map, LATCHED)
        self.create_service(Trigger, 'safety/reset', self.on_reset)
        self.timer = self.create_timer(1.0 / p['rate_hz'], self.step)
        self.diag_timer = self.create_timer(1.0, self.publish_diagnostics)
        self.state = 'IDLE'
        self.blade_request = False

    def now_s(self) -> float:
        """The node clock in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def _bad(self, topic: str, exc: Exception) -> None:
        self.counts['bad_messages'] += 1
        self.get_logger().warning(f'malformed message on {topic} skipped: {exc}')

    def on_cmd(self, msg: Twist | TwistStamped) -> None:
        """The controller's command (not while the owner's teleop drives)."""
        if not takes_teleop(self.state):
            self._command('cmd_vel', msg)

    def on_teleop(self, msg: Twist) -> None:
        """The owner's teleop: drives while the mission is TEACHING, else ignored (counted)."""
        if takes_teleop(self.state):
            self._command('cmd_vel_teleop', msg)
        else:
            self.counts['teleop_ignored'] += 1

    def _command(self, topic: str, msg: Twist | TwistStamped) -> None:
        try:
            self.supervisor.command(*twist_of(msg), self.now_s())
        except (AttributeError, TypeError) as exc:
            self._bad(topic, exc)

    def on_imu(self, msg: Imu) -> None:
        """Tilt and lift."""
        try:
            q, a = imu_arrays(msg)
        except (AttributeError, TypeError) as exc:
            self._bad('imu/data', exc)
            return
        self.supervisor.imu(q, a, self.now_s())

    def on_odom(self, msg: Odometry) -> None:
        """The pose, for the geofence, the obstacle stop and staleness."""
        try:
            self.supervisor.odometry(*pose_of(msg), self.now_s())
        except (AttributeError, TypeError) as exc:
            self._bad(self.p['pose_topic'], exc)

    def on_estop(self, msg: Bool) -> None:
        """The operator's emergency stop (latched on True)."""
        self.supervisor.emergency_stop(bool(msg.data), self.now_s())

    def on_hw_estop(self, msg: Bool) -> None:
        """The board's emergency-stop input."""
        self.supervisor.emergency_stop(bool(msg.data), self.now_s(), hardware=True)

    def on_grid(self, msg: OccupancyGrid) -> None:
        """Obstacle cells of the semantic map."""
        try:
            self.supervisor.grid = obstacle_grid(msg, self.p['obstacle_threshold'])
        except (AttributeError, TypeError, ValueError) as exc:
            self._bad('map/obstacle_cells', exc)

    def on_map(self, msg: String) -> None:
        """The owner's new map: the geofence from now on."""
        try:
            fence = fence_region(parse_map(msg.data, source='map/lawn'))
        except MapError as exc:
            self._bad('map/lawn', exc)
            return
        self.supervisor.set_fence(fence)
        self.get_logger().info('new map: the geofence follows it')

    def on_state(self, msg: String) -> None:
        """The mission's state (the blade interlock)."""
        try:
            self.state = str(state_of(msg)['state'])
        except ValueError as exc:
            self._bad('mower/state', exc)

    def on_blade_request(self, msg: Bool) -> None:
        """Whether the mission wants the blade."""
        self.blade_request = bool(msg.data)

    def on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """Clear latched stops, unless their cause is still there."""
        response.success, response.message = self.supervisor.reset()
        self.counts['resets'] += int(response.success)
        self.get_logger().info(f'reset: {response.message}')
        return response

    def step(self) -> None:
        """Decide and publish."""
        self.supervisor.mission(self.state, self.blade_request)
        out = self.supervisor.filter(self.now_s())
        stamp = self.get_clock().now().to_msg()
        self.pub_cmd.publish(
            twist_msg(
                out.v_mps, out.w_radps, self.p['cmd_vel_stamped'], stamp, self.p['base_frame_id']
            )
        )
        self.pub_blade.publish(Bool(data=out.blade))
        level = 'ERROR' if out.latched else 'WARN' if out.reasons else 'OK'
        self.pub_status.publish(
            diagnostic_status(
                'safety',
                level,
                ', '.join(out.reasons) or 'clear',
                {'active': ', '.join(out.reasons), 'latched': ', '.join(out.latched)},
                HARDWARE_ID,
            )
        )
        if out.reasons != self.last_reasons:
            self.get_logger().info(f'safety: {", ".join(out.reasons) or "clear"}')
            self.last_reasons = out.reasons

    def publish_diagnostics(self) -> None:
        """What holds the robot back, and the counters."""
        r = self.last_reasons
        level = 'ERROR' if self.supervisor.latched else 'WARN' if r else 'OK'
        values = {**self.counts, 'geofence': str(self.supervisor.lawn is not None)}
        self.pub_diag.publish(
            diagnostics(
                self.get_clock().now().to_msg(),
                'safety_node',
                level,
                ', '.join(r) or 'clear',
                values,
                HARDWARE_ID,
            )
        )


def main(args: list[str] | None = None) -> int:
    """Entry point: ``ros2 run mower_control safety_node``."""
    return run_node(SafetyNode, args)


if __name__ == '__main__':
    main()
