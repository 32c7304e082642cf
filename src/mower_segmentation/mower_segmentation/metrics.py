"""Segmentation metrics: confusion matrices, per-class IoU, mIoU, agreement."""

from __future__ import annotations

import numpy as np

from mower_segmentation.classes import CLASSES, IGNORE


def confusion(pred: np.ndarray, truth: np.ndarray, n: int = len(CLASSES)) -> np.ndarray:
    """(n, n) counts of truth (rows) against prediction (columns); IGNORE pixels skipped."""
    valid = (truth != IGNORE) & (truth < n)
    idx = truth[valid].astype(np.int64) * n + pred[valid].astype(np.int64)
    return np.bincount(idx, minlength=n * n).reshape(n, n)


def iou_from_confusion(conf: np.ndarray) -> dict:
    """Per-class IoU (NaN for a class absent from both) and their mean over present classes."""
    tp = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - tp
    iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    return {
        'iou': {c: float(iou[i]) for i, c in enumerate(CLASSES)},
        'miou': float(np.nanmean(iou)),
        'pixels': int(conf.sum()),
    }


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of identical labels between two label images (or stacks)."""
    return float((np.asarray(a) == np.asarray(b)).mean())
