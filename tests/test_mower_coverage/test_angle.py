"""Stage 4a: stripe angle selection."""

import math

import pytest
import shapely
import shapely.affinity

from mower_coverage.angle import AutoAngle, FixedAngle, RotatingAngle, count_chords
from mower_coverage.geometry import rings_of


def test_auto_runs_stripes_along_a_long_lawn():
    assert AutoAngle().select(shapely.box(0, 0, 20, 4), 0.2) == pytest.approx(0.0)


def test_auto_follows_a_rotated_lawn():
    lawn = shapely.affinity.rotate(shapely.box(0, 0, 20, 4), 33.0, origin=(0, 0))
    assert math.degrees(AutoAngle().select(lawn, 0.2)) == pytest.approx(33.0, abs=0.01)


def test_auto_minimises_the_number_of_stripes():
    lawn = shapely.box(0, 0, 12, 5).difference(shapely.box(3, 1, 4, 4))
    rings = rings_of(lawn)
    best = AutoAngle().select(lawn, 0.2)
    for a in AutoAngle().candidates(rings):
        assert count_chords(rings, best, 0.2) <= count_chords(rings, a, 0.2)


def test_fixed_and_rotating():
    assert math.degrees(FixedAngle(200.0).select(shapely.box(0, 0, 1, 1), 0.2)) == pytest.approx(
        20.0
    )
    angles = [
        round(math.degrees(RotatingAngle(10.0, 30.0, run).select(None, 0.2)), 6)
        for run in range(7)
    ]
    assert angles == [10.0, 40.0, 70.0, 100.0, 130.0, 160.0, 10.0]
