"""The mowed-coverage layer: the swept deck, and exact persistence and resume."""

import math

import numpy as np
import pytest
import shapely

from mower_mapping.coverage_layer import CoverageLayer


def test_a_straight_pass_sweeps_length_times_cut_width():
    layer = CoverageLayer((0, 0), 10, 5, 0.02, 0.22)
    for x in np.arange(1.0, 7.0001, 0.05):
        layer.update(float(x), 2.5, True)
    assert layer.mowed_area_m2() == pytest.approx(6 * 0.22 + math.pi * 0.11**2, rel=0.03)


def test_blade_off_mows_nothing_and_breaks_the_sweep():
    layer = CoverageLayer((0, 0), 10, 5)
    layer.update(1.0, 1.0, True)
    layer.update(3.0, 1.0, False)  # blade off: not mowed, and no line from (1, 1) later
    layer.update(5.0, 1.0, True)
    assert layer.mowed_area_m2() == pytest.approx(2 * math.pi * 0.11**2, rel=0.15)


def test_save_and_resume_exactly(tmp_path):
    layer = CoverageLayer((-2.5, 1.25), 7.3, 4.1)
    for t in np.linspace(0, 6, 300):
        layer.update(-2 + t, 3 + math.sin(t), True)
    path = layer.save(tmp_path / 'coverage.npz')
    again = CoverageLayer.load(path)
    assert np.array_equal(again.mowed, layer.mowed)
    assert again.origin.tolist() == layer.origin.tolist() and again.res == layer.res
    lawn = shapely.box(-2.5, 1.25, 4.8, 5.35)
    assert again.mowed_share(lawn) == layer.mowed_share(lawn) > 0


def test_a_damaged_file_is_a_clear_error(tmp_path):
    bad = tmp_path / 'coverage.npz'
    bad.write_bytes(b'\x00garbage')
    with pytest.raises(ValueError, match='not a saved coverage layer'):
        CoverageLayer.load(bad)
