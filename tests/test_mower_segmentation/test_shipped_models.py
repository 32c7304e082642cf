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


def card_hashes() -> dict[str, str]:
    text = CARD.read_text()
    return dict(re.findall(r'`([\w.]+\.onnx)`[^\n]*sha256 `([0-9a-f]{64})`', text))


def test_card_lists_both_models_with_matching_sha256():
    hashes = card_hashes()
    assert set(hashes) == {'lawnnet.onnx', 'lawnnet_int8.onnx'}
    for name, digest in hashes.items():
        assert sha256(MODELS / name) == digest, name


@pytest.mark.parametrize('name', ['lawnnet.onnx', 'lawnnet_int8.onnx'])
def test_shipped_model_runs_at_the_documented_size(name):
    seg = Segmenter(MODELS / name, ['cpu'])
    assert seg.input_hw == (120, 160)
    out = seg.segment(np.full((240, 320, 3), 90, np.uint8))
    assert out.labels.shape == (240, 320) and out.labels.max() <= 3


def test_int8_model_is_quantised():
    import onnx

    model = onnx.load(str(MODELS / 'lawnnet_int8.onnx'))
    ops = {n.op_type for n in model.graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops
    assert (MODELS / 'lawnnet_int8.onnx').stat().st_size < (MODELS / 'lawnnet.onnx').stat().st_size
