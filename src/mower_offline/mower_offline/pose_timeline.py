"""The robot's poses over time in a bag, as tf would give them: :class:`Timeline`.

The replay's first pass collects the poses (odometry, poses or tf) into rows of
``(t, x, y, roll, pitch, yaw, frame)``; :func:`timeline_from_rows` sorts them into a
:class:`Timeline`, :func:`tf_chain` composes the robot's path from tf (world frame -> base
frame, with map -> odom when the bag has it). :meth:`Timeline.at` interpolates the pose of any
time stamp and refuses one in a gap of the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mower_mapping.pose_buffer import Pose5, PoseSource, interpolate

BASE_FRAMES = ('base_link', 'base_footprint', 'base')  # the robot's frame in tf, best first


@dataclass
class Timeline:
    """Poses over time (sorted): t, x, y, yaw, roll, pitch."""

    t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    yaw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rp: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    frame_id: str = ''
    source: str = ''

    def __len__(self) -> int:
        """Number of poses."""
        return len(self.t)

    def at(self, t: float, max_gap_s: float) -> tuple[float, float, float, float, float] | None:
        """(x, y, yaw, roll, pitch) at ``t``, interpolated; None beyond ``max_gap_s`` of data."""
        n = len(self.t)
        if n == 0 or t < self.t[0] - max_gap_s or t > self.t[-1] + max_gap_s:
            return None
        i = int(np.searchsorted(self.t, t))
        if i <= 0 or i >= n:
            j = 0 if i <= 0 else n - 1
            x, y, yaw, roll, pitch = self._row(j)
            return float(x), float(y), float(yaw), float(roll), float(pitch)
        t0, t1 = self.t[i - 1], self.t[i]
        if t1 - t0 > 2 * max_gap_s and min(t - t0, t1 - t) > max_gap_s:
            return None  # inside a gap in the data
        return interpolate(t0, self._row(i - 1), t1, self._row(i), t)

    def _row(self, i: int) -> tuple[float, ...]:
        return (*self.xy[i], self.yaw[i], *self.rp[i])

    def poses(self, max_gap_s: float) -> PoseSource:
        """This timeline as the mapping core's pose source (gaps over ``max_gap_s`` refused)."""
        return _TimelinePoses(self, max_gap_s)

    def without(self, drop: np.ndarray) -> Timeline:
        """This timeline less the poses where the boolean mask ``drop`` is true."""
        keep = ~np.asarray(drop, dtype=bool)
        return Timeline(
            self.t[keep], self.xy[keep], self.yaw[keep], self.rp[keep], self.frame_id, self.source
        )

    def length_m(self) -> float:
        """Distance along the path."""
        if len(self.xy) < 2:
            return 0.0
        return float(np.hypot(*np.diff(self.xy, axis=0).T).sum())


@dataclass
class _TimelinePoses:
    timeline: Timeline
    max_gap_s: float

    def lookup(self, t: float) -> Pose5 | None:
        return self.timeline.at(t, self.max_gap_s)


def implausible(
    t: np.ndarray, xy: np.ndarray, max_speed_mps: float, slack_m: float = 1.0
) -> np.ndarray:
    """A mask of the poses that jump: farther from the last plausible one than it could drive.

    Poses sorted by time ``t``; a pose is plausible when it is within ``slack_m`` +
    ``max_speed_mps`` x the time since the last plausible pose of it. The first plausible pose
    is the first one within reach of the pose after it, so a wild first pose is dropped too.
    """
    n = len(t)
    drop = np.zeros(n, dtype=bool)
    if n < 2:
        return drop
    step = np.hypot(*np.diff(xy, axis=0).T) <= slack_m + max_speed_mps * np.abs(np.diff(t))
    if step.all():
        return drop
    tt, x, y = t.tolist(), xy[:, 0].tolist(), xy[:, 1].tolist()

    def reach(i: int, j: int) -> bool:
        return math.hypot(x[j] - x[i], y[j] - y[i]) <= slack_m + max_speed_mps * abs(tt[j] - tt[i])

    first = next((i for i in range(n - 1) if reach(i, i + 1)), 0)
    drop[:first] = True
    last = first
    for i in range(first + 1, n):
        if reach(last, i):
            last = i
        else:
            drop[i] = True
    return drop


def timeline_from_rows(rows: list[tuple], source: str) -> Timeline:
    """A timeline of ``(t, x, y, roll, pitch, yaw, frame)`` rows (any order); the last frame."""
    rows = sorted(rows, key=lambda r: r[0])
    a = np.array([r[:6] for r in rows], dtype=float)
    c = np.ascontiguousarray
    return Timeline(c(a[:, 0]), c(a[:, 1:3]), c(a[:, 5]), c(a[:, 3:5]), str(rows[-1][6]), source)


def tf_chain(tf: dict[tuple[str, str], list[tuple]]) -> Timeline | None:
    """The robot's path from tf: (world frame -> base frame), with map -> odom if present.

    ``tf`` maps (parent, child) frames to ``(t, x, y, roll, pitch, yaw)`` rows; None when no
    transform ends in one of :data:`BASE_FRAMES`.
    """
    cands = [(k, v) for k, v in tf.items() if k[1] in BASE_FRAMES and k[0] not in BASE_FRAMES]
    if not cands:
        return None
    (parent, child), rows = max(cands, key=lambda kv: len(kv[1]))
    tl = timeline_from_rows([(*r, parent) for r in rows], f'tf {parent} -> {child}')
    above = tf.get(('map', parent)) if parent != 'map' else None
    if above:  # compose map -> odom (the latest at or before each time)
        m = np.array(sorted(above), dtype=float)
        idx = np.clip(np.searchsorted(m[:, 0], tl.t, side='right') - 1, 0, len(m) - 1)
        c, s = np.cos(m[idx, 5]), np.sin(m[idx, 5])
        x, y = tl.xy[:, 0], tl.xy[:, 1]
        tl.xy = np.column_stack([m[idx, 1] + c * x - s * y, m[idx, 2] + s * x + c * y])
        tl.yaw = tl.yaw + m[idx, 5]
        tl.frame_id, tl.source = 'map', f'tf map -> {parent} -> {child}'
    return tl
