"""Transit paths: the shortest way between two points inside the planning region.

Used to drive back to the dock and from the dock to where mowing resumes. The graph is the one
this planner has always searched: its nodes are the vertices of the region shrunk a little
(``SHRINK_M``, so that they lie strictly inside) and simplified (``SIMPLIFY_M``), plus the start
and the goal; two nodes are joined when the straight segment between them is covered by the
region itself (``shapely.covers``). A plan is the shortest path in that graph. Written here
rather than taken from a package: the candidates (pyvisgraph, extremitypathfinder) are
unmaintained or pull in large dependencies.

How it scales (a 30 x 30 m lawn with 500 small obstacles: 4,150 nodes, 8.6 million node pairs;
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
  mission makes a planner for every plan it is handed; an unchanged region costs nothing.
* **A replan recomputes only what changed** (:meth:`TransitPlanner.updated`; a region not
  kept is derived from the one used last): its rings are compared with the last region's by
  their coordinates, and only new rings of the shrunk region are simplified, only new parts of
  the complement get shadow discs, and the tested node pairs are taken over (renumbered) except
  those with a node gone or a segment meeting a boundary edge that is in one region and not the
  other (:class:`BuildStats`). The result is the same as a planner made from scratch: the same
  nodes in the same order, the same discs, and pairs kept only where both regions agree. One
  obstacle added to 500: about a third of a full build (0.05 s against 0.14 s; the shrinking
  buffer is still done whole), and 99 % of the pairs tested before are kept, so the queries
  after it test a third fewer. The shrunk region is normalised (each ring from its least
  vertex) because a ring's simplified vertices depend on where it starts and the buffer starts
  an unchanged ring anywhere.

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
from dataclasses import dataclass

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

    def __init__(self, region, base: Shadows | None = None) -> None:
        """Discs for ``region`` (a Polygon or MultiPolygon).

        The discs of each part of the complement depend on that part alone: parts equal to one
        of ``base``'s (the shadows of an earlier region) take its discs, the rest are computed
        (:attr:`computed` of :attr:`parts`).
        """
        parts = _complement_parts(region)
        keys = shapely.to_wkb(parts).tolist()
        known = base.discs if base is not None else {}
        todo = list(dict.fromkeys(k for k in keys if k not in known))
        where = {k: i for i, k in enumerate(keys)}
        new = dict(zip(todo, _inscribed_discs(parts[[where[k] for k in todo]])))
        self.discs: dict[bytes, tuple[np.ndarray, np.ndarray]] = {
            k: known[k] if k in known else new[k] for k in keys
        }
        self.parts, self.computed = len(keys), len(todo)
        found = [self.discs[k] for k in keys]
        self.centre = np.vstack([np.zeros((0, 2)), *(c for c, _ in found)])
        self.radius = np.concatenate([np.zeros(0), *(r for _, r in found)])
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


def _complement_parts(region) -> np.ndarray:
    """Parts of the region's complement near its bounding box (normalised polygons)."""
    lo_x, lo_y, hi_x, hi_y = region.bounds
    pad = 0.05 * max(hi_x - lo_x, hi_y - lo_y, 1e-6)
    frame = shapely.box(lo_x - pad, lo_y - pad, hi_x + pad, hi_y + pad)
    parts = np.array(list(polygons_of(shapely.difference(frame, region))), dtype=object)
    return shapely.normalize(parts)


def _inscribed_discs(parts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Discs inside each of ``parts`` (polygons): per part, centres and radii.

    One maximum inscribed circle per part, and up to ``_DISCS_PER_PART - 1`` more in what the
    earlier ones leave of a long part; radii shrunk a little so that the discs' interiors are
    safely inside the part.
    """
    centres: list[list[np.ndarray]] = [[] for _ in range(len(parts))]
    radii: list[list[np.ndarray]] = [[] for _ in range(len(parts))]
    origin: np.ndarray = np.arange(len(parts))
    for _ in range(_DISCS_PER_PART):
        if not len(parts):
            break
        lines = shapely.maximum_inscribed_circle(parts, tolerance=_DISC_TOLERANCE_M)
        xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        r = np.hypot(*(xy[:, 1] - xy[:, 0]).T)
        keep = r > 10.0 * _DISC_TOLERANCE_M
        shrunk = r * 0.999 - _DISC_TOLERANCE_M / 10.0
        for k in np.flatnonzero(keep & (shrunk > 0)).tolist():
            centres[origin[k]].append(xy[k, 0])
            radii[origin[k]].append(shrunk[k])
        # parts much larger than their disc (long or branched) get another disc
        big = np.flatnonzero(keep & (shapely.area(parts) > 4.0 * math.pi * r**2))
        rest = [
            shapely.difference(parts[k], shapely.Point(xy[k, 0]).buffer(r[k], quad_segs=4))
            for k in big.tolist()
        ]
        pieces = [(origin[k], g) for k, p in zip(big.tolist(), rest) for g in polygons_of(p)]
        origin = np.array([o for o, _ in pieces], dtype=np.int64)
        parts = np.array([g for _, g in pieces] or [], dtype=object)
    return [
        (np.asarray(c, dtype=float).reshape(-1, 2), np.asarray(r, dtype=float))
        for c, r in zip(centres, radii)
    ]


@dataclass
class BuildStats:
    """What making a region's graph computed, and what it took over from an earlier region's.

    A region derived from another (:meth:`TransitPlanner.updated`, or the region used last)
    recomputes the simplified rings and the shadow discs only of what differs, and keeps the
    tested node pairs whose segments stay clear of every boundary edge that changed.
    """

    derived: bool = False  # made from an earlier region's graph
    rings: int = 0  # rings of the shrunk region (their simplified vertices are the nodes)
    rings_simplified: int = 0  # of them, simplified here (the rest were taken over)
    parts: int = 0  # parts of the region's complement (the shadow discs lie in them)
    parts_inscribed: int = 0  # of them, whose discs were computed here
    edges_changed: int = 0  # boundary edges in one region and not the other
    known_kept: int = 0  # tested node pairs taken over
    known_dropped: int = 0  # not taken over: a node is gone, or the segment meets a changed edge


class _RegionGraph:
    """What the planners know about one region: its nodes, shadows and tested node pairs."""

    def __init__(self, region, base: _RegionGraph | None = None) -> None:
        """Nodes and shadows of ``region``; what ``base`` (another region's) knows is reused.

        Without ``base`` no pair is tested yet. With it, the result is the same as without
        (the same nodes in the same order, the same discs; the node pairs taken over are
        those whose segments are covered by both regions or by neither), only cheaper.
        """
        self.region = region
        shapely.prepare(region)
        # normalised: each ring from its least vertex and in a fixed order, wherever the buffer
        # starts it, so that a ring left as it was keeps its nodes
        self.inner = shapely.normalize(region.buffer(-SHRINK_M))
        self.rings = _ring_coords(shapely.normalize(region))
        if base is not None and not (self.rings.keys() & base.rings.keys()):
            base = None  # nothing in common
        self.stats = BuildStats(derived=base is not None)
        self.simplified: dict[bytes, np.ndarray]
        self.simplified, vertices = _simplified_rings(
            self.inner, base.simplified if base is not None else {}, self.stats
        )
        self.vertices = vertices[shapely.contains_xy(region, vertices[:, 0], vertices[:, 1])]
        self.shadows: Shadows = Shadows(region, base.shadows if base is not None else None)
        self.stats.parts, self.stats.parts_inscribed = self.shadows.parts, self.shadows.computed
        self.known: dict[int, bool] = {}  # i * n + j (i < j): segment between nodes covered
        if base is not None:
            self.known = _carried_over(base, self)

    def covered(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Bool per segment ``p[i] -> q[i]``: covered by the region (``shapely.covers``)."""
        p, q = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(q, dtype=float))
        return shapely.covers(self.region, shapely.linestrings(np.stack([p, q], axis=1)))


def _rings_of(geom) -> list:
    """The rings of a (Multi)Polygon: each polygon's exterior, then its interiors."""
    return [r for poly in polygons_of(geom) for r in [poly.exterior, *poly.interiors]]


def _ring_coords(region) -> dict[bytes, np.ndarray]:
    """The region's rings: (closed) coordinates by their bytes (normalise it first)."""
    coords = [shapely.get_coordinates(r) for r in _rings_of(region)]
    return {c.tobytes(): c for c in coords}


def _simplified_rings(
    inner, cache: dict[bytes, np.ndarray], stats: BuildStats
) -> tuple[dict[bytes, np.ndarray], np.ndarray]:
    """Each ring of ``inner`` simplified by ``SIMPLIFY_M`` (topology kept), and their vertices.

    Rings are simplified one by one, so a ring found in ``cache`` (by its coordinates) is not
    simplified again. (Simplifying the whole shrunk region at once also keeps rings from
    crossing each other; it gave the same vertices on every lawn tried, and only the vertices
    are used.)
    """
    rings = _rings_of(inner)
    keys = [shapely.get_coordinates(r).tobytes() for r in rings]
    todo = [k for k, key in enumerate(keys) if key not in cache]
    done = shapely.simplify(np.array([rings[k] for k in todo], dtype=object), SIMPLIFY_M)
    new = {keys[k]: shapely.get_coordinates(g)[:-1] for k, g in zip(todo, done)}
    out = {key: cache[key] if key in cache else new[key] for key in keys}
    stats.rings, stats.rings_simplified = len(keys), len(new)
    vertices = np.vstack([np.zeros((0, 2)), *(out[key] for key in keys)])
    return out, vertices


def _carried_over(base: _RegionGraph, graph: _RegionGraph) -> dict[int, bool]:
    """``base``'s tested node pairs that hold in ``graph``'s region, keyed by its nodes.

    A pair is kept when both nodes are nodes of ``graph`` too (equal coordinates) and its
    segment meets no boundary edge that is in one region and not in the other. Then whether a
    point of the segment is in a region changes along it only where it crosses an edge of that
    region; crossing an edge both regions share changes both alike; and its ends lie inside
    both regions (nodes are inside their region): so the segment is covered by both or by
    neither. Exact: no overlay is computed, only which edges differ.
    """
    known = base.known.copy()  # a C-level copy: a search elsewhere may add to it meanwhile
    stats = graph.stats
    if not known:
        return {}
    n0, n1 = len(base.vertices), len(graph.vertices)
    keys = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
    values = np.fromiter(known.values(), dtype=bool, count=len(known))
    i, j = keys // n0, keys % n0
    to_new = _index_map(base.vertices, graph.vertices)
    a, b = to_new[i], to_new[j]
    ok = (a >= 0) & (b >= 0)
    edges = _changed_edges(base.rings, graph.rings)
    stats.edges_changed = len(edges)
    if len(edges):
        idx = np.flatnonzero(ok)
        p, q = base.vertices[i[idx]], base.vertices[j[idx]]
        near = _segments_meet_box(
            p, q, edges.reshape(-1, 2).min(axis=0), edges.reshape(-1, 2).max(axis=0)
        )
        if near.any():
            changed = shapely.multilinestrings(shapely.linestrings(edges))
            shapely.prepare(changed)
            lines = shapely.linestrings(np.stack([p[near], q[near]], axis=1))
            ok[idx[near][shapely.intersects(changed, lines)]] = False
    a, b = a[ok], b[ok]
    kept = np.minimum(a, b) * n1 + np.maximum(a, b)
    stats.known_kept = int(ok.sum())
    stats.known_dropped = len(ok) - stats.known_kept
    return dict(zip(kept.tolist(), values[ok].tolist()))


def _index_map(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per point of ``old``: the index of a point of ``new`` equal to it, or -1."""
    if not len(new) or not len(old):
        return np.full(len(old), -1, dtype=np.int64)
    z_old = old[:, 0] + 1j * old[:, 1]
    z_new = new[:, 0] + 1j * new[:, 1]
    order = np.argsort(z_new, kind='stable')
    k = np.minimum(np.searchsorted(z_new[order], z_old), len(new) - 1)
    return np.where(z_new[order][k] == z_old, order[k], -1)


def _changed_edges(old: dict[bytes, np.ndarray], new: dict[bytes, np.ndarray]) -> np.ndarray:
    """(M, 2, 2): the edges of rings in one region and not the other, less those in both."""
    sides = []
    for a, b in ((old, new), (new, old)):
        seg = [np.hstack([c[:-1], c[1:]]) for key, c in a.items() if key not in b]
        e = np.concatenate([np.zeros((0, 4)), *seg])
        swap = (e[:, 0] > e[:, 2]) | ((e[:, 0] == e[:, 2]) & (e[:, 1] > e[:, 3]))
        e[swap] = e[swap][:, [2, 3, 0, 1]]  # whichever way round: the lesser end first
        sides.append(np.unique(e, axis=0))
    both = np.concatenate(sides)
    _, inverse, count = np.unique(both, axis=0, return_inverse=True, return_counts=True)
    return both[count[inverse.reshape(-1)] == 1].reshape(-1, 2, 2)


def _segments_meet_box(p: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Bool per segment ``p[i] -> q[i]``: it may meet the box ``lo``-``hi`` (never a miss)."""
    pad = 1e-9 * max(1.0, float(np.abs([lo, hi]).max()))
    lo, hi = lo - pad, hi + pad
    out = (np.maximum(p, q) >= lo).all(axis=1) & (np.minimum(p, q) <= hi).all(axis=1)
    # and the box's corners are not all on one side of the segment's line
    d = q - p
    corners = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [lo[0], hi[1]], [hi[0], hi[1]]])
    side = d[:, None, 0] * (corners[None, :, 1] - p[:, None, 1]) - d[:, None, 1] * (
        corners[None, :, 0] - p[:, None, 0]
    )
    return out & (side.min(axis=1) <= 0) & (side.max(axis=1) >= 0)


_GRAPHS: OrderedDict[bytes, _RegionGraph] = OrderedDict()


def _graph_for(region, base: _RegionGraph | None = None) -> _RegionGraph:
    """The graph of ``region``: kept for the last ``CACHE_REGIONS`` regions (equal geometry).

    A region not kept is derived from ``base``, or else from the region used last (a replan's
    region from the one before: only what changed is computed).
    """
    key = shapely.to_wkb(region)
    graph = _GRAPHS.get(key)
    if graph is None:
        if base is None and _GRAPHS:
            base = next(reversed(_GRAPHS.values()))
        graph = _RegionGraph(region, base)
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

    def __init__(self, region: Polygon, base: TransitPlanner | None = None) -> None:
        """Prepare the nodes and shadows of ``region`` (a Polygon or MultiPolygon).

        ``base``: a planner of an earlier region (the last plan's): what it knows is reused
        where the regions agree (:meth:`updated`).
        """
        self._graph: _RegionGraph = _graph_for(region, base._graph if base is not None else None)
        self.region = self._graph.region
        self.vertices = self._graph.vertices

    def updated(self, region: Polygon) -> TransitPlanner:
        """The planner of ``region`` (a replan's), made from this one: only what changed is new.

        The same paths as a planner made from scratch; :attr:`stats` says what was reused.
        """
        return TransitPlanner(region, base=self)

    @property
    def stats(self) -> BuildStats:
        """What making this planner's region graph computed and reused."""
        return self._graph.stats

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
