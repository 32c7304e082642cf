"""segmentation_node's own parameters, ROS-free.

The node declares them; the config check (mower_control.parameters) reads them without ROS.
"""

from __future__ import annotations

from typing import Any

from mower_node_kit.params import Spec
from mower_segmentation.runtime import PROVIDERS

#: name -> (default, description[, low, high]); ConfidenceParams' fields: from its metadata
PARAMETERS: dict[str, tuple[Any, ...]] = {
    'model_file': ('', 'ONNX segmentation model (models/lawnnet_int8.onnx on the robot)'),
    'execution_providers': (list(PROVIDERS), 'providers to try in order; cpu is always last'),
    'threads': Spec(1, 'intra-op threads of ONNX Runtime', 1, 64),
    'fallback_to_classical': (False, 'use the colour baseline when the model cannot load'),
    'publish_overlay': (False, 'also publish segmentation/overlay (camera + label colours)'),
    'publish_confidence': (
        True,
        'also publish segmentation/confidence (mono8, 0-255 for the '
        'per-pixel confidence 0-1; mapping_node use_confidence)',
    ),
}
