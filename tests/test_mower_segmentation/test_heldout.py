"""Held-out frames at the model's size: the default folder, rendering, scoring at label size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHARED_DATA

from mower_cli.main import main
from mower_segmentation.cli import HELD_OUT, camera_frame, heldout_folder, heldout_frames
from mower_segmentation.runtime import Segmenter, synthetic_frame

MODELS = ROOT / 'models'
MSRC = SHARED_DATA / 'msrc21-grass'
RELLIS = SHARED_DATA / 'rellis3d-example'


def test_default_folder_follows_the_model_input_size():
    assert heldout_folder(None, (120, 160)) == HELD_OUT
    assert heldout_folder(None, (240, 320)) == HELD_OUT.with_name('heldout_320x240')
    assert heldout_folder('elsewhere', (240, 320)) == Path('elsewhere')


def test_camera_frame_repeats_halved_frames_and_keeps_full_ones():
    small = np.arange(120 * 160 * 3, dtype=np.uint32).reshape(120, 160, 3).astype(np.uint8)
    big, factor = camera_frame(small)
    assert factor == 2 and big.shape == (240, 320, 3)
    assert np.array_equal(big[::2, ::2], small) and np.array_equal(big[1::2, 1::2], small)
    full = np.zeros((240, 320, 3), np.uint8)
    same, factor = camera_frame(full)
    assert factor == 1 and same is full


def test_heldout_frames_renders_at_the_size_asked(tmp_path):
    images, labels = heldout_frames(tmp_path / 'h', 2, maps=str(ROOT / 'maps'), size=(320, 240))
    assert images.shape == (2, 240, 320, 3) and labels.shape == (2, 240, 320)
    assert len(np.unique(labels)) > 1  # a rendered frame, not an empty one
    again, _ = heldout_frames(tmp_path / 'h', 2, size=(160, 120))  # present: read, not rendered
    assert np.array_equal(again, images)


@pytest.mark.skipif(not (MSRC.is_dir() and RELLIS.is_dir()), reason='../shared/data absent')
def test_eval_scores_full_size_frames_at_their_own_size(tmp_path):
    """Truth = the int8 model's own labels at 320x240: a full score only if compared there."""
    seg = Segmenter(MODELS / 'lawnnet_int8.onnx', ['cpu'], threads=1)
    rng = np.random.default_rng(3)
    frames = []
    for i in range(3):
        img = synthetic_frame(240, 320).astype(np.int16)
        img[120 + 20 * i : 200, 40 * i + 60 : 40 * i + 140] = (200, 60, 40)  # a red object
        img += rng.integers(-30, 30, img.shape, dtype=np.int16)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    images = np.stack(frames)
    truth = np.stack([seg.segment(f).labels for f in images]).astype(np.uint8)
    data = tmp_path / 'heldout'
    data.mkdir()
    np.savez(data / 'shard_0000.npz', images=images, labels=truth)
    msrc = tmp_path / 'msrc'
    for sub, suffix in (('images', ''), ('labels', '_GT')):
        (msrc / sub).mkdir(parents=True)
        shutil.copy(MSRC / sub / f'10_26_s{suffix}.png', msrc / sub)
    report = tmp_path / 'r.json'
    args = ['segment', 'eval', '--data', str(data), '--models', str(MODELS)]
    args += ['--rellis', str(RELLIS), '--msrc', str(msrc), '--teacher', str(tmp_path / 'none')]
    assert main(args + ['--json', str(report)]) == 0
    result = json.loads(report.read_text())
    assert result['held_out_frames'] == 3
    assert result['int8 cpu']['miou'] == pytest.approx(1.0)


def test_bench_refuses_a_missing_model_in_one_line_before_any_work(tmp_path, capsys):
    data = tmp_path / 'never'
    args = ['segment', 'bench', '--models', str(tmp_path / 'none'), '--data', str(data)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'lawnnet_int8.onnx' in err and 'not found' in err
    assert not data.exists()  # no frames rendered
