"""segmentation_node (lifecycle) against the strict rclpy double."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import channel_model


def make_node(ros, **params):
    from rclpy.parameter import Parameter

    from mower_segmentation.segmentation_node import SegmentationNode

    return SegmentationNode(parameter_overrides=[Parameter(k, value=v)
                                                 for k, v in params.items()])


def camera_image(h=240, w=320, encoding='rgb8'):
    from sensor_msgs.msg import Image

    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    msg = Image(height=h, width=w, encoding=encoding, step=w * 3, data=rgb.tobytes())
    msg.header.frame_id = 'camera_optical_frame'
    msg.header.stamp.sec = 42
    return msg


def test_configure_fails_clearly_without_a_model(ros, tmp_path):
    from rclpy.lifecycle import TransitionCallbackReturn

    node = make_node(ros, model_file=str(tmp_path / 'missing.onnx'))
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    assert any(sev == 'ERROR' and 'not found' in text for sev, text in node.get_logger().records)
    assert node.current_state.label == 'unconfigured'


def test_classical_fallback_when_allowed(ros, tmp_path):
    from rclpy.lifecycle import TransitionCallbackReturn

    node = make_node(ros, model_file='', fallback_to_classical=True)
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.segmenter.provider == 'classical'


def test_labels_published_when_active_only(ros, tmp_path):
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.qos import ReliabilityPolicy

    channel_model(tmp_path / 'm.onnx', h=120, w=160)
    node = make_node(ros, model_file=str(tmp_path / 'm.onnx'), publish_overlay=True,
                     execution_providers=['cuda', 'cpu'])
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.segmenter.provider == 'cpu'
    (sub,) = node.subscriptions
    assert sub.topic == 'camera/image_raw'
    assert sub.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    pubs = {p.topic: p for p in node.publishers}
    sub.deliver(camera_image())  # configured but inactive: nothing goes out
    assert pubs['segmentation/labels'].published == []
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    sub.deliver(camera_image())
    (labels,) = pubs['segmentation/labels'].published
    assert (labels.encoding, labels.height, labels.width) == ('mono8', 240, 320)
    assert labels.header.stamp.sec == 42 and labels.header.frame_id == 'camera_optical_frame'
    assert set(np.frombuffer(bytes(labels.data), np.uint8)) <= {0, 1, 2, 3}
    assert len(pubs['segmentation/overlay'].published) == 1


@pytest.mark.parametrize('broken, reason', [
    ({'encoding': '16UC1'}, 'unsupported encoding'),
    ({'step': 10}, 'bad image geometry'),
    ({'data': b'\x00' * 100}, 'expected 230400'),
])
def test_malformed_images_are_logged_counted_and_skipped(ros, tmp_path, broken, reason):
    channel_model(tmp_path / 'm.onnx', h=120, w=160)
    node = make_node(ros, model_file=str(tmp_path / 'm.onnx'))
    node.trigger_configure()
    node.trigger_activate()
    msg = camera_image()
    for k, v in broken.items():
        setattr(msg, k, v)
    node.subscriptions[0].deliver(msg)
    assert node.bad_images == 1
    assert any(reason in text for _, text in node.get_logger().records)
    node.subscriptions[0].deliver(camera_image())  # and it keeps going
    assert node.frames == 1
