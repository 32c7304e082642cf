"""The confidence rules: low-confidence pixels and frames, and the mono8 scaling."""

import numpy as np
import pytest

from mower_segmentation.confidence import (
    ConfidenceParams,
    confidence_to_mono8,
    is_low_confidence,
    low_confidence_share,
)


def test_a_frame_is_low_confidence_above_the_share_of_doubtful_pixels():
    conf = np.ones((10, 10), np.float32)
    conf[:3] = 0.4  # 30 % below 0.5
    assert low_confidence_share(conf, 0.5) == pytest.approx(0.3)
    assert is_low_confidence(conf, ConfidenceParams(low_confidence_share=0.2))
    assert not is_low_confidence(conf, ConfidenceParams(low_confidence_share=0.3))
    assert not is_low_confidence(conf * 0, ConfidenceParams(low_confidence_share=1.0))
    assert low_confidence_share(np.zeros((0, 0), np.float32), 0.5) == 0.0


def test_mono8_scaling_rounds_and_clips():
    conf = np.array([[0.0, 0.25, 0.5, 1.0, 1.2, -0.1]], np.float32)
    assert confidence_to_mono8(conf).tolist() == [[0, 64, 128, 255, 255, 0]]


def test_settings_outside_their_range_are_refused():
    with pytest.raises(ValueError, match='low_confidence_share = -0.1'):
        ConfidenceParams(low_confidence_share=-0.1)
