"""Metrics: swept area, coverage, violations."""

import math

import numpy as np
import pytest
import shapely
from helpers import lawn_from

from mower_coverage import PlannerParams
from mower_coverage.area import DiscRobotArea
from mower_coverage.metrics import count_violations, evaluate
from mower_coverage.path import CoveragePath


def path_of(points) -> CoveragePath:
    pts = np.asarray(points, dtype=float)
    return CoveragePath(
        pts, np.zeros(len(pts) - 1, dtype=np.int8), np.column_stack([pts, np.zeros(len(pts))]), 0
    )


def test_swept_area_of_a_straight_pass():
    area = DiscRobotArea().build(lawn_from(shapely.box(0, 0, 10, 10)), PlannerParams())
    m = evaluate(area, path_of([[1, 5], [9, 5]]), 0.22)
    assert m.swept_m2 == pytest.approx(8 * 0.22 + math.pi * 0.11**2, rel=1e-3)
    assert m.violations == 0
    assert m.lower_bound_m == pytest.approx(100 / 0.22)


def test_violations_count_samples_outside_the_allowed_area():
    lawn = lawn_from(shapely.box(0, 0, 10, 10), holes=[shapely.box(4, 0, 6, 8)])
    area = DiscRobotArea().build(lawn, PlannerParams())
    bad, n = count_violations(path_of([[1, 5], [9, 5]]), area.allowed)
    # the pass crosses the hole plus 0.2 m clearance on each side: 2.4 m of 8 m
    assert n == 8 / 0.05 + 1
    assert bad == pytest.approx(2.4 / 0.05, abs=2)
