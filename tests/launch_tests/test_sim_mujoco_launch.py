"""launch_testing: sim_mujoco.launch.py, the whole stack against sim_node (skipped without ROS 2).

End to end: the camera frames reach the segmentation node, whose labels reach the mapping node,
whose semantic grid shows lawn in front of the dock; a start request makes the mower move.
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
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from nav_msgs.msg import OccupancyGrid, Odometry  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.launch_test
def generate_test_description():
    """sim_mujoco.launch.py on the demo lawn, headless rendering."""
    sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(ROOT / 'launch' / 'sim_mujoco.launch.py')),
        launch_arguments={
            'map': str(ROOT / 'maps' / 'demo_lawn.geojson'),
            'use_rviz': 'false',
        }.items(),
    )
    return launch.LaunchDescription([sim, launch_testing.actions.ReadyToTest()])


class TestSimMujocoLaunch(unittest.TestCase):
    """Camera -> segmentation -> mapping, and mission -> controller -> safety -> sim."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('sim_mujoco_launch_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_the_semantic_grid_sees_lawn_and_the_mower_moves(self):
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        grids, odoms = [], []
        self.node.create_subscription(OccupancyGrid, 'map/semantic', grids.append, latched)
        self.node.create_subscription(Odometry, 'odom', odoms.append, 10)
        start = self.node.create_client(Trigger, 'mower/start')
        self.assertTrue(start.wait_for_service(timeout_sec=30.0))
        end = time.monotonic() + 60.0
        while time.monotonic() < end and not (
            grids and sum(1 for v in grids[-1].data if v == 0) > 500
        ):
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertTrue(grids, 'no map/semantic')
        self.assertGreater(sum(1 for v in grids[-1].data if v == 0), 500, 'no lawn cells')
        future = start.call_async(Trigger.Request())
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=10.0)
        self.assertTrue(future.result().success, future.result().message)
        x0 = odoms[-1].pose.pose.position if odoms else None
        end = time.monotonic() + 60.0
        moved = 0.0
        while time.monotonic() < end and moved < 0.3:
            rclpy.spin_once(self.node, timeout_sec=0.1)
            if odoms and x0 is not None:
                p = odoms[-1].pose.pose.position
                moved = ((p.x - x0.x) ** 2 + (p.y - x0.y) ** 2) ** 0.5
        self.assertGreater(moved, 0.3, 'the mower did not move after mower/start')
