"""Per-pixel confidence of a segmentation: when a frame is doubtful, and how it is sent.

The segmenter's confidence of a pixel is its largest softmax probability (``Segmenter.segment(
rgb, with_confidence=True)``): 1 when the model is sure, 1 / 4 when it cannot tell the four
classes apart. A pixel is *low-confidence* below ``min_confidence``; a frame is *low-confidence*
when more than ``low_confidence_share`` of its pixels are. segmentation_node counts such frames
in its diagnostics: many of them mean the model does not know this lawn (fine-tune it on its
frames). On ``segmentation/confidence`` the confidence travels as a mono8 image, 0-255 for
0-1, rounded (:func:`confidence_to_mono8`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mower_node_kit.params import check_ranges, param


@dataclass(frozen=True)
class ConfidenceParams:
    """segmentation_node's confidence settings (config/segmentation.yaml, README table).

    Each field's metadata holds the parameter's ``description`` and its ``range`` (inclusive),
    from which the node declares it.
    """

    min_confidence: float = param(
        0.5,
        'a pixel whose confidence (largest softmax probability) is below this is low-confidence',
        0.0,
        1.0,
    )
    low_confidence_share: float = param(
        0.2,
        'a frame with more than this share of low-confidence pixels is counted as a '
        'low-confidence frame in diagnostics (1.0: not counted)',
        0.0,
        1.0,
    )

    def __post_init__(self) -> None:
        """Reject values outside the declared ranges, naming the field."""
        check_ranges(self)

    @property
    def counts_frames(self) -> bool:
        """Whether low-confidence frames are counted at all (a share below 1)."""
        return self.low_confidence_share < 1.0


def low_confidence_share(confidence: np.ndarray, min_confidence: float) -> float:
    """Share of the pixels whose confidence is below ``min_confidence`` (0 for no pixels)."""
    if confidence.size == 0:
        return 0.0
    return float(np.count_nonzero(confidence < min_confidence)) / confidence.size


def is_low_confidence(confidence: np.ndarray, params: ConfidenceParams) -> bool:
    """Whether more than ``low_confidence_share`` of the pixels are below ``min_confidence``."""
    return (
        params.counts_frames
        and low_confidence_share(confidence, params.min_confidence) > params.low_confidence_share
    )


def confidence_to_mono8(confidence: np.ndarray) -> np.ndarray:
    """(H, W) uint8: confidence in [0, 1] scaled to 0-255 and rounded (values clipped)."""
    return (np.clip(confidence, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
