"""The colour baseline on a synthetic scene, and the IoU arithmetic."""

import numpy as np
import pytest

from mower_segmentation.classes import LAWN, OBSTACLE, OTHER, SKY
from mower_segmentation.classical import ClassicalSegmenter
from mower_segmentation.metrics import agreement, confusion, iou_from_confusion


def synthetic_scene() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = np.zeros((240, 320, 3), np.uint8)
    img[:60] = (150, 190, 240)  # sky
    img[60:] = (60, 130, 45)  # lawn
    img[60:] = np.clip(img[60:] + rng.normal(0, 8, img[60:].shape), 0, 255).astype(np.uint8)
    img[140:190, 140:190] = (120, 90, 70)  # a brown box on the lawn
    img[60:90, 250:] = (150, 145, 135)  # paving at the far edge
    return img


def test_baseline_finds_lawn_sky_and_an_obstacle_on_the_lawn():
    labels = ClassicalSegmenter().segment_labels(synthetic_scene())
    assert (labels[100:, :100] == LAWN).mean() > 0.95
    assert (labels[:40] == SKY).mean() > 0.95
    assert (labels[150:180, 150:180] == OBSTACLE).mean() > 0.95
    assert (labels[65:85, 260:] == OTHER).mean() > 0.8


def test_iou_and_agreement():
    truth = np.array([[0, 0, 1, 1], [2, 2, 3, 255]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [2, 2, 3, 0]], np.uint8)
    m = iou_from_confusion(confusion(pred, truth))
    assert m['iou']['lawn'] == pytest.approx(0.5)
    assert m['iou']['other'] == pytest.approx(2 / 3)
    assert m['iou']['obstacle'] == 1.0 and m['iou']['sky'] == 1.0
    assert m['pixels'] == 7
    assert agreement(pred, truth) == pytest.approx(6 / 8)


def test_simulator_and_segmentation_agree_on_class_ids():
    from mower_segmentation.classes import CLASSES, IGNORE
    from mower_sim.world import IGNORE as SIM_IGNORE
    from mower_sim.world import LABELS

    assert {name: i for i, name in enumerate(CLASSES)} == {
        'lawn': LABELS['lawn'],
        'other': LABELS['other'],
        'obstacle': LABELS['obstacle'],
        'sky': LABELS['sky'],
    }
    assert IGNORE == SIM_IGNORE
