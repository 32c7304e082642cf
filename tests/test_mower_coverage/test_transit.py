"""Transit paths inside the planning region (to the dock and back to work)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from lawn_gen import random_lawn
from shapely.geometry import LineString, Polygon, box

from mower_coverage.transit import TransitPlanner, path_length


def test_straight_when_visible():
    tp = TransitPlanner(box(0, 0, 10, 10))
    path = tp.plan(np.array([1.0, 1.0]), np.array([9.0, 9.0]))
    assert path.shape == (2, 2)


def test_goes_round_a_hole_on_the_shortest_way():
    region = box(0, 0, 10, 10).difference(box(4, 2, 6, 10))  # a wall from the north edge
    tp = TransitPlanner(region)
    path = tp.plan(np.array([1.0, 8.0]), np.array([9.0, 8.0]))
    assert region.buffer(1e-9).covers(LineString(path))
    # shortest: down round the wall's end at (4, 2) and (6, 2)
    ideal = 2 * np.hypot(3.0, 6.0) + 2.0
    assert path_length(path) == pytest.approx(ideal, rel=0.02)


def test_unreachable_goal_gives_none():
    region = shapely.union_all([box(0, 0, 3, 3), box(5, 0, 8, 3)])
    tp = TransitPlanner(region)
    assert tp.plan(np.array([1.0, 1.0]), np.array([6.0, 1.0])) is None


def test_start_outside_is_joined_to_the_nearest_inside_point():
    tp = TransitPlanner(box(0, 0, 10, 10))
    path = tp.plan(np.array([-0.05, 5.0]), np.array([5.0, 5.0]))
    assert np.allclose(path[0], [-0.05, 5.0]) and box(0, 0, 10, 10).covers(shapely.Point(path[1]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_random_lawns_paths_stay_inside(seed):
    lawn = random_lawn(seed)
    region = lawn.boundary.buffer(-0.2)
    for f in lawn.features:
        if f.role in ('keepout', 'obstacle'):
            region = region.difference(f.geometry.buffer(0.2))
    parts = [p for p in getattr(region, 'geoms', [region]) if isinstance(p, Polygon)]
    part = max(parts, key=lambda p: p.area)
    tp = TransitPlanner(part)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = part.bounds
    pts = rng.uniform([minx, miny], [maxx, maxy], (30, 2))
    pts = pts[shapely.contains_xy(part, pts[:, 0], pts[:, 1])][:6]
    for a, b in zip(pts[:-1], pts[1:]):
        path = tp.plan(a, b)
        assert path is not None
        assert np.allclose(path[0], a) and np.allclose(path[-1], b)
        assert part.buffer(1e-6).covers(LineString(path))
