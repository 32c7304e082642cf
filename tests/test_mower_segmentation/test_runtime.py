"""The ONNX Runtime segmenter: pre/post-processing, provider fallback, errors, QNN-HTP."""

from __future__ import annotations

import importlib.util
import logging

import cv2
import numpy as np
import pytest
from tiny_models import channel_model, depthwise_model

from mower_segmentation import runtime
from mower_segmentation.classes import MEAN, STD
from mower_segmentation.runtime import ModelError, Segmenter


def reference(rgb: np.ndarray, weight: np.ndarray) -> np.ndarray:
    x = (rgb.astype(np.float64) / 255.0 - np.asarray(MEAN)) / np.asarray(STD)
    return np.argmax(x @ weight.T.astype(np.float64), axis=-1).astype(np.uint8)


def test_pre_and_post_processing_match_a_numpy_reference(tmp_path):
    weight = channel_model(tmp_path / 'm.onnx')
    seg = Segmenter(tmp_path / 'm.onnx', ['cpu'])
    rng = np.random.default_rng(0)
    same = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert np.array_equal(seg.segment(same).labels, reference(same, weight))
    # the camera's 2x size: 2x2 mean in, nearest 2x out
    big = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    small = big.reshape(8, 2, 8, 2, 3).mean(axis=(1, 3))
    out = seg.segment(big, with_confidence=True)
    expected = np.repeat(np.repeat(reference(small, weight), 2, 0), 2, 1)
    assert out.labels.shape == (16, 16)
    assert (out.labels == expected).mean() > 0.99  # float32 vs float64 ties aside
    assert out.confidence.shape == (16, 16) and (out.confidence <= 1).all()
    assert (out.confidence >= 0.25).all()


def test_other_sizes_are_resized(tmp_path):
    channel_model(tmp_path / 'm.onnx')
    seg = Segmenter(tmp_path / 'm.onnx', ['cpu'])
    out = seg.segment(np.zeros((30, 50, 3), np.uint8))
    assert out.labels.shape == (30, 50)
    with pytest.raises(ValueError, match='uint8 RGB'):
        seg.segment(np.zeros((8, 8), np.uint8))


def test_unavailable_providers_fall_back_to_cpu_with_reasons(tmp_path, caplog):
    channel_model(tmp_path / 'm.onnx')
    with caplog.at_level(logging.INFO, logger='mower_segmentation'):
        seg = Segmenter(tmp_path / 'm.onnx', ['tensorrt', 'cuda', 'openvino', 'cpu'])
    assert seg.provider == 'cpu'
    reasons = dict(seg.skipped)
    assert set(reasons) == {'tensorrt', 'cuda', 'openvino'}
    assert 'not in this onnxruntime build' in reasons['cuda']
    assert 'execution provider cuda skipped' in caplog.text
    assert 'on cpu' in caplog.text


def test_a_provider_that_fails_to_load_falls_back(tmp_path, monkeypatch):
    channel_model(tmp_path / 'm.onnx')
    real = runtime.open_session

    def flaky(model, provider, threads=1):
        if provider == 'qnn-htp':
            raise RuntimeError('HTP backend failed to finalise the graph')
        return real(model, provider, threads)

    monkeypatch.setattr(runtime, 'open_session', flaky)
    monkeypatch.setattr(runtime, 'htp_is_simulated', lambda: False)  # as on the robot
    seg = Segmenter(tmp_path / 'm.onnx', ['qnn-htp', 'cpu'])
    assert seg.provider == 'cpu'
    assert seg.skipped == [('qnn-htp', 'HTP backend failed to finalise the graph')]


def test_missing_and_invalid_models_give_clear_errors(tmp_path):
    with pytest.raises(ModelError, match='not found'):
        Segmenter(tmp_path / 'nope.onnx')
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'this is not an onnx file')
    with pytest.raises(ModelError, match='no execution provider could run it'):
        Segmenter(bad, ['cpu'])
    channel_model(tmp_path / 'three.onnx', classes=3)
    with pytest.raises(ModelError, match='3 output classes, expected 4'):
        Segmenter(tmp_path / 'three.onnx', ['cpu'])


@pytest.mark.skipif(
    importlib.util.find_spec('onnxruntime_qnn') is None, reason='onnxruntime-qnn not installed'
)
def test_qnn_htp_runs_a_small_int8_model_like_cpu(tmp_path):
    from mower_segmentation.train import quantize_int8

    channel_model(tmp_path / 'm.onnx', h=16, w=16)
    rng = np.random.default_rng(1)
    calib = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    q = quantize_int8(tmp_path / 'm.onnx', tmp_path / 'm_int8.onnx', calib)
    htp = Segmenter(q, ['qnn-htp'])
    assert htp.provider == 'qnn-htp', htp.skipped
    cpu = Segmenter(q, ['cpu'])
    imgs = rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    agree = np.mean([(htp.segment(i).labels == cpu.segment(i).labels).mean() for i in imgs])
    assert agree >= 0.97


def _weights(path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The int8 model's dequantised weight ``name`` and its scales."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    node = next(
        n for n in model.graph.node if n.op_type == 'DequantizeLinear' and n.input[0] == name
    )
    q, scale, zero = (inits[i] for i in node.input)
    axis = next((a.i for a in node.attribute if a.name == 'axis'), 1)
    shape = [-1 if i == axis else 1 for i in range(q.ndim)] if scale.ndim else []
    deq = (q.astype(np.float32) - zero.reshape(shape)) * scale.reshape(shape)
    return deq, scale


def test_per_channel_weights_keep_a_channel_of_small_weights(tmp_path):
    import onnx
    from onnx import numpy_helper

    from mower_segmentation.train import quantize_int8

    depthwise_model(tmp_path / 'm.onnx', scales=(1.0, 0.01, 0.3))
    dw = numpy_helper.to_array(
        next(i for i in onnx.load(str(tmp_path / 'm.onnx')).graph.initializer if i.name == 'DW')
    )
    rng = np.random.default_rng(1)
    calib = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    tensor = quantize_int8(tmp_path / 'm.onnx', tmp_path / 'tensor.onnx', calib)
    channel = quantize_int8(
        tmp_path / 'm.onnx', tmp_path / 'channel.onnx', calib, per_channel=True
    )
    w_t, s_t = _weights(tensor, 'DW_quantized')
    w_c, s_c = _weights(channel, 'DW_quantized')
    assert s_t.shape == () and s_c.shape == (3,)  # one scale, or one per channel
    # the channel of small weights: a few steps of the tensor's scale (measured: 14 % of its
    # largest weight off), fine steps of its own (0.2 %)
    small = np.abs(dw[1]).max()
    err_t = np.abs(w_t[1] - dw[1]).max() / small
    err_c = np.abs(w_c[1] - dw[1]).max() / small
    assert err_t > 0.1 and err_c < 0.01, (err_t, err_c)
    # every channel within half a step of its own scale, the large one too
    assert (np.abs(w_c - dw).max(axis=(1, 2, 3)) <= s_c / 2 + 1e-6).all()
    # and the model's labels follow the float model's at least as well
    frames = rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    ref = Segmenter(tmp_path / 'm.onnx', ['cpu'])
    agree = {}
    for p in (tensor, channel):
        seg = Segmenter(p, ['cpu'])
        agree[p.name] = np.mean(
            [(seg.segment(f).labels == ref.segment(f).labels).mean() for f in frames]
        )
    assert agree['channel.onnx'] >= agree['tensor.onnx'], agree


@pytest.mark.skipif(
    importlib.util.find_spec('onnxruntime_qnn') is None, reason='onnxruntime-qnn not installed'
)
def test_qnn_htp_runs_per_channel_weights_with_no_node_left_to_the_cpu(tmp_path, monkeypatch):
    from mower_segmentation.train import quantize_int8

    depthwise_model(tmp_path / 'm.onnx')
    rng = np.random.default_rng(2)
    calib = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    q = quantize_int8(tmp_path / 'm.onnx', tmp_path / 'm_int8.onnx', calib, per_channel=True)
    htp = Segmenter(q, ['qnn-htp'])
    assert htp.provider == 'qnn-htp', htp.skipped
    # the runtime's own QNN session with the CPU fallback switched off still loads: QNN takes
    # every node
    options = runtime._session_options

    def no_fallback(threads: int):
        so = options(threads)
        so.add_session_config_entry('session.disable_cpu_ep_fallback', '1')
        return so

    monkeypatch.setattr(runtime, '_session_options', no_fallback)
    runtime.open_session(str(q), 'qnn-htp')
    monkeypatch.undo()
    cpu = Segmenter(q, ['cpu'])
    imgs = rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    agree = np.mean([(htp.segment(i).labels == cpu.segment(i).labels).mean() for i in imgs])
    assert agree >= 0.97


def test_the_simulated_npu_is_not_chosen_over_the_cpu(tmp_path, monkeypatch):
    channel_model(tmp_path / 'm.onnx')
    monkeypatch.setattr(runtime, 'htp_is_simulated', lambda: True)  # an x86 machine
    seg = Segmenter(tmp_path / 'm.onnx', ['qnn-htp', 'cpu'])
    assert seg.provider == 'cpu'
    assert seg.skipped[0][0] == 'qnn-htp' and 'simulates the NPU' in seg.skipped[0][1]


def _input_scale(path) -> float:
    """The scale of the int8 model's QuantizeLinear on its input image."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    q = next(
        n for n in model.graph.node if n.op_type == 'QuantizeLinear' and n.input[0] == 'image'
    )
    return float(inits[q.input[1]])


def test_percentile_calibration_keeps_rare_outliers_from_widening_the_int8_ranges(tmp_path):
    from mower_segmentation.train import quantize_int8

    channel_model(tmp_path / 'm.onnx', h=32, w=32)
    rng = np.random.default_rng(3)
    calib = rng.integers(100, 156, (32, 32, 32, 3), dtype=np.uint8)  # mid-grey frames
    calib[0, 0, 0] = 0  # one black and one white pixel: the outliers of a real photo
    calib[1, 0, 0] = 255
    minmax = quantize_int8(tmp_path / 'm.onnx', tmp_path / 'minmax.onnx', calib)
    pct = quantize_int8(tmp_path / 'm.onnx', tmp_path / 'pct.onnx', calib, percentile=99.9)
    # MinMax spans the normalised black (G: -0.5 / 0.25 = -2) to white (B: 0.6 / 0.25 = 2.4),
    # 4.4 units over 255 steps; the percentile range spans about the grey values only, so
    # each int8 step is several times finer
    assert _input_scale(minmax) == pytest.approx(4.4 / 255, rel=0.02)
    assert _input_scale(pct) < 0.4 * _input_scale(minmax)
    # the finer model still segments (no NaN ranges): the grey frames get the same labels
    frames = calib[2:6].repeat(10, axis=1).repeat(10, axis=2)[:, :240, :320]
    a, b = Segmenter(minmax, ['cpu']), Segmenter(pct, ['cpu'])
    assert all(
        (
            a.segment(np.ascontiguousarray(f)).labels == b.segment(np.ascontiguousarray(f)).labels
        ).mean()
        > 0.9
        for f in frames
    )
    made = set(tmp_path.iterdir())
    for bad in (120.0, float('nan'), 10.0):
        with pytest.raises(ValueError, match='calibration percentile'):
            quantize_int8(tmp_path / 'm.onnx', tmp_path / 'bad.onnx', calib, percentile=bad)
    assert set(tmp_path.iterdir()) == made  # nothing written for a refused value


def test_quantize_calibrates_on_dataset_frames_at_a_percentile_and_refuses_bad_input(
    tmp_path, capsys
):
    from mower_cli.main import main

    channel_model(tmp_path / 'm.onnx', h=32, w=32)
    rng = np.random.default_rng(4)
    for name in ('a', 'b'):  # two dataset folders, as `mower segment dataset` writes them
        (tmp_path / name).mkdir()
        images = rng.integers(100, 156, (20, 32, 32, 3), dtype=np.uint8)
        images[0, 0, 0] = 0  # an outlier, which min/max ranges would stretch to
        np.savez_compressed(
            tmp_path / name / 'shard_0000.npz',
            images=images,
            labels=np.zeros((20, 32, 32), np.uint8),
        )
    base = ['segment', 'quantize', '--float', str(tmp_path / 'm.onnx')]
    calib = ['--calib', f'{tmp_path / "a"},{tmp_path / "b"}', '--frames', '30']
    assert main([*base, *calib, '--percentile', '99.9', '--out', str(tmp_path / 'pct.onnx')]) == 0
    assert '30 calibration frames' in capsys.readouterr().out
    assert main([*base, *calib, '--out', str(tmp_path / 'max.onnx')]) == 0  # min/max: shipped
    out = capsys.readouterr().out
    assert 'minimum and maximum' in out and 'weights per tensor' in out
    assert _weights(tmp_path / 'max.onnx', 'W_quantized')[1].shape == ()
    assert main([*base, *calib, '--per-channel', '--out', str(tmp_path / 'ch.onnx')]) == 0
    assert 'weights per channel' in capsys.readouterr().out
    assert _weights(tmp_path / 'ch.onnx', 'W_quantized')[1].shape == (4,)  # one per class
    # the 99.9th percentile leaves the outlier out: finer int8 steps on the input
    assert _input_scale(tmp_path / 'pct.onnx') < 0.6 * _input_scale(tmp_path / 'max.onnx')
    labels = Segmenter(tmp_path / 'pct.onnx').segment(np.full((32, 32, 3), 128, np.uint8))
    assert labels.labels.shape == (32, 32)
    capsys.readouterr()
    assert main([*base, '--calib', str(tmp_path / 'none'), '--out', str(tmp_path / 'x')]) == 1
    assert 'no shard' in capsys.readouterr().err
    missing = ['segment', 'quantize', '--float', str(tmp_path / 'no.onnx'), *calib]
    assert main([*missing, '--out', str(tmp_path / 'x')]) == 1
    assert 'no such model file' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, *calib, '--percentile', '40', '--out', str(tmp_path / 'x')])


def test_logits_at_half_the_frame_are_taken_as_they_are_coarser_ones_resized(tmp_path):
    """Step 7 gives 160x120 logits for the 320x240 frame: argmax, labels repeated 2x2.

    Logits of 80x60 (step 6 and before) are resized bilinearly to 160x120 first, as before.
    """
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    for stride in (2, 4):
        weight = channel_model(tmp_path / f's{stride}.onnx', 240, 320, stride=stride)
        seg = Segmenter(tmp_path / f's{stride}.onnx', ['cpu'])
        x = seg.preprocess(rgb)[0][:, ::stride, ::stride]
        logits = np.einsum('kc,chw->khw', weight, x)
        if stride == 4:
            hwc = cv2.resize(logits.transpose(1, 2, 0), (160, 120), interpolation=cv2.INTER_LINEAR)
            logits = hwc.transpose(2, 0, 1)
        want = np.repeat(np.repeat(logits.argmax(axis=0), 2, 0), 2, 1)
        assert logits.shape[1:] == (120, 160)
        assert (seg.segment(rgb).labels == want).mean() > 0.999
