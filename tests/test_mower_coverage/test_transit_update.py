"""The transit planner on a replan: only what changed is computed, the answers are unchanged.

A replan's region differs from the last one by an obstacle or two. The planner made from the
last one (:meth:`TransitPlanner.updated`, or the region used last) must give exactly what a
planner made from scratch gives (the same nodes in the same order, the same shadow discs, the
same paths) while simplifying only the new rings, inscribing discs only in the new parts and
keeping the node pairs already tested that the change cannot affect. Behaviour only: the
timings are in ``mower bench transit``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from conftest import MAPS
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from mower_control.mission import Mission
from mower_coverage import CoveragePlanner, PlannerParams, params_for_map, transit
from mower_coverage.geometry import polygons_of
from mower_coverage.handoff import PlanHandoff
from mower_coverage.replan import ReplanPolicy
from mower_coverage.transit import TransitPlanner
from mower_maps import load_map


@pytest.fixture(autouse=True)
def _fresh_cache():
    transit.clear_cache()
    yield
    transit.clear_cache()


def _obstacle(rng: np.random.Generator, xy: np.ndarray) -> Polygon:
    """A disc-like or box obstacle of 0.1-0.8 m at ``xy``."""
    s = float(rng.uniform(0.1, 0.8))
    if rng.random() < 0.5:
        return Point(*xy).buffer(s / 2, quad_segs=int(rng.integers(1, 4)))
    box = shapely.box(xy[0] - s / 2, xy[1] - s / 2, xy[0] + s / 2, xy[1] + s / 2)
    return shapely.affinity.rotate(box, float(rng.uniform(0, 90)))


def _region(lawn: Polygon, obstacles: list[Polygon], whole: bool):
    """The free lawn eroded by a 0.2 m robot: every part (whole) or the largest."""
    free = lawn.difference(shapely.union_all(obstacles)) if obstacles else lawn
    parts = sorted(polygons_of(free.buffer(-0.2, quad_segs=8)), key=lambda p: -p.area)
    if not parts:
        return None
    return shapely.MultiPolygon(parts) if whole and len(parts) > 1 else parts[0]


def _scenes(seed: int) -> list:
    """Regions of one lawn as a run sees them: obstacles added (and a few taken away).

    Obstacles land anywhere: in the open, next to others (holes merge) and at the edge (the
    exterior changes); some scenes keep every part of the region (a MultiPolygon).
    """
    rng = np.random.default_rng(seed)
    size = 10.0
    if rng.random() < 0.5:
        lawn = shapely.box(0, 0, size, size * 0.7)
        for _ in range(int(rng.integers(0, 3))):
            x, y = rng.uniform(0, size), rng.uniform(0, size * 0.7)
            lawn = lawn.difference(shapely.box(x, y, x + rng.uniform(0.5, 3), y + 0.5))
        lawn = max(polygons_of(lawn), key=lambda p: p.area)
    else:
        n = int(rng.integers(5, 10))
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = rng.uniform(0.5, 1.0, n) * size / 2
        lawn = Polygon(np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])).buffer(0)
    lo, hi = np.asarray(lawn.bounds[:2]), np.asarray(lawn.bounds[2:])
    whole = bool(rng.random() < 0.3)
    obstacles = [_obstacle(rng, rng.uniform(lo, hi)) for _ in range(int(rng.integers(3, 12)))]
    scenes = [_region(lawn, obstacles, whole)]
    for _ in range(3):
        kind = rng.random()
        if kind < 0.2 and obstacles:  # one taken away (a false detection cleared)
            obstacles.pop(int(rng.integers(len(obstacles))))
        elif kind < 0.5 and obstacles:  # next to another: holes merge
            near = obstacles[int(rng.integers(len(obstacles)))].centroid
            obstacles.append(_obstacle(rng, np.array(near.coords[0]) + rng.uniform(-0.6, 0.6, 2)))
        elif kind < 0.7:  # at the edge: the exterior changes
            edge = lawn.exterior.interpolate(float(rng.uniform(0, lawn.exterior.length)))
            obstacles.append(_obstacle(rng, np.array(edge.coords[0])))
        else:
            obstacles.append(_obstacle(rng, rng.uniform(lo, hi)))
        scenes.append(_region(lawn, obstacles, whole))
    return [s for s in scenes if s is not None]


def _queries(region, rng: np.random.Generator, count: int = 5) -> list[tuple]:
    """Random start-goal pairs in and a little around the region."""
    lo, hi = np.asarray(region.bounds[:2]) - 0.3, np.asarray(region.bounds[2:]) + 0.3
    return [tuple(rng.uniform(lo, hi, (2, 2))) for _ in range(count)]


def _same_path(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Both None, or the same points exactly."""
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _known_is_right(tp: TransitPlanner) -> bool:
    """Every node pair the planner holds as tested says what shapely.covers says now."""
    g = tp._graph
    if not g.known:
        return True
    n = len(g.vertices)
    keys = np.fromiter(g.known.keys(), dtype=np.int64)
    held = np.fromiter(g.known.values(), dtype=bool)
    return np.array_equal(g.covered(g.vertices[keys // n], g.vertices[keys % n]), held)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 1_000_000))
def test_an_updated_planner_answers_as_one_made_from_scratch(seed):
    scenes = _scenes(seed)
    rng = np.random.default_rng(seed)
    tp = TransitPlanner(scenes[0])
    for region in scenes[1:]:
        for a, b in _queries(tp.region, rng):  # what a run has tested before the replan
            tp.plan(a, b)
        tp = tp.updated(region)
        assert tp.stats.derived or not tp.stats.known_kept
        assert _known_is_right(tp)
        fresh = _from_scratch(region)
        assert np.array_equal(tp.vertices, fresh.vertices)  # the same nodes, in order
        assert np.array_equal(tp._graph.shadows.centre, fresh._graph.shadows.centre)
        assert np.array_equal(tp._graph.shadows.radius, fresh._graph.shadows.radius)
        for a, b in _queries(region, rng, 8):
            assert _same_path(tp.plan(a, b), fresh.plan(a, b))


def _from_scratch(region) -> TransitPlanner:
    """A planner of ``region`` that knows nothing of earlier regions."""
    kept = dict(transit._GRAPHS)
    transit.clear_cache()
    try:
        return TransitPlanner(region)
    finally:
        transit._GRAPHS.update(kept)


def _field(obstacles: list[Polygon], size: float = 20.0):
    """A square lawn with the obstacles, eroded by 0.2 m (its largest part)."""
    free = shapely.box(0, 0, size, size).difference(shapely.union_all(obstacles))
    return max(polygons_of(free.buffer(-0.2001, quad_segs=8)), key=lambda p: p.area)


def _spread(n: int, seed: int, size: float = 20.0) -> list[Polygon]:
    rng = np.random.default_rng(seed)
    return [_obstacle(rng, rng.uniform(1.0, size - 1.0, 2)) for _ in range(n)]


def test_one_obstacle_more_recomputes_only_its_own_ring_disc_and_pairs(monkeypatch):
    obstacles = _spread(120, seed=4)
    before = _field(obstacles)
    tp = TransitPlanner(before)
    ends = [(np.array([0.5, 0.5]), np.array([19.5, 19.5])), (np.array([0.5, 19.5]), (19.5, 0.5))]
    first = [tp.plan(a, b) for a, b in ends]
    tested = len(tp._graph.known)
    # a new obstacle on the first path, at least 1 m from every other one
    pts = shapely.points(LineString(first[0]).segmentize(0.1).coords)
    clear = shapely.distance(shapely.union_all(obstacles), pts) > 1.5
    spot = np.array(pts[np.flatnonzero(clear)[len(np.flatnonzero(clear)) // 2]].coords[0])
    added = Point(*spot).buffer(0.3, quad_segs=2)
    after = _field([*obstacles, added])
    assert len(after.interiors) == len(before.interiors) + 1

    calls = []
    real = shapely.covers
    monkeypatch.setattr(
        transit.shapely, 'covers', lambda a, b: calls.append(np.size(b)) or real(a, b)
    )
    new = tp.updated(after)
    s = new.stats
    assert calls == []  # nothing tested to make it
    # the new hole, and a ring or two the erosion's overlay left a hair apart
    assert s.derived and 1 <= s.rings_simplified <= 3 and s.rings > 60
    assert 1 <= s.parts_inscribed <= 3 and s.parts == len(after.interiors) + 1
    edges = shapely.get_num_coordinates(after) - s.parts
    ring = next(r for r in after.interiors if Polygon(r).intersects(added))
    assert len(ring.coords) - 1 <= s.edges_changed < 0.05 * edges
    assert s.known_kept + s.known_dropped == tested
    assert 0 < s.known_dropped < 0.1 * tested  # only the pairs near the new obstacle
    assert _known_is_right(new)
    calls.clear()
    for a, b in ends:  # asked again: the pairs kept are not tested again
        new.plan(a, b)
    again = sum(calls)
    calls.clear()
    fresh = _from_scratch(after)
    paths = [fresh.plan(a, b) for a, b in ends]
    assert again < 0.3 * sum(calls)
    assert not _same_path(paths[0], first[0])  # the new obstacle is in the way
    assert all(_same_path(new.plan(a, b), p) for (a, b), p in zip(ends, paths))


def test_an_unrelated_region_is_made_from_scratch():
    a = TransitPlanner(_field(_spread(20, seed=1)))
    a.plan(np.array([0.5, 0.5]), np.array([19.5, 19.5]))
    b = a.updated(shapely.box(0, 0, 5, 5).difference(Point(2, 2).buffer(0.5)))
    assert not b.stats.derived and b._graph.known == {}
    assert b.stats.rings_simplified == b.stats.rings and b.stats.parts_inscribed == b.stats.parts


def test_a_replan_reuses_the_last_planners_graph():
    """coverage_node and the simulator: the planner's and the mission's transit planners."""
    lawn = load_map(MAPS / 'demo_lawn.geojson')
    params = params_for_map(PlannerParams(), lawn)
    planner = CoveragePlanner(params)
    plan = planner.plan(lawn)
    mission = Mission(region=PlanHandoff.from_plan(plan).region)
    first = mission._transit
    assert first.stats.rings_simplified == first.stats.rings  # a first region: all new
    home = plan.path.points[len(plan.path.points) // 3]
    mission.transit(plan.path.points[0], home)

    policy = ReplanPolicy(lawn, params.clearance_m)
    toy = Point(*plan.path.points[len(plan.path.points) // 2]).buffer(0.2)
    assert policy.update([toy], plan.path.points).replan
    replanned = planner.plan(policy.lawn_for_planning())  # its way home: a derived graph
    graph = transit._GRAPHS[shapely.to_wkb(replanned.area.region)]
    assert graph.stats.derived and graph.stats.rings_simplified < graph.stats.rings

    mission.set_plan(*PlanHandoff.from_plan(replanned).mission_args())
    assert mission._transit._graph is graph  # the mission's planner: the same graph
    fresh = _from_scratch(replanned.area.region)
    assert fresh._graph is not graph and fresh.stats.rings_simplified == fresh.stats.rings
    a, b = plan.path.points[0], replanned.path.points[len(replanned.path.points) // 2]
    assert _same_path(mission.transit(a, b), fresh.plan(a, b))


def test_the_mission_derives_its_planner_from_the_last_one():
    region = shapely.box(0, 0, 10, 6).difference(Point(3, 3).buffer(0.5))
    mission = Mission(region=region)
    mission.transit(np.array([1.0, 3.0]), np.array([9.0, 3.0]))
    transit.clear_cache()  # not through the cache: from the planner it holds
    blocked = region.difference(shapely.box(6, 1, 6.5, 6))
    mission.set_plan(np.array([[1.0, 1.0], [2.0, 1.0]]), region=blocked)
    s = mission._transit.stats
    assert s.derived and s.rings_simplified == 1 and s.known_kept
    path = mission.transit(np.array([1.0, 3.0]), np.array([9.0, 3.0]))
    assert path is not None and blocked.buffer(1e-9).covers(LineString(path))
