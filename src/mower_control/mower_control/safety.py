"""The safety supervisor: sits between the controller and the motors and decides alone.

Every velocity command and blade request passes through :meth:`SafetySupervisor.filter`, which
returns what the motors may do now and why not, if anything is held back:

- emergency stop (topic or the board's hardware input): latched; wheels and blade stop at once;
  only :meth:`reset` clears it, and not while the hardware input is still pressed;
- lift and tilt (from the IMU): latched like the emergency stop; the blade stops on the same
  control step the IMU sample shows it, and the wheels stop;
- watchdog: no velocity command for ``cmd_timeout_s`` stops the wheels; a stale or missing IMU
  or odometry stops everything;
- geofence: the footprint, at the end of the distance the robot needs to stop, must stay inside
  the lawn (boundary minus keep-outs) plus a margin, or the robot may not move that way; not
  while the mission is TEACHING: the owner drives the edges by hand to draw a new fence;
- obstacle stop: an obstacle cell of the semantic map in the footprint's sweep over the stopping
  distance ahead stops forward motion (rotation in place is still allowed: the footprint is a
  disc);
- stuck: wheels told to move (what leaves the supervisor) for ``stuck_time_s`` while the pose
  moves less than ``stuck_travel_m`` and turns less than ``stuck_turn_rad``: latched like a lift
  (the mission goes to ERROR and the owner is told). A mower caught on a garden hose in the
  simulator otherwise spun its wheels, blade on, for half an hour and then for hours more on
  its way home;
- blade interlock: the blade runs only while the mission is MOWING and nothing above is active.

Times are seconds on one clock (simulated or ROS time); all inputs carry their own stamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from mower_maps.dock import FOOTPRINT_RADIUS_M, UNDOCK_DISTANCE_M, dock_rule
from mower_maps.geometry import cell_centre
from mower_node_kit.params import check_ranges, param

GRAVITY_MPS2 = 9.81

#: Reasons that latch until an explicit reset.
LATCHED = ('emergency stop', 'hardware emergency stop', 'tilt', 'lift', 'stuck')

#: Below these, an output command counts as standing still (the stuck check rests).
STILL_V_MPS = 0.02
STILL_W_RADPS = 0.1


@dataclass(frozen=True)
class SafetyParams:
    """Thresholds of the supervisor. Units are in the names."""

    cmd_timeout_s: float = param(
        0.3, 'no velocity command for longer stops the wheels', 0.01, 60.0
    )
    imu_timeout_s: float = param(0.3, 'an older IMU sample stops wheels and blade', 0.01, 60.0)
    odom_timeout_s: float = param(
        0.3, 'an older odometry sample stops wheels and blade', 0.01, 60.0
    )
    tilt_limit_rad: float = param(  # 25 degrees
        0.44, 'tilt from level that stops everything (latched)', 0.01, 1.5
    )
    lift_speed_mps: float = param(
        0.06, 'upward speed (integrated IMU acceleration) that means a lift', 0.001, 10.0
    )
    lift_leak_s: float = param(
        0.3, 'time constant of the leaky vertical-speed integrator', 0.001, 10.0
    )
    lift_hold_s: float = param(  # bumps do not last
        0.02, 'the upward speed must last this long to count as a lift', 0.0, 5.0
    )
    footprint_radius_m: float = param(
        0.2, 'the robot is a disc of this radius around base_link', 0.01, 5.0
    )
    geofence_margin_m: float = param(
        0.1, 'how far the footprint may reach past the lawn edge', 0.0, 5.0
    )
    obstacle_margin_m: float = param(
        0.02, 'clearance kept from obstacle cells of the semantic map', 0.0, 5.0
    )
    max_decel_mps2: float = param(
        1.0, 'braking deceleration the stopping distance assumes', 0.01, 20.0
    )
    reaction_time_s: float = param(0.1, 'latency the stopping distance assumes', 0.0, 5.0)
    stuck_time_s: float = param(
        20.0, 'wheels told to move this long without the pose moving: stuck (0: off)', 0.0, 3600.0
    )
    stuck_travel_m: float = param(
        0.1, 'the pose moving this far within stuck_time_s is progress', 0.001, 10.0
    )
    stuck_turn_rad: float = param(  # 20 degrees
        0.35, 'the pose turning this far within stuck_time_s is progress', 0.001, 6.3
    )

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range (ConfigError names the first)."""
        check_ranges(self)


#: Mission states in which the wheels follow the owner's teleop (a gamepad, the app's joystick:
#: ``cmd_vel_teleop``) instead of the controller (``cmd_vel``).
TELEOP_STATES = frozenset({'TEACHING'})


def takes_teleop(state: str) -> bool:
    """Whether in mission ``state`` the owner's teleop drives (and the controller is ignored).

    Only while teaching: otherwise a teleop command is ignored, so a stray gamepad never
    drives a mowing mower. Either way the supervisor filters the command (emergency stop,
    tilt and lift, geofence, obstacle stop, and its watchdog: a teleop that falls silent stops
    the wheels).
    """
    return state in TELEOP_STATES


def fence_region(
    lawn: Any,
    footprint_radius_m: float = FOOTPRINT_RADIUS_M,
    undock_distance_m: float = UNDOCK_DISTANCE_M,
) -> Polygon:
    """The geofence of a LawnMap: lawn and navigation areas less keep-outs, and the dock's way.

    The corridor is what the footprint sweeps between the dock and its approach point
    (``mower_maps.dock``, the rule the map check and the planner apply), so a docking that the
    rule allows is never stopped, whether the dock stands on the edge or just outside it.
    Trees and other known obstacles are the obstacle stop's and the planner's business.
    """
    keep = [f.geometry for f in lawn.features if f.role == 'keepout']
    nav = getattr(lawn, 'navigation', None)
    area = lawn.boundary if nav is None or nav.is_empty else shapely.union(lawn.boundary, nav)
    fence = area.difference(shapely.union_all(keep)) if keep else area
    check = dock_rule(
        lawn, footprint_radius_m=footprint_radius_m, undock_distance_m=undock_distance_m
    )
    if check is not None and check.ok:
        fence = shapely.union(fence, check.corridor)
    return fence


def stopping_distance(v_mps: float, p: SafetyParams) -> float:
    """Distance travelled before a stop from speed ``v_mps``."""
    v = abs(v_mps)
    return v * p.reaction_time_s + v * v / (2.0 * p.max_decel_mps2)


def predicted_poses(
    x: float, y: float, yaw: float, v: float, w: float, distance_m: float, n: int = 6
) -> np.ndarray:
    """(n, 2) points along the arc (v, w) sweeps over ``distance_m`` (signed by v)."""
    s = np.linspace(0.0, math.copysign(distance_m, v if v != 0 else 1.0), n)
    if abs(v) < 1e-6 or abs(w / v) < 1e-6:
        return np.stack([x + s * math.cos(yaw), y + s * math.sin(yaw)], axis=1)
    k = w / v
    th = yaw + k * s
    return np.stack(
        [x + (np.sin(th) - math.sin(yaw)) / k, y - (np.cos(th) - math.cos(yaw)) / k], axis=1
    )


@dataclass
class ObstacleGrid:
    """Obstacle cells of the semantic map: a boolean mask and where it lies (map frame)."""

    mask: np.ndarray  # (rows, cols) True where an obstacle is
    origin_xy: tuple[float, float]  # map coordinates of cell (0, 0)'s corner
    resolution_m: float

    def __post_init__(self) -> None:
        """Cache the obstacle cell centres."""
        r, c = np.nonzero(self.mask)
        self.centres = cell_centre(np.stack([c, r], axis=1), self.origin_xy, self.resolution_m)

    @classmethod
    def from_values(
        cls,
        values: np.ndarray,
        origin_xy: tuple[float, float],
        resolution_m: float,
        threshold: int,
    ) -> ObstacleGrid:
        """The cells of a map/obstacle_cells layer at or above ``threshold``.

        Found obstacles are 100 there, suspected ones 50 (mapping's ``caution_level``): the
        controller slows near both (threshold 50), the safety stop acts on found ones (90).
        """
        return cls(np.asarray(values) >= threshold, origin_xy, resolution_m)

    def near(self, xy: np.ndarray, radius_m: float) -> np.ndarray:
        """Obstacle cell centres within ``radius_m`` of ``xy``."""
        if not len(self.centres):
            return self.centres
        d2 = ((self.centres - xy) ** 2).sum(axis=1)
        return self.centres[d2 <= radius_m * radius_m]

    def clearance_ahead(
        self, x_m: float, y_m: float, yaw_rad: float, footprint_m: float, radius_m: float = 3.0
    ) -> float:
        """Distance from a disc footprint's edge to the nearest obstacle cell ahead (m).

        Any obstacle cell centre in the half-plane in front of the pose counts, not only those
        in the corridor the footprint sweeps: 0 when one is within the footprint, inf when none
        is within ``radius_m``. The follower slows by it (controller_node and the simulated
        loop alike). A corridor rule was tried (2026-12-03): beside a lawn edge lined with
        phantom obstacle cells it kept cruising speed, but it also kept cruising beside the
        mapped pieces of a half-seen green hose and drove over the rest (random garden 0: two
        collisions, ERROR, where this rule gives 99.33 %, none); slowing near anything found
        gives the camera more looks at what it has not found yet.
        """
        xy = np.array([x_m, y_m])
        rel = self.near(xy, radius_m) - xy
        if not len(rel):
            return math.inf
        ahead = rel @ np.array([math.cos(yaw_rad), math.sin(yaw_rad)]) > 0
        if not ahead.any():
            return math.inf
        return max(0.0, float(np.sqrt((rel[ahead] ** 2).sum(axis=1)).min()) - footprint_m)


@dataclass(frozen=True)
class SafetyOutput:
    """What the motors may do now."""

    v_mps: float
    w_radps: float
    blade: bool
    reasons: tuple[str, ...]  # everything active now, latched ones included
    latched: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Nothing holds the robot back."""
        return not self.reasons


@dataclass
class SafetySupervisor:
    """Decides what may move; feed it every input, then call :meth:`filter`."""

    params: SafetyParams = field(default_factory=SafetyParams)
    lawn: Polygon | None = None  # boundary minus keep-outs: where the footprint may be
    _latched: dict[str, float] = field(default_factory=dict)
    _cmd: tuple[float, float, float] | None = None  # (v, w, time)
    _imu_t: float | None = None
    _odom: tuple[float, float, float, float] | None = None  # (x, y, yaw, time)
    _hw_estop: bool = False
    _vz: float = 0.0
    _rising_since: float | None = None
    _tilt: float = 0.0
    _mission: str = 'IDLE'
    _blade_request: bool = False
    _still_since: tuple[float, float, float, float] | None = None  # pose and time: no progress
    grid: ObstacleGrid | None = None

    def __post_init__(self) -> None:
        """Prepare the geofence: where the footprint's centre may go."""
        self._fence = None
        if self.lawn is not None:
            p = self.params
            self._fence = self.lawn.buffer(p.geofence_margin_m - p.footprint_radius_m)
            shapely.prepare(self._fence)

    def set_fence(self, lawn: Polygon | None) -> None:
        """A new geofence (the owner saved a new map); latched stops stay as they are."""
        self.lawn = lawn
        self.__post_init__()

    @property
    def latched(self) -> tuple[str, ...]:
        """The latched stops now (cleared only by :meth:`reset`)."""
        return tuple(self._latched)

    # -- inputs ---------------------------------------------------------------------------
    def command(self, v_mps: float, w_radps: float, time_s: float) -> None:
        """A velocity command from the controller; non-finite values count as none."""
        if math.isfinite(v_mps) and math.isfinite(w_radps):
            self._cmd = (v_mps, w_radps, time_s)

    def imu(self, orientation_wxyz: np.ndarray, accel_mps2: np.ndarray, time_s: float) -> None:
        """An IMU sample: orientation (quaternion) and specific force in the body frame."""
        w, x, y, z = (float(v) for v in orientation_wxyz)
        up_z = 1.0 - 2.0 * (x * x + y * y)  # the body's z axis, world z component
        self._tilt = math.acos(max(-1.0, min(1.0, up_z)))
        # specific force rotated into the world: its z minus gravity is the upward acceleration
        r20 = 2.0 * (x * z - w * y)
        r21 = 2.0 * (y * z + w * x)
        a = np.asarray(accel_mps2, dtype=float)
        a_up = r20 * a[0] + r21 * a[1] + up_z * a[2] - GRAVITY_MPS2
        dt = 0.0 if self._imu_t is None else max(0.0, min(0.1, time_s - self._imu_t))
        leak = math.exp(-dt / self.params.lift_leak_s) if self.params.lift_leak_s > 0 else 0.0
        self._vz = self._vz * leak + a_up * dt
        self._imu_t = time_s
        p = self.params
        if self._tilt > p.tilt_limit_rad:
            self._latch('tilt', time_s)
        if self._vz > p.lift_speed_mps:  # integrated and held: bumps and spikes do not count
            if self._rising_since is None:
                self._rising_since = time_s
            if time_s - self._rising_since >= p.lift_hold_s - 1e-9:
                self._latch('lift', time_s)
        else:
            self._rising_since = None

    def odometry(self, x_m: float, y_m: float, yaw_rad: float, time_s: float) -> None:
        """The robot's pose in the lawn's frame."""
        if all(math.isfinite(v) for v in (x_m, y_m, yaw_rad)):
            self._odom = (x_m, y_m, yaw_rad, time_s)

    def emergency_stop(self, pressed: bool, time_s: float, hardware: bool = False) -> None:
        """The operator's stop (topic) or the board's hardware input."""
        if hardware:
            self._hw_estop = bool(pressed)
        if pressed:
            self._latch('hardware emergency stop' if hardware else 'emergency stop', time_s)

    def mission(self, state: str, blade_request: bool) -> None:
        """The mission's state name and whether it wants the blade."""
        self._mission, self._blade_request = state, bool(blade_request)

    def reset(self) -> tuple[bool, str]:
        """Clear latched stops; refused while their cause is still there."""
        p = self.params
        if self._hw_estop:
            return False, 'the hardware emergency stop is still pressed'
        if self._tilt > p.tilt_limit_rad:
            return False, f'still tilted {math.degrees(self._tilt):.0f} degrees'
        cleared = sorted(self._latched)
        self._latched.clear()
        self._vz = 0.0
        self._still_since = None
        return True, f'cleared: {", ".join(cleared)}' if cleared else 'nothing to clear'

    def _latch(self, reason: str, time_s: float) -> None:
        self._latched.setdefault(reason, time_s)

    # -- the decision ---------------------------------------------------------------------
    def filter(self, time_s: float) -> SafetyOutput:
        """What the motors may do at ``time_s``."""
        p = self.params
        reasons = list(self._latched)
        stop_all = bool(reasons)
        if self._imu_t is None or time_s - self._imu_t > p.imu_timeout_s:
            reasons.append('imu stale')
            stop_all = True
        if self._odom is None or time_s - self._odom[3] > p.odom_timeout_s:
            reasons.append('odometry stale')
            stop_all = True
        v = w = 0.0
        if self._cmd is None or time_s - self._cmd[2] > p.cmd_timeout_s:
            reasons.append('command timeout')
        else:
            v, w = self._cmd[0], self._cmd[1]
        if not stop_all and self._odom is not None and v != 0.0:
            x, y, yaw, _ = self._odom
            dist = stopping_distance(v, p) + 0.02
            sweep = predicted_poses(x, y, yaw, v, w, dist)
            fenced = self._fence is not None and self._mission != 'TEACHING'
            if fenced and not self._fence_ok(sweep):
                reasons.append('geofence')
                v = 0.0
            if v != 0.0 and self.grid is not None and self._obstacle_ahead(sweep, v, yaw):
                reasons.append('obstacle')
                v = 0.0
        if stop_all:
            v = w = 0.0
        if self._stuck(v, w, time_s):
            self._latch('stuck', time_s)
            reasons.insert(0, 'stuck')
            v = w = 0.0
            stop_all = True
        blade = (
            self._blade_request
            and self._mission == 'MOWING'
            and not stop_all
            and 'geofence' not in reasons
        )
        return SafetyOutput(v, w, blade, tuple(reasons), tuple(self._latched))

    def _stuck(self, v: float, w: float, time_s: float) -> bool:
        """Told to move (``v``, ``w`` leave the supervisor) but no progress for stuck_time_s.

        Progress is the pose moving ``stuck_travel_m`` or turning ``stuck_turn_rad`` from where
        the last progress was; standing still by command (or by a stop) restarts the count.
        """
        p = self.params
        if p.stuck_time_s <= 0 or self._odom is None:
            return False
        if abs(v) < STILL_V_MPS and abs(w) < STILL_W_RADPS:
            self._still_since = None
            return False
        x, y, yaw, _ = self._odom
        ref = self._still_since
        turned = 0.0 if ref is None else abs(math.remainder(yaw - ref[2], math.tau))
        if (
            ref is None
            or math.hypot(x - ref[0], y - ref[1]) >= p.stuck_travel_m
            or (turned >= p.stuck_turn_rad)
        ):
            self._still_since = (x, y, yaw, time_s)
            return False
        return time_s - ref[3] > p.stuck_time_s

    def _fence_ok(self, sweep: np.ndarray) -> bool:
        # on the fence line counts as inside: a footprint touching it may still move back in
        inside = shapely.intersects_xy(self._fence, sweep[:, 0], sweep[:, 1])
        if inside.all():
            return True
        # already beyond the fence: allow only motion that brings the footprint back
        pts = shapely.points(sweep[[0, -1]])
        d_now, d_end = shapely.distance(self._fence, pts)
        return bool(d_end < d_now - 1e-4)

    def _obstacle_ahead(self, sweep: np.ndarray, v: float, yaw: float) -> bool:
        p = self.params
        reach = p.footprint_radius_m + p.obstacle_margin_m
        cells = self.grid.near(sweep[0], float(np.hypot(*(sweep[-1] - sweep[0]))) + reach)
        if not len(cells):
            return False
        direction = np.array([math.cos(yaw), math.sin(yaw)]) * (1.0 if v > 0 else -1.0)
        for q in sweep[1:]:
            rel = cells - q
            ahead = rel @ direction > 0.0  # a disc moving forward meets only what is ahead
            if np.any(ahead & ((rel**2).sum(axis=1) <= reach * reach)):
                return True
        return False
