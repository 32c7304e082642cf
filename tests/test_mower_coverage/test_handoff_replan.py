"""The plan handed to the mission, and the replanning policy (robot and simulator alike)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from conftest import MAPS

from mower_coverage import CoveragePlanner, PlannerParams, params_for_map
from mower_coverage.handoff import HandoffError, PlanHandoff, remaining
from mower_coverage.replan import ReplanParams, ReplanPolicy
from mower_maps import load_map


@pytest.fixture(scope='module')
def planned():
    lawn = load_map(MAPS / 'demo_lawn.geojson')
    params = params_for_map(PlannerParams(), lawn)
    return lawn, params, CoveragePlanner(params).plan(lawn)


def test_the_json_round_trip_is_exact(planned):
    _, _, plan = planned
    sent = PlanHandoff.from_plan(plan)
    got = PlanHandoff.from_json(sent.to_json())
    assert np.array_equal(got.points, sent.points) and np.array_equal(got.kinds, sent.kinds)
    assert got.region.equals_exact(sent.region, 0.0) and got.frame_id == 'map'
    assert len(got.kinds) == len(got.points) - 1
    assert got.zone == 0
    assert PlanHandoff.from_json(PlanHandoff.from_plan(plan, zone=3).to_json()).zone == 3
    older = json.loads(sent.to_json())
    del older['zone']  # a plan from a stack before zones: the whole lawn
    assert PlanHandoff.from_json(json.dumps(older)).zone == 0


@pytest.mark.parametrize(
    'change, message',
    [
        (lambda d: d.update(format='other'), 'not a'),
        (lambda d: d.update(points=[[0.0, 0.0]], kinds=[]), 'two points'),
        (lambda d: d.update(kinds=d['kinds'][:-1]), 'segment kinds for'),
        (lambda d: d['kinds'].__setitem__(0, 9), 'out of range'),
        (lambda d: d['points'][0].__setitem__(0, float('nan')), 'not finite'),
        (lambda d: d.update(kinds_legend=['stripe']), 'segment kinds'),
        (lambda d: d.update(region={'type': 'Polygon', 'coordinates': 'x'}), 'malformed'),
        (lambda d: d.update(zone=-1), 'not a zone number'),
        (lambda d: d.update(zone='1'), 'not a zone number'),
        (lambda d: d.update(zone=True), 'not a zone number'),
    ],
)
def test_bad_plan_messages_say_what_is_wrong(planned, change, message):
    data = json.loads(PlanHandoff.from_plan(planned[2]).to_json())
    change(data)
    with pytest.raises(HandoffError, match=message):
        PlanHandoff.from_json(json.dumps(data))
    with pytest.raises(HandoffError, match='not JSON'):
        PlanHandoff.from_json('{"format"')


def test_remaining_cuts_by_arc_length():
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert np.array_equal(remaining(pts, 0.0), pts)
    assert np.array_equal(remaining(pts, 1.5), pts[2:])
    assert len(remaining(pts, 10.0)) == 0
    assert np.array_equal(remaining(pts, float('nan')), pts)


def test_policy_replans_for_obstacles_on_the_rest_of_the_plan_only(planned):
    lawn, params, plan = planned
    policy = ReplanPolicy(lawn, params.clearance_m)
    pts = plan.path.points
    x, y = pts[len(pts) // 2]
    toy = shapely.Point(x, y).buffer(0.2)
    assert policy.update([toy], pts, force=False).replan
    assert not policy.update([toy], pts).replan  # the same again: no change
    grown = shapely.Point(x, y).buffer(0.21)  # 0.026 m² more: below replan_min_change_m2
    assert not policy.update([grown], pts).replan
    other = shapely.Point(*pts[10]).buffer(0.2)
    both = shapely.union_all([toy, other])
    far = pts[np.argsort(-shapely.distance(both, shapely.points(pts)))[:1]]
    decision = policy.update([toy, other], np.vstack([far, far + 0.05]))  # what is left
    assert not decision.replan and 'off the rest' in decision.reason
    assert len(policy.obstacles) == 2  # kept for the next plan
    assert policy.update([toy, other], pts, force=True).replan  # the mission asked
    outside = shapely.Point(-50, -50).buffer(0.3)  # off the lawn: does not count
    assert policy.relevant([outside, toy]) == [toy]
    assert policy.lawn_for_planning().holes.area > lawn.holes.area


def test_policy_settings_are_range_checked():
    with pytest.raises(ValueError, match='replan_min_change_m2'):
        ReplanParams(replan_min_change_m2=-1.0)


def test_policy_replans_for_what_is_added_near_the_plan_not_for_what_is_cleared(planned):
    """Only obstacles added within the clearance of the rest of the plan call for a new plan.

    The mower stands by an obstacle it found (the rest of its plan starts within the clearance
    of it) while a label flickers a few metres on: that obstacle comes and goes, off the rest
    of the plan. Before, each change replanned, as some obstacle lay within the clearance of
    the rest of the plan (large_lawn's discovered map: 199 replans in 1,500 s along its edges,
    creeping).
    """
    lawn, params, plan = planned
    pts = plan.path.points
    mid = pts[len(pts) // 2]
    toy = shapely.Point(*mid).buffer(0.2)
    rest = pts[len(pts) // 2 : len(pts) // 2 + 20]  # from the toy on, a few metres
    d = shapely.distance(shapely.LineString(rest), shapely.points(pts))
    flicker = shapely.Point(*pts[int(np.argmax(d))]).buffer(0.15)  # far off the rest
    policy = ReplanPolicy(lawn, params.clearance_m)
    assert policy.update([toy], rest).replan  # added, on the plan
    for _ in range(3):
        came = policy.update([toy, flicker], rest)
        assert not came.replan and 'off the rest' in came.reason, came.reason
        went = policy.update([toy], rest)
        assert not went.replan, went.reason
    assert policy.obstacles == [toy] and policy.replans == 1  # the next plan: what is seen now
    around = CoveragePlanner(params).plan(policy.lawn_for_planning()).path.points
    cleared = policy.update([], around)  # gone: nothing new on the plan
    assert not cleared.replan and policy.obstacles == []
    assert not policy.update([toy], around).replan  # back: the plan made around it clears it
    moved = shapely.Point(*around[len(around) // 3]).buffer(0.2)
    assert policy.update([toy, moved], around).replan  # new, and on the plan
