"""Mowing schedules in the app: the API on the fake operator, and the simulator following one."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest
from app_fakes import FOREIGN_ORIGIN, FakeOperator, login, make_client
from lawn_gen import garden

from mower_app.schedule_api import SCHEDULE_FILE, load_schedule, save_schedule
from mower_control.mowing_schedule import Schedule, Window
from mower_offline.operated_run import SimOperator
from mower_offline.run import MowingRun, RunConfig

GOOD = {
    'enabled': True,
    'rain_rule': 'delay',
    'rain_delay_h': 3.0,
    'min_battery_pct': 60.0,
    'windows': [
        {'weekday': 0, 'start': '09:00', 'end': '11:00', 'zone': 0},
        {'weekday': 2, 'start': '14:00', 'end': '16:30', 'zone': 2},
    ],
}
OVERLAPPING = {
    'windows': [
        {'weekday': 0, 'start': '09:00', 'end': '11:00', 'zone': 0},
        {'weekday': 0, 'start': '10:00', 'end': '12:00', 'zone': 1},
    ]
}


def saved(tmp_path) -> dict | None:
    path = tmp_path / 'data' / SCHEDULE_FILE
    return json.loads(path.read_text()) if path.exists() else None


# -- the API -----------------------------------------------------------------------------------
def test_get_and_put_the_schedule(tmp_path):
    client, operator = make_client(tmp_path)
    assert client.get('/api/schedule').status_code == 401
    headers = {'X-CSRF-Token': login(client)}
    assert client.get('/api/schedule').json() == {
        'schedule': Schedule().to_dict(),
        'next_run': None,
        'zones': 2,
        'notice': '',
    }
    response = client.put('/api/schedule', json={'schedule': GOOD}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body['schedule'] == GOOD
    assert body['next_run'] == '2025-06-02T09:00'  # the fake's clock: Monday 08:00
    assert operator.schedule() == Schedule.from_dict(GOOD)
    assert saved(tmp_path) == GOOD
    assert client.get('/api/schedule').json() == body
    assert client.get('/api/status').json()['next_run'] == '2025-06-02T09:00'
    openapi = client.get('/api/openapi.json').json()
    assert {'get', 'put'} <= set(openapi['paths']['/api/schedule'])


@pytest.mark.parametrize(
    ('schedule', 'words'),
    [
        (OVERLAPPING, 'windows 1 (Mon 09:00-11:00) and 2 (Mon 10:00-12:00) overlap'),
        (
            {'windows': [{'weekday': 4, 'start': '22:00', 'end': '01:00'}]},
            'window 1: Fri 22:00-01:00 crosses midnight',
        ),
        (
            {'windows': [{'weekday': 1, 'start': '09:00', 'end': '10:00', 'zone': 3}]},
            'window 1 (Tue 09:00-10:00): there is no zone 3: the map has 2',
        ),
        ({'windows': [{'weekday': 9, 'start': '09:00', 'end': '10:00'}]}, 'weekday 9'),
        ({'min_battery_pct': 150}, 'min_battery_pct 150 is not in 0..100'),
        ({'rain_rule': 'never'}, "rain_rule 'never' is not one of skip, delay"),
        ({'surprise': 1}, 'unknown keys surprise'),
    ],
)
def test_a_bad_schedule_is_400_in_words_and_nothing_is_saved(tmp_path, schedule, words):
    client, operator = make_client(tmp_path)
    headers = {'X-CSRF-Token': login(client)}
    assert client.put('/api/schedule', json={'schedule': GOOD}, headers=headers).status_code == 200
    response = client.put('/api/schedule', json={'schedule': schedule}, headers=headers)
    assert response.status_code == 400
    error = response.json()['error']
    assert error.startswith('schedule not saved: ') and words in error, error
    assert saved(tmp_path) == GOOD  # the file, the mower and the answer: all as before
    assert operator.schedule() == Schedule.from_dict(GOOD)
    assert client.get('/api/schedule').json()['schedule'] == GOOD


def test_a_malformed_body_is_400(tmp_path):
    client, _ = make_client(tmp_path)
    headers = {'X-CSRF-Token': login(client)}
    for body in ({}, {'schedule': [1]}, {'schedule': GOOD, 'also': 1}):
        response = client.put('/api/schedule', json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()['error'].startswith('bad request')
    assert saved(tmp_path) is None


def test_saving_needs_the_session_its_csrf_token_and_this_origin(tmp_path):
    client, operator = make_client(tmp_path, read_only_view=True)
    assert client.get('/api/schedule').status_code == 200  # the read-only view may look
    assert client.put('/api/schedule', json={'schedule': GOOD}).status_code == 401
    csrf = login(client)
    assert client.put('/api/schedule', json={'schedule': GOOD}).status_code == 403
    foreign = {'X-CSRF-Token': csrf, 'Origin': FOREIGN_ORIGIN}
    response = client.put('/api/schedule', json={'schedule': GOOD}, headers=foreign)
    assert response.status_code == 403
    assert saved(tmp_path) is None and operator.schedule() == Schedule()


def test_the_saved_schedule_is_used_at_start(tmp_path):
    save_schedule(tmp_path / 'data' / SCHEDULE_FILE, Schedule.from_dict(GOOD))
    client, operator = make_client(tmp_path)
    login(client)
    assert operator.schedule() == Schedule.from_dict(GOOD)
    assert client.get('/api/schedule').json()['next_run'] == '2025-06-02T09:00'


@pytest.mark.parametrize(
    ('text', 'why'),
    [
        ('{"windows": [', 'Expecting value'),
        (json.dumps(OVERLAPPING), 'overlap'),
        (
            json.dumps({'windows': [{'weekday': 0, 'start': '9:00', 'end': '10:00', 'zone': 5}]}),
            'there is no zone 5',
        ),
    ],
)
def test_a_damaged_schedule_file_is_kept_aside_and_reported(tmp_path, text, why):
    path = tmp_path / 'data' / SCHEDULE_FILE
    path.parent.mkdir()
    path.write_text(text)
    client, operator = make_client(tmp_path)
    headers = {'X-CSRF-Token': login(client)}
    body = client.get('/api/schedule').json()
    assert body['schedule'] == Schedule().to_dict() and operator.schedule() == Schedule()
    assert why in body['notice'] and 'kept as schedule.json.damaged-' in body['notice']
    aside = list(path.parent.glob('schedule.json.damaged-*'))
    assert len(aside) == 1 and aside[0].read_text() == text and not path.exists()
    assert client.put('/api/schedule', json={'schedule': GOOD}, headers=headers).status_code == 200
    assert client.get('/api/schedule').json()['notice'] == ''


def test_load_schedule_without_a_file_is_empty_and_quiet(tmp_path):
    assert load_schedule(tmp_path / 'none.json', 2) == (Schedule(), '')


def test_an_operator_without_schedules_answers_501(tmp_path):
    class NoSchedules(FakeOperator):
        schedule = None  # type: ignore[assignment]
        set_schedule = None  # type: ignore[assignment]

    client, _ = make_client(tmp_path, NoSchedules())
    headers = {'X-CSRF-Token': login(client)}
    assert client.get('/api/schedule').status_code == 501
    response = client.put('/api/schedule', json={'schedule': GOOD}, headers=headers)
    assert response.status_code == 501 and 'schedules' in response.json()['error']


# -- the simulator follows it ------------------------------------------------------------------
def sim_run(
    tmp_path, rain: bool, end: str = '10:00', limit_s: float = 110.0
) -> tuple[SimOperator, list[tuple[float, str]]]:
    """A docked mower, Monday 08:59 at sim time 0, a window Mon 09:00-``end`` (opens at 60 s)."""
    cfg = RunConfig(perception='truth', camera_hz=0.0, record=False, limit_s=limit_s)
    run = MowingRun(garden(), tmp_path / 'run', cfg)
    operator = SimOperator(run, sim_start=datetime(2025, 6, 2, 8, 59))
    operator.set_schedule(
        Schedule(windows=(Window(0, '09:00', end),), rain_rule='skip', min_battery_pct=20.0)
    )
    assert operator.status().next_run == '2025-06-02T09:00'
    states: list[tuple[float, str]] = []

    def sample(r: MowingRun) -> None:
        states.append((r.sim.time_s, r.loop.mission.state.name))

    events = [(t / 2, sample) for t in range(0, int(2 * limit_s))]
    if rain:
        events.append((0.0, lambda r: setattr(r.loop, 'raining', True)))
    t0 = time.monotonic()
    run.run(False, events=events, operator=operator)  # as fast as the simulation goes
    assert time.monotonic() - t0 < 240
    return operator, states


@pytest.mark.slow
def test_a_schedule_window_starts_the_simulated_mower(tmp_path):
    operator, states = sim_run(tmp_path, rain=False)
    before = {s for t, s in states if t < 60.0}
    assert before <= {'IDLE', 'CHARGING'}, before  # docked until the window opens
    starts = [entry for entry in operator.log if entry[1] == 'start']
    assert len(starts) == 1, operator.log
    t_start, _, zone, accepted, message = starts[0]
    assert 60.0 <= t_start < 60.5 and zone == 0 and accepted, starts
    assert message.startswith('schedule: ')
    assert 'MOWING' in {s for t, s in states if t > 60.0}
    assert operator.status().next_run == '2025-06-09T09:00'  # started: next Monday's


@pytest.mark.slow
def test_the_window_closing_sends_the_scheduled_run_home(tmp_path):
    operator, states = sim_run(tmp_path, rain=False, end='09:01', limit_s=150.0)
    docks = [entry for entry in operator.log if entry[1] == 'dock']
    assert len(docks) == 1, operator.log
    t_dock, _, _, accepted, message = docks[0]
    assert 120.0 <= t_dock < 120.5 and accepted, docks  # 09:01: the window closed
    assert message == 'schedule: returning to the dock'
    assert 'MOWING' in {s for t, s in states if 60.0 < t < 120.0}
    after = {s for t, s in states if t > 121.0}
    assert 'MOWING' not in after and after & {'RETURNING', 'DOCKING', 'IDLE'}, after


@pytest.mark.slow
def test_rain_with_the_skip_rule_keeps_the_mower_docked(tmp_path):
    operator, states = sim_run(tmp_path, rain=True)
    assert {s for _, s in states} <= {'IDLE', 'CHARGING'}
    assert not [entry for entry in operator.log if entry[1] in ('start', 'start_zone')]
    assert operator.status().next_run == '2025-06-02T09:00'  # still due


def test_the_page_loads_the_schedule_panel_after_app_js_and_nothing_inline():
    from conftest import ROOT

    static = ROOT / 'src' / 'mower_app' / 'mower_app' / 'static'
    html = (static / 'index.html').read_text()
    assert html.index('src="app.js"') < html.index('<script src="schedule.js" defer></script>')
    panel = html.index('<section id="panel">')
    assert panel < html.index('<section id="schedule-panel"') < html.index('id="logout"')
    assert ' style=' not in html and '<script>' not in html  # the CSP forbids both
    script = (static / 'schedule.js').read_text()
    assert not re.search(r'https?://|//cdn|\beval\(|new Function|innerHTML', script)
