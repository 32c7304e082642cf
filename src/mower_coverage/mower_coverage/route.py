"""Stage 5, route: the order of headlands, cells and stripes, and safe transits between them.

Transits never cut across the lawn blindly. They run on the *headland network*: every headland
ring, every stripe, and short connectors between neighbouring rings, all of which lie inside
the region by construction. A shortest path on that network (Dijkstra) is then straightened
only where the straight segment is checked to lie inside the region. So a transit can never
cross a keep-out or an obstacle, or cut a corner of the boundary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from mower_coverage.decomposition import Cell, Chords
from mower_coverage.geometry import cumulative_length, ring_loop, ring_slice
from mower_coverage.graph import shortest_path
from mower_coverage.headlands import Headlands
from mower_coverage.transit import TransitPlanner

KINDS = ('headland', 'stripe', 'turn', 'transit')
CHECK_TOL_M = 1e-7  # tolerance of 'segment inside region' checks (the region has a margin)


@dataclass(frozen=True)
class Leg:
    """A piece of the route: what the robot does and the polyline it drives (metres)."""

    kind: str  # one of KINDS
    points: np.ndarray  # (N, 2)


@dataclass
class Route:
    """The ordered legs of a mowing run, and what could not be reached (normally nothing)."""

    legs: list[Leg] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)

    def add(self, kind: str, points: np.ndarray) -> None:
        """Append a leg, skipping empty ones and joining it to the previous end."""
        pts = np.asarray(points, dtype=float)
        if len(pts) < 2 or float(np.hypot(*np.ptp(pts, axis=0))) <= 1e-9:
            return
        self.legs.append(Leg(kind, pts))


class _Network:
    """The headland network: curves (closed rings), attachment nodes on them, and edges."""

    def __init__(self, region: Polygon) -> None:
        # checks of straight segments allow for rounding at the region's own edge
        self.raw_region = region
        self.region = region.buffer(CHECK_TOL_M)
        shapely.prepare(self.region)
        self._transit: TransitPlanner | None = None
        self.curves: list[np.ndarray] = []
        self.cums: list[np.ndarray] = []
        self.level: list[int] = []
        self.attach: list[list[tuple[float, int]]] = []
        self.xy: list[np.ndarray] = []
        self.adj: list[list[tuple[int, float, int]]] = []
        self.edges: list[np.ndarray] = []

    def link(self, p: np.ndarray, q: np.ndarray) -> np.ndarray | None:
        """A polyline from p to q inside the region: straight when it fits, else a transit.

        The transit (a shortest path in the region) joins parts of the lawn that only a
        navigation area connects; its planner is built on the first need only.
        """
        if self.region.covers(LineString([p, q])):
            return np.vstack([p, q])
        if self._transit is None:
            self._transit = TransitPlanner(self.raw_region)
        return self._transit.plan(p, q)

    def add_curve(self, ring: np.ndarray, level: int) -> int:
        self.curves.append(ring)
        self.cums.append(cumulative_length(ring))
        self.level.append(level)
        self.attach.append([])
        return len(self.curves) - 1

    def node(self, xy: np.ndarray) -> int:
        self.xy.append(np.asarray(xy, dtype=float))
        self.adj.append([])
        return len(self.xy) - 1

    def attach_node(self, curve: int, t: float, xy: np.ndarray | None = None) -> int:
        length = self.cums[curve][-1]
        t = float(t) % length if length > 0 else 0.0
        if xy is None:
            xy = ring_slice(self.curves[curve], self.cums[curve], t, t)[0]
        n = self.node(xy)
        self.attach[curve].append((t, n))
        return n

    def edge(self, a: int, b: int, points: np.ndarray) -> None:
        """A straight or given polyline edge between two nodes."""
        pts = np.asarray(points, dtype=float)
        self._add_edge(a, b, float(cumulative_length(pts)[-1]) if len(pts) > 1 else 0.0, pts)

    def _add_edge(self, a: int, b: int, w: float, geometry) -> None:
        eid = len(self.edges)
        self.edges.append(geometry)
        self.adj[a].append((b, w, eid))
        self.adj[b].append((a, w, -eid - 1))

    def finish_curves(self) -> None:
        """Join consecutive attachment nodes along every curve (polylines made when used)."""
        for c, att in enumerate(self.attach):
            if len(att) < 2:
                continue
            att.sort()
            length = self.cums[c][-1]
            for (t_a, a), (t_b, b) in zip(att, att[1:] + att[:1], strict=True):
                self._add_edge(a, b, (t_b - t_a) % length, (c, t_a, t_b))

    def edge_points(self, signed_eid: int) -> np.ndarray:
        geometry = self.edges[signed_eid if signed_eid >= 0 else -signed_eid - 1]
        if isinstance(geometry, tuple):  # a piece of a curve, sliced on first use
            c, t_a, t_b = geometry
            geometry = ring_slice(self.curves[c], self.cums[c], t_a, t_b, True)
            self.edges[signed_eid if signed_eid >= 0 else -signed_eid - 1] = geometry
        return geometry if signed_eid >= 0 else geometry[::-1]

    def shortest(self, source: int, targets: set[int]) -> tuple[int, list[int]] | None:
        """Dijkstra from ``source`` to the nearest of ``targets``: (target, signed edge ids)."""
        found = shortest_path(self.adj.__getitem__, [(source, 0.0)], targets, min_gain=1e-12)
        return None if found is None else (found.target, found.edges)

    def polyline(self, source: int, path: list[int]) -> np.ndarray:
        pts = [self.xy[source][None, :]]
        for e in path:
            pts.append(self.edge_points(e)[1:])
        return np.vstack(pts)


class RoutePlanner(ABC):
    """Interface of the route stage."""

    @abstractmethod
    def plan(
        self,
        region: Polygon,
        start: Point,
        headlands: Headlands,
        chords: Chords,
        cells: list[Cell],
    ) -> Route:
        """Order every headland ring and every stripe into one drivable route."""


class SnakeRoute(RoutePlanner):
    """The perimeter passes outside-in, then hole rings and cells nearest-first.

    Each cell is mowed as a snake (boustrophedon).

    Inside a cell the turn from one stripe to the next follows the inner headland ring between
    the two stripe ends (or the straight segment between them where that is inside the region).
    """

    def plan(
        self,
        region: Polygon,
        start: Point,
        headlands: Headlands,
        chords: Chords,
        cells: list[Cell],
    ) -> Route:
        """The whole route from ``start``."""
        net = _Network(region)
        self._net = net
        curve_ids = [
            [net.add_curve(r, k) for r in rings] for k, rings in enumerate(headlands.levels)
        ]
        inner_ids = list(curve_ids[-1]) if curve_ids else []
        self._inner_ids = inner_ids
        # stripe ends are attachment nodes on the inner rings
        end_node = np.empty(len(chords.end_t), dtype=np.int64)
        for e in range(len(chords.end_t)):
            curve = inner_ids[int(chords.end_ring[e])]
            end_node[e] = net.attach_node(curve, chords.end_t[e], chords.end_xy[e])
        for c in range(chords.count):
            net.edge(
                int(end_node[2 * c]), int(end_node[2 * c + 1]), chords.end_xy[2 * c : 2 * c + 2]
            )
        self._connect_levels(net, curve_ids)
        for k, rings in enumerate(headlands.fills):  # fill rings join their own pass
            own = curve_ids[k]
            own_lines = MultiLineString([net.curves[c] for c in own])
            for r in rings:
                c = net.add_curve(r, k)
                self._join(net, c, own, own_lines)
                curve_ids[k].append(c)
        self._connect_components(net, chords)
        start_node = self._attach_point(net, np.array([start.x, start.y]))
        for c, att in enumerate(net.attach):  # every curve needs a node to be reachable
            if not att:
                net.attach_node(c, 0.0)
        net.finish_curves()

        route = Route()
        current = start_node
        # jobs: ('ring', curve) or ('cell', index); each has entry nodes
        entries: dict[int, list[tuple[tuple[str, int], int]]] = {}
        for curve, att in enumerate(net.attach):
            for _, n in att:
                entries.setdefault(n, []).append((('ring', curve), 0))
        for i, cell in enumerate(cells):
            bottom, top = cell.chords[0], cell.chords[-1]
            for end, code in (
                (2 * bottom, 1),
                (2 * bottom + 1, 3),
                (2 * top, 0),
                (2 * top + 1, 2),
            ):
                entries.setdefault(int(end_node[end]), []).append((('cell', i), code))
        # the outer perimeter first, outermost pass first; then holes' rings and cells
        # together, always the nearest job next, so the mower goes round an obstacle when it
        # is there instead of touring every obstacle before the stripes
        for todo in self._phases(net, curve_ids, chords, cells, start):
            while todo:
                targets = {n for n, jobs in entries.items() if any(j in todo for j, _ in jobs)}
                found = net.shortest(current, targets)
                if found is None:  # the network is connected by construction; report if not
                    route.unreached.extend(f'{kind} {i}' for kind, i in sorted(todo))
                    break
                node, path = found
                job, code = next((j, c) for j, c in entries[node] if j in todo)
                self._transit(route, net, current, path)
                if job[0] == 'ring':
                    curve = job[1]
                    t0 = next(t for t, n in net.attach[curve] if n == node)
                    route.add('headland', ring_loop(net.curves[curve], net.cums[curve], t0))
                    current = node
                else:
                    last_end = self._snake(route, net, chords, cells[job[1]], code)
                    current = int(end_node[last_end])
                todo.discard(job)
        return route

    @staticmethod
    def _phases(
        net: _Network, curve_ids: list[list[int]], chords: Chords, cells: list[Cell], start: Point
    ) -> list[set[tuple[str, int]]]:
        """The jobs in phases: per lawn part, its perimeter passes outside-in, then the rest.

        One part (the usual lawn): that part's phases. Parts that a navigation area joins are
        done one after the other, nearest first from the start, so the mower crosses between
        them once each rather than on every pass.
        """
        exteriors = [c for c in (curve_ids[0] if curve_ids else []) if _is_exterior(net.curves[c])]
        polys = [Polygon(net.curves[c]).buffer(1e-6) for c in exteriors]

        def part_at(xy: np.ndarray) -> int:
            p = Point(xy)
            return min(range(len(polys)), key=lambda k: (polys[k].distance(p), k))

        curve_part = [
            part_at(net.curves[c][0]) if len(polys) > 1 else 0 for c in range(len(net.curves))
        ]
        cell_part = [
            part_at(chords.end_xy[2 * cell.chords[0]]) if len(polys) > 1 else 0 for cell in cells
        ]
        order, here = [], start
        left = set(range(max(1, len(polys))))
        while left:  # nearest part next
            k = min(left, key=lambda j: (polys[j].distance(here), j)) if polys else left.pop()
            left.discard(k)
            order.append(k)
            if polys:
                here = polys[k].centroid
        phases: list[set[tuple[str, int]]] = []
        for k in order:
            perimeter = [
                [c for c in ids if _is_exterior(net.curves[c]) and curve_part[c] == k]
                for ids in curve_ids
            ]
            own = [{('ring', c) for c in ids} for ids in perimeter if ids]
            rest = {('ring', c) for c in range(len(net.curves)) if curve_part[c] == k}
            rest -= set().union(*own)
            rest |= {('cell', i) for i in range(len(cells)) if cell_part[i] == k}
            phases += [*own, rest]
        return phases

    # -- building the network ---------------------------------------------------------------

    def _attach_point(self, net: _Network, xy: np.ndarray) -> int:
        """A node at ``xy`` joined to the nearest curve (by a transit where straight won't fit).

        The straight segment leaves the region where the start lies in a navigation area.
        """
        n = net.node(xy)
        lines = MultiLineString([c for c in net.curves])
        if lines.is_empty:
            return n
        p = Point(xy)
        near = shapely.shortest_line(p, lines)
        q = np.asarray(near.coords)[1]
        curve = self._curve_at(net, q)
        m = net.attach_node(curve, LineString(net.curves[curve]).project(Point(q)), q)
        link = net.link(np.asarray(xy, dtype=float), q)
        net.edge(n, m, np.vstack([xy, q]) if link is None else link)
        return n

    @staticmethod
    def _curve_at(net: _Network, q: np.ndarray, among: list[int] | None = None) -> int:
        ids = range(len(net.curves)) if among is None else among
        p = Point(q)
        return min(ids, key=lambda c: (LineString(net.curves[c]).distance(p), c))

    def _connect_levels(self, net: _Network, curve_ids: list[list[int]]) -> None:
        """Join every ring of pass k to the nearest ring of pass k - 1 (a segment ~ spacing)."""
        for k in range(1, len(curve_ids)):
            outer = curve_ids[k - 1]
            outer_lines = MultiLineString([net.curves[c] for c in outer])
            for c in curve_ids[k]:
                self._join(net, c, outer, outer_lines)

    def _join(self, net: _Network, c: int, others: list[int], other_lines) -> bool:
        seg = shapely.shortest_line(LineString(net.curves[c]), other_lines)
        p, q = np.asarray(seg.coords)
        if not net.region.covers(LineString([p, q])):
            return False
        a = net.attach_node(c, LineString(net.curves[c]).project(Point(p)), p)
        oc = self._curve_at(net, q, others)
        b = net.attach_node(oc, LineString(net.curves[oc]).project(Point(q)), q)
        net.edge(a, b, np.vstack([p, q]))
        return True

    def _connect_components(self, net: _Network, chords: Chords) -> None:
        """Join groups of curves that stripes and connectors leave apart (small holes)."""
        parent = list(range(len(net.curves)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        node_curve: dict[int, int] = {}
        for c, att in enumerate(net.attach):
            for _, n in att:
                node_curve[n] = c
        for u, nbrs in enumerate(net.adj):
            for v, _, _ in nbrs:
                if u in node_curve and v in node_curve:
                    a, b = find(node_curve[u]), find(node_curve[v])
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        for _ in range(len(net.curves)):
            groups: dict[int, list[int]] = {}
            for c in range(len(net.curves)):
                groups.setdefault(find(c), []).append(c)
            if len(groups) <= 1:
                return
            # the group with the longest rings is the main one; join the others to the rest
            ordered = sorted(
                groups.values(), key=lambda g: (-sum(net.cums[c][-1] for c in g), g[0])
            )
            # a straight join where one fits; else (lawn parts that a navigation area joins)
            # a transit through the region
            joined = None
            for straight in (True, False):
                joined = next(
                    (j for g in ordered[1:] if (j := self._join_group(net, g, find, straight))),
                    None,
                )
                if joined is not None:
                    break
            if joined is None:
                return
            ra, rb = find(joined[0]), find(joined[1])
            parent[max(ra, rb)] = min(ra, rb)

    def _join_group(
        self, net: _Network, group: list[int], find: Callable[[int], int], straight: bool
    ) -> tuple[int, int] | None:
        """Join ``group`` to the nearest other curve (straight, or by a transit); the curves."""
        rest = [c for c in range(len(net.curves)) if find(c) != find(group[0])]
        lines = MultiLineString([net.curves[c] for c in group])
        rest_lines = MultiLineString([net.curves[c] for c in rest])
        p, q = np.asarray(shapely.shortest_line(lines, rest_lines).coords)
        if straight:
            if not net.region.covers(LineString([p, q])):
                return None
            link: np.ndarray | None = np.vstack([p, q])
        else:
            link = net.link(p, q)
        if link is None:
            return None
        ca = self._curve_at(net, p, group)
        cb = self._curve_at(net, q, rest)
        a = net.attach_node(ca, LineString(net.curves[ca]).project(Point(p)), p)
        b = net.attach_node(cb, LineString(net.curves[cb]).project(Point(q)), q)
        net.edge(a, b, link)
        return ca, cb

    # -- driving ------------------------------------------------------------------------------

    def _transit(self, route: Route, net: _Network, source: int, path: list[int]) -> None:
        if not path:
            return
        route.add('transit', straighten(net.polyline(source, path), net.region))

    def _snake(self, route: Route, net: _Network, chords: Chords, cell: Cell, code: int) -> int:
        """Mow one cell; ``code`` = 2 * (start at right end) + (start at bottom chord)."""
        order = list(cell.chords) if code & 1 else list(cell.chords)[::-1]
        side = code >> 1  # 0: enter at the left end, 1: at the right end
        ends = []  # (entry end, exit end) of each stripe in driving order
        for c in order:
            ends.append((2 * c + side, 2 * c + (1 - side)))
            side = 1 - side
        # a turn is the straight segment between neighbouring stripe ends where that is inside
        # the region (checked for the whole cell at once), else the boundary between them
        xy = chords.end_xy
        straight = np.ones(max(len(ends) - 1, 0), dtype=bool)
        if len(ends) > 1:
            segs = np.stack([xy[[b for _, b in ends[:-1]]], xy[[a for a, _ in ends[1:]]]], 1)
            straight = shapely.covers(net.region, shapely.linestrings(segs))
        for i, (a, b) in enumerate(ends):
            if i > 0:
                prev = ends[i - 1][1]
                if straight[i - 1]:
                    route.add('turn', xy[[prev, a]])
                else:
                    turn = self._ring_between(net, chords, prev, a)
                    route.add('turn', straighten(turn, net.region))
            route.add('stripe', xy[[a, b]])
        return ends[-1][1]

    def _ring_between(self, net: _Network, chords: Chords, e_from: int, e_to: int) -> np.ndarray:
        """Boundary between two neighbouring stripe ends (they are neighbours on one ring)."""
        curve = self._inner_ids[int(chords.end_ring[e_from])]
        forward = int(chords.ring_next[e_from]) == e_to
        return ring_slice(
            net.curves[curve],
            net.cums[curve],
            float(chords.end_t[e_from]),
            float(chords.end_t[e_to]),
            forward,
        )


def _is_exterior(ring: np.ndarray) -> bool:
    """Whether a ring runs counter-clockwise (an exterior, as rings_of orients them)."""
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) > 0.0


def straighten(points: np.ndarray, region: Polygon, near: int = 16, far: int = 48) -> np.ndarray:
    """Replace runs of a polyline by straight segments wherever those lie inside ``region``.

    Greedy string pulling: from each kept point, jump to the farthest later point whose
    straight segment is covered by the region. Candidates are the next ``near`` points and
    ``far`` points spread geometrically to the end, checked in one vectorised call; any covered
    segment is safe, so sampling the candidates only costs optimality, never safety.
    """
    pts = np.asarray(points, dtype=float)
    n = len(pts)
    if n <= 2:
        return pts
    out = [pts[0]]
    i = 0
    while i < n - 1:
        cand = np.arange(i + 2, min(n, i + 2 + near))
        if i + 2 + near < n:
            spread = np.unique(np.geomspace(i + 2 + near, n - 1, far).astype(np.int64))
            cand = np.concatenate([cand, spread])
        j = i + 1
        if len(cand):
            segs = shapely.linestrings(
                np.stack([np.broadcast_to(pts[i], (len(cand), 2)), pts[cand]], axis=1)
            )
            ok = shapely.covers(region, segs)
            if ok.any():
                j = int(cand[np.flatnonzero(ok)[-1]])
        out.append(pts[j])
        i = j
    return np.asarray(out)
