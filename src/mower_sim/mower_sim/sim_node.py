"""sim_node: the MuJoCo lawn simulator as a ROS 2 node (for `ros2 launch` without Gazebo).

Its timer fires every ``step_s / realtime_factor`` wall seconds, on the steady clock: sim_node
is the ``/clock`` source, so its stepping must not wait for ``/clock`` even when the launch
gives it ``use_sim_time`` (a timer on the node's ROS clock would stand still at zero). Each
tick advances the simulation by ``step_s`` and publishes what the robot's drivers would:
``/clock``, ``camera/image_raw`` and ``camera/camera_info`` (SensorDataQoS, at
``camera_rate_hz``), ``imu/data``, ``odom`` with the tf odom -> base_link, ``joint_states``,
``gnss/fix`` when a datum is set, and the ground truth on ``sim/ground_truth``. It takes
``cmd_vel`` (geometry_msgs/Twist, or TwistStamped) and the blade on ``mower/blade``
(std_msgs/Bool).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState, NavSatFix
from std_msgs.msg import Bool
from tf2_msgs.msg import TFMessage

from mower_maps import MapError, load_map
from mower_maps.geodesy import enu_to_wgs84
from mower_node_kit.main import run_node
from mower_node_kit.params import declare
from mower_sim.conversions import (
    camera_info_msg,
    clock_msg,
    image_msg,
    imu_msg,
    joint_state_msg,
    navsat_msg,
    odometry_msg,
    transform_msg,
)
from mower_sim.sim import LawnSim, SensorNoise
from mower_sim.world import WorldConfig

#: name -> (default, description, min, max); all read-only except realtime_factor
PARAMETERS: dict[str, tuple[Any, str, float | None, float | None]] = {
    'map_file': ('', 'lawn map (GeoJSON) to simulate', None, None),
    'seed': (0, 'random seed of textures and sensor noise', 0, 2**31 - 1),
    'randomise': (False, 'domain randomisation of textures, light and camera', None, None),
    'step_s': (0.02, 'simulated time per timer tick (s)', 0.004, 0.5),
    'realtime_factor': (1.0, 'simulated seconds per wall second', 0.01, 100.0),
    'camera_rate_hz': (10.0, 'camera frame rate (Hz)', 0.5, 60.0),
    'cmd_vel_stamped': (False, 'cmd_vel is geometry_msgs/TwistStamped', None, None),
    'cmd_timeout_s': (0.5, 'zero the wheels when cmd_vel is older than this (s)', 0.05, 10.0),
    'odom_frame': ('odom', 'odometry frame', None, None),
    'base_frame': ('base_link', 'robot base frame', None, None),
    'camera_frame': ('camera_optical_frame', 'frame of the camera images', None, None),
    'imu_frame': ('imu_link', 'frame of the IMU', None, None),
    'gnss_datum': ([0.0, 0.0], '[lon, lat] of the map origin; [0, 0]: no gnss/fix', None, None),
    'image_noise_std': (2.0, 'camera pixel noise (grey levels)', 0.0, 50.0),
}

CMD_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)


class SimNode(Node):
    """Runs LawnSim and publishes its sensors; a thin adapter."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, build the simulator, create endpoints and the timer."""
        super().__init__('sim_node', **kwargs)
        self.params = p = declare(self, PARAMETERS, writable=('realtime_factor',))
        lawn = load_map(p['map_file'])  # a bad map fails start-up with MapError's message
        noise = SensorNoise(image_std=p['image_noise_std'])
        self.sim = LawnSim(
            lawn, WorldConfig(randomise=p['randomise']), seed=p['seed'], noise=noise
        )
        sensor = qos_profile_sensor_data
        self.pub_clock = self.create_publisher(ClockMsg, '/clock', 10)
        self.pub_image = self.create_publisher(Image, 'camera/image_raw', sensor)
        self.pub_info = self.create_publisher(CameraInfo, 'camera/camera_info', sensor)
        self.pub_imu = self.create_publisher(Imu, 'imu/data', sensor)
        self.pub_odom = self.create_publisher(Odometry, 'odom', 10)
        self.pub_truth = self.create_publisher(Odometry, 'sim/ground_truth', 10)
        self.pub_tf = self.create_publisher(TFMessage, '/tf', 10)
        self.pub_joints = self.create_publisher(JointState, 'joint_states', 10)
        self.pub_gnss = None
        if any(p['gnss_datum']):
            self.pub_gnss = self.create_publisher(NavSatFix, 'gnss/fix', sensor)
        cmd_type = TwistStamped if p['cmd_vel_stamped'] else Twist
        self.create_subscription(cmd_type, 'cmd_vel', self._on_cmd, CMD_QOS)
        self.create_subscription(Bool, 'mower/blade', self._on_blade, CMD_QOS)
        self._cmd = (0.0, 0.0)
        self._cmd_time = -math.inf
        self._next_frame = 0.0
        self._prev_pose = self.sim.pose
        # wall pacing on the steady clock: under use_sim_time the node clock waits for /clock,
        # which only this timer publishes
        self.timer = self.create_timer(
            p['step_s'] / p['realtime_factor'],
            self.tick,
            clock=Clock(clock_type=ClockType.STEADY_TIME),
        )

    def close(self) -> None:
        """Release the simulator (on exit)."""
        self.sim.close()

    def _on_cmd(self, msg: Twist | TwistStamped) -> None:
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        v, w = float(twist.linear.x), float(twist.angular.z)
        if not (math.isfinite(v) and math.isfinite(w)):
            self.get_logger().warning(f'ignoring non-finite cmd_vel ({v}, {w})')
            return
        self._cmd = (v, w)
        self._cmd_time = self.sim.time_s

    def _on_blade(self, msg: Bool) -> None:
        self.sim.blade_on = bool(msg.data)

    def tick(self) -> None:
        """Advance the simulation by one step and publish."""
        p = self.params
        sim = self.sim
        v, w = self._cmd if sim.time_s - self._cmd_time <= p['cmd_timeout_s'] else (0.0, 0.0)
        sim.command(v, w)
        sim.run(p['step_s'])
        t = sim.time_s
        self.pub_clock.publish(clock_msg(t))
        x, y, yaw = sim.pose
        px, py, pyaw = self._prev_pose
        dt = p['step_s']
        v_est = (
            math.hypot(x - px, y - py)
            / dt
            * (1 if math.cos(math.atan2(y - py, x - px) - yaw) >= 0 else -1)
        )
        w_est = math.remainder(yaw - pyaw, 2 * math.pi) / dt
        self._prev_pose = (x, y, yaw)
        odom = odometry_msg((x, y, yaw), v_est, w_est, t, p['odom_frame'], p['base_frame'])
        self.pub_odom.publish(odom)
        self.pub_truth.publish(odometry_msg((x, y, yaw), v_est, w_est, t, 'map', p['base_frame']))
        tf = TFMessage(
            transforms=[transform_msg(p['odom_frame'], p['base_frame'], x, y, 0.0, yaw, t)]
        )
        self.pub_tf.publish(tf)
        quat, gyro, accel = sim.imu()
        self.pub_imu.publish(
            imu_msg(quat, gyro, accel, t, p['imu_frame'], sim.noise.gyro_std, sim.noise.accel_std)
        )
        qv = sim.data.qvel
        self.pub_joints.publish(
            joint_state_msg(
                ['wheel_left_joint', 'wheel_right_joint'],
                sim.encoders(),
                np.array([qv[6], qv[7]]),
                t,
            )
        )
        if self.pub_gnss is not None:
            ex, ey = sim.gnss()
            lon, lat = enu_to_wgs84(ex, ey, *p['gnss_datum'])
            self.pub_gnss.publish(navsat_msg(lon, lat, sim.noise.gnss_std_m, t, 'gnss_link'))
        if t + 1e-9 >= self._next_frame:
            self._next_frame = t + 1.0 / p['camera_rate_hz']
            frame = sim.camera()
            m = sim.mower
            self.pub_image.publish(image_msg(frame.rgb, t, p['camera_frame']))
            self.pub_info.publish(
                camera_info_msg(
                    sim.camera_intrinsics(), m.image_width, m.image_height, t, p['camera_frame']
                )
            )


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_sim sim_node``."""
    return run_node(SimNode, args, on_exit=SimNode.close, startup_errors=(MapError,))


if __name__ == '__main__':
    main()
