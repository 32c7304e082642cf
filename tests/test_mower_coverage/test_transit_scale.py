"""The transit planner at scale: same answers as the old eager planner, lazily.

The old planner (copied below as the reference) tested every pair of graph nodes when it was
made: 134 s for a lawn with 500 obstacles, again on every replan. The new one tests edges only
as a query needs them. These tests check behaviour only (the timings are in ``mower bench
transit``): the same shortest lengths as the reference on small random lawns, paths inside the
region, a shadow filter that is never wrong, construction that tests nothing, and the per-region
cache.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points

from mower_coverage import transit
from mower_coverage.geometry import polygons_of
from mower_coverage.graph import shortest_path
from mower_coverage.transit import TransitPlanner, path_length


class OldTransitPlanner:
    """The planner as it was (eager visibility graph over all node pairs), for reference."""

    SHRINK_M = 0.02
    MAX_VERTICES = 400

    def __init__(self, region: Polygon) -> None:
        """Test every pair of vertices of the shrunk, simplified region."""
        self.region = region
        shapely.prepare(self.region)
        # its rings from their least vertex, as the planner takes its nodes now (a ring's
        # simplified vertices depend on where it starts; the buffer's start is arbitrary)
        inner = shapely.normalize(region.buffer(-self.SHRINK_M))
        tol = 0.02
        verts = self._vertices(inner, tol)
        while len(verts) > self.MAX_VERTICES and tol < 2.0:
            tol *= 2.0
            verts = self._vertices(inner, tol)
        self.tolerance = tol
        self.vertices = verts
        n = len(verts)
        self._adj: list[list[tuple[int, float, None]]] = [[] for _ in range(n)]
        if n > 1:
            i, j = np.triu_indices(n, 1)
            ok = self._visible(verts[i], verts[j])
            for a, b in zip(i[ok].tolist(), j[ok].tolist()):
                d = float(np.hypot(*(verts[a] - verts[b])))
                self._adj[a].append((b, d, None))
                self._adj[b].append((a, d, None))

    def _vertices(self, geom, tol: float) -> np.ndarray:
        pts = []
        for poly in polygons_of(geom.simplify(tol)):
            for ring in [poly.exterior, *poly.interiors]:
                pts.append(np.asarray(ring.coords)[:-1])
        if not pts:
            return np.zeros((0, 2))
        v = np.vstack(pts)
        return v[shapely.contains_xy(self.region, v[:, 0], v[:, 1])]

    def _visible(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        segs = shapely.linestrings(np.stack([a, b], axis=1))
        return shapely.covers(self.region, segs)

    def inside(self, xy: np.ndarray) -> np.ndarray:
        """The point itself when inside the region, else the nearest point inside."""
        p = Point(xy)
        if self.region.covers(p):
            return np.asarray(xy, dtype=float)
        q = nearest_points(self.region.buffer(-self.SHRINK_M), p)[0]
        return np.array([q.x, q.y])

    def plan(self, start_xy: np.ndarray, goal_xy: np.ndarray) -> np.ndarray | None:
        """(N, 2) polyline from start to goal; None when the goal cannot be reached."""
        start = np.asarray(start_xy, dtype=float)
        goal = np.asarray(goal_xy, dtype=float)
        s_in, g_in = self.inside(start), self.inside(goal)
        head = [start] if np.hypot(*(s_in - start)) > 1e-9 else []
        tail = [goal] if np.hypot(*(g_in - goal)) > 1e-9 else []
        if bool(self._visible(s_in[None], g_in[None])[0]):
            return np.vstack([*head, s_in, g_in, *tail])
        verts = self.vertices
        if not len(verts):
            return None
        from_s = self._visible(np.broadcast_to(s_in, verts.shape), verts)
        to_g = self._visible(np.broadcast_to(g_in, verts.shape), verts)
        goal_id = len(verts)

        def neighbours(u: int):
            if to_g[u]:
                yield goal_id, float(np.hypot(*(verts[u] - g_in))), None
            yield from self._adj[u]

        sources = [(int(k), float(np.hypot(*(verts[k] - s_in)))) for k in np.flatnonzero(from_s)]
        found = shortest_path(neighbours, sources, {goal_id})
        if found is None:
            return None
        return np.vstack([*head, s_in, *verts[found.nodes[:-1]], g_in, *tail])


def small_region(seed: int):
    """A random region as the planner gets it: a lawn with holes, eroded by 0.2 m.

    Concave boundaries, narrow corridors, holes close to or touching each other and the edge;
    sometimes all parts (a MultiPolygon, with unreachable goals), else the largest.
    """
    rng = np.random.default_rng(seed)
    size = 12.0
    kind = int(rng.integers(0, 3))
    if kind == 0:  # star-shaped
        n = int(rng.integers(5, 12))
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = rng.uniform(0.45, 1.0, n) * size / 2
        lawn = Polygon(np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])).buffer(0)
    elif kind == 1:  # two rooms and a corridor
        w, y = float(rng.uniform(0.3, 1.6)), float(rng.uniform(0.5, size * 0.5))
        lawn = shapely.union_all(
            [
                shapely.box(0, 0, size * 0.45, size * 0.6),
                shapely.box(size * 0.55, 0, size, size * 0.7),
                shapely.box(size * 0.4, y, size * 0.6, y + w),
            ]
        )
    else:  # notched rectangle
        lawn = shapely.box(0, 0, size, size * 0.7)
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(0, size), rng.uniform(0, size * 0.7)
            lawn = lawn.difference(
                shapely.box(x, y, x + rng.uniform(0.5, 4), y + rng.uniform(0.5, 4))
            )
    minx, miny, maxx, maxy = lawn.bounds
    holes = []
    for _ in range(int(rng.integers(0, 9))):
        x, y = rng.uniform([minx, miny], [maxx, maxy])
        if holes and rng.random() < 0.3:  # next to another hole
            x, y = np.asarray(holes[-1].centroid.coords[0]) + rng.uniform(-0.8, 0.8, 2)
        if rng.random() < 0.5:
            hole = Point(x, y).buffer(
                float(rng.uniform(0.05, 0.8)), quad_segs=int(rng.integers(1, 5))
            )
        else:
            w, h = rng.uniform(0.1, 2.0, 2)
            hole = shapely.affinity.rotate(
                shapely.box(x, y, x + w, y + h), float(rng.uniform(0, 90))
            )
        holes.append(hole)
    region = lawn.difference(shapely.union_all(holes)) if holes else lawn
    region = region.buffer(-0.2, quad_segs=8)
    parts = sorted(polygons_of(region), key=lambda p: -p.area)
    if not parts:
        return None
    if len(parts) > 1 and rng.random() < 0.3:
        return shapely.MultiPolygon(parts)
    return parts[0]


def obstacle_field(n: int, seed: int = 0, size: float = 30.0):
    """A square lawn with ``n`` small obstacles (0.2-0.5 m), eroded by the robot's 0.2 m."""
    rng = np.random.default_rng(seed)
    obstacles = []
    for _ in range(n):
        x, y = rng.uniform(1, size - 1, 2)
        s = float(rng.uniform(0.2, 0.5))
        if rng.random() < 0.5:
            obstacles.append(Point(x, y).buffer(s / 2, quad_segs=2))
        else:
            obstacles.append(
                shapely.affinity.rotate(
                    shapely.box(x - s / 2, y - s / 2, x + s / 2, y + s / 2), rng.uniform(0, 90)
                )
            )
    region = shapely.box(0, 0, size, size).difference(shapely.union_all(obstacles))
    return max(polygons_of(region.buffer(-0.2001, quad_segs=8)), key=lambda p: p.area)


def _stays_inside(path: np.ndarray, region, a: np.ndarray, b: np.ndarray) -> bool:
    """The path between the pieces that join an outside start or goal is in the region."""
    inner = path[int(not region.covers(Point(a))) : len(path) - int(not region.covers(Point(b)))]
    return region.buffer(1e-9).covers(LineString(inner) if len(inner) > 1 else Point(inner[0]))


def _queries(region, seed: int, count: int = 6) -> np.ndarray:
    """Random points in and a little around the region."""
    rng = np.random.default_rng(seed + 1)
    minx, miny, maxx, maxy = region.bounds
    return rng.uniform([minx - 0.3, miny - 0.3], [maxx + 0.3, maxy + 0.3], (count, 2))


@pytest.fixture(autouse=True)
def _fresh_cache():
    transit.clear_cache()
    yield
    transit.clear_cache()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1_000_000))
def test_same_lengths_as_the_old_planner(seed):
    region = small_region(seed)
    if region is None:
        return
    old = OldTransitPlanner(region)
    assert old.tolerance == 0.02  # small lawns: the old planner used every vertex
    new = TransitPlanner(region)
    assert np.array_equal(np.sort(new.vertices, axis=0), np.sort(old.vertices, axis=0))
    pts = _queries(region, seed)
    for a, b in zip(pts[:-1], pts[1:]):
        ref, got = old.plan(a, b), new.plan(a, b)
        assert (ref is None) == (got is None)
        if ref is None:
            continue
        assert path_length(got) == pytest.approx(path_length(ref), abs=1e-9)
        assert np.array_equal(got[0], a) and np.array_equal(got[-1], b)
        assert _stays_inside(got, region, a, b)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 1_000_000))
def test_shadows_never_hide_a_visible_node(seed):
    region = small_region(seed)
    if region is None:
        return
    tp = TransitPlanner(region)
    graph = tp._graph
    v = tp.vertices
    if len(v) < 2:
        return
    rng = np.random.default_rng(seed)
    for u in v[rng.choice(len(v), min(8, len(v)), replace=False)]:
        hidden = graph.shadows.hidden(u, v)
        visible = graph.covered(np.broadcast_to(u, v.shape), v)
        assert not (hidden & visible).any()


def test_shadows_hide_most_of_a_crowded_field():
    region = obstacle_field(200, seed=3)
    tp = TransitPlanner(region)
    v = tp.vertices
    rng = np.random.default_rng(0)
    hidden_share = []
    for u in v[rng.choice(len(v), 10, replace=False)]:
        hidden = tp._graph.shadows.hidden(u, v)
        visible = tp._graph.covered(np.broadcast_to(u, v.shape), v)
        assert not (hidden & visible).any()
        hidden_share.append(hidden.sum() / max(1, (~visible).sum()))
    assert np.median(hidden_share) > 0.8


def test_building_tests_no_pair_and_a_query_few(monkeypatch):
    region = obstacle_field(200, seed=1)
    calls = []
    real = shapely.covers
    monkeypatch.setattr(
        transit.shapely, 'covers', lambda a, b: calls.append(np.size(b)) or real(a, b)
    )
    tp = TransitPlanner(region)
    assert calls == [] and tp._graph.known == {}
    n = len(tp.vertices)
    assert n > 1500  # every vertex of the shrunk region: no coarser simplification at scale
    path = tp.plan(np.array([0.5, 0.5]), np.array([29.5, 29.5]))
    assert path is not None
    assert region.buffer(1e-9).covers(LineString(path))
    assert sum(calls) < 0.01 * n * (n - 1) / 2  # lazy: a small share of the node pairs


def test_a_crowded_field_gives_the_shortest_path_of_the_full_graph():
    """Against the old planner with every vertex (no simplification cap): 45 obstacles."""
    region = obstacle_field(45, seed=0, size=12.0)
    old = OldTransitPlanner.__new__(OldTransitPlanner)
    old.MAX_VERTICES = 10**9
    old.__init__(region)
    new = TransitPlanner(region)
    assert len(new.vertices) == len(old.vertices) > 400
    for a, b in [
        ((0.3, 0.3), (11.7, 11.7)),
        ((0.3, 11.7), (11.7, 0.3)),
        ((6, 0.3), (6, 11.7)),
        ((-0.2, 5.0), (12.2, 7.0)),
    ]:
        a, b = np.array(a, dtype=float), np.array(b, dtype=float)
        ref, got = old.plan(a, b), new.plan(a, b)
        assert path_length(got) == pytest.approx(path_length(ref), abs=1e-9)
        assert _stays_inside(got, region, a, b)


def test_equal_regions_share_one_graph_and_the_cache_is_bounded():
    region = obstacle_field(20, seed=2, size=10.0)
    a = TransitPlanner(region)
    a.plan(np.array([0.3, 0.3]), np.array([9.7, 9.7]))
    b = TransitPlanner(shapely.from_wkb(shapely.to_wkb(region)))  # equal, another object
    assert b._graph is a._graph and b._graph.known  # what the first query learnt is kept
    seeds = range(3, 3 + transit.CACHE_REGIONS)
    others = [TransitPlanner(obstacle_field(20, seed=s, size=10.0)) for s in seeds]
    assert all(o._graph is not a._graph for o in others)
    assert TransitPlanner(region)._graph is not a._graph  # pushed out, built again
    assert len(transit._GRAPHS) == transit.CACHE_REGIONS


def test_a_replanned_region_with_a_new_obstacle_routes_around_it():
    region = shapely.box(0, 0, 10, 6)
    tp = TransitPlanner(region)
    start, goal = np.array([1.0, 3.0]), np.array([9.0, 3.0])
    assert len(tp.plan(start, goal)) == 2
    blocked = region.difference(shapely.box(4, 1, 6, 6).buffer(0.2))
    tp2 = TransitPlanner(blocked)
    path = tp2.plan(start, goal)
    assert path is not None and len(path) > 2
    assert blocked.buffer(1e-9).covers(LineString(path))
    assert path_length(path) > 8.0
    assert len(TransitPlanner(region).plan(start, goal)) == 2  # the old region is still right
