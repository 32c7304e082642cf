"""launch_testing: segmentation_node on a real ROS 2 graph (skipped where ROS 2 is absent).

Starts the node with the shipped int8 model, configures and activates it through the lifecycle
services, publishes a camera image and waits for the labels.
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
import numpy as np  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.launch_test
def generate_test_description():
    """segmentation_node with the shipped parameters and int8 model."""
    node = launch_ros.actions.Node(
        package='mower_segmentation',
        executable='segmentation_node',
        name='segmentation_node',
        parameters=[
            str(ROOT / 'config' / 'segmentation.yaml'),
            {'model_file': str(ROOT / 'models' / 'lawnnet_int8.onnx')},
        ],
    )
    return launch.LaunchDescription([node, launch_testing.actions.ReadyToTest()])


class TestSegmentationNode(unittest.TestCase):
    """Lifecycle and one image through the node."""

    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node('segmentation_node_test')

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def _transition(self, transition_id):
        client = self.node.create_client(ChangeState, 'segmentation_node/change_state')
        self.assertTrue(client.wait_for_service(timeout_sec=30.0))
        future = client.call_async(ChangeState.Request(transition=Transition(id=transition_id)))
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=30.0)
        self.assertTrue(future.result().success)

    def test_labels_for_an_image(self):
        self._transition(Transition.TRANSITION_CONFIGURE)
        self._transition(Transition.TRANSITION_ACTIVATE)
        got = []
        self.node.create_subscription(
            Image, 'segmentation/labels', got.append, qos_profile_sensor_data
        )
        pub = self.node.create_publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
        rgb = np.full((240, 320, 3), (60, 130, 45), np.uint8)
        msg = Image(height=240, width=320, encoding='rgb8', step=960, data=rgb.tobytes())
        end = time.monotonic() + 20.0
        while not got and time.monotonic() < end:
            pub.publish(msg)
            rclpy.spin_once(self.node, timeout_sec=0.1)
        self.assertTrue(got, 'no labels within 20 s')
        self.assertEqual((got[0].encoding, got[0].width), ('mono8', 320))
