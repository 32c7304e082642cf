"""The error of the pose the stack sees: RTK-GNSS noise, RTK dropouts and wheel-odometry drift.

On the robot the pose comes from robot_localization fusing wheel odometry, the IMU and an
RTK-GNSS fix. :class:`PoseErrorModel` turns the simulator's true pose into such an estimate,
deterministically from a seed:

- **RTK fixed** (most of the time): the position error is a first-order Gauss-Markov process
  of ``gnss_std_m`` (a few centimetres) and correlation time ``gnss_tau_s`` (0: white), the
  heading error one of ``yaw_std_rad``: bounded, unbiased.
- **RTK dropouts**: they start at Poisson-timed instants (``dropout_rate_per_min``) and last
  between ``dropout_min_s`` and ``dropout_max_s``. Meanwhile the pose is dead reckoning from
  the last fused pose: the heading error walks randomly with the distance travelled
  (``odom_yaw_walk_rad`` per square-root metre), each displacement is turned by that error,
  and the position takes a random walk of its own (``odom_xy_walk_m`` per square-root metre):
  the error grows with the distance driven.
- **Recovery**: when the fix returns the estimate converges back onto the RTK solution with
  time constant ``recover_s`` (0: at once), as an EKF does.

ROS-free: numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mower_node_kit.params import ConfigError, check_ranges, param

__all__ = ['PoseErrorModel', 'PoseErrorParams']


@dataclass(frozen=True)
class PoseErrorParams:
    """The pose-error model's settings. Units are in the names."""

    gnss_std_m: float = param(0.02, 'RTK-fixed position error (each axis, std)', 0.0, 10.0)
    gnss_tau_s: float = param(
        2.0, 'correlation time of the RTK position error (0: white)', 0.0, 3600.0
    )
    yaw_std_rad: float = param(0.005, 'heading error with the RTK fix (std)', 0.0, 1.0)
    dropout_rate_per_min: float = param(
        0.5, 'mean number of RTK dropouts a minute (Poisson; 0: none)', 0.0, 60.0
    )
    dropout_min_s: float = param(2.0, 'shortest RTK dropout', 0.0, 3600.0)
    dropout_max_s: float = param(6.0, 'longest RTK dropout', 0.0, 3600.0)
    odom_xy_walk_m: float = param(
        0.005, 'odometry position random walk, m per square-root metre driven', 0.0, 1.0
    )
    odom_yaw_walk_rad: float = param(
        0.01, 'odometry heading random walk, rad per square-root metre driven', 0.0, 1.0
    )
    recover_s: float = param(
        1.0, 'time constant of the return onto the RTK solution after a dropout', 0.0, 600.0
    )

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range; dropouts min <= max."""
        check_ranges(self)
        if self.dropout_min_s > self.dropout_max_s:
            raise ConfigError(
                'dropout_min_s',
                self.dropout_min_s,
                f'is above dropout_max_s ({self.dropout_max_s})',
            )


class PoseErrorModel:
    """The pose the stack sees, from the true pose; call :meth:`observe` in time order."""

    def __init__(self, params: PoseErrorParams | None = None, seed: int = 0) -> None:
        """A model with its own random stream (``seed``); RTK fixed at the start."""
        self.params = params or PoseErrorParams()
        self.rng = np.random.default_rng(seed)
        p = self.params
        self._gnss = self.rng.normal(0.0, p.gnss_std_m, 2) if p.gnss_std_m > 0 else np.zeros(2)
        self._gnss_yaw = float(self.rng.normal(0.0, p.yaw_std_rad)) if p.yaw_std_rad else 0.0
        self._err: np.ndarray = np.zeros(3)  # the output error: dx, dy, dyaw
        self._offset: np.ndarray = np.zeros(3)  # dead reckoning's error over the RTK one
        self._t: float | None = None
        self._last: np.ndarray | None = None  # the last true pose
        self._dropout_end: float | None = None  # the running dropout ends then (None: fixed)
        self._next_dropout = self._draw_gap(0.0)
        #: every dropout so far, (start, end) in seconds; the last may still be running
        self.dropouts: list[tuple[float, float]] = []

    @property
    def rtk_fixed(self) -> bool:
        """The pose is RTK-fixed now (not dead reckoning through a dropout)."""
        return self._dropout_end is None

    @property
    def error(self) -> tuple[float, float, float]:
        """The current error (estimate minus truth): dx, dy (m), dyaw (rad)."""
        return float(self._err[0]), float(self._err[1]), float(self._err[2])

    def observe(
        self, time_s: float, true_pose: tuple[float, float, float]
    ) -> tuple[float, float, float]:
        """The estimated x, y (m), yaw (rad) at ``time_s`` of the true pose ``true_pose``.

        Asked again at the same (or an earlier) time, the error stays as it is.
        """
        pose = np.asarray(true_pose, dtype=float)
        if self._t is None or time_s > self._t:
            dt = 0.0 if self._t is None else time_s - self._t
            self._schedule(time_s)
            self._advance_gnss(dt)
            if self._dropout_end is not None and self._last is not None:
                self._dead_reckon(self._last, pose)
            else:
                p = self.params
                self._offset *= math.exp(-dt / p.recover_s) if p.recover_s > 0 else 0.0
                self._err = np.array([*self._gnss, self._gnss_yaw]) + self._offset
            self._t, self._last = time_s, pose
        x, y, yaw = pose + self._err
        return float(x), float(y), float(math.atan2(math.sin(yaw), math.cos(yaw)))

    # -- internals ------------------------------------------------------------------------------
    def _draw_gap(self, after_s: float) -> float:
        rate = self.params.dropout_rate_per_min / 60.0
        return math.inf if rate <= 0 else after_s + float(self.rng.exponential(1.0 / rate))

    def _schedule(self, t: float) -> None:
        """Start and end dropouts at their times."""
        p = self.params
        if self._dropout_end is not None and t >= self._dropout_end:
            self._dropout_end = None  # the fix is back: converge from here
            self._offset = self._err - np.array([*self._gnss, self._gnss_yaw])
            self._next_dropout = self._draw_gap(t)
        if self._dropout_end is None and t >= self._next_dropout:
            length = float(self.rng.uniform(p.dropout_min_s, p.dropout_max_s))
            self._dropout_end = t + length
            self.dropouts.append((t, t + length))

    def _advance_gnss(self, dt: float) -> None:
        """The Gauss-Markov RTK errors one step on (they run on through dropouts)."""
        p = self.params
        a = math.exp(-dt / p.gnss_tau_s) if p.gnss_tau_s > 0 else 0.0
        k = math.sqrt(max(0.0, 1.0 - a * a))
        if p.gnss_std_m > 0:
            self._gnss = a * self._gnss + k * self.rng.normal(0.0, p.gnss_std_m, 2)
        if p.yaw_std_rad > 0:
            self._gnss_yaw = a * self._gnss_yaw + k * float(self.rng.normal(0.0, p.yaw_std_rad))

    def _dead_reckon(self, last: np.ndarray, pose: np.ndarray) -> None:
        """Odometry's error one step on: the true displacement turned by the heading error."""
        p = self.params
        d = pose[:2] - last[:2]
        ds = float(np.hypot(*d))
        if ds <= 0.0:
            return
        s = math.sqrt(ds)
        self._err[2] += float(self.rng.normal(0.0, p.odom_yaw_walk_rad * s))
        c, sn = math.cos(self._err[2]), math.sin(self._err[2])
        turned = np.array([c * d[0] - sn * d[1], sn * d[0] + c * d[1]])
        self._err[:2] += turned - d + self.rng.normal(0.0, p.odom_xy_walk_m * s, 2)
