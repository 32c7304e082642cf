"""Tiny ONNX segmentation models built in the tests (no training, no files shipped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def channel_model(path: Path, h: int = 8, w: int = 8, classes: int = 4) -> np.ndarray:
    """A 1x1 convolution: logits = W @ pixel + b. Returns W (classes, 3) for reference."""
    weight = np.array(
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]], dtype=np.float32
    )[:classes]
    bias = np.zeros(classes, dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node('Conv', ['image', 'W', 'B'], ['logits'], kernel_shape=[1, 1])],
        'tiny',
        [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, classes, h, w])],
        [
            numpy_helper.from_array(weight.reshape(classes, 3, 1, 1), 'W'),
            numpy_helper.from_array(bias, 'B'),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return weight
