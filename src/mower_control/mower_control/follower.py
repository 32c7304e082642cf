"""Regulated pure pursuit: the path follower, as a ROS-free core.

The approach of Nav2's Regulated Pure Pursuit controller, with its heuristics as small free
functions and its parameters in one plain dataclass:

- the lookahead distance scales with speed (``lookahead_time_s``), clamped to a range;
- the speed is regulated down on tight curvature, near obstacles and when approaching the end;
- where the path pivots (a corner sharper than ``pivot_angle_rad``: the planner's in-place
  turns) the follower stops on the corner and rotates in place to the next heading, so stripe
  ends are never cut short and U-turns never overshoot;
- linear and angular speed and acceleration are limited.

Coordinates are metres and radians in the frame of the path (``map``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mower_maps.geometry import cumulative_length, segment_lengths, wrap_angle
from mower_node_kit.params import ConfigError, check_ranges, param


@dataclass(frozen=True)
class FollowerParams:
    """Everything the follower can be told. Units are in the names."""

    desired_speed_mps: float = param(0.5, 'cruising speed on the path', 0.01, 5.0)
    max_speed_mps: float = param(1.0, 'hard limit on the linear speed', 0.01, 5.0)
    lookahead_time_s: float = param(1.0, 'lookahead distance = speed x this, clamped', 0.01, 10.0)
    min_lookahead_m: float = param(0.3, 'shortest lookahead distance', 0.01, 10.0)
    max_lookahead_m: float = param(0.9, 'longest lookahead distance', 0.01, 10.0)
    regulated_min_radius_m: float = param(
        0.9, 'curves tighter than this radius are driven slower', 0.01, 100.0
    )
    min_regulated_speed_mps: float = param(
        0.1, 'floor of the curvature and obstacle slowing', 0.001, 5.0
    )
    approach_distance_m: float = param(
        0.5, 'slow down over this distance before a stop', 0.001, 10.0
    )
    min_approach_speed_mps: float = param(0.05, 'floor of the approach slowing', 0.001, 5.0)
    goal_tolerance_m: float = param(
        0.03, 'a stop point counts as reached within this distance', 0.001, 1.0
    )
    pivot_angle_rad: float = param(
        0.5, 'path corners sharper than this are pivots: stop, turn in place', 0.001, math.pi
    )
    rotate_to_heading_rad: float = param(
        0.6, 'rotate in place when the heading error is larger', 0.001, math.pi
    )
    heading_tolerance_rad: float = param(
        0.04, 'a rotation in place ends within this error', 0.001, 1.0
    )
    rotate_speed_radps: float = param(1.0, 'speed of rotations in place', 0.01, 10.0)
    max_angular_speed_radps: float = param(1.5, 'hard limit on the angular speed', 0.01, 10.0)
    max_linear_accel_mps2: float = param(0.6, 'linear acceleration limit', 0.01, 20.0)
    max_angular_accel_radps2: float = param(3.0, 'angular acceleration limit', 0.01, 50.0)
    obstacle_slow_distance_m: float = param(
        1.0, 'slow down when an obstacle ahead is nearer than this', 0.01, 20.0
    )
    footprint_radius_m: float = param(
        0.2,
        'obstacle distances are measured from the edge of a disc of this radius (the safety '
        'footprint_radius_m)',
        0.0,
        5.0,
    )
    reverse_speed_mps: float = param(0.2, 'speed on paths driven backwards (docking)', 0.01, 5.0)
    search_window_m: float = param(
        1.5, 'how far along the path to look for the robot each step', 0.01, 100.0
    )

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range; ranges must be ordered."""
        check_ranges(self)
        if self.min_lookahead_m > self.max_lookahead_m:
            raise ConfigError(
                'min_lookahead_m',
                self.min_lookahead_m,
                f'must not exceed max_lookahead_m ({self.max_lookahead_m})',
            )
        if self.desired_speed_mps > self.max_speed_mps:
            raise ConfigError(
                'desired_speed_mps',
                self.desired_speed_mps,
                f'must not exceed max_speed_mps ({self.max_speed_mps})',
            )


# -- heuristics (free functions, as RPP keeps them) ---------------------------------------------


def lookahead_distance(speed_mps: float, p: FollowerParams) -> float:
    """Velocity-scaled lookahead, clamped."""
    return _clamp(abs(speed_mps) * p.lookahead_time_s, p.min_lookahead_m, p.max_lookahead_m)


def curvature_constraint(v_mps: float, curvature: float, p: FollowerParams) -> float:
    """Slow down on curves tighter than ``regulated_min_radius_m``."""
    if abs(curvature) < 1e-9:
        return v_mps
    radius = 1.0 / abs(curvature)
    if radius >= p.regulated_min_radius_m:
        return v_mps
    return max(v_mps * radius / p.regulated_min_radius_m, min(v_mps, p.min_regulated_speed_mps))


def obstacle_constraint(v_mps: float, obstacle_distance_m: float, p: FollowerParams) -> float:
    """Slow down linearly as an obstacle ahead comes nearer than ``obstacle_slow_distance_m``."""
    if obstacle_distance_m >= p.obstacle_slow_distance_m:
        return v_mps
    k = max(0.0, obstacle_distance_m) / p.obstacle_slow_distance_m
    return max(v_mps * k, min(v_mps, p.min_regulated_speed_mps))


def approach_constraint(v_mps: float, remaining_m: float, p: FollowerParams) -> float:
    """Slow down before a stop so the robot halts on it (a braking profile, floored)."""
    if remaining_m >= p.approach_distance_m:
        return v_mps
    to_go = max(remaining_m - p.goal_tolerance_m, 0.0)  # almost at rest on reaching the stop
    v_brake = math.sqrt(2.0 * p.max_linear_accel_mps2 * 0.5 * to_go)
    return min(v_mps, max(v_brake, p.min_approach_speed_mps))


def _clamp(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


# -- the path ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A piece of the path driven without stopping: from one pivot to the next."""

    points: np.ndarray  # (N, 2)
    cum: np.ndarray  # (N,) arc length at each vertex
    start_s: float  # arc length of its first vertex along the whole path

    @property
    def length_m(self) -> float:
        """Length of the segment."""
        return float(self.cum[-1])

    def heading_at_start(self) -> float:
        """Heading of its first piece."""
        d = self.points[1] - self.points[0]
        return math.atan2(d[1], d[0])

    def point_at(self, s: float) -> np.ndarray:
        """The point at arc length ``s`` (extrapolated past either end along the end pieces)."""
        pts, cum = self.points, self.cum
        i = int(_clamp(int(np.searchsorted(cum, s, side='right')) - 1, 0, len(pts) - 2))
        d = pts[i + 1] - pts[i]
        seg = cum[i + 1] - cum[i]
        return pts[i] + d * ((s - cum[i]) / seg)

    def project(self, xy: np.ndarray, s_from: float, s_to: float) -> tuple[float, float]:
        """(arc length, signed cross-track error) of ``xy`` on the part [s_from, s_to]."""
        pts, cum = self.points, self.cum
        i0 = max(0, int(np.searchsorted(cum, s_from, side='right')) - 1)
        i1 = min(len(pts) - 1, int(np.searchsorted(cum, s_to, side='left')) + 1)
        a, b = pts[i0:i1], pts[i0 + 1 : i1 + 1]
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        d = b - a
        len2 = np.maximum((d * d).sum(axis=1), 1e-18)
        t = np.clip(((xy - a) * d).sum(axis=1) / len2, 0.0, 1.0)
        q = a + d * t[:, None]
        dist2 = ((xy - q) ** 2).sum(axis=1)
        k = int(np.argmin(dist2))
        s = float(cum[i0 + k] + t[k] * math.sqrt(len2[k]))
        cross = float(d[k, 0] * (xy[1] - a[k, 1]) - d[k, 1] * (xy[0] - a[k, 0]))
        return s, math.copysign(math.sqrt(dist2[k]), cross)


def split_at_pivots(points: np.ndarray, pivot_angle_rad: float) -> list[Segment]:
    """Cut a polyline where its heading turns more than ``pivot_angle_rad`` at a vertex."""
    pts = np.asarray(points, dtype=float)
    if len(pts):
        keep = np.concatenate([[True], segment_lengths(pts) > 1e-6])
        pts = pts[keep]
    if len(pts) < 2:
        return []
    d = np.diff(pts, axis=0)
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs(wrap_angle(np.diff(heading)))
    cuts = [0, *(np.flatnonzero(turn > pivot_angle_rad) + 1).tolist(), len(pts) - 1]
    out: list[Segment] = []
    start_s = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        seg = pts[a : b + 1]
        cum = cumulative_length(seg)
        out.append(Segment(seg, cum, start_s))
        start_s += float(cum[-1])
    return out


# -- the controller ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowerCommand:
    """One control step's output."""

    v_mps: float
    w_radps: float
    mode: str  # 'idle', 'rotating', 'following', 'done'
    progress_m: float  # arc length reached along the whole path
    cross_track_m: float  # signed distance from the path (left positive)
    segment: int  # index of the segment being driven


@dataclass
class PathFollower:
    """Follows one path at a time; call :meth:`step` at the control rate."""

    params: FollowerParams = field(default_factory=FollowerParams)
    segments: list[Segment] = field(default_factory=list)
    reverse: bool = False
    _seg: int = 0
    _s: float = 0.0
    _rotating: bool = True
    _v: float = 0.0
    _w: float = 0.0
    _last_t: float | None = None
    _length: float = 0.0

    def set_path(self, points: np.ndarray, reverse: bool = False, start_m: float = 0.0) -> None:
        """Follow a new polyline (driven backwards when ``reverse``), from arc length start_m."""
        self.segments = split_at_pivots(points, self.params.pivot_angle_rad)
        self.reverse = reverse
        self._length = sum(s.length_m for s in self.segments)
        self._seg, self._s, self._rotating = 0, 0.0, True
        for i, seg in enumerate(self.segments):  # skip to the segment holding start_m
            if start_m < seg.start_s + seg.length_m or i == len(self.segments) - 1:
                self._seg, self._s = i, max(0.0, min(start_m - seg.start_s, seg.length_m))
                break

    def clear(self) -> None:
        """Stop following (the next steps ramp down to a stop)."""
        self.segments = []
        self._length = 0.0

    @property
    def done(self) -> bool:
        """True when every segment has been driven."""
        return self._seg >= len(self.segments)

    @property
    def length_m(self) -> float:
        """Length of the current path."""
        return self._length

    def step(
        self,
        x_m: float,
        y_m: float,
        yaw_rad: float,
        time_s: float,
        obstacle_distance_m: float = math.inf,
    ) -> FollowerCommand:
        """The velocity command for the robot's pose at ``time_s``."""
        p = self.params
        dt = 0.02 if self._last_t is None else max(1e-3, min(0.2, time_s - self._last_t))
        self._last_t = time_s
        if self.done:
            return self._out(0.0, 0.0, dt, 'done' if self.segments else 'idle', 0.0)
        seg = self.segments[self._seg]
        xy = np.array([x_m, y_m])
        heading = wrap_angle(yaw_rad + math.pi) if self.reverse else yaw_rad
        s, cross = seg.project(xy, self._s - 0.1, self._s + p.search_window_m)
        self._s = max(self._s, s)
        remaining = seg.length_m - self._s
        end = seg.points[-1]
        if remaining <= p.goal_tolerance_m or (
            remaining < p.approach_distance_m
            and float(np.dot(end - xy, seg.points[-1] - seg.points[-2])) <= 0.0
        ):
            self._seg += 1  # reached (or passed) the stop: the next segment starts rotated
            self._s, self._rotating = 0.0, True
            return self._out(0.0, 0.0, dt, 'done' if self.done else 'rotating', cross)
        if self._rotating:  # align with the segment first
            err = wrap_angle(seg.heading_at_start() - heading)
            if abs(err) > p.heading_tolerance_rad:
                w = math.copysign(min(p.rotate_speed_radps, max(0.15, 2.0 * abs(err))), err)
                return self._out(0.0, w, dt, 'rotating', cross)
            self._rotating = False
        v_cap = p.reverse_speed_mps if self.reverse else p.desired_speed_mps
        look = lookahead_distance(max(abs(self._v), 0.5 * v_cap), p)
        target = seg.point_at(self._s + look)
        dx, dy = target - xy
        c, s_ = math.cos(heading), math.sin(heading)
        lx, ly = c * dx + s_ * dy, -s_ * dx + c * dy  # the target in the robot's frame
        dist2 = max(lx * lx + ly * ly, 1e-9)
        if lx < 0 or abs(math.atan2(ly, lx)) > p.rotate_to_heading_rad:
            w = math.copysign(p.rotate_speed_radps, math.atan2(ly, lx))
            return self._out(0.0, w, dt, 'rotating', cross)
        curvature = 2.0 * ly / dist2
        v = curvature_constraint(v_cap, curvature, p)
        v = obstacle_constraint(v, obstacle_distance_m, p)
        v = approach_constraint(v, remaining, p)
        w = v * curvature  # the yaw rate is the travel direction's, forwards or backwards
        if self.reverse:
            v = -v
        return self._out(v, w, dt, 'following', cross)

    def _out(self, v: float, w: float, dt: float, mode: str, cross: float) -> FollowerCommand:
        p = self.params
        v = _clamp(v, -p.max_speed_mps, p.max_speed_mps)
        w = _clamp(w, -p.max_angular_speed_radps, p.max_angular_speed_radps)
        dv, dw = p.max_linear_accel_mps2 * dt, p.max_angular_accel_radps2 * dt
        self._v += _clamp(v - self._v, -dv, dv)
        self._w += _clamp(w - self._w, -dw, dw)
        if mode == 'following' and abs(v) > 1e-9:  # keep the arc: scale w with the ramped v
            self._w = _clamp(w * self._v / v, self._w - dw, self._w + dw)
        progress = (
            self.segments[min(self._seg, len(self.segments) - 1)].start_s + self._s
            if self.segments and not self.done
            else self._length
        )
        return FollowerCommand(
            self._v, self._w, mode, progress, cross, min(self._seg, max(0, len(self.segments) - 1))
        )
