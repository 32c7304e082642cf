"""Stage 5: the route covers every stripe and ring; transits stay inside the region."""

import numpy as np
import shapely
from helpers import lawn_from

from mower_coverage import CoveragePlanner, PlannerParams
from mower_coverage.route import straighten


def test_straighten_never_cuts_through_a_hole():
    region = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 0, 6, 8))  # a U
    around = np.array([[2, 1], [2, 9], [5, 9], [8, 9], [8, 1]], dtype=float)
    out = straighten(around, region)
    assert shapely.covers(region, shapely.linestrings(out))
    assert len(out) < len(around)  # but it does shorten where it can (2,1)->(5,9)? no: (2,9)
    assert np.allclose(out[0], [2, 1]) and np.allclose(out[-1], [8, 1])


def test_every_stripe_is_driven_once_and_legs_join():
    lawn = lawn_from(shapely.box(0, 0, 12, 8), holes=[shapely.box(5, 3, 7, 5)], dock=(0, 1))
    plan = CoveragePlanner(PlannerParams()).plan(lawn)
    stripes = [leg for leg in plan.route.legs if leg.kind == 'stripe']
    assert len(stripes) == plan.chords.count
    for a, b in zip(plan.route.legs, plan.route.legs[1:]):
        assert np.allclose(a.points[-1], b.points[0])
    assert not plan.route.unreached


def test_transits_go_around_a_wall_not_through_it():
    # two rooms joined only at the far end: a transit from one to the other must go around
    lawn = lawn_from(shapely.box(0, 0, 12, 10), holes=[shapely.box(5.5, 0, 6.5, 8.5)], dock=(0, 1))
    plan = CoveragePlanner(PlannerParams()).plan(lawn)
    wall = shapely.box(5.5, 0, 6.5, 8.5).buffer(0.19)  # the wall plus most of the clearance
    for leg in plan.route.legs:
        assert not shapely.linestrings(leg.points).intersects(wall)
        assert shapely.covers(plan.area.allowed.buffer(1e-6), shapely.linestrings(leg.points))


def test_headlands_come_first_outermost_pass_first():
    lawn = lawn_from(shapely.box(0, 0, 10, 6), dock=(0, 1))
    plan = CoveragePlanner(PlannerParams(headland_passes=3)).plan(lawn)
    kinds = [leg.kind for leg in plan.route.legs]
    first_stripe = kinds.index('stripe')
    assert kinds[:first_stripe].count('headland') == 3
    heads = [leg for leg in plan.route.legs if leg.kind == 'headland']
    dist = [
        float(shapely.distance(shapely.box(0, 0, 10, 6).boundary, shapely.Point(h.points[0])))
        for h in heads
    ]
    assert dist == sorted(dist)
