"""Tiny ONNX segmentation models built in the tests (no training, no files shipped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def channel_model(
    path: Path, h: int = 8, w: int = 8, classes: int = 4, stride: int = 1
) -> np.ndarray:
    """A 1x1 convolution: logits = W @ pixel + b. Returns W (classes, 3) for reference.

    With ``stride`` > 1 the logits are that many times smaller (every stride-th pixel).
    """
    weight = np.array(
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]], dtype=np.float32
    )[:classes]
    bias = np.zeros(classes, dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node(
                'Conv',
                ['image', 'W', 'B'],
                ['logits'],
                kernel_shape=[1, 1],
                strides=[stride, stride],
            )
        ],
        'tiny',
        [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 3, h, w])],
        [
            helper.make_tensor_value_info(
                'logits', TensorProto.FLOAT, [1, classes, h // stride, w // stride]
            )
        ],
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


def depthwise_model(path: Path, h: int = 16, w: int = 16, scales=(1.0, 0.05, 0.3)) -> None:
    """A 3x3 depthwise convolution whose channels' weights differ in size, then 1x1 to 4 classes.

    One weight scale for the whole depthwise tensor leaves the channel of small weights a few
    int8 steps; a scale per channel keeps it (``quantize_int8(per_channel=True)``).
    """
    rng = np.random.default_rng(0)
    dw = (rng.normal(0, 1, (3, 1, 3, 3)) * np.asarray(scales)[:, None, None, None]).astype(
        np.float32
    )
    gain = 1.0 / np.asarray(scales, np.float32)  # the classes' logits of similar size
    head = np.array(
        [[gain[0], 0, 0], [0, gain[1], 0], [0, 0, gain[2]], -gain], dtype=np.float32
    ).reshape(4, 3, 1, 1)
    graph = helper.make_graph(
        [
            helper.make_node(
                'Conv', ['image', 'DW'], ['dw'], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=3
            ),
            helper.make_node('Conv', ['dw', 'H'], ['logits'], kernel_shape=[1, 1]),
        ],
        'depthwise',
        [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 4, h, w])],
        [numpy_helper.from_array(dw, 'DW'), numpy_helper.from_array(head, 'H')],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def random_lawnnet_e(seed: int = 0):
    """A LawnNet-E (160x120) with random weights and batch-norm statistics away from 0 / 1.

    Needs PyTorch (the training extra): the tests that call it skip without it.
    """
    import torch

    from mower_segmentation.model import LawnNetE

    torch.manual_seed(seed)
    model = LawnNetE()
    with torch.no_grad():  # so that folding and copying the batch norms matters
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def reloaded(model, folder: Path) -> list:
    """``model`` saved as weights (``save_model``) and as a training checkpoint, loaded back."""
    import torch

    from mower_segmentation.model import load_model, save_model

    save_model(model, folder / 'w.pt')
    torch.save({'model': model.state_dict(), 'config': {'arch': 'lawnnet-e'}}, folder / 'ck.pt')
    return [load_model(folder / name).eval() for name in ('w.pt', 'ck.pt')]
