"""segmentation_node (lifecycle) against the strict rclpy double."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import channel_model


def make_node(ros, **params):
    from rclpy.parameter import Parameter

    from mower_segmentation.segmentation_node import SegmentationNode

    return SegmentationNode(parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


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
    node = make_node(
        ros,
        model_file=str(tmp_path / 'm.onnx'),
        publish_overlay=True,
        execution_providers=['cuda', 'cpu'],
    )
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


@pytest.mark.parametrize(
    'broken, reason',
    [
        ({'encoding': '16UC1'}, 'unsupported encoding'),
        ({'step': 10}, 'bad image geometry'),
        ({'data': b'\x00' * 100}, 'expected 230400'),
    ],
)
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


def plain_image(rgb, stamp_sec=42):
    """A camera image of one colour (the tiny model is sure of black: sky; unsure of grey)."""
    from sensor_msgs.msg import Image

    img = np.zeros((240, 320, 3), np.uint8) + np.asarray(rgb, np.uint8)
    msg = Image(height=240, width=320, encoding='rgb8', step=320 * 3, data=img.tobytes())
    msg.header.frame_id = 'camera_optical_frame'
    msg.header.stamp.sec = stamp_sec
    return msg


def active_node(ros, tmp_path, **params):
    channel_model(tmp_path / 'm.onnx', h=120, w=160)
    node = make_node(ros, model_file=str(tmp_path / 'm.onnx'), **params)
    node.trigger_configure()
    node.trigger_activate()
    return node, {p.topic: p for p in node.publishers}


def test_confidence_is_published_when_asked_with_the_camera_header(ros, tmp_path):
    node, pubs = active_node(ros, tmp_path, publish_confidence=True)
    assert pubs['segmentation/confidence'].qos_profile == pubs['segmentation/labels'].qos_profile
    node.subscriptions[0].deliver(plain_image((0, 0, 0), 42))  # sure
    node.subscriptions[0].deliver(plain_image((124, 116, 104), 43))  # the mean: no idea
    sure, unsure = pubs['segmentation/confidence'].published
    assert (sure.encoding, sure.height, sure.width, sure.step) == ('mono8', 240, 320, 320)
    assert sure.header.stamp.sec == 42 and sure.header.frame_id == 'camera_optical_frame'
    expected = node.segmenter.segment(np.zeros((240, 320, 3), np.uint8), True).confidence
    got = np.frombuffer(bytes(sure.data), np.uint8).reshape(240, 320)
    assert np.array_equal(got, np.rint(expected * 255).astype(np.uint8)) and got.min() > 250
    assert np.frombuffer(bytes(unsure.data), np.uint8).max() < 80  # about 0.25
    quiet, quiet_pubs = active_node(ros, tmp_path, publish_confidence=False)  # not asked
    quiet.subscriptions[0].deliver(plain_image((0, 0, 0)))
    assert quiet_pubs['segmentation/confidence'].published == []


def test_diagnostics_count_low_confidence_frames(ros, tmp_path):
    node, pubs = active_node(ros, tmp_path, low_confidence_share=0.5)
    for rgb in ((0, 0, 0), (124, 116, 104), (0, 0, 0)):
        node.subscriptions[0].deliver(plain_image(rgb))
    assert (node.frames, node.low_confidence_frames) == (3, 1)
    node.publish_diagnostics(plain_image((0, 0, 0)).header)
    diag = pubs['/diagnostics'].published[-1].status[0]
    values = {kv.key: kv.value for kv in diag.values}
    assert (
        values['low_confidence_frames'] == '1' and values['low_confidence_recent_share'] == '0.33'
    )
    assert diag.level == diag.OK
    for _ in range(3):  # most recent frames doubtful: the model does not know this lawn
        node.subscriptions[0].deliver(plain_image((124, 116, 104)))
    node.publish_diagnostics(plain_image((0, 0, 0)).header)
    diag = pubs['/diagnostics'].published[-1].status[0]
    assert diag.level == diag.WARN and 'unsure' in diag.message
    off, _ = active_node(ros, tmp_path, low_confidence_share=1.0)  # not counted at all
    off.subscriptions[0].deliver(plain_image((124, 116, 104)))
    assert off.low_confidence_frames == 0 and len(off.recent_low) == 0


def test_confidence_settings_are_range_checked(ros, tmp_path):
    from rclpy.exceptions import InvalidParameterValueException

    with pytest.raises(InvalidParameterValueException, match='min_confidence'):
        make_node(ros, model_file='', min_confidence=1.5)
    node = make_node(ros, model_file='', fallback_to_classical=True, publish_confidence=True)
    node.trigger_configure()
    assert any('no confidence' in text for _, text in node.get_logger().records)
    node.trigger_activate()
    node.subscriptions[0].deliver(plain_image((0, 0, 0)))
    pubs = {p.topic: p for p in node.publishers}
    assert len(pubs['segmentation/labels'].published) == 1
    assert pubs['segmentation/confidence'].published == []


def test_an_unexpected_configure_error_is_logged_and_leaves_it_unconfigured(
    ros, tmp_path, monkeypatch
):
    """In rclpy an exception in on_configure is an ERROR result, unexplained: the node says why.

    After the error (on_error) nothing of the failed configure is left: no model, no
    endpoints, and a later configure works.
    """
    import importlib

    from rclpy.lifecycle import TransitionCallbackReturn

    segmentation_node = importlib.import_module('mower_segmentation.segmentation_node')

    def crash(*args, **kwargs):
        raise RuntimeError('NPU driver crashed')

    channel_model(tmp_path / 'm.onnx', h=120, w=160)
    node = make_node(ros, model_file=str(tmp_path / 'm.onnx'))
    with monkeypatch.context() as m:
        m.setattr(segmentation_node, 'Segmenter', crash)
        assert node.trigger_configure() == TransitionCallbackReturn.ERROR
    assert node.current_state.label == 'unconfigured' and node.segmenter is None
    assert (
        'ERROR',
        'cannot configure: RuntimeError: NPU driver crashed',
    ) in node.get_logger().records
    assert node.subscriptions == [] and node.publishers == []
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    node.subscriptions[0].deliver(camera_image())
    assert node.frames == 1


def test_reconfiguring_does_not_duplicate_the_endpoints(ros, tmp_path):
    """Configure, cleanup, configure: one set of publishers and one subscription (issue 15)."""
    from rclpy.lifecycle import TransitionCallbackReturn

    channel_model(tmp_path / 'm.onnx', h=120, w=160)
    node = make_node(ros, model_file=str(tmp_path / 'm.onnx'))
    for _ in range(2):
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert len(node.publishers) == 4 and len(node.subscriptions) == 1
        assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
        assert node.publishers == [] and node.subscriptions == []


def test_no_inference_while_inactive(ros, tmp_path):
    """Inactive, its output would be dropped: the image is not even segmented."""
    channel_model(tmp_path / 'm.onnx', h=120, w=160)
    node = make_node(ros, model_file=str(tmp_path / 'm.onnx'))
    node.trigger_configure()
    calls = []
    segment = node.segmenter.segment
    node.segmenter.segment = lambda *a, **k: calls.append(1) or segment(*a, **k)
    node.subscriptions[0].deliver(camera_image())
    assert calls == [] and node.frames == 0
    node.trigger_activate()
    node.subscriptions[0].deliver(camera_image())
    assert calls == [1] and node.frames == 1
    node.trigger_deactivate()
    node.subscriptions[0].deliver(camera_image())
    assert calls == [1] and node.frames == 1
