"""camera_node and CameraSource: a video file as the camera, calibration YAML, reconnects."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import yaml
from conftest import ROOT

from mower_perception.camera_source import CameraSource, load_calibration


@pytest.fixture
def video(tmp_path):
    path = tmp_path / 'lawn.avi'
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (320, 240))
    for i in range(5):
        frame = np.zeros((240, 320, 3), np.uint8)
        frame[:] = (40, 120 + 10 * i, 60)  # BGR
        out.write(frame)
    out.release()
    return path


def test_video_file_frames_are_rgb_and_loop(video):
    src = CameraSource(str(video), loop=True)
    frames = [src.read() for _ in range(12)]
    assert all(f is not None and f.shape == (240, 320, 3) for f in frames)
    assert frames[0][0, 0, 2] < frames[0][0, 0, 1]  # RGB: green channel high, blue low
    assert src.stats.frames == 12 and src.stats.drops == 0


def test_missing_device_is_a_drop_then_a_reconnect_attempt(tmp_path):
    src = CameraSource(str(tmp_path / 'nope.avi'), reconnect_after=2)
    assert src.read() is None and src.read() is None
    assert src.stats.drops == 2 and not src.stats.connected
    assert 'cannot open camera source' in src.stats.last_error


def test_calibration_yaml(tmp_path):
    cal = load_calibration(ROOT / 'config' / 'camera_info.yaml')
    assert (cal.width, cal.height) == (320, 240) and cal.k[0, 0] == pytest.approx(207.846097)
    bad = tmp_path / 'bad.yaml'
    bad.write_text(
        yaml.safe_dump(
            {'image_width': 320, 'image_height': 240, 'camera_matrix': {'data': [1, 2, 3]}}
        )
    )
    with pytest.raises(ValueError, match='camera_matrix has 3 values'):
        load_calibration(bad)


def test_node_publishes_images_and_info_and_reports(ros, video):
    from rclpy.parameter import Parameter
    from rclpy.qos import ReliabilityPolicy

    from mower_perception.camera_node import CameraNode

    values = yaml.safe_load((ROOT / 'config' / 'camera.yaml').read_text())
    values = values['/**/camera_node']['ros__parameters']
    values.update(source=str(video), calibration_file=str(ROOT / 'config' / 'camera_info.yaml'))
    node = CameraNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
    assert {n for n in node._parameters if n != 'use_sim_time'} == set(values)
    for _ in range(3):
        node.timer.fire()
    pubs = {p.topic: p for p in node.publishers}
    assert pubs['camera/image_raw'].qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    (img, *_) = pubs['camera/image_raw'].published
    assert (img.width, img.height, img.encoding) == (320, 240, 'rgb8')
    info = pubs['camera/camera_info'].published[0]
    assert info.k[0] == pytest.approx(207.846097) and info.header.stamp == img.header.stamp
    node.diag_timer.fire()
    diag = pubs['/diagnostics'].published[-1].status[0]
    assert diag.level == diag.OK
    assert {kv.key: kv.value for kv in diag.values}['frames'] == '3'
    node.destroy_node()


def test_node_without_a_camera_keeps_running_and_says_so(ros, tmp_path):
    from rclpy.parameter import Parameter

    from mower_perception.camera_node import CameraNode

    node = CameraNode(parameter_overrides=[Parameter('source', value=str(tmp_path / 'x.avi'))])
    for _ in range(3):
        node.timer.fire()
    node.diag_timer.fire()
    pubs = {p.topic: p for p in node.publishers}
    assert pubs['camera/image_raw'].published == []
    diag = pubs['/diagnostics'].published[-1].status[0]
    assert diag.level == diag.ERROR and 'cannot open camera source' in diag.message
