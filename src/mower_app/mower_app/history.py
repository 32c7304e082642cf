"""The run history the app shows, made from the operator's status alone.

Each run: when it began and ended, how long, how far, how much was mowed, and every stop with
its reason. :class:`RunHistory` watches the status (any operator's: the simulator's or the
robot's); a run begins when the mower leaves IDLE / CHARGING to undock, mow or discover, and
ends when it is IDLE again. Stops on the way (paused, returning for rain or a low battery,
charging, an error) are kept with the mission's message. Finished runs are appended to a
JSON-lines file (one object a line, so a damaged line loses one run, not the history); the
newest ``keep`` are kept in memory.
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mower_control.operator import MowerStatus

#: States that begin a run (from IDLE or CHARGING), and those that are a stop on the way.
STARTS = ('UNDOCKING', 'MOWING', 'DISCOVERING')
STOPS = ('PAUSED', 'RETURNING', 'CHARGING', 'ERROR')
RESTING = ('IDLE', 'CHARGING', 'UNKNOWN')


@dataclass
class RunRecord:
    """One run."""

    started: str  # ISO local time
    ended: str = ''  # '' while it goes on
    duration_s: float = 0.0
    distance_m: float = 0.0
    mowed_pct: float | None = None
    zone: int = 0
    stops: list[dict] = field(default_factory=list)  # {'at', 'state', 'why'}
    result: str = ''  # how it ended, in words ('' while it goes on)

    def as_dict(self) -> dict:
        """JSON-able, durations rounded."""
        out = asdict(self)
        out['duration_s'] = round(self.duration_s)
        out['distance_m'] = round(self.distance_m, 1)
        return out


class RunHistory:
    """Runs made from status updates; thread-safe."""

    def __init__(self, path: str | Path | None = None, keep: int = 200) -> None:
        """Read the finished runs of ``path`` (JSON lines; damaged lines skipped, counted)."""
        self.path = None if path is None else Path(path)
        self.keep = keep
        self.damaged_lines = 0
        self._lock = threading.Lock()
        self._runs: list[dict] = []
        self._current: RunRecord | None = None
        self._began: datetime.datetime | None = None
        self._state = 'UNKNOWN'
        self._distance = 0.0  # distance today at the last update
        if self.path is not None and self.path.is_file():
            for line in self.path.read_text(encoding='utf-8', errors='replace').splitlines():
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict) or 'started' not in row:
                        raise ValueError('not a run')
                except ValueError:
                    self.damaged_lines += 1
                    continue
                self._runs.append(row)
            self._runs = self._runs[-keep:]

    def observe(self, status: MowerStatus, now: datetime.datetime | None = None) -> None:
        """One status update (call it at the status rate)."""
        now = now or datetime.datetime.now().astimezone()
        with self._lock:
            before, self._state = self._state, status.state
            run = self._current
            if run is None:
                if status.state in STARTS and before in RESTING:
                    self._begin(status, now)
                self._distance = status.distance_today_m
                return
            step = status.distance_today_m - self._distance
            run.distance_m += step if step >= 0 else status.distance_today_m  # after midnight
            self._distance = status.distance_today_m
            run.duration_s = (now - (self._began or now)).total_seconds()
            run.mowed_pct = status.mowed_pct
            if status.state != before and status.state in STOPS:
                why = status.last_error if status.state == 'ERROR' else status.message
                run.stops.append({'at': _iso(now), 'state': status.state, 'why': why})
            if status.state == 'IDLE' and before != 'IDLE':
                self._end(run, status, now)

    def _begin(self, status: MowerStatus, now: datetime.datetime) -> None:
        self._current = RunRecord(started=_iso(now), zone=status.zone)
        self._began = now

    def _end(self, run: RunRecord, status: MowerStatus, now: datetime.datetime) -> None:
        run.ended = _iso(now)
        last = run.stops[-1] if run.stops else None
        if status.message:
            run.result = status.message
        elif last is not None and last['state'] == 'ERROR':
            run.result = f'ended after an error: {last["why"]}'
        else:
            run.result = 'ended'
        row = run.as_dict()
        self._runs = [*self._runs, row][-self.keep :]
        self._current = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open('a', encoding='utf-8') as f:
                f.write(json.dumps(row) + '\n')

    def runs(self) -> list[dict[str, Any]]:
        """The runs, newest first; the one going on (if any) first, with ``ended`` ''."""
        with self._lock:
            current = [self._current.as_dict()] if self._current is not None else []
            return current + list(reversed(self._runs))


def _iso(when: datetime.datetime) -> str:
    return when.isoformat(timespec='seconds')


class HistoryFeeder:
    """Feeds a :class:`RunHistory` from an operator's status every ``period_s`` (a thread)."""

    def __init__(self, history: RunHistory, operator: Any, period_s: float = 0.2) -> None:
        """Start feeding at once (a daemon thread; :meth:`stop` ends it)."""
        self.history, self.operator, self.period_s = history, operator, period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='run-history', daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self.history.observe(self.operator.status())
            except Exception:  # noqa: BLE001, S112 (a bad status must not end the history)
                continue

    def stop(self) -> None:
        """Stop feeding."""
        self._stop.set()
        self._thread.join(2.0)
