"""motor_driver_node: the link to the motor-controller board.

Subscribes to ``cmd_vel_safe`` (from the safety supervisor, never from the controller) and
``mower/blade`` (std_msgs/Bool). Publishes ``odom`` (nav_msgs/Odometry from the encoder ticks)
and the tf odom -> base_link (``publish_tf``), ``joint_states`` (the wheels), ``battery``
(sensor_msgs/BatteryState), ``motor/estop_input`` (the board's emergency-stop input, std_msgs/Bool)
and ``motor/status`` (DiagnosticStatus: link and board state), plus ``/diagnostics`` with the
CRC errors, timeouts and reconnections. ``transport``: ``serial`` (pyserial, ``port`` and
``baudrate``; reconnects by itself) or ``sim`` (a simulated board driving an ideal kinematic
mower, for dry runs without hardware). Commands older than ``cmd_timeout_s`` are replaced by
zero: the board also stops on its own watchdog.
"""

from __future__ import annotations

import math
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import BatteryState, JointState
from std_msgs.msg import Bool
from tf2_msgs.msg import TFMessage

from mower_control.conversions import (
    battery_msg,
    joint_state_msg,
    odometry_msg,
    tf_msg,
    twist_of,
)
from mower_control.driver import DriverParams, MotorDriver, SerialTransport
from mower_control.parameters import NODE_EXTRA, build, declare
from mower_control.protocol import EncoderTicks
from mower_control.sim_board import KinematicPlant, SimTransport, SimulatedBoard
from mower_node_kit.diagnostics import diagnostic_status, diagnostics
from mower_node_kit.main import run_node

EXTRA = NODE_EXTRA['motor_driver_node']  # the node's own parameters: one table, in parameters.py
HARDWARE_ID = 'mower'  # of motor/status and the diagnostics


class MotorDriverNode(Node):
    """A thin adapter around MotorDriver."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, open the transport, create endpoints."""
        super().__init__('motor_driver_node', **kwargs)
        self.p = p = declare(self, DriverParams, EXTRA)
        params = build(DriverParams, p)
        self.plant = None
        if p['transport'] == 'sim':
            self.plant = KinematicPlant(params.drive, tuple(p['sim_start_pose']))
            self.board = SimulatedBoard(self.plant, params.drive)
            transport = SimTransport(self.board)
        elif p['transport'] == 'serial':
            transport = SerialTransport(p['port'], p['baudrate'])
        else:
            raise SystemExit(
                f"motor_driver_node: transport must be 'serial' or 'sim', got {p['transport']!r}"
            )
        self.driver = MotorDriver(transport, params)
        self.cmd = (0.0, 0.0, -math.inf)
        self.blade = False
        self.last_t: float | None = None
        self.bad_messages = 0
        self.was_connected = False
        twist = TwistStamped if p['cmd_vel_stamped'] else Twist
        self.pub_odom = self.create_publisher(Odometry, 'odom', 20)
        self.pub_tf = (
            self.create_publisher(TFMessage, '/tf', 20) if self.p['publish_tf'] else None
        )  # the EKF publishes odom -> base_link
        self.pub_joints = self.create_publisher(JointState, 'joint_states', 20)
        self.pub_battery = self.create_publisher(BatteryState, 'battery', 5)
        self.pub_estop = self.create_publisher(Bool, 'motor/estop_input', 10)
        self.pub_status = self.create_publisher(DiagnosticStatus, 'motor/status', 10)
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(twist, 'cmd_vel_safe', self.on_cmd, 10)
        self.create_subscription(Bool, 'mower/blade', self.on_blade, 10)
        self.timer = self.create_timer(1.0 / p['rate_hz'], self.step)
        self.diag_timer = self.create_timer(1.0, self.publish_diagnostics)

    def now_s(self) -> float:
        """The node clock in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def on_cmd(self, msg: Twist | TwistStamped) -> None:
        """The safety supervisor's command."""
        try:
            v, w = twist_of(msg)
        except (AttributeError, TypeError) as exc:
            self.bad_messages += 1
            self.get_logger().warning(f'malformed message on cmd_vel_safe skipped: {exc}')
            return
        if math.isfinite(v) and math.isfinite(w):
            self.cmd = (v, w, self.now_s())

    def on_blade(self, msg: Bool) -> None:
        """The safety supervisor's blade decision."""
        self.blade = bool(msg.data)

    def step(self) -> None:
        """Exchange with the board; publish what it reported."""
        now = self.now_s()
        if self.plant is not None and self.last_t is not None:
            self.plant.advance(max(0.0, min(0.2, now - self.last_t)))
        self.last_t = now
        d = self.driver
        msgs = d.spin(now)
        st = d.status
        if st.connected != self.was_connected:
            # one call site per severity: rclpy raises if a site changes severity
            if st.connected:
                self.get_logger().info('motor board connected')
            else:
                self.get_logger().error(f'motor board lost: {st.last_error}')
            self.was_connected = st.connected
        v, w, t = self.cmd
        if now - t > self.p['cmd_timeout_s']:
            v = w = 0.0
        d.send_velocity(v, w)
        d.send_blade(self.blade)
        if self.plant is not None:
            self.board.update()
        stamp = self.get_clock().now().to_msg()
        if any(isinstance(m, EncoderTicks) for m in msgs):
            o = d.odometry
            odom = odometry_msg(
                o.x_m,
                o.y_m,
                o.yaw_rad,
                o.v_mps,
                o.w_radps,
                stamp,
                self.p['odom_frame_id'],
                self.p['base_frame_id'],
            )
            self.pub_odom.publish(odom)
            if self.pub_tf is not None:
                self.pub_tf.publish(tf_msg(odom))
            last = [m for m in msgs if isinstance(m, EncoderTicks)][-1]
            drive = d.params.drive
            angles = tuple(2 * math.pi * k / drive.ticks_per_rev for k in (last.left, last.right))
            left, right = drive.wheel_speeds(o.v_mps, o.w_radps)
            self.pub_joints.publish(
                joint_state_msg(
                    tuple(self.p['wheel_joints']),
                    angles,
                    (left / drive.wheel_radius_m, right / drive.wheel_radius_m),
                    stamp,
                )
            )
        self.pub_estop.publish(Bool(data=st.estop_pressed))
        level = 'ERROR' if not st.connected or st.faults else 'OK'
        self.pub_status.publish(
            diagnostic_status(
                'motor board',
                level,
                'connected' if st.connected else st.last_error,
                d.diagnostics(),
                HARDWARE_ID,
            )
        )

    def stop(self) -> None:
        """Wheels and blade off (on exit, before the link goes)."""
        self.driver.send_velocity(0.0, 0.0)
        self.driver.send_blade(False)

    def publish_diagnostics(self) -> None:
        """Link health and the battery."""
        st = self.driver.status
        stamp = self.get_clock().now().to_msg()
        self.pub_battery.publish(battery_msg(st.battery_v, st.battery_pct, st.charging, stamp))
        low = math.isfinite(st.battery_pct) and st.battery_pct < self.p['low_battery_pct']
        level = 'ERROR' if not st.connected or st.faults else 'WARN' if low else 'OK'
        values = {**self.driver.diagnostics(), 'bad_messages': self.bad_messages}
        self.pub_diag.publish(
            diagnostics(
                stamp,
                'motor_driver_node',
                level,
                'connected' if st.connected else st.last_error,
                values,
                HARDWARE_ID,
            )
        )


def main(args: list[str] | None = None) -> int:
    """Entry point: ``ros2 run mower_control motor_driver_node``."""
    return run_node(MotorDriverNode, args, on_exit=MotorDriverNode.stop)


if __name__ == '__main__':
    main()
