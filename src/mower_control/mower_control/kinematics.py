"""Differential-drive kinematics and wheel odometry from encoder ticks."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mower_node_kit.params import check_ranges, param


@dataclass(frozen=True)
class DiffDrive:
    """Wheel geometry of the mower (metres) and its encoders."""

    wheel_radius_m: float = param(0.09, 'drive wheel radius', 0.005, 2.0)
    track_m: float = param(0.32, 'distance between the drive wheel centres', 0.01, 5.0)
    ticks_per_rev: int = param(1024, 'encoder ticks per wheel revolution', 1, 10_000_000)

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range: none is 0 (they divide)."""
        check_ranges(self)

    def wheel_speeds(self, v_mps: float, w_radps: float) -> tuple[float, float]:
        """(left, right) wheel rim speeds in m/s for a body velocity."""
        half = self.track_m / 2.0
        return v_mps - w_radps * half, v_mps + w_radps * half

    def body_velocity(self, left_mps: float, right_mps: float) -> tuple[float, float]:
        """(v, w) for wheel rim speeds."""
        return (left_mps + right_mps) / 2.0, (right_mps - left_mps) / self.track_m

    def limit(self, v_mps: float, w_radps: float, max_wheel_mps: float) -> tuple[float, float]:
        """Scale (v, w) down together so neither wheel exceeds ``max_wheel_mps``."""
        left, right = self.wheel_speeds(v_mps, w_radps)
        peak = max(abs(left), abs(right))
        if peak <= max_wheel_mps or peak == 0.0:
            return v_mps, w_radps
        k = max_wheel_mps / peak
        return v_mps * k, w_radps * k

    def ticks_to_m(self, ticks: int) -> float:
        """Distance a wheel rim travels for encoder ticks."""
        return 2.0 * math.pi * self.wheel_radius_m * ticks / self.ticks_per_rev


@dataclass
class Odometry:
    """Pose integrated from cumulative encoder ticks (exact arcs between samples)."""

    drive: DiffDrive
    x_m: float = 0.0
    y_m: float = 0.0
    yaw_rad: float = 0.0
    v_mps: float = 0.0
    w_radps: float = 0.0
    _last: tuple[int, int, int] | None = None  # (left, right, time_us)

    def rebase(self) -> None:
        """Forget the last reading (the pose stays): the next one starts a new count."""
        self._last = None

    def update(self, left_ticks: int, right_ticks: int, time_us: int) -> bool:
        """Integrate a new encoder reading; False (ignored) when time does not advance."""
        if self._last is None:
            self._last = (left_ticks, right_ticks, time_us)
            return True
        l0, r0, t0 = self._last
        dt = (time_us - t0) * 1e-6
        if dt <= 0.0:
            return False
        dl = self.drive.ticks_to_m(left_ticks - l0)
        dr = self.drive.ticks_to_m(right_ticks - r0)
        ds, dyaw = (dl + dr) / 2.0, (dr - dl) / self.drive.track_m
        if abs(dyaw) < 1e-9:
            self.x_m += ds * math.cos(self.yaw_rad)
            self.y_m += ds * math.sin(self.yaw_rad)
        else:  # the exact arc: radius ds / dyaw
            r = ds / dyaw
            self.x_m += r * (math.sin(self.yaw_rad + dyaw) - math.sin(self.yaw_rad))
            self.y_m -= r * (math.cos(self.yaw_rad + dyaw) - math.cos(self.yaw_rad))
        self.yaw_rad = math.remainder(self.yaw_rad + dyaw, 2 * math.pi)
        self.v_mps, self.w_radps = ds / dt, dyaw / dt
        self._last = (left_ticks, right_ticks, time_us)
        return True
