"""launch_testing: sim_node on a real ROS 2 graph (skipped where ROS 2 is not installed).

Starts the node with config/sim.yaml on the demo lawn, sends cmd_vel and checks that camera
images arrive and the odometry moves forward.
"""

from __future__ import annotations

import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip('launch_testing', reason='ROS 2 (launch_testing) absent')
rclpy = pytest.importorskip('rclpy', reason='ROS 2 (rclpy) absent')

import launch  # noqa: E402
import launch_ros.actions  # noqa: E402
import launch_testing.actions  # noqa: E402
from geometry_msgs.msg import Twist  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.launch_test
def generate_test_description():
    """sim_node with the shipped parameters on the demo lawn, headless."""
    node = launch_ros.actions.Node(
        package='mower_sim',
        executable='sim_node',
        name='sim_node',
        parameters=[
            str(ROOT / 'config' / 'sim.yaml'),
            {'map_file': str(ROOT / 'maps' / 'demo_lawn.geojson')},
        ],
        additional_env={'MUJOCO_GL': 'egl'},
    )
    return launch.LaunchDescription([node, launch_testing.actions.ReadyToTest()])


class TestSimNode(unittest.TestCase):
    """End-to-end checks on the running simulator."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('sim_node_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_images_arrive_and_cmd_vel_moves_the_mower(self):
        images, odoms = [], []
        self.node.create_subscription(
            Image, 'camera/image_raw', images.append, qos_profile_sensor_data
        )
        self.node.create_subscription(Odometry, 'odom', odoms.append, 10)
        pub = self.node.create_publisher(Twist, 'cmd_vel', 10)
        cmd = Twist()
        cmd.linear.x = 0.3
        end = time.monotonic() + 20.0
        while time.monotonic() < end and not (
            images and odoms and odoms[-1].pose.pose.position.x > 0.8
        ):
            pub.publish(cmd)
            rclpy.spin_once(self.node, timeout_sec=0.05)
        self.assertTrue(images, 'no camera image within 20 s')
        self.assertEqual((images[0].width, images[0].height), (320, 240))
        self.assertGreater(odoms[-1].pose.pose.position.x, 0.8)
