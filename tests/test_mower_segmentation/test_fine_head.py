"""A LawnNet-E with a stride-2 refinement (``model.with_fine_head``, ``segment train --fine``).

The refinement starts at zero, so a model given one computes the old logits upsampled
bilinearly, which is what the runtime did with them; these tests check that, that the
refinement saves, loads, exports and quantises, that the runtime takes its finer logits as
they are, and that training adds one from the command line and refuses a bad channel count.
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
    save_model,
    with_fine_head,
)


def _random_wide(seed: int = 0) -> LawnNetE:
    return full_resolution_stem(random_lawnnet_e(seed)).eval()


def test_a_new_refinement_gives_the_old_logits_upsampled_and_then_learns_detail():
    wide = _random_wide()
    fine = with_fine_head(wide, 8).eval()
    assert fine.fine == 8 and fine.stem_stride == 4
    x = torch.randn(2, 3, 240, 320)
    with torch.no_grad():
        old, new = wide(x), fine(x)
    assert tuple(old.shape) == (2, 4, 60, 80) and tuple(new.shape) == (2, 4, 120, 160)
    up = torch.nn.functional.interpolate(old, size=(120, 160), mode='bilinear')
    assert float((new - up).abs().max()) < 1e-5
    # once its last layer is not zero, a one-pixel line changes the finer logits along it
    with torch.no_grad():
        fine.fine_out.weight.normal_()
        line = x[:1].clone()
        line[..., 121, :] += 3.0
        diff = (fine(line) - fine(x[:1])).abs().amax(dim=(0, 1, 3))
    assert int(diff.argmax()) in (60, 61)


def test_a_refinement_is_added_once_and_after_the_full_resolution_stem():
    fine = with_fine_head(_random_wide(1), 4)
    with pytest.raises(ValueError, match='already has a refinement of 4 channels'):
        with_fine_head(fine, 4)
    with pytest.raises(ValueError, match='at least one channel'):
        with_fine_head(_random_wide(1), 0)
    narrow = with_fine_head(LawnNetE().eval(), 4)
    with pytest.raises(ValueError, match='before adding a refinement'):
        full_resolution_stem(narrow)


def test_weights_and_checkpoints_load_with_their_refinement(tmp_path):
    fine = with_fine_head(_random_wide(2), 6).eval()
    with torch.no_grad():
        fine.fine_out.weight.normal_()
    x = torch.randn(1, 3, 240, 320)
    with torch.no_grad():
        want = fine(x)
        for back in reloaded(fine, tmp_path):
            assert back.fine == 6 and back.stem_stride == 4
            assert torch.allclose(back(x), want)


def test_the_runtime_takes_the_finer_logits_as_they_are(tmp_path):
    pytest.importorskip('onnxruntime')
    import onnx

    from mower_segmentation.runtime import Segmenter
    from mower_segmentation.train import export_onnx, normalise, quantize_int8

    fine = with_fine_head(_random_wide(3), 8).eval()
    with torch.no_grad():
        fine.fine_out.weight.normal_(std=0.5)
    save_model(fine, tmp_path / 'w.pt')
    f32 = export_onnx(tmp_path / 'w.pt', tmp_path / 'w.onnx')
    ops = {n.op_type for n in onnx.load(str(f32)).graph.node}
    assert ops <= {
        'Conv',
        'Relu',
        'Add',
        'Concat',
        'Resize',
        'Constant',
        'Shape',
        'Slice',
        'Identity',
    }
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (4, 240, 320, 3), dtype=np.uint8)
    seg = Segmenter(f32, ['cpu'])
    out = seg.segment(frames[0], with_confidence=True)
    with torch.no_grad():
        logits = fine(torch.from_numpy(normalise(frames[:1])))[0].numpy()
    assert logits.shape == (4, 120, 160)
    want = np.repeat(np.repeat(logits.argmax(axis=0), 2, 0), 2, 1)
    assert out.labels.shape == out.confidence.shape == (240, 320)
    assert (out.labels == want).mean() > 0.999
    q8 = quantize_int8(f32, tmp_path / 'w_int8.onnx', frames, per_channel=True)
    assert Segmenter(q8, ['cpu']).segment(frames[1]).labels.shape == (240, 320)


def _shard(folder, n, seed):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    np.savez_compressed(
        folder / 'shard_0000.npz',
        images=rng.integers(0, 256, (n, 240, 320, 3), dtype=np.uint8),
        labels=rng.integers(0, 4, (n, 240, 320), dtype=np.uint8),
    )


def test_training_adds_a_refinement_to_the_init_model(tmp_path):
    pytest.importorskip('onnxruntime')
    from mower_cli.main import main

    _shard(tmp_path / 'd', 8, 0)
    save_model(_random_wide(4), tmp_path / 'init.pt')
    argv = ['segment', 'train', '--init', str(tmp_path / 'init.pt'), '--fine', '4']
    argv += ['--data', str(tmp_path / 'd'), '--val', str(tmp_path / 'd'), '--epochs', '1']
    argv += ['--batch', '4', '--threads', '1', '--out', str(tmp_path / 'ck')]
    assert main(argv + ['--models', str(tmp_path / 'models')]) == 0
    model = load_model(tmp_path / 'models' / 'lawnnet.pt')
    assert model.fine == 4
    assert float(model.fine_out.weight.abs().max()) > 0  # it trained
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / 'models' / 'lawnnet.onnx'))
    assert list(sess.get_outputs()[0].shape) == [1, 4, 120, 160]


@pytest.mark.parametrize('value', ['-1', '257', 'x', '2.5'])
def test_a_bad_channel_count_is_refused_by_name(value, capsys):
    from mower_cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(['segment', 'train', '--fine', value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert '--fine' in err and 'Traceback' not in err


def test_a_shifted_class_bias_moves_the_refined_logits_by_exactly_that(tmp_path):
    from mower_segmentation.train import shift_class_bias

    fine = with_fine_head(_random_wide(5), 4).eval()
    with torch.no_grad():
        fine.fine_out.weight.normal_()
    save_model(fine, tmp_path / 'w.pt')
    shift_class_bias(tmp_path / 'w.pt', tmp_path / 's.pt', 2, -0.75)
    x = torch.randn(1, 3, 240, 320)
    with torch.no_grad():
        delta = load_model(tmp_path / 's.pt').eval()(x) - fine(x)
    want = torch.tensor([0.0, 0.0, -0.75, 0.0]).view(1, 4, 1, 1).expand_as(delta)
    assert torch.allclose(delta, want, atol=1e-5)
