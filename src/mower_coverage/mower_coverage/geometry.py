"""Small geometry helpers on closed rings stored as numpy arrays (metres).

A ring is an ``(N, 2)`` float array whose last row equals its first. Positions along a ring are
arc lengths ``t`` from its first vertex, in ``[0, length)``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon


def polygons_of(geom) -> list[Polygon]:
    """The non-empty polygons of a Polygon, MultiPolygon or GeometryCollection."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    parts = shapely.get_parts(geom)
    out: list[Polygon] = []
    for p in parts:
        if isinstance(p, Polygon) and not p.is_empty:
            out.append(p)
        elif isinstance(p, MultiPolygon):
            out.extend(polygons_of(p))
    return out


def rings_of(geom) -> list[np.ndarray]:
    """All rings (exteriors counter-clockwise, holes clockwise) of a polygonal geometry."""
    rings: list[np.ndarray] = []
    for poly in polygons_of(geom):
        poly = shapely.geometry.polygon.orient(poly, sign=1.0)
        rings.append(_clean_ring(np.asarray(poly.exterior.coords)[:, :2]))
        for hole in poly.interiors:
            rings.append(_clean_ring(np.asarray(hole.coords)[:, :2]))
    return [r for r in rings if len(r) >= 4]


def _clean_ring(ring: np.ndarray) -> np.ndarray:
    """Drop repeated vertices; keep the ring closed."""
    ring = np.asarray(ring, dtype=float)
    keep = np.ones(len(ring), dtype=bool)
    keep[1:] = np.any(np.abs(np.diff(ring, axis=0)) > 1e-12, axis=1)
    ring = ring[keep]
    if len(ring) and not np.array_equal(ring[0], ring[-1]):
        ring = np.vstack([ring, ring[:1]])
    return ring


def cumulative_length(line: np.ndarray) -> np.ndarray:
    """Arc length at every vertex of a polyline (first is 0)."""
    seg = np.hypot(*np.diff(line, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(seg)])


def point_at(ring: np.ndarray, cum: np.ndarray, t: float) -> np.ndarray:
    """The point at arc length ``t`` along a ring (wrapped into ``[0, length)``)."""
    length = cum[-1]
    t = t % length if length > 0 else 0.0
    i = min(max(int(np.searchsorted(cum, t, side='right')) - 1, 0), len(ring) - 2)
    seg = cum[i + 1] - cum[i]
    f = 0.0 if seg <= 0 else (t - cum[i]) / seg
    return ring[i] + f * (ring[i + 1] - ring[i])


def ring_slice(
    ring: np.ndarray, cum: np.ndarray, t_a: float, t_b: float, forward: bool = True
) -> np.ndarray:
    """The part of a ring from ``t_a`` to ``t_b``, forward (increasing t, wrapping) or back."""
    if not forward:
        return ring_slice(ring, cum, t_b, t_a, True)[::-1].copy()
    length = cum[-1]
    t_a %= length
    t_b %= length
    first = point_at(ring, cum, t_a)[None, :]
    last = point_at(ring, cum, t_b)[None, :]
    # vertices strictly after t_a and strictly before t_b (wrapping past the closing vertex)
    i_a = int(np.searchsorted(cum, t_a, side='right'))
    if t_b >= t_a:
        i_b = int(np.searchsorted(cum, t_b, side='left'))
        inner = ring[i_a:i_b]
    else:
        i_b = int(np.searchsorted(cum, t_b, side='left'))
        inner = np.vstack([ring[i_a:-1], ring[:i_b]])
    return np.vstack([first, inner, last])


def ring_loop(ring: np.ndarray, cum: np.ndarray, t0: float) -> np.ndarray:
    """A full lap of a ring starting and ending at arc length ``t0``."""
    length = cum[-1]
    t0 %= length
    sel = cum[:-1] > t0
    pts = [point_at(ring, cum, t0), *ring[:-1][sel], *ring[:-1][~sel], point_at(ring, cum, t0)]
    return np.asarray(pts, dtype=float)


def rotate(points: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotate points about the origin by ``angle_rad`` (counter-clockwise)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    pts = np.asarray(points, dtype=float)
    return np.column_stack([pts[:, 0] * c - pts[:, 1] * s, pts[:, 0] * s + pts[:, 1] * c])


def simplify_polyline(points: np.ndarray, tol_m: float = 1e-6) -> np.ndarray:
    """Drop repeated points and points on a straight line between their neighbours.

    The result stays within ``tol_m`` of every point dropped: a run of points that are each
    straight with their neighbours (a densely sampled, gently curving ring) is not replaced by
    one long chord, which could cut a concave bend by far more (``_within_tolerance``).
    """
    pts = np.asarray(points, dtype=float)
    if len(pts) < 2:
        return pts
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.hypot(*np.diff(pts, axis=0).T) > tol_m
    idx = np.flatnonzero(keep)
    if len(idx) >= 3:
        a, b, c = pts[idx[:-2]], pts[idx[1:-1]], pts[idx[2:]]
        cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (
            c[:, 0] - a[:, 0]
        )
        dot = (b[:, 0] - a[:, 0]) * (c[:, 0] - b[:, 0]) + (b[:, 1] - a[:, 1]) * (c[:, 1] - b[:, 1])
        ab = np.hypot(*(b - a).T)
        straight = (np.abs(cross) <= tol_m * np.maximum(ab, 1e-12)) & (dot > 0)
        keep[idx[1:-1][straight]] = False
    return pts[_within_tolerance(pts, keep, tol_m)]


def _within_tolerance(pts: np.ndarray, keep: np.ndarray, tol_m: float) -> np.ndarray:
    """``keep`` with points restored until every dropped point is within ``tol_m`` of the rest.

    Each dropped point is measured against the segment between the kept points around it
    (after the last kept point: against that point); in every run that strays further, the
    farthest point is kept again (a Douglas-Peucker step), until none does.
    """
    keep = keep.copy()
    keep[0] = True
    while True:
        dropped = np.flatnonzero(~keep)
        if not len(dropped):
            return keep
        idx = np.flatnonzero(keep)
        run = np.cumsum(keep)[dropped] - 1  # index into idx of the kept point before each
        a = pts[idx[run]]
        b = pts[idx[np.minimum(run + 1, len(idx) - 1)]]
        ab = b - a
        den = np.einsum('ij,ij->i', ab, ab)
        t = np.einsum('ij,ij->i', pts[dropped] - a, ab) / np.where(den > 0, den, 1.0)
        t = np.where(den > 0, np.clip(t, 0.0, 1.0), 0.0)
        dist = np.hypot(*(pts[dropped] - a - t[:, None] * ab).T)
        if not (dist > tol_m).any():
            return keep
        order = np.lexsort((-dist, run))  # per run, the farthest point first
        _, first = np.unique(run[order], return_index=True)
        worst = order[first]
        keep[dropped[worst[dist[worst] > tol_m]]] = True
