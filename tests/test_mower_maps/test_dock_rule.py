"""One rule for where a dock may be: the map check, the planner, the mission and the geofence.

Issue 16, defect 7: the map check accepted a dock up to 5 m from the lawn while the geofence
allowed 0.1 m; a dock on the boundary edge mowed and then ended in ERROR on docking; a dock
0.5-4 m outside or in a keep-out never undocked.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from mower_control.mission import Mission, MissionInputs, MissionParams
from mower_control.safety import SafetyParams, SafetySupervisor, fence_region
from mower_coverage import CoveragePlanner, PlannerParams, PlanningError
from mower_maps import MapError, map_from_geojson
from mower_maps.dock import DOCK_MAX_OUTSIDE_M, UNDOCK_DISTANCE_M, allowed_area, dock_rule

LAWN = box(0, 0, 10, 8)
LEVEL = np.array([1.0, 0.0, 0.0, 0.0])
REST = np.array([0.0, 0.0, 9.81])


def lawn_doc(dock_xy, heading_deg=0.0, keepouts=(), obstacles=()) -> dict:
    feats = [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'lawn'},
            'geometry': shapely.geometry.mapping(LAWN),
        }
    ]
    for i, k in enumerate(keepouts):
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'keepout', 'name': f'bed {i}'},
                'geometry': shapely.geometry.mapping(k),
            }
        )
    for i, o in enumerate(obstacles):
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'obstacle', 'name': f'tree {i}'},
                'geometry': shapely.geometry.mapping(o),
            }
        )
    feats.append(
        {
            'type': 'Feature',
            'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': heading_deg},
            'geometry': {'type': 'Point', 'coordinates': list(dock_xy)},
        }
    )
    return {'type': 'FeatureCollection', 'properties': {'name': 'dock test'}, 'features': feats}


# -- the map check ------------------------------------------------------------------------------


@pytest.mark.parametrize('outside_m', [0.5, 1.0, 2.0, 4.0, 4.9])
def test_a_dock_outside_the_lawn_is_refused_naming_the_dock_and_the_distance(outside_m):
    # up to 5 m was accepted before (4.9 m included); the geofence allowed 0.1 m
    with pytest.raises(MapError) as err:
        map_from_geojson(lawn_doc((-outside_m, 4.0)), source='far.geojson')
    message = str(err.value)
    assert message.startswith("far.geojson: feature 1 'dock' (dock)")
    assert f'{outside_m:.2f} m outside the lawn' in message
    assert f'at most {DOCK_MAX_OUTSIDE_M:g} m' in message


def test_a_dock_in_a_keep_out_is_refused():
    bed = box(4, 3, 6, 5)
    with pytest.raises(MapError) as err:
        map_from_geojson(lawn_doc((5.0, 4.0), keepouts=[bed]), source='bed.geojson')
    assert "feature 2 'dock' (dock) lies in feature 1 'bed 0' (keepout)" in str(err.value)


def test_a_dock_whose_way_off_touches_a_tree_is_refused():
    tree = shapely.Point(0.3, 4.35).buffer(0.2)  # beside the way off, clear of the approach
    with pytest.raises(MapError, match=r"too close to feature 1 'tree 0' \(obstacle\)"):
        map_from_geojson(lawn_doc((0.0, 4.0), obstacles=[tree]))


def test_a_dock_whose_approach_point_is_next_to_a_tree_says_so():
    tree = shapely.Point(1.0, 4.0).buffer(0.3)
    with pytest.raises(MapError) as err:
        map_from_geojson(lawn_doc((0.0, 4.0), obstacles=[tree]))
    message = str(err.value)
    assert 'neither approach point 0.6 m behind or in front' in message
    assert 'behind is 0.60 m off the lawn' in message
    assert "in front is 0.10 m from feature 1 'tree 0' (obstacle)" in message


def test_a_dock_facing_along_the_edge_is_refused_with_the_way_out():
    with pytest.raises(MapError) as err:
        map_from_geojson(lawn_doc((3.0, 0.0), heading_deg=0.0))
    assert 'turn the dock to face the lawn (heading_deg)' in str(err.value)
    lawn = map_from_geojson(lawn_doc((3.0, 0.0), heading_deg=90.0))  # facing the lawn: fine
    assert dock_rule(lawn).approach_xy == pytest.approx((3.0, UNDOCK_DISTANCE_M))


@pytest.mark.parametrize('dock_xy', [(0.0, 4.0), (-0.25, 4.0), (0.3, 4.0), (2.0, 4.0)])
def test_docks_on_the_edge_just_outside_or_inside_are_accepted(dock_xy):
    lawn = map_from_geojson(lawn_doc(dock_xy))
    check = dock_rule(lawn)
    assert check.ok and check.problem == ''
    ax, ay = check.approach_xy
    assert math.hypot(ax - dock_xy[0], ay - dock_xy[1]) == pytest.approx(UNDOCK_DISTANCE_M)
    assert shapely.covers(allowed_area(lawn).buffer(1e-6), shapely.Point(ax, ay))


# -- the geofence ---------------------------------------------------------------------------------


def test_the_geofence_is_the_lawn_plus_exactly_the_dock_corridor():
    lawn = map_from_geojson(lawn_doc((-0.25, 4.0)))
    fence = fence_region(lawn)
    corridor = dock_rule(lawn).corridor
    assert shapely.covers(fence, corridor)
    assert fence.difference(shapely.union(LAWN, corridor)).area < 1e-9
    assert fence.area - LAWN.area == pytest.approx(corridor.difference(LAWN).area, rel=1e-9)


def supervisor(lawn) -> SafetySupervisor:
    return SafetySupervisor(SafetyParams(), fence_region(lawn))


def drive_along(s: SafetySupervisor, a, b, reverse: bool, step_m: float = 0.02) -> list[str]:
    """Commands along a -> b (backwards when ``reverse``); the reasons of every refusal."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = b - a
    yaw = math.atan2(d[1], d[0]) + (math.pi if reverse else 0.0)
    v = -0.3 if reverse else 0.3
    stopped = []
    n = max(1, int(np.hypot(*d) / step_m))
    for i in range(n):
        x, y = a + d * i / n
        t = i * 0.05
        s.imu(LEVEL, REST, t)
        s.odometry(float(x), float(y), yaw, t)
        s.command(v, 0.0, t)
        out = s.filter(t)
        if out.v_mps == 0.0:
            stopped.extend(out.reasons)
    return stopped


@pytest.mark.parametrize('dock_xy', [(0.0, 4.0), (-0.25, 4.0)])
def test_the_geofence_lets_the_mower_undock_and_dock_on_the_edge_or_just_outside(dock_xy):
    # before: the fence was the lawn alone, and the last piece onto the dock was refused
    lawn = map_from_geojson(lawn_doc(dock_xy))
    m = Mission(
        MissionParams(), (lawn.dock.x_m, lawn.dock.y_m, lawn.dock.heading_rad), allowed_area(lawn)
    )
    approach, reverse = m.dock_line()
    assert tuple(approach) == pytest.approx(dock_rule(lawn).approach_xy)
    s = supervisor(lawn)
    assert drive_along(s, dock_xy, approach, reverse=not reverse) == []  # undocking
    assert drive_along(s, approach, dock_xy, reverse=reverse) == []  # docking


def test_an_obstacle_found_near_the_approach_point_never_turns_the_undock_off_the_lawn():
    # random garden 0's discovered map, after a recharge: false obstacles found near the
    # approach point were cut out of the replan's region, dock_line picked the side behind the
    # dock (off the lawn), the mower reversed into the geofence and the undock timed out (ERROR)
    lawn = map_from_geojson(lawn_doc((0.0, 4.0)))  # facing the lawn: it reverses onto the dock
    d = lawn.dock
    m = Mission(MissionParams(), (d.x_m, d.y_m, d.heading_rad), allowed_area(lawn))
    before = m.dock_line()
    assert before[1] is True  # the approach point is in front, on the lawn
    found = lawn.with_obstacles([shapely.Point(0.75, 4.1).buffer(0.3)])
    replanned = CoveragePlanner(PlannerParams()).plan(found)
    assert not replanned.area.region.covers(shapely.Point(*before[0]))  # the case of the bug
    m.set_plan(replanned.path.points[:10], region=replanned.area.region)
    approach, reverse = m.dock_line()
    assert tuple(approach) == pytest.approx(tuple(before[0])) and reverse is True
    s = supervisor(lawn)
    assert drive_along(s, (d.x_m, d.y_m), approach, reverse=not reverse) == []  # undocking
    # the owner's new map decides again
    m.set_map((d.x_m, d.y_m, d.heading_rad), None, None)
    assert m.dock_line()[1] is True  # no region given: the map's region stays


# -- the planner and the whole mission ------------------------------------------------------------


def test_the_plan_starts_and_ends_at_the_approach_point():
    lawn = map_from_geojson(lawn_doc((0.0, 4.0), obstacles=[box(4, 3, 5, 5)]))
    plan = CoveragePlanner(PlannerParams()).plan(lawn)
    assert plan.area.dock is not None and plan.area.dock.ok
    approach = dock_rule(lawn).approach_xy
    assert tuple(plan.path.points[0]) == pytest.approx(approach, abs=1e-6)
    assert tuple(plan.path.points[-1]) == pytest.approx(approach, abs=1e-6)
    assert plan.route.legs[-1].kind == 'transit'
    assert not [w for w in plan.warnings if 'approach' in w]
    from mower_coverage.metrics import evaluate

    assert evaluate(plan.area, plan.path, plan.params.cut_width_m).violations == 0


def test_the_planner_applies_the_rule_with_its_own_body():
    lawn = map_from_geojson(lawn_doc((0.0, 0.9)))  # fine for the default 0.4 m robot
    with pytest.raises(PlanningError) as err:
        CoveragePlanner(PlannerParams(body_width_m=2.0, cut_width_m=0.5)).plan(lawn)
    message = str(err.value)
    assert message.startswith("dock test: feature 1 'dock' (dock)")
    assert 'approach point' in message


def test_found_obstacles_do_not_make_a_legal_dock_illegal():
    lawn = map_from_geojson(lawn_doc((0.0, 4.0)))
    found = lawn.with_obstacles([shapely.Point(0.7, 4.0).buffer(0.2)])
    assert dock_rule(found).ok
    plan = CoveragePlanner(PlannerParams()).plan(found)
    assert any('approach point' in w for w in plan.warnings)


class KinematicLoop:
    """Mission, safety supervisor and a perfect follower that moves only when allowed."""

    def __init__(self, lawn) -> None:
        d = lawn.dock
        plan = CoveragePlanner(PlannerParams()).plan(lawn)
        self.mission = Mission(MissionParams(), (d.x_m, d.y_m, d.heading_rad), plan.area.region)
        first = plan.path.points[:40]  # a little mowing is enough
        self.mission.set_plan(first)
        self.safety = supervisor(lawn)
        self.pose = np.array([d.x_m, d.y_m])
        self.dock = np.array([d.x_m, d.y_m])
        self.t = 0.0
        self.path_id, self.progress, self.done, self.k = -1, 0.0, False, 1
        self.refusals: list[str] = []

    def tick(self) -> str:
        charging = bool(np.hypot(*(self.pose - self.dock)) < 0.03)
        out = self.mission.tick(
            MissionInputs(
                self.t,
                (*self.pose, 0.0),
                charging=charging,
                follower_path_id=self.path_id,
                follower_done=self.done,
                follower_progress_m=self.progress,
            )
        )
        if out.path_id != self.path_id:
            self.path_id, self.progress, self.k = out.path_id, 0.0, 1
            self.done = out.path is None
        if out.path is not None and not self.done:
            self._follow(out.path, out.reverse)
        self.t += 0.05
        return out.state

    def _follow(self, path: np.ndarray, reverse: bool, step_m: float = 0.04) -> None:
        while self.k < len(path) and np.hypot(*(path[self.k] - self.pose)) < 1e-9:
            self.k += 1
        if self.k >= len(path):
            self.done = True
            return
        d = path[self.k] - self.pose
        dist = float(np.hypot(*d))
        yaw = math.atan2(d[1], d[0]) + (math.pi if reverse else 0.0)
        v = -0.3 if reverse else 0.3
        self.safety.imu(LEVEL, REST, self.t)
        self.safety.odometry(float(self.pose[0]), float(self.pose[1]), yaw, self.t)
        self.safety.command(v, 0.0, self.t)
        allowed = self.safety.filter(self.t)
        if allowed.v_mps == 0.0:
            self.refusals.extend(allowed.reasons)
            return
        move = min(step_m, dist)
        self.pose = self.pose + d / dist * move
        self.progress += move


@pytest.mark.parametrize('dock_xy', [(0.0, 4.0), (-0.25, 4.0)])
def test_a_dock_on_the_edge_or_just_outside_undocks_mows_and_docks(dock_xy):
    loop = KinematicLoop(map_from_geojson(lawn_doc(dock_xy)))
    assert loop.mission.request('start')[0]
    seen: list[str] = []
    for _ in range(6000):
        state = loop.tick()
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ('IDLE', 'ERROR') and len(seen) > 1:
            break
    assert seen == ['UNDOCKING', 'MOWING', 'RETURNING', 'DOCKING', 'IDLE'], (
        seen,
        loop.mission.message,
    )
    assert 'geofence' not in loop.refusals


@pytest.mark.slow
@pytest.mark.parametrize('dock_x', [0.0, -0.25])
def test_the_whole_stack_docks_on_the_edge_in_the_simulator(tmp_path, dock_x):
    # before: UNDOCKING, MOWING, RETURNING, DOCKING, ERROR ('docking took too long')
    from mower_offline.run import MowingRun, RunConfig

    lawn = map_from_geojson(
        {
            'type': 'FeatureCollection',
            'properties': {'name': 'edge dock'},
            'features': [
                {
                    'type': 'Feature',
                    'properties': {'role': 'boundary', 'name': 'lawn'},
                    'geometry': shapely.geometry.mapping(box(0, 0, 4, 2.5)),
                },
                {
                    'type': 'Feature',
                    'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0},
                    'geometry': {'type': 'Point', 'coordinates': [dock_x, 1.25]},
                },
            ],
        }
    )
    run = MowingRun(lawn, tmp_path, RunConfig(record=False, camera_hz=0.0, limit_s=1500.0))
    summary = run.run(progress=False).summary
    assert summary['states'] == ['UNDOCKING', 'MOWING', 'RETURNING', 'DOCKING', 'IDLE'], summary[
        'message'
    ]
    assert summary['collisions'] == 0 and summary['coverage_pct'] > 99.0
