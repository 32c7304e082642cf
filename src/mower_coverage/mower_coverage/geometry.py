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
    """Drop repeated points and points on a straight line between their neighbours."""
    pts = np.asarray(points, dtype=float)
    if len(pts) < 2:
        return pts
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = np.hypot(*np.diff(pts, axis=0).T) > tol_m
    pts = pts[keep]
    if len(pts) < 3:
        return pts
    a, b, c = pts[:-2], pts[1:-1], pts[2:]
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    dot = (b[:, 0] - a[:, 0]) * (c[:, 0] - b[:, 0]) + (b[:, 1] - a[:, 1]) * (c[:, 1] - b[:, 1])
    ab = np.hypot(*(b - a).T)
    straight = (np.abs(cross) <= tol_m * np.maximum(ab, 1e-12) * 1.0) & (dot > 0)
    keep = np.concatenate([[True], ~straight, [True]])
    return pts[keep]
