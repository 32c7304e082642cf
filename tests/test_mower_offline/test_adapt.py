"""``mower segment adapt``: frames, geometry labels, review, end to end on a tiny model, bad input.

Fast (a LawnNet of width 4, a handful of frames, one epoch); the tests that need torch, the
teacher model in ../shared/data or ai-edge-litert are skipped where those are absent.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from bag_msgs import compressed_jpeg, odometry
from conftest import ROOT, SHARED_DATA

from mower_cli.main import main
from mower_offline.adapt_labels import (
    AdaptError,
    BagOptions,
    FramePose,
    GeometryLabeller,
    combine_labels,
    crop_box,
    fit_camera,
    fit_frame,
    load_lawn_map,
    read_frames,
    read_review_list,
    write_review_list,
)
from mower_perception.camera_model import CameraModel, Mounting
from mower_segmentation.classes import IGNORE, LAWN, OBSTACLE, OTHER, SKY

TEACHER = SHARED_DATA / 'ade20k-deeplab' / 'deeplabv3_mnv2_ade20k_int8.tflite'
MAP = {
    'type': 'FeatureCollection',
    'properties': {'name': 'test lawn', 'frame': 'enu', 'units': 'm'},
    'features': [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'lawn'},
            'geometry': {
                'type': 'Polygon',
                'coordinates': [[[0, 0], [20, 0], [20, 20], [0, 20], [0, 0]]],
            },
        },
        {
            'type': 'Feature',
            'properties': {'role': 'keepout', 'name': 'bed'},
            'geometry': {
                'type': 'Polygon',
                'coordinates': [[[7, 8], [10, 8], [10, 12], [7, 12], [7, 8]]],
            },
        },
    ],
}


def needs_torch() -> None:
    pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')


def needs_teacher() -> None:
    if not TEACHER.is_file():
        pytest.skip(f'{TEACHER} absent')
    pytest.importorskip('ai_edge_litert', reason='ai-edge-litert is not installed')


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def lawn_image(w: int, h: int, seed: int) -> np.ndarray:
    """Sky on top, grass below, a red box on the grass (RGB)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 3] = (120, 160, 230)
    img[h // 3 :] = np.clip(
        np.array([60, 150, 40]) + rng.normal(0, 10, (h - h // 3, w, 3)), 0, 255
    ).astype(np.uint8)
    x, y = int(rng.integers(0, w // 2)), int(rng.integers(h // 2, h - h // 6))
    img[y : y + h // 6, x : x + w // 5] = (200, 40, 30)
    return img


def write_frames(folder: Path, n: int = 6) -> list[Path]:
    """Frames of several sizes and aspects (4:3, 16:9, portrait)."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [(400, 300), (640, 360), (240, 320), (320, 240), (800, 600), (160, 120)]
    paths = []
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        p = folder / f'frame_{i:02d}.png'
        cv2.imwrite(str(p), cv2.cvtColor(lawn_image(w, h, i), cv2.COLOR_RGB2BGR))
        paths.append(p)
    return paths


class ColourTeacher:
    """A stand-in teacher: green is lawn, blue sky, the rest obstacle."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(b'colour teacher')

    def labels(self, rgb: np.ndarray) -> np.ndarray:
        r, g, b = (rgb[..., i].astype(int) for i in range(3))
        out = np.full(rgb.shape[:2], OBSTACLE, np.uint8)
        out[(g > r) & (g > b)] = LAWN
        out[(b > r + 20) & (b > g)] = SKY
        return out


@pytest.fixture
def tiny_init(tmp_path) -> Path:
    needs_torch()
    import torch

    from mower_segmentation.model import LawnNet, save_model

    torch.manual_seed(0)
    path = tmp_path / 'init' / 'tiny.pt'
    path.parent.mkdir()
    save_model(LawnNet(width=4), path)
    return path


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert 'Traceback' not in err
    return lines[0]


# -- frames and geometry ------------------------------------------------------------------------


def test_frames_of_other_sizes_are_centre_cropped_to_4_3_then_resized():
    img = np.zeros((360, 640, 3), np.uint8)
    img[:, 80:560] = 255  # the 4:3 centre of a 16:9 frame
    out = fit_frame(img)
    assert out.shape == (240, 320, 3) and out.min() == 255
    assert crop_box(640, 360) == (80, 0, 480, 360)
    assert crop_box(240, 320) == (0, 70, 240, 180)  # portrait: top and bottom cut
    assert fit_frame(np.zeros((240, 320, 3), np.uint8)).shape == (240, 320, 3)


def test_the_camera_follows_the_crop_and_scale():
    cam = CameraModel.from_fov(640, 360, 50.0, Mounting())
    fitted = CameraModel(fit_camera(cam.k, 640, 360), 320, 240, cam.dist, cam.mounting)
    ground = np.array([[1.0, 0.2], [2.5, -0.4]])
    uv, uv_fit = cam.project_ground(ground), fitted.project_ground(ground)
    np.testing.assert_allclose(uv_fit, (uv - [80, 0]) * (320 / 480), atol=1e-6)


def _areas(tmp_path: Path):
    path = tmp_path / 'lawn.geojson'
    path.write_text(json.dumps(MAP))
    return load_lawn_map(path), path


def _pixel(cam: CameraModel, x_base: float, y_base: float) -> tuple[int, int]:
    u, v = cam.project_ground(np.array([[x_base, y_base]]))[0]
    return int(math.floor(v)), int(math.floor(u))


def test_geometry_labels_lawn_near_the_robot_and_the_keepout_as_other_ground(tmp_path):
    areas, _ = _areas(tmp_path)
    cam = CameraModel.from_fov(320, 240, 60.0, Mounting())
    geo = GeometryLabeller(cam, areas, near_m=3.0)
    lab = geo.labels(FramePose(5.0, 10.0, 0.0))  # looking along +x at the bed (x 7..10)
    assert lab[_pixel(cam, 0.8, 0.0)] == LAWN  # ground at x = 5.8
    assert lab[_pixel(cam, 2.7, 0.0)] == OTHER  # x = 7.7, in the keep-out
    assert lab[_pixel(cam, 1.85, 0.0)] == IGNORE  # x = 6.85: the margin at the bed's edge
    assert (lab[:45] == IGNORE).all()  # above the horizon and beyond 3 m: no opinion
    behind = geo.labels(FramePose(5.0, 10.0, math.pi))  # looking along -x: lawn only
    assert (behind == LAWN).any() and not (behind == OTHER).any()
    off = geo.labels(FramePose(19.5, 10.0, 0.0))  # at the boundary, looking out
    assert not (off == LAWN).any()


def test_teacher_and_geometry_disagreeing_is_ignored():
    teacher = np.array([[LAWN, OBSTACLE, IGNORE, SKY, LAWN]], np.uint8)
    geometry = np.array([[LAWN, LAWN, LAWN, IGNORE, OTHER]], np.uint8)
    assert combine_labels(teacher, geometry).tolist() == [[LAWN, IGNORE, LAWN, SKY, IGNORE]]
    assert combine_labels(teacher, None).tolist() == teacher.tolist()


def test_review_list_keeps_only_the_lines_left(tmp_path):
    path = write_review_list(
        tmp_path / 'frames.txt', ['/a/1.png', '/a/2.png', 'b.mcap@1.0s'], [False, False, True]
    )
    text = path.read_text()
    assert '# 0003 b.mcap@1.0s' in text and '0001 /a/1.png' in text
    assert read_review_list(path) == {'/a/1.png', '/a/2.png'}
    path.write_text(text.replace('0001 /a/1.png', '#0001 /a/1.png'))
    assert read_review_list(path) == {'/a/2.png'}
    with pytest.raises(ValueError, match='not found'):
        read_review_list(tmp_path / 'nothing.txt')


def test_split_is_deterministic_whole_blocks_and_never_empty():
    from mower_offline.adapt import split_frames

    blocks = [f'b{i // 5}' for i in range(40)]
    held = split_frames(blocks, 0.25)
    assert held == split_frames(list(blocks), 0.25)
    assert sum(held) == 10  # 2 of 8 blocks
    for b in set(blocks):
        assert len({h for h, bb in zip(held, blocks, strict=True) if bb == b}) == 1
    assert sum(split_frames(['x', 'y'], 0.01)) == 1 and sum(split_frames(['x', 'y'], 0.99)) == 1
    with pytest.raises(AdaptError, match='too few'):
        split_frames(['x', 'x'], 0.25)


# -- bags -----------------------------------------------------------------------------------------


def make_bag(path: Path, frames: int = 6, camera: bool = True) -> Path:
    """Odometry along +x from (4, 10) at 20 Hz, a JPEG camera at 10 Hz with camera info."""
    from mower_offline.bag import BagRecorder, header, ros_msg

    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(lawn_image(160, 120, 0), cv2.COLOR_RGB2BGR))
    with BagRecorder(path) as bag:
        for i in range(frames * 2 + 2):
            t = 1.0 + i * 0.05
            bag.write(
                '/odom',
                'nav_msgs/msg/Odometry',
                t,
                odometry(t, 4.0 + 0.02 * i, 10.0),
            )
        for i in range(frames if camera else 0):
            t = 1.05 + i * 0.1
            bag.write(
                '/camera/image_raw/compressed',
                'sensor_msgs/msg/CompressedImage',
                t,
                compressed_jpeg(t, jpeg.tobytes()),
            )
            bag.write(
                '/camera/camera_info',
                'sensor_msgs/msg/CameraInfo',
                t,
                ros_msg(
                    'sensor_msgs/msg/CameraInfo',
                    header=header(t, 'camera_optical_frame'),
                    height=120,
                    width=160,
                    k=[100.0, 0, 80, 0, 100.0, 60, 0, 0, 1],
                    d=np.zeros(5),
                    distortion_model='plumb_bob',
                ),
            )
    return path


def test_bag_frames_get_poses_and_geometry_labels(tmp_path):
    areas, _ = _areas(tmp_path)
    bag = make_bag(tmp_path / 'bag')
    frames, sources = read_frames(
        [str(bag)], BagOptions(every=2), areas, tmp_path / 'scratch', log=lambda s: None
    )
    assert len(frames) == 3 and sources[0].kind == 'bag' and sources[0].with_geometry == 3
    for f in frames:
        assert f.rgb.shape == (240, 320, 3) and f.geometry.shape == (240, 320)
        assert f.geometry[230, 160] == LAWN  # just ahead of the robot
        assert '@' in f.key and f.key.startswith(str(bag.resolve()))
    no_map, _ = read_frames(
        [str(bag)], BagOptions(every=1), None, tmp_path / 'scratch2', log=lambda s: None
    )
    assert len(no_map) == 6 and all(f.geometry is None for f in no_map)


def test_a_bag_without_camera_frames_is_refused(tmp_path):
    bag = make_bag(tmp_path / 'odom_only', camera=False)
    with pytest.raises(AdaptError, match='no camera frames'):
        read_frames([str(bag)], BagOptions(), None, tmp_path / 'scratch', log=lambda s: None)


def test_unreadable_image_and_empty_folder_name_the_file(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(AdaptError, match='empty: no images'):
        read_frames([str(tmp_path / 'empty')], BagOptions(), None, tmp_path, log=print)
    folder = tmp_path / 'frames'
    write_frames(folder, 2)
    (folder / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\x00' * 20)
    with pytest.raises(AdaptError, match=re.escape(str(folder / 'broken.png'))):
        read_frames([str(folder)], BagOptions(), None, tmp_path, log=print)


# -- end to end ---------------------------------------------------------------------------------


def _check_outputs(out: Path) -> dict:
    summary = json.loads((out / 'summary.json').read_text())
    card = (out / 'MODEL_CARD.md').read_text()
    for name in ('lawnnet_adapted.pt', 'lawnnet_adapted.onnx', 'lawnnet_adapted_int8.onnx'):
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert f'`{digest}`' in card, name
        assert summary['outputs'][name] == digest
    for name in ('MODEL_CARD.md', 'segmentation_snippet.yaml'):
        assert summary['outputs'][name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert 'before: ' in card and 'after: adapted int8' in card and 'mIoU' in card
    w, h = summary['init']['input']  # the init model's input size, as the card says
    assert f'the network sees them at {w}x{h}' in card
    snippet = (out / 'segmentation_snippet.yaml').read_text()
    assert f"model_file: '{out.resolve() / 'lawnnet_adapted_int8.onnx'}'" in snippet
    assert '/**/segmentation_node:' in snippet and 'ros__parameters:' in snippet
    assert not (out / '.partial').exists()
    assert (out / 'review' / 'contact_sheet_001.png').is_file()
    from mower_segmentation.runtime import Segmenter

    seg = Segmenter(out / 'lawnnet_adapted_int8.onnx', ['cpu'])
    assert seg.segment(lawn_image(320, 240, 9)).labels.shape == (240, 320)
    return summary


@pytest.mark.slow
def test_adapt_end_to_end_on_a_tiny_model_then_a_review_drops_frames(tmp_path, tiny_init):
    from mower_offline.adapt import AdaptConfig, adapt

    models_before = digests(ROOT / 'models')
    folder = tmp_path / 'frames'
    paths = write_frames(folder)
    out = tmp_path / 'adapted'
    cfg = AdaptConfig(
        inputs=(str(folder),),
        out=str(out),
        init=str(tiny_init),
        epochs=1,
        minutes=1.0,
        threads=1,
        progress=False,
    )
    teacher = ColourTeacher(tmp_path / 'colour.teacher')
    logs: list[str] = []
    adapt(cfg, teacher=teacher, log=logs.append)
    summary = _check_outputs(out)
    adapt(cfg, teacher=teacher, log=logs.append)  # the same frames: training resumes
    assert any('resuming the earlier run' in m for m in logs)
    assert summary['frames']['read'] == 6 and summary['frames']['left_out_by_review'] == 0
    assert summary['frames']['train'] + summary['frames']['held_back'] == 6
    card = (out / 'MODEL_CARD.md').read_text()
    assert 'unknown provenance' in card
    assert 'signed int8 with a scale per output channel' in card
    assert summary['training']['per_channel'] is True
    import onnx

    graph = onnx.load(str(out / 'lawnnet_adapted_int8.onnx')).graph
    axes = [
        a.i
        for n in graph.node
        if n.op_type == 'DequantizeLinear' and n.input[0].endswith('_quantized')
        for a in n.attribute
        if a.name == 'axis'
    ]
    assert axes and set(axes) == {0}  # the convolutions' weights: a scale per output channel
    listing = out / 'review' / 'frames.txt'
    lines = listing.read_text().splitlines()
    assert [ln.split(maxsplit=1)[1] for ln in lines if not ln.startswith('#')] == [
        str(p.resolve()) for p in paths
    ]
    # the owner drops frame 2 (deletes its line) and frame 5 (comments it out)
    kept = [ln for ln in lines if str(paths[1].resolve()) not in ln]
    kept = ['# ' + ln if str(paths[4].resolve()) in ln else ln for ln in kept]
    listing.write_text('\n'.join(kept) + '\n')
    cfg.review = str(listing)
    logs.clear()
    summary = adapt(cfg, teacher=teacher, log=logs.append)
    assert any('training starts again' in m for m in logs)  # other frames: a new run
    _check_outputs(out)
    assert summary['frames']['read'] == 6 and summary['frames']['left_out_by_review'] == 2
    assert summary['frames']['train'] + summary['frames']['held_back'] == 4
    assert not {str(paths[1].resolve()), str(paths[4].resolve())} & set(
        summary['frames']['held_back_keys']
    )
    rewritten = listing.read_text()
    assert (
        f'# 0002 {paths[1].resolve()}' in rewritten and f'# 0005 {paths[4].resolve()}' in rewritten
    )
    assert digests(ROOT / 'models') == models_before


def test_adapt_command_with_the_real_teacher(tmp_path, tiny_init, capsys):
    needs_teacher()
    models_before = digests(ROOT / 'models')
    folder = tmp_path / 'frames'
    write_frames(folder, 5)
    out = tmp_path / 'out'
    rc, stdout, err = run_cli(
        [
            'segment',
            'adapt',
            str(folder),
            '--out',
            str(out),
            '--init',
            str(tiny_init),
            '--teacher',
            str(TEACHER),
            '--epochs',
            '1',
            '--minutes',
            '1',
            '--threads',
            '1',
        ],
        capsys,
    )
    assert rc == 0, err
    assert 'adapted model:' in stdout
    summary = _check_outputs(out)
    assert summary['teacher']['sha256'] == hashlib.sha256(TEACHER.read_bytes()).hexdigest()
    assert 'Apache-2.0' in (out / 'MODEL_CARD.md').read_text()
    assert digests(ROOT / 'models') == models_before


# -- a second round: teacher and student together ----------------------------------------------


class ProbTeacher(ColourTeacher):
    """The colour teacher with class probabilities (as the ADE20K teacher's three views).

    Confident on green (lawn) and blue (sky); elsewhere barely obstacle rather than other
    ground, so that a student's opinion decides there; the top-left corner is ADE20K's "other".
    """

    def vote_probs(self, rgb: np.ndarray) -> np.ndarray:
        lab = self.labels(rgb)
        p = np.zeros((*rgb.shape[:2], 5), np.float32)
        p[..., OBSTACLE], p[..., OTHER], p[..., 4] = 0.46, 0.44, 0.1
        for c in (LAWN, SKY):
            p[lab == c] = 0.02
            p[lab == c, c] = 0.92
        p[:8, :8] = 0.0
        p[:8, :8, 4] = 1.0
        return p

    def vote_labels(self, rgb: np.ndarray) -> np.ndarray:
        from mower_segmentation.teacher import probs_to_labels

        return probs_to_labels(self.vote_probs(rgb))


def test_a_second_round_mixes_the_teacher_and_the_student(tmp_path, tiny_init):
    """Round two trains on the teacher's probabilities averaged with round one's student."""
    import torch

    from mower_offline.adapt import AdaptConfig, AdaptFrame, student_labels, student_probs
    from mower_segmentation.model import load_model
    from mower_segmentation.teacher import probs_to_labels

    teacher = ProbTeacher(tmp_path / 'prob.teacher')
    frames = [
        AdaptFrame(f'f{i}', 'test', lawn_image(320, 240, i), block=f'f{i}') for i in range(3)
    ]
    truth = [teacher.vote_labels(f.rgb) for f in frames]
    cfg = AdaptConfig(progress=False)
    # the student: a LawnNet that finds "other ground" likelier everywhere (0.48 to 0.17 each)
    model = load_model(tiny_init)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([0.0, 1.0, 0.0, 0.0]))
    ckpt = tmp_path / 'student.pt'
    from mower_segmentation.model import save_model

    save_model(model, ckpt)
    probs = student_probs(model.eval(), frames[0].rgb)
    assert probs.shape == (240, 320, 4) and np.allclose(probs.sum(-1), 1.0, atol=1e-5)

    def mixed(share: float) -> list[np.ndarray]:
        cfg.student_share = share
        out = student_labels(frames, [0, 1, 2], truth, teacher, ckpt, cfg, log=lambda m: None)
        assert out is not None
        labels, softs = out
        for lab, soft in zip(labels, softs, strict=True):
            # the probabilities trained on with the labels agree with them, none where ignored
            assert soft.shape == lab.shape + (4,) and soft.dtype == np.uint8
            has = lab != IGNORE
            assert np.array_equal(soft[has].argmax(-1), lab[has])
            assert (np.abs(soft[has].astype(int).sum(-1) - 255) <= 2).all()
            assert (soft[~has] == 0).all()
        return labels

    assert all(np.array_equal(a, b) for a, b in zip(mixed(0.0), truth, strict=True))
    for lab, t in zip(mixed(0.5), truth, strict=True):
        # where the teacher was undecided the student's "other ground" wins; where it was
        # sure (lawn, sky) it stays; its "other" (IGNORE) stays ignored
        assert np.array_equal(lab[t == OBSTACLE], np.full((t == OBSTACLE).sum(), OTHER))
        assert np.array_equal(lab[t == LAWN], t[t == LAWN]) and (t == LAWN).any()
        assert (lab[:8, :8] == IGNORE).all()
        assert (t == OBSTACLE).any()
    # all the student's: "other ground" wherever the teacher did not say ADE20K's "other"
    for lab, f in zip(mixed(1.0), frames, strict=True):
        keep = probs_to_labels(teacher.vote_probs(f.rgb)) != IGNORE
        assert (lab[keep] == OTHER).all() and (lab[~keep] == IGNORE).all()
    # a teacher with hard labels only gives no second round
    plain = ColourTeacher(tmp_path / 'colour.teacher')
    assert student_labels(frames, [0], truth, plain, ckpt, cfg) is None


def test_two_rounds_end_to_end_and_a_hard_label_teacher_skips_the_second(tmp_path, tiny_init):
    from mower_offline.adapt import AdaptConfig, AdaptError, adapt

    folder = tmp_path / 'frames'
    write_frames(folder)
    cfg = AdaptConfig(
        inputs=(str(folder),),
        out=str(tmp_path / 'two'),
        init=str(tiny_init),
        epochs=1,
        minutes=1.0,
        threads=1,
        rounds=2,
        progress=False,
    )
    logs: list[str] = []
    summary = adapt(cfg, teacher=ProbTeacher(tmp_path / 'p.teacher'), log=logs.append)
    _check_outputs(tmp_path / 'two')
    assert summary['training']['rounds'] == 2
    assert any(m.startswith('labels for the next round:') for m in logs)
    assert (tmp_path / 'two' / 'train_round2' / 'last.pt').is_file()
    assert '2 rounds:' in (tmp_path / 'two' / 'MODEL_CARD.md').read_text()
    cfg.out = str(tmp_path / 'one')
    logs.clear()
    summary = adapt(cfg, teacher=ColourTeacher(tmp_path / 'c.teacher'), log=logs.append)
    assert summary['training']['rounds'] == 1
    assert any('round 2 skipped' in m for m in logs)
    assert 'rounds:' not in (tmp_path / 'one' / 'MODEL_CARD.md').read_text()
    cfg.rounds = 0
    with pytest.raises(AdaptError, match='--rounds 0'):
        adapt(cfg, teacher=ColourTeacher(tmp_path / 'c.teacher'), log=logs.append)


def test_the_real_teachers_vote_is_the_likeliest_of_its_averaged_probabilities():
    needs_teacher()
    from mower_segmentation.teacher import Teacher, probs_to_labels

    teacher = Teacher(TEACHER, threads=1)
    rgb = lawn_image(320, 240, 3)
    probs = teacher.vote_probs(rgb)
    assert probs is not None and probs.shape == (240, 320, 5)
    assert np.allclose(probs.sum(-1), 1.0, atol=1e-4)
    assert np.array_equal(teacher.vote_labels(rgb), probs_to_labels(probs))


# -- bad input: one line naming the file, exit 1 ------------------------------------------------


def _bad_models(tmp_path: Path, tiny_init: Path) -> dict[str, Path]:
    import torch

    from mower_segmentation.model import LawnNet, save_model

    truncated = tmp_path / 'truncated.pt'
    truncated.write_bytes(tiny_init.read_bytes()[:300])
    five = tmp_path / 'five_classes.pt'
    save_model(LawnNet(num_classes=5, width=4), five)
    gray = LawnNet(width=4)
    gray.stem[0] = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False)
    one_channel = tmp_path / 'one_channel.pt'
    save_model(gray, one_channel)
    return {
        'missing': tmp_path / 'nothing.pt',
        'truncated': truncated,
        'five': five,
        'one_channel': one_channel,
    }


@pytest.mark.parametrize(
    'case, words',
    [
        ('missing', 'model file not found'),
        ('truncated', 'truncated or damaged'),
        ('five', '5 output classes, expected 4'),
        ('one_channel', 'input of 1 channels'),
    ],
)
def test_a_bad_init_model_gives_one_line(tmp_path, tiny_init, capsys, case, words):
    folder = tmp_path / 'frames'
    write_frames(folder, 2)
    bad = _bad_models(tmp_path, tiny_init)[case]
    rc, _, err = run_cli(
        [
            'segment',
            'adapt',
            str(folder),
            '--out',
            str(tmp_path / 'out'),
            '--init',
            str(bad),
            '--teacher',
            str(tmp_path / 'no.tflite'),
        ],
        capsys,
    )
    line = one_line_error(err)
    assert rc == 1 and str(bad) in line and words in line
    assert not (tmp_path / 'out' / 'summary.json').exists()


def test_a_missing_or_truncated_teacher_gives_one_line(tmp_path, tiny_init, capsys):
    folder = tmp_path / 'frames'
    write_frames(folder, 2)
    truncated = tmp_path / 'teacher.tflite'
    truncated.write_bytes(
        TEACHER.read_bytes()[:4096]
        if TEACHER.is_file()
        else b'\x1c\x00\x00\x00TFL3' + b'\x00' * 64
    )
    for teacher in (tmp_path / 'no_teacher.tflite', truncated):
        rc, _, err = run_cli(
            [
                'segment',
                'adapt',
                str(folder),
                '--out',
                str(tmp_path / 'out'),
                '--init',
                str(tiny_init),
                '--teacher',
                str(teacher),
            ],
            capsys,
        )
        line = one_line_error(err)
        assert rc == 1 and str(teacher) in line


def test_bad_inputs_and_outputs_give_one_line_and_leave_models_alone(tmp_path, tiny_init, capsys):
    models_before = digests(ROOT / 'models')
    folder = tmp_path / 'frames'
    write_frames(folder, 2)
    (tmp_path / 'empty').mkdir()
    cases = [
        ([str(tmp_path / 'empty'), '--out', str(tmp_path / 'o')], 'no images'),
        ([str(tmp_path / 'nowhere'), '--out', str(tmp_path / 'o')], 'no such file'),
        ([str(folder), '--out', str(ROOT / 'models' / 'adapted')], 'inside'),
        ([str(folder), '--out', 'models'], 'inside'),
        ([str(folder), '--out', str(tiny_init.parent)], 'folder of --init'),
        (
            [str(folder), '--out', str(tmp_path / 'o'), '--review', str(tmp_path / 'x.txt')],
            'review list not found',
        ),
        (
            [str(folder), '--out', str(tmp_path / 'o'), '--map', str(tmp_path / 'x.geojson')],
            'no such file',
        ),
    ]
    for args, words in cases:
        rc, _, err = run_cli(['segment', 'adapt', *args, '--init', str(tiny_init)], capsys)
        line = one_line_error(err)
        assert rc == 1 and words in line, line
    assert not (ROOT / 'models' / 'adapted').exists()
    assert digests(ROOT / 'models') == models_before


def test_unreadable_image_and_cameraless_bag_through_the_command(tmp_path, tiny_init, capsys):
    needs_teacher()
    folder = tmp_path / 'frames'
    write_frames(folder, 2)
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    bag = make_bag(tmp_path / 'odom_only', camera=False)
    for inputs, words in (
        ([str(folder)], str(folder / 'broken.jpg')),
        ([str(bag)], 'no camera frames'),
    ):
        rc, _, err = run_cli(
            [
                'segment',
                'adapt',
                *inputs,
                '--out',
                str(tmp_path / 'out'),
                '--init',
                str(tiny_init),
                '--teacher',
                str(TEACHER),
            ],
            capsys,
        )
        line = one_line_error(err)
        assert rc == 1 and words in line, line
        assert not (tmp_path / 'out' / 'summary.json').exists()


# -- distillation: the teacher's class probabilities beside its labels ---------------------------


def test_the_labels_come_with_probabilities_that_agree_with_them():
    """The teacher's probabilities where they agree with the label.

    The label's one-hot where geometry set it, nothing where ignored; none for a teacher of
    hard labels only.
    """
    from mower_offline.adapt import AdaptFrame, label_frames

    rgb = lawn_image(320, 240, 1)
    geometry = np.full((240, 320), IGNORE, np.uint8)
    geometry[200:, :] = LAWN  # the grass: agrees with the teacher
    geometry[:8, :8] = OTHER  # the teacher's "other" corner: geometry fills it
    geometry[100:110, :] = SKY  # disagrees with the teacher there (lawn): ignored
    frames = [AdaptFrame('a', 't', rgb, geometry), AdaptFrame('b', 't', lawn_image(320, 240, 2))]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        labels, softs, counts = label_frames(frames, ProbTeacher(Path(d) / 'p'), progress=False)
        assert softs is not None and len(softs) == 2
        for lab, soft in zip(labels, softs, strict=True):
            has = lab != IGNORE
            assert soft.shape == (240, 320, 4) and soft.dtype == np.uint8
            assert np.array_equal(soft[has].argmax(-1), lab[has]) and (soft[~has] == 0).all()
        lab, soft = labels[0], softs[0]
        assert (lab[:8, :8] == OTHER).all()
        assert (soft[:8, :8] == np.array([0, 255, 0, 0], np.uint8)).all()  # one-hot: geometry's
        # the teacher's own on its grass: 0.92 lawn of 0.98 without ADE20K's "other"
        green = (lab == LAWN) & (geometry == IGNORE)
        assert green.any() and (soft[green, LAWN] == round(0.92 / 0.98 * 255)).all()
        plain, none, _ = label_frames(frames, ColourTeacher(Path(d) / 'c'), progress=False)
        assert none is None and np.array_equal(plain[1], ColourTeacher.labels(None, frames[1].rgb))


def test_adapt_trains_on_the_teachers_probabilities_by_their_weight(tmp_path, tiny_init):
    from mower_offline.adapt import AdaptConfig, AdaptError, adapt
    from mower_segmentation.dataset import load_shards, load_soft

    folder = tmp_path / 'frames'
    write_frames(folder)
    cfg = AdaptConfig(
        inputs=(str(folder),),
        out=str(tmp_path / 'soft'),
        init=str(tiny_init),
        epochs=1,
        minutes=1.0,
        threads=1,
        progress=False,
    )
    assert cfg.soft_weight == 0.5
    summary = adapt(cfg, teacher=ProbTeacher(tmp_path / 'p.teacher'), log=lambda m: None)
    _check_outputs(tmp_path / 'soft')
    data = tmp_path / 'soft' / 'data' / 'train'
    soft, labels = load_soft(data), load_shards(data)[1]
    assert soft is not None and soft.shape == labels.shape + (4,)  # at the network's input
    has = labels != IGNORE
    assert np.array_equal(soft[has].argmax(-1), labels[has]) and (soft[~has] == 0).all()
    assert summary['training']['soft_weight'] == 0.5 and summary['training']['soft_targets']
    card = (tmp_path / 'soft' / 'MODEL_CARD.md').read_text()
    assert "0.5 against the teacher's class probabilities" in card
    # weight 0, or a teacher with hard labels only: the labels alone, nothing else stored
    for weight, teacher, name in ((0.0, ProbTeacher, 'zero'), (0.5, ColourTeacher, 'hard')):
        cfg.out, cfg.soft_weight = str(tmp_path / name), weight
        summary = adapt(cfg, teacher=teacher(tmp_path / f'{name}.teacher'), log=lambda m: None)
        assert load_soft(tmp_path / name / 'data' / 'train') is None
        assert not summary['training']['soft_targets']
        assert (
            'Loss: cross-entropy against the labels.'
            in (tmp_path / name / 'MODEL_CARD.md').read_text()
        )
    cfg.out, cfg.soft_weight = str(tmp_path / 'bad'), 1.5
    with pytest.raises(AdaptError, match='--soft-weight 1.5'):
        adapt(cfg, teacher=ProbTeacher(tmp_path / 'p.teacher'), log=lambda m: None)
