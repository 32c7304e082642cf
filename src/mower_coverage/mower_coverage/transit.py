"""Transit paths: the shortest way between two points inside the planning region.

Used to drive back to the dock and from the dock to where mowing resumes. The graph is the one
this planner has always searched: its nodes are the vertices of the region shrunk a little
(``SHRINK_M``, so that they lie strictly inside) and simplified (``SIMPLIFY_M``), plus the start
and the goal; two nodes are joined when the straight segment between them is covered by the
region itself (``shapely.covers``). A plan is the shortest path in that graph. Written here
rather than taken from a package: the candidates (pyvisgraph, extremitypathfinder) are
unmaintained or pull in large dependencies.

How it scales (a 30 x 30 m lawn with 500 small obstacles: 4,700 nodes, 11 million node pairs;
``mower bench transit``):

* **Nothing is tested up front.** The planner used to test every node pair when it was made
  (134 s for 500 obstacles, again on every replan, and it had to simplify big regions down to
  400 vertices to get there). Now making one extracts the nodes and the shadows below (0.2 s
  for 500 obstacles) and a query runs an *edge-lazy* A* (lazy evaluation of edges: Cohen,
  Phillips and Likhachev, RSS 2014; Dellin and Srinivasa, "A unifying formalism for shortest
  path problems with expensive edge evaluations via lazy best-first search", ICAPS 2016).
  Each settled node lists the neighbours it might improve in order of ``g + |edge| + h``
  (``h`` the straight line to the goal: a consistent heuristic) and an edge is tested only
  when its estimate comes up in the queue; a node is settled by the first tested edge into it
  that comes up, which is its shortest. The answer is the full graph's shortest path, found
  testing about 0.1 % of its edges.
* **Most pairs that cannot see each other are never tested** (:class:`Shadows`): discs
  inscribed in the region's complement cast angular shadows from a node; a segment reaching
  past a disc's centre inside its shadow crosses the disc, so it is not covered. In a crowded
  field under 2 % of the node pairs see each other and the shadows recognise some 97 % of the
  rest, at the price of a lookup.
* **What was learnt is kept** for the next query and the next planner: tested node pairs,
  per region, for the last ``CACHE_REGIONS`` regions (equal geometry, compared by WKB). The
  mission makes a planner for every plan it is handed; an unchanged region costs nothing, a
  changed one (an obstacle found on a replan) costs the 0.2 s of nodes and shadows, and its
  queries test only the edges they need.

Not done, and why: pruning the nodes to reflex vertices or the edges to bitangents (the reduced
visibility graph: a shortest path among polygonal obstacles bends only at their reflex
vertices, Lee and Preparata, Networks 14, 1984; de Berg et al., Computational Geometry, lemma
15.1). That holds when the nodes are the vertices of the polygon that decides visibility; here
they sit ``SHRINK_M`` inside it and edges may cut through that band, and on small random lawns
the pruned graph gave paths up to 0.12 m longer than the full one (3 of 238 queries pruned to
reflex vertices, 34 of 238 to bitangents). The lazy search keeps the full graph's answer.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from mower_coverage.geometry import polygons_of
from mower_maps.geometry import path_length as _path_length

SHRINK_M = 0.02  # vertices sit this far inside the region
SIMPLIFY_M = 0.02  # the shrunk region is simplified with this tolerance before taking vertices
CACHE_REGIONS = 4  # planners kept for the most recently used regions (equal geometry)
_BATCH = (64, 1024)  # neighbours taken at once from one node's list: the first batch, the most
_SORTED = 1024  # neighbours sorted at a time
_KNOWN_MAX = 2_000_000  # tested node pairs kept per region (forgotten all at once beyond)
_SHADOW_BINS = 1024  # angular bins of the shadow filter (Shadows.depth)
_SHADOW_MARGIN = 1e-7  # radians: a bin must lie this far inside a shadow
_DISCS_PER_PART = 4  # inscribed discs at most per part of the region's complement
_DISC_TOLERANCE_M = 0.01  # tolerance of the maximum inscribed circles


class Shadows:
    """Discs inside the region's complement, and the shadows they cast: a visibility filter.

    A disc inscribed in a hole (or in the outside near the region) seen from a point ``u``
    covers an angular interval; a segment from ``u`` in a direction well inside that interval
    and reaching past the disc's centre passes through the disc's interior, so it is not
    covered by the region. :meth:`hidden` keeps, per angular bin, the nearest such centre whose
    interval spans the whole bin. Never wrong and, in a field of 500 obstacles, right about
    some 97 % of the node pairs that do not see each other (under 2 % do): the exact test is
    left for the rest.
    """

    def __init__(self, region) -> None:
        """Discs for ``region`` (a Polygon or MultiPolygon)."""
        self.centre, self.radius = _inscribed_discs(region)
        lo = np.asarray(region.bounds[:2]) if not region.is_empty else np.zeros(2)
        self.eps = 1e-9 * max(1.0, float(np.abs(lo).max()) / 1e3)

    def hidden(self, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Bool per point ``x[i]``: the segment from ``u`` to it is surely not covered."""
        return self.beyond(self.depth(u), u, x)

    def depth(self, u: np.ndarray) -> np.ndarray:
        """Per angular bin around ``u``: the nearest centre of a disc shading the whole bin."""
        depth = np.full(_SHADOW_BINS, np.inf)
        v = self.centre - u
        d = np.hypot(*v.T)
        ok = d > self.radius
        if not ok.any():
            return depth
        v, d = v[ok], d[ok]
        half = np.arcsin(self.radius[ok] / d)
        mid = np.arctan2(v[:, 1], v[:, 0])
        width = 2.0 * math.pi / _SHADOW_BINS
        k0 = np.ceil((mid - half + _SHADOW_MARGIN) / width).astype(np.int64)
        k1 = np.floor((mid + half - _SHADOW_MARGIN) / width).astype(np.int64)
        count = np.maximum(k1 - k0, 0)  # bins [k, k + 1] wholly inside the shadow
        disc = np.repeat(np.arange(len(d)), count)
        k = np.arange(len(disc)) - np.repeat(np.cumsum(count) - count, count)
        np.minimum.at(depth, (k0[disc] + k) % _SHADOW_BINS, d[disc])
        return depth

    def beyond(self, depth: np.ndarray, u: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Bool per point ``x[i]``: further from ``u`` than the ``depth`` of its bin."""
        vx = np.asarray(x, dtype=float).reshape(-1, 2) - u
        width = 2.0 * math.pi / _SHADOW_BINS
        kx = np.floor(np.arctan2(vx[:, 1], vx[:, 0]) / width).astype(np.int64) % _SHADOW_BINS
        return np.hypot(*vx.T) > depth[kx] + self.eps


def _inscribed_discs(region) -> tuple[np.ndarray, np.ndarray]:
    """Discs inside the region's complement (near its bounding box): centres and radii.

    One maximum inscribed circle per part of the complement, and up to ``_DISCS_PER_PART - 1``
    more in what the earlier ones leave of a long part; radii shrunk a little so that the
    discs' interiors are safely outside.
    """
    lo_x, lo_y, hi_x, hi_y = region.bounds
    pad = 0.05 * max(hi_x - lo_x, hi_y - lo_y, 1e-6)
    frame = shapely.box(lo_x - pad, lo_y - pad, hi_x + pad, hi_y + pad)
    parts = list(polygons_of(shapely.difference(frame, region)))
    centres, radii = [], []
    for _ in range(_DISCS_PER_PART):
        if not parts:
            break
        lines = shapely.maximum_inscribed_circle(parts, tolerance=_DISC_TOLERANCE_M)
        xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        r = np.hypot(*(xy[:, 1] - xy[:, 0]).T)
        keep = r > 10.0 * _DISC_TOLERANCE_M
        centres.append(xy[keep, 0])
        radii.append(r[keep] * 0.999 - _DISC_TOLERANCE_M / 10.0)
        # parts much larger than their disc (long or branched) get another disc
        big = keep & (shapely.area(parts) > 4.0 * math.pi * r**2)
        parts = [
            shapely.difference(p, shapely.Point(c).buffer(rr, quad_segs=4))
            for p, c, rr in zip(np.asarray(parts, dtype=object)[big], xy[big, 0], r[big])
        ]
        parts = [g for p in parts for g in polygons_of(p)]
    if not centres:
        return np.zeros((0, 2)), np.zeros(0)
    c, r = np.vstack(centres), np.concatenate(radii)
    return c[r > 0], r[r > 0]


class _RegionGraph:
    """What the planners know about one region: its nodes, shadows and tested node pairs."""

    def __init__(self, region) -> None:
        """Nodes and shadows of ``region``; no pair is tested yet."""
        self.region = region
        shapely.prepare(region)
        self.inner = region.buffer(-SHRINK_M)
        self.vertices = _vertices(region, self.inner)
        self.shadows = Shadows(region)
        self.known: dict[int, bool] = {}  # i * n + j (i < j): segment between nodes covered

    def covered(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Bool per segment ``p[i] -> q[i]``: covered by the region (``shapely.covers``)."""
        p, q = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(q, dtype=float))
        return shapely.covers(self.region, shapely.linestrings(np.stack([p, q], axis=1)))


def _vertices(region, inner) -> np.ndarray:
    """Vertices of ``inner`` (simplified by ``SIMPLIFY_M``) that lie inside ``region``."""
    pts = []
    for poly in polygons_of(inner.simplify(SIMPLIFY_M)):
        for ring in [poly.exterior, *poly.interiors]:
            pts.append(np.asarray(ring.coords)[:-1, :2])
    if not pts:
        return np.zeros((0, 2))
    v = np.vstack(pts)
    return v[shapely.contains_xy(region, v[:, 0], v[:, 1])]


_GRAPHS: OrderedDict[bytes, _RegionGraph] = OrderedDict()


def _graph_for(region) -> _RegionGraph:
    """The graph of ``region``: kept for the last ``CACHE_REGIONS`` regions (equal geometry)."""
    key = shapely.to_wkb(region)
    graph = _GRAPHS.get(key)
    if graph is None:
        graph = _RegionGraph(region)
        _GRAPHS[key] = graph
        while len(_GRAPHS) > CACHE_REGIONS:
            _GRAPHS.popitem(last=False)
    else:
        _GRAPHS.move_to_end(key)
    return graph


def clear_cache() -> None:
    """Forget the kept regions (tests and benchmarks that time a cold start)."""
    _GRAPHS.clear()


class TransitPlanner:
    """Shortest collision-free polylines inside one region (where the robot's centre may be)."""

    def __init__(self, region: Polygon) -> None:
        """Prepare the nodes and shadows of ``region`` (a Polygon or MultiPolygon)."""
        self._graph = _graph_for(region)
        self.region = self._graph.region
        self.vertices = self._graph.vertices

    def _visible(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Bool per pair: the segment ``a[i] -> b[i]`` is covered by the region."""
        return self._graph.covered(a, b)

    def inside(self, xy: np.ndarray) -> np.ndarray:
        """The point itself when inside the region, else the nearest point inside."""
        p = Point(xy)
        if self.region.covers(p):
            return np.asarray(xy, dtype=float)
        q = nearest_points(self._graph.inner, p)[0]
        return np.array([q.x, q.y])

    def plan(self, start_xy: np.ndarray, goal_xy: np.ndarray) -> np.ndarray | None:
        """(N, 2) polyline from start to goal; None when the goal cannot be reached.

        A start or goal outside the region is joined by a straight piece to the nearest point
        inside (the robot may stand a little off its path).
        """
        start = np.asarray(start_xy, dtype=float)
        goal = np.asarray(goal_xy, dtype=float)
        s_in, g_in = self.inside(start), self.inside(goal)
        head = [start] if np.hypot(*(s_in - start)) > 1e-9 else []
        tail = [goal] if np.hypot(*(g_in - goal)) > 1e-9 else []
        if bool(self._visible(s_in[None], g_in[None])[0]):
            return np.vstack([*head, s_in, g_in, *tail])
        if not len(self.vertices):
            return None
        nodes = _LazySearch(self._graph, s_in, g_in).run()
        if nodes is None:
            return None
        return np.vstack([*head, s_in, *self.vertices[nodes], g_in, *tail])


class _Candidates:
    """The untested neighbours of a settled node, handed out in order of ``f``, in batches.

    Sorting all of them would cost more than the search uses: the list is sorted a slice
    (``_SORTED`` nodes) at a time, split off with a partition; batches grow from
    ``_BATCH[0]`` to ``_BATCH[1]`` nodes, as most are in a shadow and most searches stop early.
    """

    __slots__ = ('node', 'f', 'd', 'rest', 'depth', 'i', 'batch')

    def __init__(self, node: np.ndarray, f: np.ndarray, d: np.ndarray, depth: np.ndarray) -> None:
        self.rest = (node, f, d)
        self.depth = depth
        self.batch = _BATCH[0]
        self._next_slice()

    def _next_slice(self) -> None:
        node, f, d = self.rest
        if len(f) > _SORTED:
            part = np.argpartition(f, _SORTED)
            head, tail = part[:_SORTED], part[_SORTED:]
            self.rest = (node[tail], f[tail], d[tail])
        else:
            head = np.arange(len(f))
            self.rest = (node[:0], f[:0], d[:0])
        head = head[np.argsort(f[head])]
        self.node, self.f, self.d, self.i = node[head], f[head], d[head], 0

    def left(self) -> bool:
        """Whether any are left."""
        return self.i < len(self.f) or len(self.rest[1]) > 0

    def f_next(self) -> float:
        """The lowest ``f`` left (call only when :meth:`left`)."""
        if self.i >= len(self.f):
            self._next_slice()
        return float(self.f[self.i])

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next batch: nodes, their ``f`` and their distances."""
        if self.i >= len(self.f):
            self._next_slice()
        i, j = self.i, min(len(self.f), self.i + self.batch)
        self.i = j
        self.batch = min(2 * self.batch, _BATCH[1])
        return self.node[i:j], self.f[i:j], self.d[i:j]


class _LazySearch:
    """Edge-lazy A* from the start to the goal over the region's visibility graph.

    Nodes ``0..n-1`` are the region's vertices, ``n`` the goal and ``n + 1`` the start. Each
    settled node ``u`` keeps the neighbours it might improve (:class:`_Candidates`) and stands
    in the queue with the lowest ``f = g(u) + |u w| + h(w)`` among those not yet tested.
    Popping it tests its next batch: nodes in a shadow are dropped, the rest go to
    ``shapely.covers`` and the covered ones enter the queue as reached. A reached node that
    comes out of the queue is settled: every untested edge into it has an ``f`` at least as
    high (heap order), so with a consistent ``h`` its ``g`` is the shortest.
    """

    def __init__(self, graph: _RegionGraph, s_in: np.ndarray, g_in: np.ndarray) -> None:
        self.graph = graph
        n = len(graph.vertices)
        self.n = n
        self.xy = np.vstack([graph.vertices, g_in, s_in])
        self.h = np.hypot(*(self.xy - g_in).T)
        self.g = np.full(n + 2, math.inf)  # the best tested length to each node
        self.parent = np.full(n + 2, -1, dtype=np.int64)
        self.settled = np.zeros(n + 2, dtype=bool)
        self.heap: list[tuple[float, int, int, int]] = []  # (f, tie, node, kind)
        self.lists: dict[int, _Candidates] = {}  # settled node -> its untested neighbours
        self.tie = 0

    def _push(self, f: float, node: int, kind: int) -> None:
        self.tie += 1
        heapq.heappush(self.heap, (f, self.tie, node, kind))

    def run(self) -> list[int] | None:
        """Vertex indices of the shortest path (start and goal excluded); None: unreachable."""
        start, goal = self.n + 1, self.n
        self.g[start] = 0.0
        self._settle(start, goal)
        while self.heap:
            f, _, node, kind = heapq.heappop(self.heap)
            if kind == 1:
                self._test_next(node)
                continue
            if self.settled[node]:
                continue
            if node == goal:
                out = []
                u = int(self.parent[goal])
                while u != start:
                    out.append(u)
                    u = int(self.parent[u])
                return out[::-1]
            self._settle(node, goal)
        return None

    def _settle(self, u: int, goal: int) -> None:
        """Settle ``u``: list the neighbours it might improve, queue the nearest by ``f``.

        Left out: settled nodes, nodes already reached as short, and nodes whose ``f`` is not
        below the goal's length found so far. Nodes in a shadow (:class:`Shadows`) are dropped
        batch by batch as the list is worked through; it is sorted a part at a time.
        """
        self.settled[u] = True
        cand = np.flatnonzero(~self.settled[: self.n + 1])
        if u == self.n + 1:
            cand = cand[cand != goal]  # the straight piece start-goal was tested already
        diff = self.xy[cand] - self.xy[u]
        d = np.sqrt(np.einsum('ij,ij->i', diff, diff))
        f = self.g[u] + d + self.h[cand]
        keep = (self.g[u] + d < self.g[cand]) & (f < self.g[goal])
        if not keep.any():
            return
        entry = _Candidates(cand[keep], f[keep], d[keep], self.graph.shadows.depth(self.xy[u]))
        self.lists[u] = entry
        self._push(entry.f_next(), u, 1)

    def _test_next(self, u: int) -> None:
        """Test the next batch of edges out of ``u``; queue the covered ones and ``u`` again."""
        entry = self.lists[u]
        w, fw, dw = entry.take()
        gw = self.g[u] + dw
        keep = ~self.settled[w] & (gw < self.g[w]) & (fw < self.g[self.n])
        w, gw = w[keep], gw[keep]
        keep = ~self.graph.shadows.beyond(entry.depth, self.xy[u], self.xy[w])
        w, gw = w[keep], gw[keep]
        if len(w):
            ok = self._covered(u, w)
            for v, gv in zip(w[ok].tolist(), gw[ok].tolist()):
                if gv < self.g[v]:
                    self.g[v] = gv
                    self.parent[v] = u
                    self._push(gv + float(self.h[v]), v, 0)
        if entry.left():
            self._push(entry.f_next(), u, 1)
        else:
            del self.lists[u]

    def _covered(self, u: int, w: np.ndarray) -> np.ndarray:
        """Bool per node in ``w``: the segment from ``u`` is covered (node pairs remembered)."""
        n = self.n
        if u >= n:  # the start: its segments are not kept
            return self.graph.covered(self.xy[u], self.xy[w])
        known = self.graph.known
        if len(known) > _KNOWN_MAX:
            known.clear()
        out = np.zeros(len(w), dtype=bool)
        todo = []
        for k, v in enumerate(w.tolist()):
            if v >= n:
                todo.append(k)
                continue
            key = u * n + v if u < v else v * n + u
            hit = known.get(key)
            if hit is None:
                todo.append(k)
            else:
                out[k] = hit
        if todo:
            idx = np.asarray(todo)
            res = self.graph.covered(self.xy[u], self.xy[w[idx]])
            out[idx] = res
            for v, r in zip(w[idx].tolist(), res.tolist()):
                if v < n:
                    known[u * n + v if u < v else v * n + u] = r
        return out


def path_length(points: np.ndarray) -> float:
    """Length of a polyline (mower_maps.geometry.path_length, kept here for its users)."""
    return _path_length(points)
