"""Issue 16, defect 10: a model whose logits are not finite, or not a segmentation's, is refused.

The models are built here with onnx.helper: one that outputs NaN for every input, a classifier
((N, C) logits), and one whose logits are NaN only for some inputs (a frame whose red channel
is saturated). NaN logits used to argmax to class 0, lawn, everywhere: an obstacle in front of
the mower went unseen with exit status 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tiny_models import channel_model

from mower_mapping.semantic_grid import SKY
from mower_segmentation.classes import CLASSES, LAWN
from mower_segmentation.runtime import ModelError, Segmenter

H = W = 8


def _save(path: Path, nodes: list, out_shape: list[int], inits: list) -> Path:
    graph = helper.make_graph(
        nodes,
        'outputs_test',
        [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 3, H, W])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _conv(out: str) -> tuple[list, list]:
    """A 1x1 convolution to four classes, red channel -> lawn (the channel_model's weights)."""
    weight = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], np.float32)
    return (
        [helper.make_node('Conv', ['image', 'W', 'B'], [out], kernel_shape=[1, 1])],
        [
            numpy_helper.from_array(weight.reshape(4, 3, 1, 1), 'W'),
            numpy_helper.from_array(np.zeros(4, np.float32), 'B'),
        ],
    )


def nan_model(path: Path) -> Path:
    """Logits = conv(image) * NaN: NaN for every input."""
    nodes, inits = _conv('c')
    nodes.append(helper.make_node('Mul', ['c', 'nan'], ['logits']))
    inits.append(numpy_helper.from_array(np.array(np.nan, np.float32), 'nan'))
    return _save(path, nodes, [1, 4, H, W], inits)


def classifier_model(path: Path) -> Path:
    """(1, 4) logits: global average of the conv, flattened (an image classifier)."""
    nodes, inits = _conv('c')
    nodes += [
        helper.make_node('GlobalAveragePool', ['c'], ['g']),
        helper.make_node('Flatten', ['g'], ['logits'], axis=1),
    ]
    return _save(path, nodes, [1, 4], inits)


def sometimes_nan_model(path: Path) -> Path:
    """Finite logits, except NaN everywhere when some pixel's red channel exceeds 1.5 (std).

    logits = conv(image) + log(1.5 - max(red)): the log of a negative number is NaN. The
    normalised red channel of a 255 pixel is (1 - 0.45) / 0.25 = 2.2; the warm-up frame and
    darker frames stay below 1.5.
    """
    nodes, inits = _conv('c')
    nodes += [
        helper.make_node('Slice', ['image', 's0', 's1', 'ax'], ['red']),
        helper.make_node('ReduceMax', ['red'], ['peak'], keepdims=0),
        helper.make_node('Sub', ['limit', 'peak'], ['room']),
        helper.make_node('Log', ['room'], ['gate']),
        helper.make_node('Add', ['c', 'gate'], ['logits']),
    ]
    inits += [
        numpy_helper.from_array(np.array([0], np.int64), 's0'),
        numpy_helper.from_array(np.array([1], np.int64), 's1'),
        numpy_helper.from_array(np.array([1], np.int64), 'ax'),
        numpy_helper.from_array(np.array(1.5, np.float32), 'limit'),
    ]
    return _save(path, nodes, [1, 4, H, W], inits)


def test_a_model_whose_outputs_are_nan_is_refused_at_load(tmp_path):
    path = nan_model(tmp_path / 'nan.onnx')
    with pytest.raises(ModelError, match='outputs are not finite at warm-up') as info:
        Segmenter(path, ['cpu'])
    assert str(path) in str(info.value)


def test_a_nan_model_is_refused_after_every_provider_tried(tmp_path):
    path = nan_model(tmp_path / 'nan.onnx')
    with pytest.raises(ModelError, match='not finite'):
        Segmenter(path, ['cuda', 'cpu'])


def test_a_classifier_shaped_model_is_refused_naming_its_shape(tmp_path):
    path = classifier_model(tmp_path / 'classifier.onnx')
    with pytest.raises(ModelError, match=r'output shape \(1, 4\) is not \(1, 4, H, W\)') as info:
        Segmenter(path, ['cpu'])
    assert str(path) in str(info.value) and 'classifier' in str(info.value)


@pytest.mark.parametrize('out_hw', [(1, 1), (16, 16), (8, 2)])
def test_a_spatial_output_that_does_not_fit_the_input_is_refused(tmp_path, out_hw):
    """A pooled 1x1 map, a map larger than the input, a map of another aspect."""
    nodes, inits = _conv('c')
    nodes.append(helper.make_node('Resize', ['c', '', '', 'size'], ['logits'], mode='nearest'))
    inits.append(numpy_helper.from_array(np.array([1, 4, *out_hw], np.int64), 'size'))
    path = _save(tmp_path / 'odd.onnx', nodes, [1, 4, *out_hw], inits)
    with pytest.raises(ModelError, match='does not fit the input 8x8'):
        Segmenter(path, ['cpu'])


def test_a_coarser_output_of_the_same_aspect_is_accepted(tmp_path):
    nodes, inits = _conv('c')
    nodes.append(
        helper.make_node('AveragePool', ['c'], ['logits'], kernel_shape=[2, 2], strides=[2, 2])
    )
    seg = Segmenter(_save(tmp_path / 'half.onnx', nodes, [1, 4, 4, 4], inits), ['cpu'])
    assert seg.segment(np.zeros((8, 8, 3), np.uint8)).labels.shape == (8, 8)


def test_logits_four_times_coarser_are_resized_to_twice_their_size_then_repeated(tmp_path):
    """A full-resolution model's 80x60 logits of a 320x240 frame go to 160x120 in float."""
    import cv2

    nodes, inits = _conv('c')
    nodes.append(
        helper.make_node('AveragePool', ['c'], ['logits'], kernel_shape=[4, 4], strides=[4, 4])
    )
    seg = Segmenter(_save(tmp_path / 'quarter.onnx', nodes, [1, 4, 2, 2], inits), ['cpu'])
    rgb = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)
    logits = seg.session.run(None, {seg.input_name: seg.preprocess(rgb)})[0][0]
    hwc = cv2.resize(logits.transpose(1, 2, 0), (W // 2, H // 2), interpolation=cv2.INTER_LINEAR)
    want = np.repeat(np.repeat(hwc.argmax(axis=2), 2, 0), 2, 1)
    assert np.array_equal(seg.segment(rgb).labels, want)


def test_frames_with_non_finite_logits_are_counted_and_give_no_ground_labels(tmp_path):
    seg = Segmenter(sometimes_nan_model(tmp_path / 'sometimes.onnx'), ['cpu'])
    dark = np.full((H, W, 3), 60, np.uint8)
    bright = dark.copy()
    bright[3, 4, 0] = 255  # one saturated red pixel: the model's logits are all NaN
    bad = seg.segment(bright, with_confidence=True)
    # not lawn (the argmax of NaN), nor other ground, nor obstacle: sky, which the mapping
    # takes no evidence from
    assert not (bad.labels == LAWN).any()
    assert (bad.labels == SKY).all() and CLASSES[SKY] == 'sky'
    assert (bad.confidence == 0).all()
    assert not bad.finite
    good = seg.segment(dark, with_confidence=True)
    assert good.finite and np.isfinite(good.confidence).all()
    assert seg.segment(bright).confidence is None
    assert seg.segment(dark).finite
    assert (seg.frames, seg.non_finite_frames) == (4, 2)  # the warm-up frame is not counted


def test_a_good_model_counts_frames_and_none_is_non_finite(tmp_path):
    channel_model(tmp_path / 'm.onnx')
    seg = Segmenter(tmp_path / 'm.onnx', ['cpu'])
    for value in (0, 128, 255):
        assert seg.segment(np.full((H, W, 3), value, np.uint8)).finite
    assert (seg.frames, seg.non_finite_frames) == (3, 0)
