"""Transit paths: the shortest way between two points inside the planning region.

Used to drive back to the dock and from the dock to where mowing resumes. A visibility graph
over the vertices of the region (simplified, and shrunk a little so that its vertices lie
strictly inside) gives the shortest polyline around holes; every edge is checked to be covered
by the region itself. Written here rather than taken from a package: the candidates (pyvisgraph,
extremitypathfinder) are unmaintained or pull in large dependencies, and the graph is small.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from mower_coverage.geometry import polygons_of
from mower_coverage.graph import shortest_path
from mower_maps import geometry as maps_geometry

SHRINK_M = 0.02  # vertices sit this far inside the region
MAX_VERTICES = 400  # the region is simplified until it has at most this many


class TransitPlanner:
    """Shortest collision-free polylines inside one region (where the robot's centre may be)."""

    def __init__(self, region: Polygon) -> None:
        """Prepare the graph's vertices for ``region`` (a Polygon or MultiPolygon)."""
        self.region = region
        shapely.prepare(self.region)
        inner = region.buffer(-SHRINK_M)
        tol = 0.02
        verts = self._vertices(inner, tol)
        while len(verts) > MAX_VERTICES and tol < 2.0:
            tol *= 2.0
            verts = self._vertices(inner, tol)
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
        q = nearest_points(self.region.buffer(-SHRINK_M), p)[0]
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
        verts = self.vertices
        if not len(verts):
            return None
        from_s = self._visible(np.broadcast_to(s_in, verts.shape), verts)
        to_g = self._visible(np.broadcast_to(g_in, verts.shape), verts)
        goal_id = len(verts)  # the goal: a node joined to every vertex that sees it

        def neighbours(u: int):
            if to_g[u]:
                yield goal_id, float(np.hypot(*(verts[u] - g_in))), None
            yield from self._adj[u]

        sources = [(int(k), float(np.hypot(*(verts[k] - s_in)))) for k in np.flatnonzero(from_s)]
        found = shortest_path(neighbours, sources, {goal_id})
        if found is None:
            return None
        return np.vstack([*head, s_in, *verts[found.nodes[:-1]], g_in, *tail])


def path_length(points: np.ndarray) -> float:
    """Length of a polyline (mower_maps.geometry.path_length, kept here for its users)."""
    return maps_geometry.path_length(points)
