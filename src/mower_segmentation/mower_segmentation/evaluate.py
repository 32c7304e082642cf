"""Evaluation: per-class IoU on the held-out simulated set and on the real RELLIS-3D frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mower_segmentation.classes import IGNORE, LAWN, OBSTACLE, OTHER, SKY
from mower_segmentation.metrics import confusion, iou_from_confusion

#: RELLIS-3D ontology ids -> our classes (how: grass is lawn; ground surfaces are other ground;
#: anything standing up is an obstacle; sky is sky; void and unclear classes are ignored).
RELLIS_TO_OURS = {
    0: IGNORE,  # void
    1: OTHER,  # dirt
    3: LAWN,  # grass
    4: OBSTACLE,  # tree
    5: OBSTACLE,  # pole
    6: OTHER,  # water
    7: SKY,  # sky
    8: OBSTACLE,  # vehicle
    9: OBSTACLE,  # object
    10: OTHER,  # asphalt
    12: OBSTACLE,  # building
    15: OBSTACLE,  # log
    17: OBSTACLE,  # person
    18: OBSTACLE,  # fence
    19: OBSTACLE,  # bush
    23: OTHER,  # concrete
    27: OBSTACLE,  # barrier
    31: OTHER,  # puddle
    33: OTHER,  # mud
    34: OBSTACLE,  # rubble
}


def rellis_labels(mask: np.ndarray) -> np.ndarray:
    """Our class ids for a RELLIS-3D id mask (unknown ids are ignored)."""
    lut = np.full(256, IGNORE, dtype=np.uint8)
    for k, v in RELLIS_TO_OURS.items():
        lut[k] = v
    return lut[mask]


def evaluate_segmenter(segment, images: np.ndarray, labels: np.ndarray) -> dict:
    """IoU of a ``segment(rgb) -> labels`` function over images at the labels' size."""
    conf = np.zeros((4, 4), dtype=np.int64)
    for img, lab in zip(images, labels, strict=True):
        conf += confusion(segment(img), lab)
    return iou_from_confusion(conf)


def load_rellis(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The RELLIS-3D example frame and its labels, reduced to the camera's 320x240 (4:3 crop)."""
    folder = Path(folder)
    img_path = next(folder.glob('*.jpg'))
    mask_path = next(folder.glob('*.png'))
    rgb = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
    mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
    if mask.ndim == 3:
        mask = mask[..., 0]
    h, w = rgb.shape[:2]
    cw = int(h * 4 / 3)  # centre crop to the camera's aspect
    x0 = max(0, (w - cw) // 2)
    rgb, mask = rgb[:, x0 : x0 + cw], mask[:, x0 : x0 + cw]
    rgb = cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, (320, 240), interpolation=cv2.INTER_NEAREST)
    return rgb, rellis_labels(mask)
