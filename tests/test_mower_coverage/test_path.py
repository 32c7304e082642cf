"""Stage 6: poses a differential-drive mower can drive."""

import math

import numpy as np
import pytest
import shapely
from helpers import lawn_from

from mower_coverage import CoveragePlanner, PlannerParams
from mower_coverage.path import ArcTurns, PivotTurns, sample_polyline
from mower_coverage.route import Route


def test_pivot_turn_is_two_poses_at_the_corner():
    route = Route()
    route.add('stripe', np.array([[0.0, 0.0], [1.0, 0.0]]))
    route.add('turn', np.array([[1.0, 0.0], [1.0, 0.2]]))
    path = PivotTurns().generate(route, shapely.box(-1, -1, 2, 2), 0.1)
    at_corner = path.poses[np.all(np.isclose(path.poses[:, :2], [1.0, 0.0]), axis=1)]
    assert len(at_corner) == 2
    assert at_corner[0, 2] == pytest.approx(0.0) and at_corner[1, 2] == pytest.approx(math.pi / 2)
    assert path.turns == 1
    steps = np.hypot(*np.diff(path.poses[:, :2], axis=0).T)
    assert steps.max() <= 0.1 + 1e-9


def test_arc_turns_have_the_minimum_radius_and_stay_inside():
    region = shapely.box(-5, -5, 5, 5)
    route = Route()
    route.add('transit', np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 3.0]]))
    path = ArcTurns(1.0).generate(route, region, 0.05)
    arc = path.points[1:-1]
    assert len(arc) > 3
    centre = np.array([2.0, 1.0])
    assert np.allclose(np.hypot(*(arc - centre).T), 1.0, atol=1e-9)


def test_arc_that_does_not_fit_falls_back_to_a_pivot():
    route = Route()
    route.add('transit', np.array([[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]]))  # too short for r=1
    path = ArcTurns(1.0).generate(route, shapely.box(-5, -5, 5, 5), 0.05)
    assert len(path.points) == 3


def test_arc_turn_plan_has_no_violations():
    lawn = lawn_from(
        shapely.box(0, 0, 12, 8), holes=[shapely.Point(6, 4).buffer(0.5)], dock=(0, 1)
    )
    params = PlannerParams(turn_radius_m=0.3)
    plan = CoveragePlanner(params).plan(lawn)
    from mower_coverage.metrics import evaluate

    m = evaluate(plan.area, plan.path, params.cut_width_m)
    assert m.violations == 0


def test_sample_polyline_keeps_vertices_and_spacing():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.33]])
    s = sample_polyline(pts, 0.05)
    assert np.allclose(s[0], pts[0]) and np.allclose(s[-1], pts[-1])
    assert any(np.allclose(p, pts[1]) for p in s)
    assert np.hypot(*np.diff(s, axis=0).T).max() <= 0.05 + 1e-12
