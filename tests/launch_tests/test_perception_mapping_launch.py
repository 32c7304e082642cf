"""launch_testing: camera_node (on a video file) and mapping_node together (skipped without ROS 2).

The camera plays a short video made in the test; mapping_node gets poses and a label image and
must publish map/semantic (transient local).
"""

from __future__ import annotations

import tempfile
import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip('launch_testing', reason='ROS 2 (launch_testing) absent')
rclpy = pytest.importorskip('rclpy', reason='ROS 2 (rclpy) absent')

import cv2  # noqa: E402
import launch  # noqa: E402
import launch_ros.actions  # noqa: E402
import launch_testing.actions  # noqa: E402
import numpy as np  # noqa: E402
from nav_msgs.msg import OccupancyGrid  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VIDEO = Path(tempfile.gettempdir()) / 'mower_launch_test.avi'


@pytest.mark.launch_test
def generate_test_description():
    """camera_node on a generated video, mapping_node with the shipped parameters."""
    out = cv2.VideoWriter(str(VIDEO), cv2.VideoWriter_fourcc(*'MJPG'), 10, (320, 240))
    for _ in range(10):
        out.write(np.full((240, 320, 3), (40, 130, 60), np.uint8))
    out.release()
    camera = launch_ros.actions.Node(
        package='mower_perception',
        executable='camera_node',
        name='camera_node',
        parameters=[
            str(ROOT / 'config' / 'camera.yaml'),
            {'source': str(VIDEO), 'calibration_file': str(ROOT / 'config' / 'camera_info.yaml')},
        ],
    )
    mapping = launch_ros.actions.Node(
        package='mower_mapping',
        executable='mapping_node',
        name='mapping_node',
        parameters=[str(ROOT / 'config' / 'mapping.yaml')],
    )
    return launch.LaunchDescription([camera, mapping, launch_testing.actions.ReadyToTest()])


class TestPerceptionMapping(unittest.TestCase):
    """Images flow, and the map is published."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('perception_mapping_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_images_and_map(self):
        images, grids = [], []
        self.node.create_subscription(
            Image, 'camera/image_raw', images.append, qos_profile_sensor_data
        )
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(OccupancyGrid, 'map/semantic', grids.append, latched)
        end = time.monotonic() + 20.0
        while time.monotonic() < end and not (images and grids):
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertTrue(images, 'no camera image within 20 s')
        self.assertTrue(grids, 'no map/semantic within 20 s')
