"""A LawnNet-E that takes the camera's full 320x240 frame (a 6x6 stride-4 stem).

``full_resolution_stem`` folds the 2x2 block mean and the 3x3 stride-2 stem into one
convolution; these tests check that the folded model computes what the old one did, that it
saves, loads, exports and runs at 320x240, and that training refuses frames of the wrong size.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

from tiny_models import random_lawnnet_e, reloaded  # noqa: E402

from mower_segmentation.model import (  # noqa: E402
    LawnNetE,
    full_resolution_stem,
    load_model,
    model_input_hw,
    save_model,
)

_random_model = random_lawnnet_e


def test_the_folded_stem_on_the_full_frame_equals_the_old_model_on_the_halved_frame():
    model = _random_model()
    wide = full_resolution_stem(model).eval()
    assert wide.stem_stride == 4 and tuple(wide._conv_stem.weight.shape) == (32, 3, 6, 6)
    x = torch.randn(2, 3, 240, 320)
    half = x.reshape(2, 3, 120, 2, 160, 2).mean(dim=(3, 5))
    with torch.no_grad():
        a, b = model(half), wide(x)
    assert tuple(a.shape) == tuple(b.shape) == (2, 4, 60, 80)
    assert float((a - b).abs().max()) < 1e-4 * max(1.0, float(a.abs().max()))
    # a detail finer than 2x2 blocks reaches the new stem (it did not reach the old one)
    checker = torch.zeros(1, 3, 240, 320)
    checker[..., ::2, :] = 1.0
    checker[..., 1::2, :] = -1.0
    with torch.no_grad():
        stem_out = torch.nn.functional.conv2d(checker, wide._conv_stem.weight, stride=4, padding=2)
    assert float(stem_out[..., 2:-2, 2:-2].abs().max()) < 1e-5  # the folded kernel averages it
    assert model_input_hw(model) == (120, 160) and model_input_hw(wide) == (240, 320)


def test_the_stride_is_checked_and_a_model_is_not_folded_twice():
    with pytest.raises(ValueError, match='stem_stride 3'):
        LawnNetE(stem_stride=3)
    wide = full_resolution_stem(_random_model())
    with pytest.raises(ValueError, match='already has a stride-4 stem'):
        full_resolution_stem(wide)
    with pytest.raises(ValueError, match='3x3 stem'):
        wide.load_imagenet_trunk({})


def test_weights_and_training_checkpoints_load_with_their_stem(tmp_path):
    wide = full_resolution_stem(_random_model(1)).eval()
    x = torch.randn(1, 3, 240, 320)
    with torch.no_grad():
        want = wide(x)
        for back in reloaded(wide, tmp_path):
            assert back.stem_stride == 4
            assert torch.allclose(back(x), want)
    narrow = _random_model(2)
    save_model(narrow, tmp_path / 'n.pt')
    assert load_model(tmp_path / 'n.pt').stem_stride == 2


def test_export_runs_at_the_full_frame_in_float_and_int8(tmp_path):
    pytest.importorskip('onnxruntime')
    from mower_segmentation.runtime import Segmenter
    from mower_segmentation.train import export_onnx, quantize_int8

    model = _random_model(3)
    wide = full_resolution_stem(model).eval()
    save_model(wide, tmp_path / 'w.pt')
    f32 = export_onnx(tmp_path / 'w.pt', tmp_path / 'w.onnx')
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (4, 240, 320, 3), dtype=np.uint8)
    q8 = quantize_int8(f32, tmp_path / 'w_int8.onnx', frames)
    seg = Segmenter(f32, ['cpu'])
    assert seg.input_hw == (240, 320)
    out = seg.segment(frames[0], with_confidence=True)
    assert out.labels.shape == (240, 320) and out.confidence.shape == (240, 320)
    # the runtime's labels are the torch model's logits resized to 160x120, repeated 2x2
    from mower_segmentation.train import normalise

    with torch.no_grad():
        logits = wide(torch.from_numpy(normalise(frames[:1])))[0].numpy()
    import cv2

    hwc = cv2.resize(logits.transpose(1, 2, 0), (160, 120), interpolation=cv2.INTER_LINEAR)
    want = np.repeat(np.repeat(hwc.argmax(axis=2), 2, 0), 2, 1)
    assert (out.labels == want).mean() > 0.999
    assert Segmenter(q8, ['cpu']).segment(frames[1]).labels.shape == (240, 320)


def test_training_refuses_frames_of_the_wrong_size(tmp_path, capsys):
    from mower_cli.main import main

    rng = np.random.default_rng(0)
    small = tmp_path / 'small'
    small.mkdir()
    np.savez_compressed(
        small / 'shard_0000.npz',
        images=rng.integers(0, 256, (4, 120, 160, 3), dtype=np.uint8),
        labels=rng.integers(0, 4, (4, 120, 160), dtype=np.uint8),
    )
    save_model(_random_model(4), tmp_path / 'init.pt')
    argv = ['segment', 'train', '--init', str(tmp_path / 'init.pt'), '--full-res']
    argv += ['--data', str(small), '--val', str(small), '--out', str(tmp_path / 'ck')]
    assert main(argv + ['--models', str(tmp_path / 'models')]) == 1
    err = capsys.readouterr().err
    assert 'frames of 160x120, the model takes 320x240' in err and 'Traceback' not in err
    assert not (tmp_path / 'models').exists()


def test_adapt_labels_and_writes_frames_at_the_size_of_a_full_resolution_init(tmp_path):
    from mower_offline.adapt import input_size, torch_labels, write_shard
    from mower_segmentation.dataset import load_shards

    narrow = _random_model(5)
    wide = full_resolution_stem(narrow).eval()
    assert input_size(narrow) == (160, 120) and input_size(wide) == (320, 240)
    rng = np.random.default_rng(2)
    rgbs = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(2)]
    labels = [rng.integers(0, 4, (240, 320), dtype=np.uint8) for _ in range(2)]
    write_shard(tmp_path / 'wide', rgbs, labels, input_size(wide))
    write_shard(tmp_path / 'narrow', rgbs, labels, input_size(narrow))
    assert load_shards(tmp_path / 'wide')[0].shape == (2, 240, 320, 3)
    assert load_shards(tmp_path / 'narrow')[1].shape == (2, 120, 160)
    a, b = torch_labels(narrow, rgbs[0]), torch_labels(wide, rgbs[0])
    assert a.shape == b.shape == (240, 320)
    assert (a == b).mean() > 0.99  # the same model up to the halved frame's rounding
