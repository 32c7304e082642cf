"""launch_testing: coverage_node on a real ROS 2 graph (skipped where ROS 2 is not installed).

Starts the node with config/coverage.yaml and the demo lawn, then checks that a latched
nav_msgs/Path arrives on coverage/path and that mower/replan answers.
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
from nav_msgs.msg import Path as PathMsg  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.launch_test
def generate_test_description():
    """The node under test, with the shipped parameters and the demo lawn."""
    node = launch_ros.actions.Node(
        package='mower_coverage',
        executable='coverage_node',
        name='coverage_node',
        parameters=[
            str(ROOT / 'config' / 'coverage.yaml'),
            {'map_file': str(ROOT / 'maps' / 'demo_lawn.geojson')},
        ],
    )
    return launch.LaunchDescription([node, launch_testing.actions.ReadyToTest()])


class TestCoverageNode(unittest.TestCase):
    """End-to-end checks on the running node."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('coverage_node_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_latched_path_arrives(self):
        got = []
        qos = QoSProfile(
            depth=1,
            reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL,
        )
        self.node.create_subscription(PathMsg, 'coverage/path', got.append, qos)
        end = time.monotonic() + 30.0
        while not got and time.monotonic() < end:
            rclpy.spin_once(self.node, timeout_sec=0.2)
        self.assertTrue(got, 'no path on coverage/path within 30 s')
        self.assertGreater(len(got[0].poses), 1000)
        self.assertEqual(got[0].header.frame_id, 'map')

    def test_replan_service_answers(self):
        client = self.node.create_client(Trigger, 'mower/replan')
        self.assertTrue(client.wait_for_service(timeout_sec=30.0))
        future = client.call_async(Trigger.Request())
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=30.0)
        self.assertTrue(future.result().success, future.result().message)
