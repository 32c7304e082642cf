"""launch_testing: robot.launch.py with the motor driver on its simulated board.

Skipped where ROS 2 is not installed. Without a camera or IMU driver the mower cannot mow, so
this checks the bring-up: every node of the stack comes up, robot_state_publisher publishes the
description, coverage_node publishes a plan (latched), and the motor driver, on its simulated
board, turns a velocity command into wheel odometry (wheel/odom) that moves.
"""

from __future__ import annotations

import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip('launch_testing', reason='ROS 2 (launch_testing) absent')
rclpy = pytest.importorskip('rclpy', reason='ROS 2 (rclpy) absent')

import launch  # noqa: E402
import launch_testing.actions  # noqa: E402
from geometry_msgs.msg import Twist  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from nav_msgs.msg import Path as PathMsg  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile  # noqa: E402
from std_msgs.msg import String  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NODES = {
    'segmentation_node',
    'mapping_node',
    'coverage_node',
    'mission_node',
    'controller_node',
    'safety_node',
    'motor_driver_node',
    'camera_node',
    'robot_state_publisher',
    'ekf_local',
    'ekf_global',
    'navsat_transform',
}


@pytest.mark.launch_test
def generate_test_description():
    """robot.launch.py on the demo lawn, motor board simulated, a video file as the camera."""
    robot = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(ROOT / 'launch' / 'robot.launch.py')),
        launch_arguments={
            'motor_transport': 'sim',
            'use_rviz': 'false',
            'map': str(ROOT / 'maps' / 'demo_lawn.geojson'),
        }.items(),
    )
    return launch.LaunchDescription([robot, launch_testing.actions.ReadyToTest()])


class TestRobotLaunch(unittest.TestCase):
    """The stack comes up; one end-to-end output: a command moves the wheel odometry."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('robot_launch_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_nodes_come_up_and_the_plan_is_latched(self):
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        plans, desc = [], []
        self.node.create_subscription(PathMsg, 'coverage/path', plans.append, latched)
        self.node.create_subscription(String, 'robot_description', desc.append, latched)
        end = time.monotonic() + 30.0
        while time.monotonic() < end and not (
            plans and desc and NODES <= set(self.node.get_node_names())
        ):
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertLessEqual(NODES, set(self.node.get_node_names()))
        self.assertTrue(plans and len(plans[-1].poses) > 100, 'no coverage plan')
        self.assertIn('camera_optical_frame', desc[-1].data)

    def test_a_velocity_command_moves_the_wheel_odometry(self):
        odoms = []
        self.node.create_subscription(Odometry, 'wheel/odom', odoms.append, 10)
        pub = self.node.create_publisher(Twist, 'cmd_vel_safe', 10)
        cmd = Twist()
        cmd.linear.x = 0.3
        end = time.monotonic() + 20.0
        while time.monotonic() < end and not (odoms and odoms[-1].pose.pose.position.x > 0.5):
            pub.publish(cmd)
            rclpy.spin_once(self.node, timeout_sec=0.05)
        self.assertTrue(odoms, 'no wheel/odom')
        self.assertGreater(odoms[-1].pose.pose.position.x, 0.5)
