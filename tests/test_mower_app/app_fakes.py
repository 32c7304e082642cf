"""A fake operator (status you set, commands recorded), a settable clock, a logged-in client."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from mower_app.auth import set_password
from mower_app.server import AppSettings, create_app
from mower_control.mowing_schedule import Schedule, Scheduler
from mower_control.operator import MowerStatus

PASSWORD = 'correct horse battery'
SAME_ORIGIN = 'http://testserver'  # TestClient's base URL
FOREIGN_ORIGIN = 'http://evil.example'
LAWN = {
    'type': 'FeatureCollection',
    'properties': {'name': 'fake', 'frame': 'enu', 'units': 'm'},
    'features': [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'front'},
            'geometry': {'type': 'Polygon', 'coordinates': [[[0, 0], [5, 0], [5, 4], [0, 0]]]},
        }
    ],
}


class FakeOperator:
    """The operator interface and the map view, in memory."""

    def __init__(self, zones: int = 2) -> None:
        self._lock = threading.Lock()
        self.current = MowerStatus(
            state='IDLE', activity='docked', charging=True, battery_pct=91.25, zones=zones
        )
        self.commands: list[tuple[str, int]] = []
        self.refusal = ''  # when set, every command is refused with it
        self.maps: list = []  # the maps set_map was given
        self.map_refusal = ''  # when set, set_map refuses with it
        self._plan: tuple[int, list[list[float]]] = (1, [[0.5, 0.5], [4.5, 0.5]])
        self.scheduler = Scheduler()  # the schedule, on the fake's clock (``now``)
        self.now = datetime(2025, 6, 2, 8, 0)  # a Monday
        self.camera: tuple[int, bytes] | None = None  # what camera_jpeg gives
        self.coverage: tuple[int, bytes, tuple[float, float, float, float]] | None = None
        self.found: list[dict] = []  # what obstacles gives

    def status(self) -> MowerStatus:
        with self._lock:
            return self.current

    def set(self, **changes) -> None:
        with self._lock:
            self.current = replace(self.current, **changes)

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        with self._lock:
            self.commands.append((name, zone))
            if self.refusal:
                return False, self.refusal
            return True, f'{name} accepted'

    def lawn_geojson(self) -> dict:
        return LAWN

    def set_map(self, lawn) -> tuple[bool, str]:
        with self._lock:
            self.maps.append(lawn)
            if self.map_refusal:
                return False, self.map_refusal
            return True, 'the new map is in use'

    def plan(self) -> tuple[int, list[list[float]]]:
        with self._lock:
            return self._plan

    def camera_jpeg(self) -> tuple[int, bytes] | None:
        return self.camera

    def coverage_png(self) -> tuple[int, bytes, tuple[float, float, float, float]] | None:
        return self.coverage

    def obstacles(self) -> list[dict]:
        return self.found

    def schedule(self) -> Schedule:
        return self.scheduler.schedule()

    def set_schedule(self, schedule: Schedule) -> None:
        schedule.check_zones(self.status().zones)
        self.scheduler.set_schedule(schedule)
        when = self.scheduler.next_run(self.now)
        self.set(next_run='' if when is None else when.isoformat(timespec='minutes'))

    def new_plan(self, points: list[list[float]]) -> int:
        with self._lock:
            self._plan = (self._plan[0] + 1, points)
            return self._plan[0]


class Clock:
    """Monotonic seconds that a test moves."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_client(
    tmp_path: Path,
    operator: FakeOperator | None = None,
    clock: Clock | None = None,
    password: str | None = PASSWORD,
    **settings,
) -> tuple[TestClient, FakeOperator]:
    """A TestClient of an app around ``operator`` (a password set unless ``password`` is None)."""
    operator = operator or FakeOperator()
    path = tmp_path / 'app_password.json'
    if password is not None and not path.exists():
        set_password(path, password)
    settings.setdefault('data_dir', tmp_path / 'data')  # never the owner's ~/.config
    app = create_app(operator, AppSettings(password_file=path, **settings), clock=clock or Clock())
    return TestClient(app), operator


def login(client: TestClient, password: str = PASSWORD) -> str:
    """Log in; the session's CSRF token."""
    response = client.post('/api/login', json={'password': password})
    assert response.status_code == 200, response.text
    return response.json()['csrf']
