"""The classical baseline: excess green and HSV thresholds with morphology (OpenCV, no model).

For comparison with the network, and as the fallback when no model is present. Lawn is green
(excess green and an HSV green band); sky is bright, unsaturated or blue and touches the top
of the image; what is left is other ground, except blobs that lawn encloses on the sides and
below, which stand on the lawn and are taken for obstacles.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mower_segmentation.classes import LAWN, OBSTACLE, OTHER, SKY


@dataclass(frozen=True)
class ClassicalParams:
    """Thresholds of the baseline (defaults tuned on simulated frames)."""

    exg_min: float = 0.04  # (2G - R - B) / (R + G + B)
    hue_min: int = 25  # OpenCV hue, 0-179: green band
    hue_max: int = 95
    sat_min: int = 40
    val_min: int = 25
    sky_val_min: int = 150
    sky_sat_max: int = 110
    kernel: int = 5  # morphology kernel (pixels at 320x240)


class ClassicalSegmenter:
    """Per-pixel labels from colour alone."""

    provider = 'classical'

    def __init__(self, params: ClassicalParams | None = None) -> None:
        """Baseline with the given thresholds."""
        self.p = params or ClassicalParams()

    def segment_labels(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W) uint8 labels for an (H, W, 3) uint8 RGB image."""
        p = self.p
        f = rgb.astype(np.float32)
        r, g, b = f[..., 0], f[..., 1], f[..., 2]
        exg = (2 * g - r - b) / (r + g + b + 1e-6)
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
        lawn = (
            (exg > p.exg_min)
            & (h >= p.hue_min)
            & (h <= p.hue_max)
            & (s >= p.sat_min)
            & (v >= p.val_min)
        )
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (p.kernel, p.kernel))
        lawn = cv2.morphologyEx(lawn.astype(np.uint8), cv2.MORPH_CLOSE, k)
        lawn = cv2.morphologyEx(lawn, cv2.MORPH_OPEN, k).astype(bool)
        # blue, or a bright grey overcast sky; bright paving is neither blue nor that bright
        sky_colour = (v >= p.sky_val_min) & (
            ((b >= r + 10) & (s <= p.sky_sat_max + 60)) | ((v >= 200) & (s <= 40))
        )
        sky = np.zeros_like(sky_colour)
        n, comp = cv2.connectedComponents(sky_colour.astype(np.uint8), connectivity=4)
        top = np.unique(comp[0][sky_colour[0]])
        sky = np.isin(comp, top[top > 0]) if n > 1 else sky
        labels = np.full(rgb.shape[:2], OTHER, dtype=np.uint8)
        labels[lawn] = LAWN
        labels[sky & ~lawn] = SKY
        rest = (labels == OTHER).astype(np.uint8)
        n, comp, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
        height, width = rest.shape
        for i in range(1, n):
            x, y, w, hh, _ = stats[i]
            touches_edge = x == 0 or x + w >= width or y + hh >= height
            blob = comp == i
            above = np.zeros_like(blob)
            above[:-1] = blob[1:]
            near_sky = (labels[above & ~blob] == SKY).any()
            if not touches_edge or near_sky and hh > height // 6:
                labels[blob] = OBSTACLE
        return labels
