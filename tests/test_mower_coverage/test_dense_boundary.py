"""A densely sampled boundary (50,000 vertices) keeps the no-sample-outside guarantee.

Issue 16: the path stage dropped every vertex that was straight with its neighbours, one vertex
at a time; on a densely sampled, gently curving ring every vertex is, so whole runs were replaced
by chords of up to half a metre that cut the concave bends by more than the safety margin
(and a dense circle's headland collapsed to a point). The simplification now stays within its
tolerance of every vertex it drops.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import lawn_from
from shapely.geometry import Point, Polygon

from mower_coverage import CoveragePlanner, PlannerParams
from mower_coverage.geometry import simplify_polyline
from mower_coverage.metrics import VIOLATION_SAMPLE_M, count_violations, evaluate

SEED = 16
VERTICES = 50_000


def dense_wavy_lawn(seed: int = SEED, radius_m: float = 10.0):
    """A wavy lawn of ``VERTICES`` boundary vertices (concave bends) with two round holes."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 2.0 * np.pi, VERTICES, endpoint=False)
    p7, p31 = rng.uniform(0.0, 2.0 * np.pi, 2)
    r = radius_m + 0.08 * radius_m * (np.sin(7 * t + p7) + 0.25 * np.sin(31 * t + p31))
    boundary = Polygon(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    holes = [
        Point(0.2 * radius_m, 0.12 * radius_m).buffer(0.08 * radius_m),
        Point(-0.32 * radius_m, -0.24 * radius_m).buffer(0.06 * radius_m),
    ]
    return lawn_from(boundary, holes)


def test_simplified_polyline_stays_within_tolerance_of_a_dense_arc():
    t = np.linspace(0.0, 2.0 * np.pi, VERTICES + 1)  # closed: last point = first
    ring = np.column_stack([25.0 * np.cos(t), 25.0 * np.sin(t)])
    tol_m = 1e-6
    out = simplify_polyline(ring, tol_m)
    segments = shapely.STRtree(shapely.linestrings(np.stack([out[:-1], out[1:]], axis=1)))
    _, dist = segments.query_nearest(shapely.points(ring), return_distance=True, all_matches=False)
    assert float(dist.max()) <= tol_m
    assert np.array_equal(out[0], ring[0]) and np.array_equal(out[-1], ring[-1])
    assert len(out) < len(ring)  # still simplifies where the arc is straight within tol_m


def test_simplify_polyline_still_drops_straight_and_repeated_points():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [2.0, 3.0]])
    assert np.array_equal(simplify_polyline(pts), [[0.0, 0.0], [2.0, 0.0], [2.0, 3.0]])


@pytest.mark.slow  # about 30 s: planning 50,000 boundary vertices
def test_no_sample_outside_the_allowed_area_on_a_50000_vertex_boundary():
    lawn = dense_wavy_lawn()
    assert shapely.get_num_coordinates(lawn.boundary) >= VERTICES
    plan = CoveragePlanner(PlannerParams()).plan(lawn)
    # against the allowed area of the map as given, not simplified
    bad, n = count_violations(plan.path, plan.area.allowed)
    assert n > 50_000
    assert bad == 0, f'{bad} of {n} samples outside the allowed area'
    allowed = plan.area.allowed
    shapely.prepare(allowed)  # and with no tolerance at all
    assert shapely.covers(allowed, shapely.points(plan.path.samples(VIOLATION_SAMPLE_M))).all()
    m = evaluate(plan.area, plan.path, plan.params.cut_width_m)
    assert m.coverage_reachable_pct >= 99.5
