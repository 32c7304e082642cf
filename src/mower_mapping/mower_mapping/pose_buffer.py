"""The pose at an image's time stamp: one interpolation, a live history and its protocol.

:func:`interpolate` is the one rule (linear in x, y, roll, pitch; yaw the short way round);
:class:`PoseBuffer` keeps the recent poses of a live robot or simulation (mapping_node, the
simulated run), and the replay's whole-bag timeline answers the same :class:`PoseSource`
question with the same rule.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import Protocol

Pose5 = tuple[float, float, float, float, float]  # x, y, yaw, roll, pitch


class PoseSource(Protocol):
    """Anything that gives the pose at a time stamp (None: not known then)."""

    def lookup(self, t: float) -> Pose5 | None:
        """(x, y, yaw, roll, pitch) at ``t``."""


def interpolate(
    t0: float, a: tuple[float, ...], t1: float, b: tuple[float, ...], t: float
) -> Pose5:
    """The pose at ``t`` between pose ``a`` at ``t0`` and ``b`` at ``t1``.

    Poses are (x, y, yaw, roll, pitch); position, roll and pitch linearly, yaw along the
    shorter way round.
    """
    f = 0.0 if t1 <= t0 else (t - t0) / (t1 - t0)
    yaw = a[2] + f * math.remainder(b[2] - a[2], 2 * math.pi)
    return (
        float(a[0] + f * (b[0] - a[0])),
        float(a[1] + f * (b[1] - a[1])),
        float(yaw),
        float(a[3] + f * (b[3] - a[3])),
        float(a[4] + f * (b[4] - a[4])),
    )


class PoseBuffer:
    """Recent poses (t, x, y, yaw, roll, pitch), interpolated at a query time."""

    def __init__(self, horizon_s: float = 5.0, tolerance_s: float = 0.05) -> None:
        """Keep ``horizon_s`` of history; answer up to ``tolerance_s`` beyond its ends."""
        self.horizon_s = horizon_s
        self.tolerance_s = tolerance_s
        self._t: deque[float] = deque()
        self._p: deque[tuple[float, ...]] = deque()

    def add(
        self, t: float, x: float, y: float, yaw: float, roll: float = 0.0, pitch: float = 0.0
    ) -> bool:
        """Add a pose; one older than the newest (time going backwards) is refused."""
        if not all(math.isfinite(v) for v in (t, x, y, yaw, roll, pitch)):
            return False
        if self._t and t < self._t[-1]:
            return False
        self._t.append(t)
        self._p.append((x, y, yaw, roll, pitch))
        while self._t and self._t[0] < t - self.horizon_s:
            self._t.popleft()
            self._p.popleft()
        return True

    def lookup(self, t: float) -> tuple[float, float, float, float, float] | None:
        """(x, y, yaw, roll, pitch) at ``t``, or None when ``t`` is outside the history."""
        if not self._t or t < self._t[0] - self.tolerance_s or t > self._t[-1] + self.tolerance_s:
            return None
        times = list(self._t)
        i = bisect.bisect_left(times, t)
        if i <= 0:
            return self._p[0]
        if i >= len(times):
            return self._p[-1]
        return interpolate(times[i - 1], self._p[i - 1], times[i], self._p[i], t)
