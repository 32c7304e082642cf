"""Stage 6, path: the route as poses a differential-drive mower can drive.

``PivotTurns`` keeps every corner as an in-place rotation (two poses at one point), which a
differential-drive mower can always do. ``ArcTurns`` replaces corners of turns and transits by
circular arcs of a minimum radius where the arc fits inside the region, and pivots elsewhere.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from mower_coverage.geometry import cumulative_length, simplify_polyline
from mower_coverage.route import KINDS, Route

TURN_THRESHOLD_RAD = math.radians(30.0)  # a heading change above this counts as a turn
SIMPLIFY_TOL_M = 1e-6  # the path stays this close to every route vertex it drops


@dataclass(frozen=True)
class CoveragePath:
    """The drivable path: a polyline with a kind per segment, and poses sampled along it."""

    points: np.ndarray  # (N, 2) polyline vertices
    kinds: np.ndarray  # (N - 1,) index into KINDS for each segment
    poses: np.ndarray  # (M, 3) x, y, yaw (rad); a pivot is two poses at one point
    turns: int  # heading changes above TURN_THRESHOLD_RAD, an arc counting once

    @property
    def length_m(self) -> float:
        """Driven length (pivots add nothing)."""
        return float(cumulative_length(self.points)[-1]) if len(self.points) > 1 else 0.0

    def samples(self, spacing_m: float) -> np.ndarray:
        """Points every ``spacing_m`` along the path, vertices included."""
        return sample_polyline(self.points, spacing_m)


class PathGenerator(ABC):
    """Interface of the path stage."""

    @abstractmethod
    def generate(self, route: Route, region: Polygon, pose_spacing_m: float) -> CoveragePath:
        """Poses along the route."""


def _concat(route: Route) -> tuple[np.ndarray, np.ndarray]:
    """Join the legs into one polyline with a kind per segment.

    Legs join end to start by construction; were one not to, the gap becomes a straight
    'transit' segment, which the violation check would then report if it left the area. Each
    leg is simplified within ``SIMPLIFY_TOL_M`` (1 µm) of every vertex dropped, however densely
    the route is sampled: no more than the smallest safety margin (``safety_margin_m``, 0.1 mm
    by default) that keeps the region inside the allowed area.
    """
    pts: list[np.ndarray] = []
    kinds: list[int] = []
    for leg in route.legs:
        p = simplify_polyline(leg.points, SIMPLIFY_TOL_M)
        k = KINDS.index(leg.kind)
        if pts:
            if np.hypot(*(pts[-1][-1] - p[0])) <= 1e-9:
                p = p[1:]
                kinds.extend([k] * len(p))
            else:
                kinds.append(KINDS.index('transit'))
                kinds.extend([k] * (len(p) - 1))
        else:
            kinds.extend([k] * (len(p) - 1))
        if len(p):
            pts.append(p)
    if not pts:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int8)
    return np.vstack(pts), np.asarray(kinds, dtype=np.int8)


def sample_polyline(points: np.ndarray, spacing_m: float) -> np.ndarray:
    """Points every ``spacing_m`` along a polyline, with every vertex kept."""
    if len(points) < 2:
        return np.asarray(points, dtype=float)
    seg = np.diff(points, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    counts = np.maximum(np.ceil(lengths / spacing_m).astype(np.int64), 1)
    idx = np.repeat(np.arange(len(seg)), counts)
    frac = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(
        counts, counts
    )
    out = points[idx] + frac[:, None] * seg[idx]
    return np.vstack([out, points[-1:]])


def _poses(points: np.ndarray, spacing_m: float) -> tuple[np.ndarray, int]:
    """Poses every ``spacing_m`` along each segment; a pivot pose where the heading changes."""
    if len(points) < 2:
        p = np.asarray(points, dtype=float)
        return np.column_stack([p, np.zeros(len(p))]), 0
    seg = np.diff(points, axis=0)
    yaw = np.arctan2(seg[:, 1], seg[:, 0])
    counts = np.maximum(np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / spacing_m).astype(np.int64), 1)
    idx = np.repeat(np.arange(len(seg)), counts)
    first = np.cumsum(counts) - counts
    frac = (np.arange(counts.sum()) - np.repeat(first, counts)) / np.repeat(counts, counts)
    xy = points[idx] + frac[:, None] * seg[idx]
    main = np.column_stack([xy, yaw[idx]])
    dyaw = np.abs(np.remainder(np.diff(yaw) + np.pi, 2 * np.pi) - np.pi)
    pivot = np.flatnonzero(dyaw > 1e-9) + 1  # segments that start with a rotation
    # arrive at the vertex with the old heading, then rotate in place
    arrive = np.column_stack([points[pivot], yaw[pivot - 1]])
    poses = np.insert(main, first[pivot], arrive, axis=0)
    poses = np.vstack([poses, [points[-1, 0], points[-1, 1], yaw[-1]]])
    return poses, int((dyaw > TURN_THRESHOLD_RAD).sum())


class PivotTurns(PathGenerator):
    """Straight segments joined by in-place rotations."""

    def generate(self, route: Route, region: Polygon, pose_spacing_m: float) -> CoveragePath:
        """Concatenate the legs and sample poses."""
        points, kinds = _concat(route)
        poses, turns = _poses(points, pose_spacing_m)
        return CoveragePath(points, kinds, poses, turns)


class ArcTurns(PathGenerator):
    """Arcs of at least ``radius_m`` at the corners of turns and transits, where they fit.

    Corners on headlands and stripes are kept sharp, since they carry the coverage of edges;
    corners where the arc would leave the region or does not fit between neighbouring corners
    are pivots, which a differential-drive mower can always do.
    """

    def __init__(self, radius_m: float, arc_step_rad: float = math.radians(10.0)) -> None:
        """Arcs of ``radius_m``, sampled every ``arc_step_rad``."""
        self.radius_m = radius_m
        self.arc_step_rad = arc_step_rad

    def generate(self, route: Route, region: Polygon, pose_spacing_m: float) -> CoveragePath:
        """Fillet the corners that may be filleted, then sample poses."""
        points, kinds = _concat(route)
        if len(points) < 3 or self.radius_m <= 0:
            poses, turns = _poses(points, pose_spacing_m)
            return CoveragePath(points, kinds, poses, turns)
        shapely.prepare(region)
        seg = np.diff(points, axis=0)
        lengths = np.hypot(seg[:, 0], seg[:, 1])
        headland, stripe = KINDS.index('headland'), KINDS.index('stripe')
        out_pts = [points[0]]
        out_kinds: list[int] = []
        arcs = 0
        for i in range(1, len(points) - 1):
            k_in, k_out = int(kinds[i - 1]), int(kinds[i])
            arc = None
            if not ({k_in, k_out} <= {headland, stripe}):
                arc = self._fillet(
                    points[i - 1], points[i], points[i + 1], lengths[i - 1] / 2, lengths[i] / 2
                )
                if arc is not None and not region.covers(shapely.linestrings(arc)):
                    arc = None
            if arc is None:
                out_pts.append(points[i])
                out_kinds.append(k_in)
            else:
                out_pts.append(arc[0])
                out_kinds.append(k_in)
                for p in arc[1:]:
                    out_pts.append(p)
                    out_kinds.append(KINDS.index('turn'))
                arcs += 1
        out_pts.append(points[-1])
        out_kinds.append(int(kinds[-1]))
        pts = np.asarray(out_pts)
        poses, turns = _poses(pts, pose_spacing_m)
        return CoveragePath(pts, np.asarray(out_kinds, dtype=np.int8), poses, turns + arcs)

    def _fillet(
        self, a: np.ndarray, b: np.ndarray, c: np.ndarray, max_in: float, max_out: float
    ) -> np.ndarray | None:
        u = (b - a) / max(np.hypot(*(b - a)), 1e-12)
        v = (c - b) / max(np.hypot(*(c - b)), 1e-12)
        turn = math.atan2(u[0] * v[1] - u[1] * v[0], float(u @ v))
        if abs(turn) < math.radians(1.0) or abs(turn) > math.radians(179.0):
            return None
        tangent = self.radius_m * math.tan(abs(turn) / 2)
        if tangent > max_in or tangent > max_out:
            return None
        p0 = b - u * tangent
        normal = np.array([-u[1], u[0]]) * math.copysign(1.0, turn)
        centre = p0 + normal * self.radius_m
        start = math.atan2(p0[1] - centre[1], p0[0] - centre[0])
        n = max(2, math.ceil(abs(turn) / self.arc_step_rad) + 1)
        ang = start + np.linspace(0.0, turn, n)
        return np.column_stack(
            [centre[0] + self.radius_m * np.cos(ang), centre[1] + self.radius_m * np.sin(ang)]
        )
