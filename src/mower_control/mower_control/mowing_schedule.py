"""Mowing schedules: weekly time windows, a rain rule and a minimum battery (ROS-free).

The owner's app edits a :class:`Schedule`; a :class:`Scheduler` decides, on every status tick,
whether the mower starts now (:meth:`Scheduler.decide`) and when it will next
(:meth:`Scheduler.next_run`). The same scheduler serves the simulator
(``mower_offline.operated_run.SimOperator``) and, later, the robot's app node: the decision is
written once, here.

The rules:

- a :class:`Window` is one weekday (0 = Monday .. 6 = Sunday), a start and an end in local
  time (``HH:MM``; the end may be ``24:00``; no window crosses midnight: split it in two) and a
  zone (0: all zones, else 1..N of the map);
- windows of the same day may touch but not overlap (the mower cannot mow two at once); at
  most :data:`MAX_WINDOWS`;
- inside an enabled window the mower starts when it is IDLE or CHARGING, its battery is known
  and at least ``min_battery_pct``, and the rain rule allows: ``skip`` no start while it rains
  (a window that opens in the rain starts when the rain stops, if it is still open);
  ``delay`` no start until ``rain_delay_h`` hours after the rain ended;
- each window starts at most once a day: a run the owner stopped is not started again in the
  same window.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, runtime_checkable

from mower_control.operator import MowerStatus, check_command

#: Short weekday names, Monday first (``datetime.weekday()``'s order).
WEEKDAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
#: What rain does to a scheduled start.
RAIN_RULES = ('skip', 'delay')
#: The most windows a schedule may hold.
MAX_WINDOWS = 50
#: The longest wait after rain (h).
MAX_RAIN_DELAY_H = 72.0
#: Mission states in which a scheduled run may start (on the dock, nothing under way).
START_STATES = ('IDLE', 'CHARGING')

_DAY_MIN = 24 * 60
_HHMM = re.compile(r'^(\d{1,2}):(\d{2})$')
_WINDOW_KEYS = ('weekday', 'start', 'end', 'zone')
_SCHEDULE_KEYS = ('windows', 'rain_rule', 'rain_delay_h', 'min_battery_pct', 'enabled')


class ScheduleError(ValueError):
    """A schedule that cannot be kept: one line in words, naming the window(s) at fault."""


def parse_hhmm(text: str, what: str, end: bool = False) -> int:
    """Minutes after midnight of ``'HH:MM'``; ``'24:00'`` only as an end (``end``)."""
    found = _HHMM.match(text) if isinstance(text, str) else None
    hours, minutes = (int(found.group(1)), int(found.group(2))) if found else (-1, -1)
    value = hours * 60 + minutes
    top = _DAY_MIN if end else _DAY_MIN - 1
    if not found or minutes > 59 or not 0 <= value <= top:
        limit = '24:00' if end else '23:59'
        raise ScheduleError(f'{what} {text!r} is not a time HH:MM (00:00..{limit})')
    return value


def _hhmm(minutes: int) -> str:
    return f'{minutes // 60:02d}:{minutes % 60:02d}'


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Window:
    """One weekly time window: a weekday, a start and an end (local time), a zone.

    Raises :class:`ScheduleError` when it cannot be a window; the times are kept zero-padded
    (``'9:00'`` becomes ``'09:00'``).
    """

    weekday: int  # 0 = Monday .. 6 = Sunday
    start: str  # 'HH:MM', local time
    end: str  # 'HH:MM' after the start, '24:00' at the latest
    zone: int = 0  # 0: all zones; else 1..N of the map

    def __post_init__(self) -> None:
        """Check the weekday, the times and the zone's sign; normalise the times."""
        if not _is_int(self.weekday) or not 0 <= self.weekday <= 6:
            raise ScheduleError(f'weekday {self.weekday!r} is not 0 (Monday) .. 6 (Sunday)')
        day = WEEKDAYS[self.weekday]
        start = parse_hhmm(self.start, f'{day}: start')
        end = parse_hhmm(self.end, f'{day}: end', end=True)
        object.__setattr__(self, 'start', _hhmm(start))
        object.__setattr__(self, 'end', _hhmm(end))
        if end < start:
            nxt = WEEKDAYS[(self.weekday + 1) % 7]
            raise ScheduleError(
                f'{self.label()} crosses midnight: split it into {day} {self.start}-24:00 '
                f'and {nxt} 00:00-{self.end}'
            )
        if end == start:
            raise ScheduleError(f'{self.label()} is empty: the end must be after the start')
        if not _is_int(self.zone) or self.zone < 0:
            raise ScheduleError(f'{self.label()}: zone {self.zone!r} is not 0 (all) or 1..N')

    @property
    def start_min(self) -> int:
        """The start in minutes after midnight."""
        return parse_hhmm(self.start, 'start')

    @property
    def end_min(self) -> int:
        """The end in minutes after midnight (1440: midnight at the day's end)."""
        return parse_hhmm(self.end, 'end', end=True)

    def label(self) -> str:
        """``'Mon 09:00-11:00'``: how messages name the window."""
        return f'{WEEKDAYS[self.weekday]} {self.start}-{self.end}'

    def overlaps(self, other: Window) -> bool:
        """True when both are on the same weekday and share a minute (touching is fine)."""
        return (
            self.weekday == other.weekday
            and self.start_min < other.end_min
            and other.start_min < self.end_min
        )

    def contains(self, now: datetime) -> bool:
        """True when ``now`` (local wall time) is inside the window (the end excluded)."""
        minute = now.hour * 60 + now.minute
        return now.weekday() == self.weekday and self.start_min <= minute < self.end_min

    def bounds(self, day: date, like: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the window on ``day`` (its weekday), in ``like``'s time zone."""
        start = datetime.combine(day, time(0), tzinfo=like.tzinfo)
        return (
            start + timedelta(minutes=self.start_min),
            start + timedelta(minutes=self.end_min),
        )

    def command(self) -> tuple[str, int]:
        """The operator command that starts this window's run: ('start', 0), ('start_zone', n)."""
        return ('start', 0) if self.zone == 0 else ('start_zone', self.zone)

    def to_dict(self) -> dict:
        """JSON-able."""
        return {'weekday': self.weekday, 'start': self.start, 'end': self.end, 'zone': self.zone}

    @classmethod
    def from_dict(cls, data: object) -> Window:
        """From :meth:`to_dict`'s form; :class:`ScheduleError` for unknown keys, wrong types."""
        if not isinstance(data, Mapping):
            raise ScheduleError(f'a window must be an object, not {type(data).__name__}')
        _no_unknown(data, _WINDOW_KEYS, 'a window')
        for key in ('weekday', 'start', 'end'):
            if key not in data:
                raise ScheduleError(f'a window needs {key!r}')
        for key, kind in (('weekday', 'an integer'), ('zone', 'an integer')):
            if key in data and not _is_int(data[key]):
                raise ScheduleError(f'{key} must be {kind}, not {data[key]!r}')
        for key in ('start', 'end'):
            if not isinstance(data[key], str):
                raise ScheduleError(f'{key} must be a time "HH:MM", not {data[key]!r}')
        return cls(data['weekday'], data['start'], data['end'], data.get('zone', 0))


def _no_unknown(data: Mapping, known: tuple[str, ...], what: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ScheduleError(
            f'{what} has unknown keys {", ".join(unknown)} (known: {", ".join(known)})'
        )


def _number(value: object, key: str, low: float, high: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ScheduleError(f'{key} must be a number, not {value!r}')
    if not (math.isfinite(value) and low <= value <= high):
        raise ScheduleError(f'{key} {value!r} is not in {low:g}..{high:g}')
    return float(value)


@dataclass(frozen=True)
class Schedule:
    """The owner's mowing schedule; raises :class:`ScheduleError` when it cannot be kept.

    The zone numbers are checked against a map by :meth:`check_zones` (the schedule itself
    does not know the map).
    """

    windows: tuple[Window, ...] = ()
    rain_rule: str = 'skip'  # one of RAIN_RULES
    rain_delay_h: float = 2.0  # 'delay': wait this long after the rain ended (h)
    min_battery_pct: float = 50.0  # start only at or above this charge (%)
    enabled: bool = True

    def __post_init__(self) -> None:
        """Check every value and that no two windows overlap."""
        object.__setattr__(self, 'windows', tuple(self.windows))
        if len(self.windows) > MAX_WINDOWS:
            raise ScheduleError(f'{len(self.windows)} windows: at most {MAX_WINDOWS}')
        for i, window in enumerate(self.windows, 1):
            if not isinstance(window, Window):
                raise ScheduleError(f'window {i} is not a Window')
        if self.rain_rule not in RAIN_RULES:
            raise ScheduleError(
                f'rain_rule {self.rain_rule!r} is not one of {", ".join(RAIN_RULES)}'
            )
        delay_h = _number(self.rain_delay_h, 'rain_delay_h', 0.0, MAX_RAIN_DELAY_H)
        object.__setattr__(self, 'rain_delay_h', delay_h)
        battery = _number(self.min_battery_pct, 'min_battery_pct', 0.0, 100.0)
        object.__setattr__(self, 'min_battery_pct', battery)
        if not isinstance(self.enabled, bool):
            raise ScheduleError(f'enabled must be true or false, not {self.enabled!r}')
        self._check_overlaps()

    def _check_overlaps(self) -> None:
        for i, a in enumerate(self.windows):
            for j in range(i + 1, len(self.windows)):
                b = self.windows[j]
                if a.overlaps(b):
                    raise ScheduleError(
                        f'windows {i + 1} ({a.label()}) and {j + 1} ({b.label()}) overlap'
                    )

    def check_zones(self, zones: int) -> None:
        """:class:`ScheduleError` when a window names a zone the map (``zones`` zones) lacks."""
        for i, window in enumerate(self.windows, 1):
            if window.zone > zones:
                raise ScheduleError(
                    f'window {i} ({window.label()}): there is no zone {window.zone}: the map '
                    f'has {zones} (0: all zones)'
                )

    def window_at(self, now: datetime) -> Window | None:
        """The window ``now`` is in (None: none; windows do not overlap)."""
        return next((w for w in self.windows if w.contains(now)), None)

    def to_dict(self) -> dict:
        """JSON-able (:meth:`from_dict` reads it back)."""
        return {
            'enabled': self.enabled,
            'rain_rule': self.rain_rule,
            'rain_delay_h': self.rain_delay_h,
            'min_battery_pct': self.min_battery_pct,
            'windows': [w.to_dict() for w in self.windows],
        }

    @classmethod
    def from_dict(cls, data: object) -> Schedule:
        """From :meth:`to_dict`'s form (missing keys: the defaults); :class:`ScheduleError`."""
        if not isinstance(data, Mapping):
            raise ScheduleError(f'a schedule must be an object, not {type(data).__name__}')
        _no_unknown(data, _SCHEDULE_KEYS, 'the schedule')
        raw = data.get('windows', [])
        if not isinstance(raw, list):
            raise ScheduleError(f'windows must be a list, not {type(raw).__name__}')
        if len(raw) > MAX_WINDOWS:
            raise ScheduleError(f'{len(raw)} windows: at most {MAX_WINDOWS}')
        windows = []
        for i, item in enumerate(raw, 1):
            try:
                windows.append(Window.from_dict(item))
            except ScheduleError as exc:
                raise ScheduleError(f'window {i}: {exc}') from None
        values: dict[str, Any] = {k: data[k] for k in _SCHEDULE_KEYS[1:] if k in data}
        if 'rain_rule' in values and not isinstance(values['rain_rule'], str):
            raise ScheduleError(f'rain_rule must be a string, not {values["rain_rule"]!r}')
        return cls(windows=tuple(windows), **values)


def rain_allows(schedule: Schedule, raining: bool, last_rain_s_ago: float | None) -> bool:
    """Whether the rain rule lets a run start now.

    ``last_rain_s_ago``: seconds since the rain ended (None: no rain seen). No start while it
    rains; with ``delay``, none until ``rain_delay_h`` after the rain ended.
    """
    if raining:
        return False
    if schedule.rain_rule == 'delay' and last_rain_s_ago is not None:
        return last_rain_s_ago >= schedule.rain_delay_h * 3600.0
    return True


def may_start(
    schedule: Schedule, status: MowerStatus, raining: bool, last_rain_s_ago: float | None
) -> bool:
    """Whether the mower may start a scheduled run now (state, battery, rain; not the window).

    An unknown battery waits: the charge cannot be checked.
    """
    battery = status.battery_pct
    return (
        status.state in START_STATES
        and battery is not None
        and math.isfinite(battery)
        and battery >= schedule.min_battery_pct
        and rain_allows(schedule, raining, last_rain_s_ago)
    )


@dataclass
class RainClock:
    """How long ago the rain ended, from the rain sensor's readings (a clock in seconds)."""

    _raining: bool = False
    _ended_s: float | None = None

    def update(self, t_s: float, raining: bool) -> float | None:
        """Feed one reading at ``t_s``; the seconds since the rain ended.

        0 while it rains; None while no rain has been seen.
        """
        if raining:
            self._raining = True
            return 0.0
        if self._raining:
            self._raining, self._ended_s = False, t_s
        return None if self._ended_s is None else t_s - self._ended_s


@runtime_checkable
class ScheduleHolder(Protocol):
    """What holds the mower's schedule (the simulator's operator; the robot's node later)."""

    def schedule(self) -> Schedule:
        """The schedule in force."""
        ...

    def set_schedule(self, schedule: Schedule) -> None:
        """Replace it; :class:`ScheduleError` (nothing changed) when the map lacks a zone."""
        ...


#: Mission states in which the end of a scheduled run's window sends the mower home (and
#: keeps it there: from CHARGING or RETURNING it would go out again by itself).
WINDOW_END_DOCK = frozenset({'UNDOCKING', 'MOWING', 'PAUSED', 'RETURNING', 'DOCKING', 'CHARGING'})


class Scheduler:
    """Decides when a scheduled run starts; thread-safe (the app sets, the loop decides)."""

    def __init__(self, schedule: Schedule | None = None) -> None:
        """Follow ``schedule`` (default: an empty one)."""
        self._lock = threading.Lock()
        self._schedule = Schedule()
        self._started: set[tuple[date, Window]] = set()  # (day, window) given a start
        self._running: tuple[date, Window] | None = None  # the window of the run it started
        if schedule is not None:
            self.set_schedule(schedule)

    def schedule(self) -> Schedule:
        """The schedule in force."""
        with self._lock:
            return self._schedule

    def set_schedule(self, schedule: Schedule) -> None:
        """Replace the schedule; the windows already started today stay started."""
        if not isinstance(schedule, Schedule):
            raise ScheduleError(f'not a Schedule: {type(schedule).__name__}')
        with self._lock:
            self._schedule = schedule

    def decide(
        self,
        now: datetime,
        status: MowerStatus,
        raining: bool,
        last_rain_s_ago: float | None,
    ) -> tuple[str, int] | None:
        """The command to send now (('start', 0), ('start_zone', zone) or ('dock', 0)), or None.

        ``now``: local wall time. A start is given once per window and day: the window counts
        as started from then on, whatever became of the run. When the window of a run it
        started ends and the mower is still out or would go out again (:data:`WINDOW_END_DOCK`:
        mowing, paused, on its way home or charging to resume), ``dock`` sends it home and
        keeps it there: a window is also the owner's quiet hours.
        """
        with self._lock:
            if self._running is not None:
                day, running = self._running
                if now.date() != day or not running.contains(now):
                    self._running = None
                    if status.state in WINDOW_END_DOCK:
                        return 'dock', 0
            schedule = self._schedule
            window = schedule.window_at(now) if schedule.enabled else None
            if window is None or (now.date(), window) in self._started:
                return None
            if not may_start(schedule, status, raining, last_rain_s_ago):
                return None
            self._started = {k for k in self._started if k[0] >= now.date()}
            self._started.add((now.date(), window))
            self._running = (now.date(), window)
        return window.command()

    def next_run(self, now: datetime) -> datetime | None:
        """The start of the next window not started yet (rain ignored); None: none.

        A window open now and not started yet gives its own start (at or before ``now``).
        """
        with self._lock:
            schedule, started = self._schedule, set(self._started)
        if not schedule.enabled:
            return None
        for days in range(8):
            day = now.date() + timedelta(days=days)
            starts = [
                w.bounds(day, now)[0]
                for w in schedule.windows
                if w.weekday == day.weekday()
                and w.bounds(day, now)[1] > now
                and (day, w) not in started
            ]
            if starts:
                return min(starts)
        return None


class ScheduleFollower:
    """The schedule side of an operator, one for the simulator and the robot.

    Holds the :class:`Scheduler` and a :class:`RainClock`, checks a new schedule against the
    map's zones, keeps the status's next run up to date, and on each :meth:`tick` says which
    command (if any) starts a scheduled run now; the operator carries it out its own way.
    """

    def __init__(self, tracker: Any, scheduler: Scheduler | None = None) -> None:
        """``tracker``: the operator's mower_control.operator.StatusTracker."""
        self.tracker = tracker
        self.scheduler = scheduler if scheduler is not None else Scheduler()
        self._rain = RainClock()

    def schedule(self) -> Schedule:
        """The schedule in force (any thread)."""
        return self.scheduler.schedule()

    def set_schedule(self, schedule: Schedule, now: datetime) -> None:
        """Follow ``schedule`` from now on; ScheduleError for a zone the map lacks."""
        schedule.check_zones(self.tracker.zones)
        self.scheduler.set_schedule(schedule)
        self.show_next_run(now)

    def show_next_run(self, now: datetime) -> None:
        """The status's next run, from the schedule."""
        when = self.scheduler.next_run(now)
        self.tracker.next_run('' if when is None else when.isoformat(timespec='minutes'))

    def tick(self, now: datetime, clock_s: float, raining: bool) -> tuple[str, int, str] | None:
        """The scheduled start due now: (command, zone, '' or why it cannot be sent), or None.

        ``clock_s``: a monotonic clock for the rain rule (simulated or node time).
        """
        since_rain_s = self._rain.update(clock_s, raining)
        decided = self.scheduler.decide(now, self.tracker.status(), raining, since_rain_s)
        self.show_next_run(now)
        if decided is None:
            return None
        name, zone = decided
        return name, zone, check_command(name, zone, self.tracker.zones)  # the map may change
