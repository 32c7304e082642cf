"""One scheduler for the simulation loop's periodic work (:class:`Every`), and :class:`Pacer`.

:class:`Pacer` holds simulated or bag time to a rate in wall time, for a live view.

The loop runs on simulated time, a float that MuJoCo advances in small steps (0.004 s, five per
50 Hz control tick), so a tick that "is" at 0.1 s may be 0.09999999999999998 or
0.10000000000000006. :class:`Every` compares with a tolerance (``tol_s``, 1 us by default, far
below any tick) so that such a tick counts as on time, and it is deterministic: the same
sequence of times gives the same answers, on any machine.

Two ways to go on after something was due (``aligned``):

* ``aligned=False`` (a timer): the next time is one period after the time it was due. A late
  call moves the rhythm with it ("at most once per period").
* ``aligned=True`` (a rate): the next time is the next mark ``start_s + k * period_s``; the
  rhythm keeps its phase, and marks that passed between two calls are skipped, not made up.

Example, the mowed layer at 10 Hz on a 50 Hz loop (due at 0.1, 0.2, ... s)::

    layer_rate = Every(0.1, start_s=0.1, aligned=True)
    while ...:
        loop.step()
        if layer_rate.due(sim.time_s):
            layer.update(...)

Before this class, the run's timers compared float times exactly: on the 50 Hz clock a 1 s
timer restarted at each firing then fired a tick late (1.02 s) about half the time, once the
float time ran a hair below the marks. The tolerance fixes that.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

TOLERANCE_S = 1e-6  # a float clock lands this close to a mark: it is on time


class Every:
    """Something due once every ``period_s`` seconds of a float clock (simulated, bag time).

    ``start_s`` is the first time it is due. ``due(t)`` answers for the clock at ``t`` (calls
    in time order) and, when it answers True, sets the next time (see the module docstring).
    """

    def __init__(
        self,
        period_s: float,
        start_s: float = 0.0,
        *,
        aligned: bool = False,
        tol_s: float = TOLERANCE_S,
    ) -> None:
        """Due at ``start_s``, then every ``period_s`` (> 0); ``tol_s`` >= 0 (0: exact)."""
        if not period_s > 0 or not math.isfinite(period_s):
            raise ValueError(f'period_s must be a positive number, not {period_s!r}')
        if not tol_s >= 0:
            raise ValueError(f'tol_s must be >= 0, not {tol_s!r}')
        self.period_s = float(period_s)
        self.aligned = aligned
        self.tol_s = float(tol_s)
        self.next_s = float(start_s)

    def due(self, t: float) -> bool:
        """Whether it is due at clock time ``t``; if so, the period starts again."""
        if t < self.next_s - self.tol_s:
            return False
        if not self.aligned:
            self.next_s = t + self.period_s
            return True
        self.next_s += self.period_s  # a sum, not start + k * period: as the loop always did
        if self.next_s <= t - self.tol_s:  # late by a period or more: skip the marks missed
            missed = math.floor((t - self.tol_s - self.next_s) / self.period_s) + 1
            self.next_s += missed * self.period_s
        return True

    def restart(self, t: float) -> None:
        """Count the period from ``t``: next due at ``t + period_s`` (a rate takes that phase)."""
        self.next_s = t + self.period_s


class Pacer:
    """Holds a clock (simulated, bag time) to ``rate`` of its seconds per wall second.

    ``wait(t)`` returns when the wall clock has caught up with ``t``: ``(t - t0) / rate`` wall
    seconds after the first call (at ``t0``). A clock that falls behind by more than
    ``slack_s`` wall seconds (the work is slower than the rate) takes the present as its new
    start, so the rest goes on at the rate instead of in a burst; a time earlier than one
    already seen (a message stamped in the past) does not wait. ``rate`` 0 never waits, nor
    does anything once ``stop`` is true (a :class:`mower_offline.out_dir.StopRequest`): a wait
    is slept in slices of at most ``slice_s``, so that a stop cuts it short.
    """

    def __init__(
        self,
        rate: float,
        *,
        slack_s: float = 0.5,
        slice_s: float = 0.1,
        stop: object = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Pace at ``rate`` (>= 0, finite; 0: as fast as it goes)."""
        if not rate >= 0 or not math.isfinite(rate):
            raise ValueError(f'rate must be a finite number >= 0, not {rate!r}')
        self.rate, self.slack_s, self.slice_s = float(rate), float(slack_s), float(slice_s)
        self.stop = stop
        self.clock, self.sleep = clock, sleep
        self.start: tuple[float, float] | None = None  # (clock time, wall time) it counts from
        self.latest = -math.inf  # the latest clock time seen
        self.waited_s = 0.0  # wall seconds slept, in all

    def wait(self, t: float) -> None:
        """Return when clock time ``t`` is due on the wall clock."""
        if self.rate == 0 or t < self.latest:
            return
        self.latest = t
        now = self.clock()
        if self.start is None:
            self.start = (t, now)
            return
        due = self.start[1] + (t - self.start[0]) / self.rate
        if now - due > self.slack_s:
            self.start = (t, now)
        while due > now and not self.stop:
            step = min(due - now, self.slice_s)
            self.sleep(step)
            self.waited_s += step
            now = self.clock()
