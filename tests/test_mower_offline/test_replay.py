"""Bag replay: real outdoor bags in every format, and damaged bags made here (one per fault)."""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
from bag_msgs import odometry
from conftest import ROOT, SHARED_DATA
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer

from mower_cli.main import main
from mower_offline.bag import TYPESTORE, BagRecorder, header, ros_msg
from mower_offline.replay import Replay, ReplayConfig, ReplayError, image_rgb

RL = SHARED_DATA / 'robot-localization-bags'
EVO = SHARED_DATA / 'evo-test-bags'
needs_data = pytest.mark.skipif(
    not RL.is_dir() or not EVO.is_dir(), reason='../shared/data bags not present'
)


def replay(bag: Path, out: Path, **kw) -> dict:
    return Replay(bag, out, ReplayConfig(**kw)).run(progress=False)


def truth(bag: Path, topic: str) -> tuple[dict[str, int], np.ndarray]:
    """The bag's own message counts, and the positions on ``topic``, read here with rosbags."""
    with AnyReader([bag], default_typestore=TYPESTORE) as r:
        counts: dict[str, int] = {}
        for c in r.connections:
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        xy = []
        cons = [c for c in r.connections if c.topic == topic]
        for con, _, raw in r.messages(connections=cons):
            m = r.deserialize(raw, con.msgtype)
            if con.msgtype == 'tf2_msgs/msg/TFMessage':
                xy += [
                    (t.transform.translation.x, t.transform.translation.y)
                    for t in m.transforms
                    if t.child_frame_id == 'base_footprint'
                ]
                continue
            p = m.pose.pose.position if hasattr(m.pose, 'pose') else m.pose.position
            xy.append((p.x, p.y))
    return counts, np.array(xy)


# -- real bags ---------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize(
    'bag',
    [
        RL / 'test1.bag',  # ROS 1
        RL / 'rosbag2' / 'test1_husky_mcap',  # rosbag2 MCAP with metadata.yaml
        RL / 'rosbag2' / 'test1_husky_sqlite3',  # rosbag2 sqlite3
    ],
    ids=['ros1', 'mcap', 'sqlite3'],
)
@pytest.mark.slow
def test_husky_bag_in_every_format(bag, tmp_path):
    s = replay(bag, tmp_path, video=False)
    counts, xy = truth(bag, '/husky_velocity_controller/odom')
    assert s['messages_in_bag'] == counts == s['messages_read']
    assert counts == {'/imu/data': 11865, '/husky_velocity_controller/odom': 3952, '/fix': 989}
    assert s['topics']['odom'] == '/husky_velocity_controller/odom'
    assert s['topics']['imu'] == '/imu/data' and s['topics']['gnss'] == '/fix'
    assert s['poses'] == 3952 and s['imu_samples'] > 11000 and s['gnss_fixes'] == 989
    assert s['path_end_xy'] == pytest.approx(xy[-1], abs=1e-3)
    assert s['path_end_xy'] == pytest.approx([-15.8, -19.7], abs=0.1)  # as SOURCE.md says
    assert s['distance_m'] == pytest.approx(
        float(np.hypot(*np.diff(xy, axis=0).T).sum()), abs=1e-3
    )
    assert s['frames_processed'] == 0 and s['area_swept_m2'] > 0
    assert any('no camera topic' in p['what'] for p in s['problems'])
    # the new bag holds every input message, as ROS 2 CDR, plus the outputs
    out_counts, _ = truth(tmp_path / 'bag', '/husky_velocity_controller/odom')
    for topic, n in counts.items():
        assert out_counts[topic] == n
    assert out_counts['/replay/map/semantic'] >= 1
    assert (tmp_path / 'map.png').stat().st_size > 10_000
    assert json.loads((tmp_path / 'summary.json').read_text())['poses'] == 3952


@needs_data
@pytest.mark.slow
def test_the_three_husky_formats_agree(tmp_path):
    sums = [
        replay(b, tmp_path / b.name, video=False, write_bag=False)
        for b in (
            RL / 'test1.bag',
            RL / 'rosbag2' / 'test1_husky_mcap',
            RL / 'rosbag2' / 'test1_husky_sqlite3',
        )
    ]
    for key in ('poses', 'distance_m', 'path_end_xy', 'gnss_fixes', 'area_swept_m2'):
        assert sums[0][key] == sums[1][key] == sums[2][key], key


@needs_data
@pytest.mark.parametrize(
    'bag, topic, poses, source',
    [
        (EVO / 'nav2_turtlebot.mcap', '/odom', 2639, 'odometry /odom'),  # bare .mcap, no metadata
        (EVO / 'tf_example', '/tf', 517, 'tf odom -> base_footprint'),  # sqlite3, tf only
        (EVO / 'tf_example.bag', '/tf', 517, 'tf odom -> base_footprint'),  # ROS 1, tf only
        (EVO / 'ROS_example.bag', 'groundtruth', 12765, 'poses groundtruth'),  # PoseStamped
    ],
)
@pytest.mark.slow
def test_evo_format_cases(bag, topic, poses, source, tmp_path):
    s = replay(bag, tmp_path, video=False)
    counts, xy = truth(bag, topic)
    assert s['messages_in_bag'] == counts == s['messages_read']
    assert s['poses'] == poses and s['pose_source'] == source
    assert s['path_end_xy'] == pytest.approx(xy[-1], abs=1e-3)
    assert s['distance_m'] == pytest.approx(
        float(np.hypot(*np.diff(xy, axis=0).T).sum()), abs=1e-3
    )


# -- damaged bags, made here --------------------------------------------------------------------


def _image(w: int = 160, h: int = 120) -> np.ndarray:
    """A plain lawn: sky on top, grass below (RGB)."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 3] = (150, 190, 235)
    rng = np.random.default_rng(0)
    img[h // 3 :] = np.clip(
        np.array([60, 140, 40]) + rng.normal(0, 12, (h - h // 3, w, 3)), 0, 255
    ).astype(np.uint8)
    return img


def make_bag(
    path: Path,
    frames: int = 12,
    info: bool = True,
    raw_image: str | None = None,
    backwards_at: int | None = None,
    corrupt_at: int | None = None,
    unknown: bool = False,
    size: tuple[int, int] = (160, 120),
    speed_mps: float = 0.4,
) -> Path:
    """A small camera + odometry bag (MCAP): 10 Hz frames, 20 Hz odometry along x."""
    rgb = _image(*size)
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    with BagRecorder(path) as bag:
        for i in range(frames * 2 + 2):
            t = 1.0 + i * 0.05
            odom = odometry(t, speed_mps * 0.05 * i)
            bag.write('/odom', 'nav_msgs/msg/Odometry', t, odom)
        for i in range(frames):
            t = 1.05 + i * 0.1
            stamp = t - 0.5 if backwards_at is not None and i == backwards_at else t
            if raw_image is None:
                msg = ros_msg(
                    'sensor_msgs/msg/CompressedImage',
                    header=header(stamp, 'camera_optical_frame'),
                    format='jpeg',
                    data=jpeg.tobytes(),
                )
                topic, typ = '/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage'
            else:
                channels = 3 if raw_image in ('rgb8', 'bgr8') else 4
                msg = ros_msg(
                    'sensor_msgs/msg/Image',
                    header=header(stamp, 'camera'),
                    height=120,
                    width=160,
                    encoding=raw_image,
                    step=160 * channels,
                    data=np.zeros(120 * 160 * channels, np.uint8).tobytes()
                    if channels == 4
                    else rgb.tobytes(),
                )
                topic, typ = '/camera/image_raw', 'sensor_msgs/msg/Image'
            if corrupt_at is not None and i == corrupt_at:
                conn = bag.connections.get(topic)
                if conn is None:
                    conn = bag.connections[topic] = bag.writer.add_connection(
                        topic, typ, typestore=TYPESTORE
                    )
                bag.writer.write(conn, int(t * 1e9), b'\x00\x01\x00\x00garbage')
                bag.counts[topic] = bag.counts.get(topic, 0) + 1
            else:
                bag.write(topic, typ, t, msg)
            if info:
                f = 100.0
                bag.write(
                    '/camera/camera_info',
                    'sensor_msgs/msg/CameraInfo',
                    t,
                    ros_msg(
                        'sensor_msgs/msg/CameraInfo',
                        header=header(t, 'camera_optical_frame'),
                        height=120,
                        width=160,
                        k=[f, 0, 80, 0, f, 60, 0, 0, 1],
                        d=np.zeros(5),
                        distortion_model='plumb_bob',
                    ),
                )
        if unknown:
            conn = bag.writer.add_connection(
                '/acme/blob', 'acme_msgs/msg/Blob', msgdef='', rihs01='RIHS01_' + '0' * 64
            )
            bag.writer.write(conn, int(1.2e9), b'\x00\x01\x00\x00\x01\x02\x03\x04')
    return path


def problems(s: dict) -> str:
    return ' | '.join(f'{p["topic"]}: {p["what"]}' for p in s['problems'])


def test_frames_of_a_robot_standing_still_are_not_lost_but_fused_as_one_view(tmp_path, capsys):
    bag = make_bag(tmp_path / 'still', speed_mps=0.0)
    s = replay(bag, tmp_path / 'out', video=False)
    # mapping's still_frames (2): the view is fused to two sightings' worth (10 Hz frames after
    # the first weigh 0.22 each, fuse_period_s: 1 + 5 x 0.22), then counted, never a skip
    assert s['frames_processed'] == 12 and s['frames_skipped'] == 0, s['skip_reasons']
    assert s['frames_same_view'] == 6 and s['outputs']['bag_counts']['/replay/labels'] == 12
    # the six frames after the sixth add nothing: the map is the one of six frames of the view
    six = replay(make_bag(tmp_path / 'six', frames=6, speed_mps=0.0), tmp_path / 'six_out')
    assert six['frames_same_view'] == 0
    assert (
        s['area_mapped_m2'] == pytest.approx(six['area_mapped_m2']) and six['area_mapped_m2'] > 0.3
    )
    capsys.readouterr()
    assert main(['replay', str(bag), '--out', str(tmp_path / 'cli'), '--no-video']) == 0
    out = capsys.readouterr().out
    assert '12 frames segmented (6 of a view already mapped, not fused again), 0 skipped' in out


def test_a_clean_camera_bag_is_segmented_and_mapped(tmp_path):
    s = replay(make_bag(tmp_path / 'clean'), tmp_path / 'out')
    assert s['frames_processed'] == 12 and s['frames_skipped'] == 0, s['skip_reasons']
    assert s['topics']['camera'] == '/camera/image_raw/compressed'
    assert s['problems'] == []
    assert s['area_mapped_m2'] > 1.0 and s['distance_m'] == pytest.approx(0.5, abs=1e-6)
    assert s['outputs']['bag_counts']['/replay/labels'] == 12
    assert s['segmentation_ms_mean'] > 0 and s['segmentation_ms_p99'] >= s['segmentation_ms_mean']
    video = cv2.VideoCapture(s['outputs']['video'])
    n = 0
    while video.read()[0]:
        n += 1
    assert n == 12


def test_truncated_bag_is_reported_and_what_was_read_is_kept(tmp_path):
    bag = make_bag(tmp_path / 'bag', frames=30, size=(640, 480))  # several 1 MB chunks
    mcap = next(bag.glob('*.mcap'))
    data = mcap.read_bytes()
    (bag / 'metadata.yaml').unlink()  # a recording cut off by a power loss: no metadata
    mcap.write_bytes(data[: int(len(data) * 0.6)])
    s = replay(mcap, tmp_path / 'out')
    assert 0 < s['frames_processed'] < 30
    assert 'damaged MCAP file' in problems(s) and 'the rest is lost' in problems(s), problems(s)
    assert s['poses'] > 0
    assert (tmp_path / 'out' / 'summary.json').exists()
    assert (tmp_path / 'out' / 'map.png').exists()


def test_corrupt_message_is_reported_and_skipped(tmp_path):
    s = replay(make_bag(tmp_path / 'bag', corrupt_at=4), tmp_path / 'out')
    assert s['frames_processed'] == 11
    assert s['skip_reasons'] == {'corrupt message': 1}
    p = [p for p in s['problems'] if 'corrupt' in p['what']]
    assert p and p[0]['topic'] == '/camera/image_raw/compressed'
    assert p[0]['time_s'] == pytest.approx(0.45, abs=0.01)  # bag time of frame 4


def test_unknown_message_type_is_reported_and_skipped(tmp_path):
    s = replay(make_bag(tmp_path / 'bag', unknown=True), tmp_path / 'out')
    assert s['frames_processed'] == 12
    assert s['messages_read']['/acme/blob'] == 1
    text = problems(s)
    assert '/acme/blob' in text and 'acme_msgs/msg/Blob' in text, text


def test_missing_camera_info_is_reported_and_frames_still_mapped(tmp_path):
    s = replay(make_bag(tmp_path / 'bag', info=False), tmp_path / 'out')
    assert s['frames_processed'] == 12 and s['area_mapped_m2'] > 1.0
    assert 'no camera info' in problems(s)


def test_time_going_backwards_is_reported_and_the_frame_skipped(tmp_path):
    s = replay(make_bag(tmp_path / 'bag', backwards_at=6), tmp_path / 'out')
    assert s['frames_processed'] == 11
    assert s['skip_reasons'] == {'time went backwards': 1}
    p = [p for p in s['problems'] if 'backwards' in p['what']]
    assert p and p[0]['topic'] == '/camera/image_raw/compressed'


def test_unexpected_image_encoding_is_reported_and_skipped(tmp_path):
    s = replay(make_bag(tmp_path / 'bag', raw_image='32FC1'), tmp_path / 'out')
    assert s['frames_processed'] == 0 and s['frames_skipped'] == 12
    assert "encoding '32FC1' is not supported" in problems(s)
    good = replay(make_bag(tmp_path / 'bag2', raw_image='rgb8'), tmp_path / 'out2')
    assert good['frames_processed'] == 12 and good['topics']['camera'] == '/camera/image_raw'


@pytest.mark.parametrize('content', [b'hello, not a bag\n', b'', b'\x89PNG\r\n\x1a\n' * 40])
def test_a_file_that_is_not_a_bag_gets_one_line(tmp_path, capsys, content):
    f = tmp_path / 'notes.bag'
    f.write_bytes(content)
    with pytest.raises(ReplayError):
        Replay(f, tmp_path / 'out')
    assert main(['replay', str(f), '--out', str(tmp_path / 'out')]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and '\n' not in err and 'Traceback' not in err


def test_damaged_sqlite_bag_reports_and_completes(tmp_path):
    # a rosbag2 sqlite3 bag whose message table lost rows mid-file (metadata counts disagree)
    src = tmp_path / 'src'
    with Writer(src, version=8, storage_plugin=StoragePlugin.SQLITE3) as w:
        conn = w.add_connection('/odom', 'nav_msgs/msg/Odometry', typestore=TYPESTORE)
        for i in range(20):
            msg = ros_msg(
                'nav_msgs/msg/Odometry',
                header=header(1 + i * 0.1, 'odom'),
                child_frame_id='base_link',
            )
            w.write(
                conn,
                int((1 + i * 0.1) * 1e9),
                TYPESTORE.serialize_cdr(msg, 'nav_msgs/msg/Odometry'),
            )
    db = next(src.glob('*.db3'))
    with sqlite3.connect(db) as c:
        c.execute('UPDATE messages SET data = ? WHERE id = 7', (b'\x00\x01',))
    s = replay(src, tmp_path / 'out', video=False)
    assert s['poses'] == 19
    assert 'corrupt nav_msgs/msg/Odometry' in problems(s)


def test_image_conversions():
    rgb = _image(8, 6)
    for enc, data, ch in (
        ('rgb8', rgb, 3),
        ('bgr8', rgb[..., ::-1], 3),
        ('rgba8', np.dstack([rgb, np.full((6, 8), 255, np.uint8)]), 4),
    ):
        msg = ros_msg(
            'sensor_msgs/msg/Image',
            height=6,
            width=8,
            encoding=enc,
            step=8 * ch,
            data=np.ascontiguousarray(data).tobytes(),
        )
        assert np.array_equal(image_rgb(msg, 'sensor_msgs/msg/Image'), rgb), enc
    mono = ros_msg(
        'sensor_msgs/msg/Image',
        height=6,
        width=8,
        encoding='mono8',
        step=10,
        data=np.arange(60, dtype=np.uint8).tobytes(),
    )  # padded rows
    out = image_rgb(mono, 'sensor_msgs/msg/Image')
    assert out.shape == (6, 8, 3) and out[1, 0, 0] == 10
    short = ros_msg(
        'sensor_msgs/msg/Image', height=6, width=8, encoding='rgb8', step=24, data=b'\x00' * 10
    )
    with pytest.raises(ValueError, match='bytes'):
        image_rgb(short, 'sensor_msgs/msg/Image')
    bad = ros_msg('sensor_msgs/msg/CompressedImage', format='jpeg', data=b'\xff\xd8 broken')
    with pytest.raises(ValueError, match='does not decode'):
        image_rgb(bad, 'sensor_msgs/msg/CompressedImage')


def test_topic_override_and_a_missing_override(tmp_path):
    bag = make_bag(tmp_path / 'bag')
    s = replay(bag, tmp_path / 'out', topics={'camera': '/camera/image_raw/compressed'})
    assert s['frames_processed'] == 12
    with pytest.raises(ReplayError, match='no such topic'):
        Replay(bag, tmp_path / 'out2', ReplayConfig(topics={'camera': '/nope'}))


def test_extract_frames_every_nth(tmp_path):
    bag = make_bag(tmp_path / 'bag')
    assert (
        main(
            [
                'replay',
                str(bag),
                '--out',
                str(tmp_path / 'out'),
                '--extract-frames',
                '--every',
                '5',
                '--no-video',
                '--json',
            ]
        )
        == 0
    )
    files = sorted((tmp_path / 'out' / 'frames').glob('*.png'))
    assert len(files) == 6  # frames 0, 5, 10: image and labels each
    assert len([f for f in files if f.name.endswith('_labels.png')]) == 3
    shutil.rmtree(tmp_path / 'out')


def test_poses_interpolate_at_the_frame_time():
    from mower_offline.replay import Timeline

    tl = Timeline(
        np.array([0.0, 1.0, 2.0]),
        np.array([[0, 0], [1, 0], [1, 1.0]]),
        np.array([0.0, math.pi - 0.1, -math.pi + 0.1]),
        np.zeros((3, 2)),
    )
    x, y, yaw, _, _ = tl.at(0.5, 1.0)
    assert (x, y) == pytest.approx((0.5, 0.0))
    _, _, yaw, _, _ = tl.at(1.5, 1.0)
    assert abs(math.remainder(yaw - math.pi, 2 * math.pi)) < 1e-9  # across the wrap
    assert tl.at(3.3, 1.0) is None and tl.at(-1.3, 1.0) is None
    assert tl.at(0.5, 0.25) is None  # inside a gap of 1 s in the data
    assert tl.at(0.1, 0.25) is not None  # near a pose


def test_extract_unsure_frames_and_fuse_the_confidence_when_configured(tmp_path, monkeypatch):
    from mower_mapping.semantic_grid import SemanticGrid

    bag = make_bag(tmp_path / 'bag')
    assert (
        main(
            [
                'replay',
                str(bag),
                '--out',
                str(tmp_path / 'out'),
                '--extract-frames',
                '--unsure',
                '0.01',
                '--no-video',
                '--json',
            ]
        )
        == 0
    )  # about 3 % below 0.6
    assert len(list((tmp_path / 'out' / 'frames').glob('*_labels.png'))) == 12
    fused = []
    real_fuse = SemanticGrid.fuse

    def spy(self, labels, lut, pose, roll_rad=0.0, pitch_rad=0.0, confidence=None, weight=1.0):
        fused.append(confidence)
        return real_fuse(self, labels, lut, pose, roll_rad, pitch_rad, confidence, weight)

    monkeypatch.setattr(SemanticGrid, 'fuse', spy)
    config = tmp_path / 'config'
    shutil.copytree(ROOT / 'config', config)
    mapping = config / 'mapping.yaml'
    assert 'use_confidence: true' in mapping.read_text()  # the default
    mapping.write_text(
        mapping.read_text().replace('use_confidence: true', 'use_confidence: false')
    )
    plain = replay(bag, tmp_path / 'plain', video=False, write_bag=False, config_dir=config)
    assert len(fused) == 12 and all(c is None for c in fused)  # switched off: not used
    fused.clear()
    s = replay(bag, tmp_path / 'conf', video=False, write_bag=False)  # shipped config
    assert len(fused) == 12 and all(c is not None and c.shape == (120, 160) for c in fused)
    assert 0 < s['area_mapped_m2'] <= plain['area_mapped_m2']


def test_recorded_bags_use_mcaps_zstd_chunks_and_read_back_exactly(tmp_path):
    """The recorder compresses MCAP chunks (zstd): label images shrink, every reader copes."""
    labels = np.zeros((240, 320), np.uint8)
    labels[120:] = 1  # a label image: large uniform regions
    msg = ros_msg(
        'sensor_msgs/msg/Image',
        header=header(1.0, 'camera_optical_frame'),
        height=240,
        width=320,
        encoding='mono8',
        is_bigendian=0,
        step=320,
        data=labels.ravel(),
    )
    path = tmp_path / 'bag'
    with BagRecorder(path) as bag:
        for i in range(50):
            bag.write('/segmentation/labels', 'sensor_msgs/msg/Image', 1.0 + 0.1 * i, msg)
    mcap = next(path.glob('*.mcap'))
    raw = 50 * labels.size
    assert mcap.stat().st_size < raw / 10  # compressed chunks, not 3.8 MB of raw labels
    assert b'zstd' in mcap.read_bytes()
    with AnyReader([path], default_typestore=TYPESTORE) as reader:
        got = [reader.deserialize(d, c.msgtype) for c, _, d in reader.messages()]
    assert len(got) == 50
    assert all(np.array_equal(np.asarray(m.data).reshape(240, 320), labels) for m in got)
