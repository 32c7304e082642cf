"""The operator interface: what an owner's integration sees of the mower and may ask of it.

One ROS-free core for every integration (Home Assistant over MQTT, the owner's app) and
both sides of it:

- :class:`StatusTracker` turns what the stack reports (mission state and message, mowed share,
  pose, battery, blade, safety stops) into one :class:`MowerStatus`. The robot's operator
  feeds it from topics (``mower/state``, odometry, ``battery``, ``safety/status``, ...); the
  simulator feeds it from its loop's ticks. Both get the same status from the same inputs.
- :class:`Operator` is what an integration calls: :meth:`Operator.status` and
  :meth:`Operator.command`. Two implementations: the robot's (ROS services and topics:
  ``mower_integrations.operator_node.RosOperator``) and the simulator's
  (``mower_offline.operated_run.SimOperator``).
- :class:`MapView` is what an app draws besides the status: the lawn, the plan, the camera
  image with the segmentation overlay, the mowed layer and the obstacles the camera found
  (:func:`obstacles_geojson`); :class:`CameraImage` and :class:`MowedImage` hold the
  latest image of each for both implementations.
- :func:`mission_request` and :func:`zone_to_plan` are the rules that map an operator
  command to the mission's request, and to the zone to plan first; :class:`ZoneSequence`
  mows the zones of a map one after another, in their order, for ``start``.
- :func:`zone_shares` is each zone's mowed share, from the mowed layer (map/coverage).
"""

from __future__ import annotations

import datetime
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

#: Commands an operator may send. ``start`` starts, or resumes when paused (Home Assistant's
#: ``start_mowing``: "start or resume"); ``start_zone`` mows one zone (1-based) of the map.
COMMANDS = ('start', 'start_zone', 'pause', 'resume', 'dock', 'emergency_stop')

#: Home Assistant's lawn-mower activities (``LawnMowerActivity``).
ACTIVITIES = ('mowing', 'paused', 'docked', 'returning', 'error')

_ACTIVITY = {
    'UNDOCKING': 'mowing',
    'MOWING': 'mowing',
    'DISCOVERING': 'mowing',
    'PAUSED': 'paused',
    'TEACHING': 'paused',  # the owner drives; the blade is off
    'RETURNING': 'returning',
    'DOCKING': 'returning',
    'CHARGING': 'docked',
    'ERROR': 'error',
}

#: A pose step longer than this is a localisation jump, not distance driven (m).
MAX_STEP_M = 2.0


def activity(state: str, charging: bool) -> str:
    """Home Assistant's activity for a mission state.

    IDLE is 'docked' on the dock (charging) and 'paused' elsewhere (stopped on the lawn).
    """
    if state == 'IDLE':
        return 'docked' if charging else 'paused'
    return _ACTIVITY.get(state, 'error')


def mission_request(command: str, state: str) -> str:
    """The mission request for an operator command in mission state ``state``.

    ``start`` resumes a paused run (as Home Assistant's start_mowing asks) and starts
    otherwise; ``pause``, ``resume``, ``dock`` are the mission's own requests. Raises
    ValueError for commands that are not mission requests (``emergency_stop``, ``start_zone``
    and unknown ones).
    """
    if command == 'start':
        return 'resume' if state == 'PAUSED' else 'start'
    if command in ('pause', 'resume', 'dock'):
        return command
    raise ValueError(f'{command!r} is not a mission request')


def zone_to_plan(command: str, zone: int, planned_zone: int, state: str) -> int | None:
    """The zone to plan before the mission may start (None: the plan it has serves).

    ``start_zone`` plans its zone; ``start`` after a zone's run plans the whole lawn again
    (unless it resumes a paused run); nothing else plans.
    """
    if command == 'start_zone':
        return zone
    if command == 'start' and planned_zone != 0 and state != 'PAUSED':
        return 0
    return None


class ZoneSequence:
    """``start`` on a map with several zones: each zone in turn, in the map's zone order.

    Each zone is planned on its own (:meth:`mower_maps.LawnMap.zone_map`: its own stripe angle
    and headland passes, the other zones driven only). A zone's run ends on the dock: the
    mission goes from DOCKING to IDLE only when its plan is complete (a low battery docks to
    CHARGING and the mission resumes the same zone by itself); then the next zone starts.
    The owner's ``start_zone``, ``dock`` or emergency stop ends the sequence; ``pause`` and
    ``resume`` do not. One object per operator; both operators call it the same way:
    :meth:`plan_for` for each command, :meth:`observe` with each mission state.
    """

    def __init__(self) -> None:
        """No sequence running."""
        self.zone = 0  # the zone the sequence mows now (0: no sequence)
        self.zones = 0  # how many zones it goes through
        self._state = ''

    def plan_for(self, command: str, zone: int, planned_zone: int, state: str, zones: int):
        """The zone to plan for ``command`` (None: the plan the mission has serves).

        ``start`` (not resuming a pause) on a map of ``zones`` >= 2 zones begins the sequence
        with zone 1; otherwise :func:`zone_to_plan`'s rule.
        """
        if command in ('start_zone', 'dock', 'emergency_stop'):
            self.zone = 0
        if command == 'start' and state != 'PAUSED' and zones >= 2:
            self.zone, self.zones = 1, zones
            return 1
        return zone_to_plan(command, zone, planned_zone, state)

    def end(self) -> None:
        """The sequence ends (a zone's start was refused, the emergency stop)."""
        self.zone = 0

    def observe(self, state: str, zone: int, zones: int) -> int | None:
        """The mission's state, planned zone and the map's zone count now; the next zone, when due.

        A map saved meanwhile with fewer zones ends the sequence at its last zone.
        """
        before, self._state = self._state, state
        if not self.zone or zone != self.zone or not (before == 'DOCKING' and state == 'IDLE'):
            return None
        if self.zone >= min(self.zones, zones):
            self.zone = 0
            return None
        self.zone += 1
        return self.zone


def zone_shares(grid: Any, lawn: Any) -> list[float | None]:
    """Each zone's mowed share (percent; None for a zone with no mowable area), zone order.

    ``grid``: the mowed layer (a mower_maps MowedGrid, as map/coverage carries it); ``lawn``:
    the map (its zones, minus keep-outs and obstacles).
    """
    import shapely

    holes = lawn.holes
    out: list[float | None] = []
    for feature in lawn.zones:
        area = shapely.difference(feature.geometry, holes)
        out.append(round(100.0 * grid.share(area), 1) if area.area > 0 else None)
    return out


@dataclass(frozen=True)
class MowerStatus:
    """What the owner sees: one snapshot, JSON-able (:meth:`as_dict`)."""

    state: str = 'UNKNOWN'  # the mission state (IDLE, MOWING, ...); UNKNOWN before any
    activity: str = 'error'  # one of ACTIVITIES
    message: str = ''
    battery_pct: float | None = None
    charging: bool = False
    mowed_pct: float | None = None  # of the current plan
    blade: bool = False
    x_m: float | None = None  # position in the map frame
    y_m: float | None = None
    heading_deg: float | None = None
    distance_today_m: float = 0.0
    last_error: str = ''
    problem: bool = False  # in ERROR, or a safety stop latched
    emergency_stop: bool = False
    zone: int = 0  # the zone the plan covers (0: all)
    zones: int = 0  # how many zones the map has
    zones_mowed_pct: tuple[float | None, ...] = ()  # each zone's mowed share (zone order)
    next_run: str = ''  # ISO local time of the next scheduled run ('' none; mowing_schedule)
    updated: str = ''  # ISO time of the last update (wall clock)

    def as_dict(self) -> dict:
        """The fields, with floats rounded for display."""
        out = asdict(self)
        out['zones_mowed_pct'] = list(self.zones_mowed_pct)  # as JSON has it
        for key in ('battery_pct', 'mowed_pct', 'heading_deg'):
            if out[key] is not None:
                out[key] = round(out[key], 1)
        for key in ('x_m', 'y_m', 'distance_today_m'):
            if out[key] is not None:
                out[key] = round(out[key], 2)
        return out


class Operator(Protocol):
    """What an integration may call (thread-safe in both implementations)."""

    def status(self) -> MowerStatus:
        """The latest status."""
        ...

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        """Ask for one of :data:`COMMANDS`; (accepted, message in words)."""
        ...


class MapView(Protocol):
    """What an app draws besides the status (thread-safe in both implementations)."""

    def lawn_geojson(self) -> dict:
        """The lawn map in its metric frame (mower_maps.map_to_geojson's form)."""
        ...

    def plan(self) -> tuple[int, list[list[float]]]:
        """(version, points): the coverage plan the mission follows, in the map frame (m).

        The version changes whenever the plan does (a replan, a zone).
        """
        ...

    def set_map(self, lawn: Any) -> tuple[bool, str]:
        """Use a new map (a mower_maps LawnMap, already checked); (accepted, message)."""
        ...

    def camera_jpeg(self) -> tuple[int, bytes] | None:
        """(frame number, JPEG): the latest camera image with the segmentation labels over it.

        None while there is none (no camera, or no frame yet). Made at most about once a
        second; the number changes with each new image.
        """
        ...

    def coverage_png(self) -> tuple[int, bytes, tuple[float, float, float, float]] | None:
        """(version, PNG, (x0, y0, x1, y1)): the mowed layer and its bounds in the map frame (m).

        Mowed cells green, the rest transparent, north up (mower_maps.mowed.mowed_png); the
        version changes whenever the layer does. None before the first.
        """
        ...

    def obstacles(self) -> list[dict]:
        """The obstacles the camera found: GeoJSON geometries in the map frame (m)."""
        ...


def plan_points(points: Any) -> list[list[float]]:
    """A plan's (N, 2) points as the app draws them: lists of floats, millimetres kept."""
    return [[round(float(x), 3), round(float(y), 3)] for x, y in points]


def obstacles_geojson(polygons: Iterable[Any]) -> list[dict]:
    """GeoJSON geometries of obstacle outlines (shapely), to the millimetre; empty ones left out.

    What :meth:`MapView.obstacles` gives, from the simulator's mapper or from map/obstacles.
    """
    import shapely

    out = []
    for poly in polygons:
        rounded = shapely.set_precision(poly, 0.001)
        if not rounded.is_empty:
            out.append(json.loads(shapely.to_geojson(rounded)))
    return out


class CameraImage:
    """The camera image :meth:`MapView.camera_jpeg` gives: a JPEG every ``period_s``; thread-safe.

    The maker (the simulator's loop, the robot's subscription) asks :meth:`due` before it
    encodes a frame, then hands the JPEG to :meth:`set`; readers call :meth:`get`.
    """

    def __init__(self, period_s: float = 1.0) -> None:
        """At most one image every ``period_s`` of the maker's clock (s)."""
        self.period_s = period_s
        self._lock = threading.Lock()
        self._made_s = -math.inf
        self._image: tuple[int, bytes] | None = None

    def due(self, t_s: float) -> bool:
        """Whether a frame at clock time ``t_s`` is to be encoded (a clock gone back: yes)."""
        return not self._made_s <= t_s < self._made_s + self.period_s

    def set(self, t_s: float, jpeg: bytes) -> None:
        """The new image, made at clock time ``t_s``; its number is the last one's plus one."""
        with self._lock:
            self._made_s = t_s
            self._image = (1 if self._image is None else self._image[0] + 1, jpeg)

    def get(self) -> tuple[int, bytes] | None:
        """(number, JPEG) of the latest image; None before the first."""
        with self._lock:
            return self._image


class MowedImage:
    """The mowed layer :meth:`MapView.coverage_png` gives: a new version when it changed.

    :meth:`update` with each mowed grid (a mower_maps MowedGrid, as map/coverage carries it);
    thread-safe.
    """

    def __init__(self) -> None:
        """No layer yet."""
        self._lock = threading.Lock()
        self._grid: Any = None
        self._image: tuple[int, bytes, tuple[float, float, float, float]] | None = None

    def update(self, grid: Any) -> bool:
        """Draw ``grid`` (mower_maps.mowed.mowed_png) unless it is the last one; True if drawn.

        Raises ValueError when it cannot be drawn (then the last image stays).
        """
        import numpy as np

        from mower_maps.mowed import mowed_png

        last = self._grid
        if (
            last is not None
            and (last.origin, last.res) == (grid.origin, grid.res)
            and np.array_equal(last.mowed, grid.mowed)
        ):
            return False
        png, bounds = mowed_png(grid)
        with self._lock:
            self._grid = grid
            version = 1 if self._image is None else self._image[0] + 1
            self._image = (version, png, bounds)
        return True

    def get(self) -> tuple[int, bytes, tuple[float, float, float, float]] | None:
        """(version, PNG, (x0, y0, x1, y1)) of the latest layer; None before the first."""
        with self._lock:
            return self._image


def check_command(name: str, zone: int, zones: int) -> str:
    """'' when ``name``/``zone`` is a command the operator can send, else why not."""
    if name not in COMMANDS:
        return f'unknown command {name!r} (one of {", ".join(COMMANDS)})'
    if name == 'start_zone' and not 1 <= zone <= zones:
        return f'no zone {zone}: the map has {zones}'
    return ''


@dataclass
class StatusTracker:
    """Builds :class:`MowerStatus` from the stack's reports; thread-safe.

    ``today`` gives the local date (distance today restarts when it changes); ``clock`` the
    wall time for ``updated``.
    """

    zones: int = 0
    today: Callable[[], datetime.date] = datetime.date.today
    clock: Callable[[], datetime.datetime] = datetime.datetime.now
    _status: MowerStatus = field(default_factory=MowerStatus)
    _last_xy: tuple[float, float] | None = None
    _date: datetime.date | None = None
    _latched: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """The lock, and the zone count in the first status."""
        self._lock = threading.Lock()
        self.state_changed_wall = time.time()  # wall time (epoch s) of the last state change
        self._set(zones=self.zones)

    def _set(self, **changes) -> None:
        s = replace(self._status, **changes)
        problem = s.state == 'ERROR' or bool(self._latched)
        self._status = replace(
            s,
            activity=activity(s.state, s.charging),
            problem=problem,
            updated=self.clock().isoformat(timespec='seconds'),
        )

    def status(self) -> MowerStatus:
        """The latest snapshot."""
        with self._lock:
            return self._status

    def set_zones(self, zones: int) -> None:
        """The map has ``zones`` zones now (the owner saved a new map)."""
        with self._lock:
            self.zones = zones
            self._set(zones=zones, zones_mowed_pct=())

    def zones_mowed(self, shares: Sequence[float | None]) -> None:
        """Each zone's mowed share (:func:`zone_shares`)."""
        with self._lock:
            shares = tuple(shares)
            if shares != self._status.zones_mowed_pct:
                self._set(zones_mowed_pct=shares)

    def mission(self, state: str, message: str, mowed_pct: float | None, zone: int = 0) -> None:
        """``mower/state``: the mission state, its message, the mowed share and the zone."""
        with self._lock:
            mowed = None if mowed_pct is None or not math.isfinite(mowed_pct) else mowed_pct
            changes: dict = {'state': state, 'message': message, 'mowed_pct': mowed, 'zone': zone}
            if state == 'ERROR' and (self._status.state != 'ERROR' or message):
                changes['last_error'] = message or 'error'
            if state != self._status.state:
                self.state_changed_wall = time.time()  # for latency benchmarks
            self._set(**changes)

    def pose(self, x: float, y: float, yaw: float) -> None:
        """The robot's pose in the map frame; adds the distance driven today."""
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(yaw)):
            return
        with self._lock:
            today = self.today()
            dist = self._status.distance_today_m if today == self._date else 0.0
            self._date = today
            if self._last_xy is not None:
                step = math.hypot(x - self._last_xy[0], y - self._last_xy[1])
                if step <= MAX_STEP_M:
                    dist += step
            self._last_xy = (x, y)
            self._set(x_m=x, y_m=y, heading_deg=math.degrees(yaw) % 360.0, distance_today_m=dist)

    def battery(self, pct: float, charging: bool) -> None:
        """Battery charge (%) and whether it is charging (on the dock)."""
        with self._lock:
            self._set(battery_pct=pct if math.isfinite(pct) else None, charging=bool(charging))

    def blade(self, on: bool) -> None:
        """Whether the blade runs."""
        with self._lock:
            self._set(blade=bool(on))

    def next_run(self, when: str) -> None:
        """The next scheduled run (ISO local time; '' none), from the operator's scheduler."""
        with self._lock:
            if when != self._status.next_run:
                self._set(next_run=when)

    def safety(self, latched: Sequence[str], emergency_stop: bool) -> None:
        """Latched safety stops (their reasons) and whether the emergency stop is pressed."""
        with self._lock:
            latched = tuple(latched)
            changes: dict = {'emergency_stop': bool(emergency_stop)}
            if latched and latched != self._latched:
                changes['last_error'] = 'safety stop: ' + ', '.join(latched)
            self._latched = latched
            self._set(**changes)
