"""The mowing schedule in the app: read it, save it (weekly windows, rain rule, battery).

Routes (added to the app by :func:`add_schedule_routes`):

- ``GET /api/schedule``: ``{"schedule": {...}, "next_run": ISO local time or null, "zones": n,
  "notice": "..."}`` (``notice``: '' unless the saved schedule was found damaged at start);
- ``PUT /api/schedule`` ``{"schedule": {...}}``: the whole schedule
  (:meth:`mower_control.mowing_schedule.Schedule.to_dict`'s form). It is checked (times,
  overlaps, zones of the map, ranges), written to ``data_dir/schedule.json`` and only then
  handed to the mower. Answers 200 with the same shape as GET; 400 ``{"error"}`` naming the
  window(s) at fault, with nothing saved or changed.

Reading needs the viewer's rights, saving the controller's (session, CSRF token, same origin),
as the commands do. The file is written atomically (a power cut leaves the old one or the new
one); one found damaged at start is kept aside (``schedule.json.damaged-<time>``), logged and
reported, and the schedule starts empty. The decisions are
:class:`mower_control.mowing_schedule.Scheduler`'s, in the operator.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from mower_control.mowing_schedule import Schedule, ScheduleError, ScheduleHolder
from mower_maps.safe_files import atomic_write_bytes, quarantine

#: The schedule's file in the app's data folder.
SCHEDULE_FILE = 'schedule.json'

log = logging.getLogger(__name__)


class ScheduleBody(BaseModel):
    """``PUT /api/schedule``'s body."""

    model_config = ConfigDict(extra='forbid')

    schedule: dict[str, Any]


def save_schedule(path: str | Path, schedule: Schedule) -> None:
    """Write ``schedule`` to ``path`` as JSON, atomically (the folder made when missing)."""
    text = json.dumps(schedule.to_dict(), indent=2) + '\n'
    atomic_write_bytes(path, text.encode())


def load_schedule(path: str | Path, zones: int) -> tuple[Schedule, str]:
    """(schedule, notice): the saved schedule, or an empty one.

    No file: an empty schedule and no notice. A file that is not a schedule for this map
    (``zones`` zones): renamed aside, an empty schedule and the notice in words.
    """
    path = Path(path)
    if not path.exists():
        return Schedule(), ''
    try:
        schedule = Schedule.from_dict(json.loads(path.read_text(encoding='utf-8')))
        schedule.check_zones(zones)
        return schedule, ''
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ScheduleError, JSON errors too
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        aside = f'kept as {quarantine(path).name}'
    except OSError as exc:
        aside = f'could not be moved aside ({exc.strerror})'
    notice = f'the saved schedule could not be used ({why}): {aside}; the schedule is empty'
    log.warning('%s: %s', path, notice)
    return Schedule(), notice


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({'error': text}, status_code=status)


class ScheduleApi:
    """The schedule routes' handlers around the app's operator and the schedule file."""

    def __init__(self, api: Any, path: Path) -> None:
        """``api``: the app's handlers (their checks and the operator); ``path``: the file."""
        self.api = api
        self.path = path
        self.notice = ''
        self._saving = threading.Lock()
        operator = api.operator
        self.holder: ScheduleHolder | None = (
            operator if isinstance(operator, ScheduleHolder) else None
        )
        if self.holder is not None:
            schedule, self.notice = load_schedule(path, operator.status().zones)
            self.holder.set_schedule(schedule)

    def _answer(self) -> dict:
        assert self.holder is not None
        status = self.api.operator.status()
        return {
            'schedule': self.holder.schedule().to_dict(),
            'next_run': status.next_run or None,
            'zones': status.zones,
            'notice': self.notice,
        }

    def get(self, request: Request) -> Any:
        """The schedule, the next planned run and the map's zone count."""
        self.api._viewer(request)
        if self.holder is None:
            return _error(501, 'this mower does not take schedules yet')
        return self._answer()

    def put(self, body: ScheduleBody) -> Any:
        """Check, save and use a new schedule; 400 with the fault (nothing saved) when bad."""
        if self.holder is None:
            return _error(501, 'this mower does not take schedules yet')
        try:
            schedule = Schedule.from_dict(body.schedule)
            schedule.check_zones(self.api.operator.status().zones)
        except ScheduleError as exc:
            return _error(400, f'schedule not saved: {exc}')
        with self._saving:
            try:
                save_schedule(self.path, schedule)
            except OSError as exc:
                return _error(500, f'schedule not saved: cannot write {self.path}: {exc}')
            try:
                self.holder.set_schedule(schedule)
            except ScheduleError as exc:  # the map changed meanwhile: nothing kept
                save_schedule(self.path, self.holder.schedule())
                return _error(400, f'schedule not saved: {exc}')
            self.notice = ''
        return self._answer()


def add_schedule_routes(app: FastAPI, api: Any) -> ScheduleApi:
    """Add the schedule routes; the schedule lives in ``settings.data_dir/schedule.json``."""
    handlers = ScheduleApi(api, Path(api.settings.data_dir).expanduser() / SCHEDULE_FILE)
    app.add_api_route('/api/schedule', handlers.get, methods=['GET'], tags=['schedule'])
    app.add_api_route(
        '/api/schedule',
        handlers.put,
        methods=['PUT'],
        tags=['schedule'],
        dependencies=[Depends(api.controller)],  # before the body is validated
    )
    return handlers
