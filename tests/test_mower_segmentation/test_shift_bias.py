"""``mower segment shift-bias``: one class's logit moved, the others untouched, float + int8."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

import onnxruntime as ort  # noqa: E402
from conftest import ROOT  # noqa: E402

from mower_cli.main import main  # noqa: E402
from mower_segmentation.model import LawnNetE, load_model, save_model  # noqa: E402
from mower_segmentation.runtime import Segmenter  # noqa: E402
from mower_segmentation.train import export_onnx, shift_class_bias  # noqa: E402


@pytest.fixture
def weights(tmp_path):
    torch.manual_seed(4)
    path = tmp_path / 'w.pt'
    save_model(LawnNetE().eval(), path)
    return path


@pytest.fixture
def calib(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / 'calib'
    folder.mkdir()
    images = rng.integers(0, 256, (6, 120, 160, 3), dtype=np.uint8)
    labels = rng.integers(0, 4, (6, 120, 160), dtype=np.uint8)
    np.savez(folder / 'shard_0000.npz', images=images, labels=labels)
    return folder


def _logits(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    return session.run(None, {'image': x})[0]


def test_only_the_chosen_class_logit_moves(weights, tmp_path):
    moved = shift_class_bias(weights, tmp_path / 'm.pt', 2, -1.5)
    a, b = load_model(weights).head.bias, load_model(moved).head.bias
    assert torch.allclose(b - a, torch.tensor([0.0, 0.0, -1.5, 0.0]))
    x = np.random.default_rng(1).normal(size=(1, 3, 120, 160)).astype(np.float32)
    la = _logits(export_onnx(weights, tmp_path / 'a.onnx'), x)
    lb = _logits(export_onnx(moved, tmp_path / 'b.onnx'), x)
    delta = lb - la
    assert np.allclose(delta[:, [0, 1, 3]], 0.0, atol=1e-5)
    assert np.allclose(delta[:, 2], -1.5, atol=1e-5)
    with pytest.raises(ValueError, match='class 7'):
        shift_class_bias(weights, tmp_path / 'x.pt', 7, 1.0)


def test_the_command_writes_three_files_that_label_by_the_moved_logit(
    weights, calib, tmp_path, capsys
):
    out = tmp_path / 'shifted'
    args = ['segment', 'shift-bias', '--init', str(weights), '--by', '3', '--calib', str(calib)]
    assert main(args + ['--per-channel', '--models', str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {'lawnnet.pt', 'lawnnet.onnx', 'lawnnet_int8.onnx'}
    assert 'obstacle bias +3' in capsys.readouterr().out
    before = tmp_path / 'before.onnx'
    export_onnx(weights, before)
    frame = np.random.default_rng(2).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    n_before = (Segmenter(before, ['cpu']).segment(frame).labels == 2).sum()
    n_after = (Segmenter(out / 'lawnnet.onnx', ['cpu']).segment(frame).labels == 2).sum()
    assert n_after > n_before  # a random model: obstacle wins more pixels with +3
    Segmenter(out / 'lawnnet_int8.onnx', ['cpu']).segment(frame)  # the int8 file runs


def test_the_command_refuses_a_missing_init_and_the_shipped_folder(weights, calib, capsys):
    args = ['segment', 'shift-bias', '--by', '-1', '--calib', str(calib)]
    assert main(args + ['--init', '/nonexistent.pt', '--models', '/tmp/x']) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and '/nonexistent.pt' in err
    assert main(args + ['--init', str(weights), '--models', str(ROOT / 'models')]) == 1
    assert 'write elsewhere' in capsys.readouterr().err
    taken = weights.parent  # a folder that already holds a lawnnet.pt is not overwritten
    save_model(load_model(weights), taken / 'lawnnet.pt')
    before = (taken / 'lawnnet.pt').read_bytes()
    assert main(args + ['--init', str(weights), '--models', str(taken)]) == 1
    assert 'already holds lawnnet.pt' in capsys.readouterr().err
    assert (taken / 'lawnnet.pt').read_bytes() == before


def test_a_truncated_init_is_one_line_and_leaves_no_files(weights, calib, tmp_path, capsys):
    broken = tmp_path / 'broken.pt'
    broken.write_bytes(weights.read_bytes()[:1000])
    out = tmp_path / 'out'
    args = ['segment', 'shift-bias', '--init', str(broken), '--by', '-1', '--calib', str(calib)]
    assert main(args + ['--models', str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and str(broken) in err and 'not a readable model' in err
    assert not out.exists() or not any(out.iterdir())
