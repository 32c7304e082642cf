"""The run history, made from status updates alone."""

from __future__ import annotations

import datetime
import json

from mower_app.history import RunHistory
from mower_control.operator import MowerStatus

T0 = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.timezone.utc)


def feed(history: RunHistory, steps) -> None:
    """(minutes after T0, state, message, distance today, mowed %)."""
    for minutes, state, message, dist, mowed in steps:
        status = MowerStatus(
            state=state,
            message=message,
            distance_today_m=dist,
            mowed_pct=mowed,
            last_error=message if state == 'ERROR' else '',
        )
        history.observe(status, T0 + datetime.timedelta(minutes=minutes))


def test_a_run_with_stops_is_recorded_and_kept_on_disk(tmp_path):
    path = tmp_path / 'history.jsonl'
    history = RunHistory(path)
    feed(
        history,
        [
            (0, 'IDLE', '', 0.0, 0.0),
            (1, 'UNDOCKING', '', 0.0, 0.0),
            (2, 'MOWING', '', 5.0, 1.0),
            (20, 'PAUSED', 'paused by the owner', 300.0, 30.0),
            (25, 'MOWING', '', 300.0, 30.0),
            (40, 'RETURNING', 'rain: returning to the dock', 600.0, 55.0),
            (44, 'DOCKING', '', 650.0, 55.0),
            (45, 'CHARGING', '', 655.0, 55.0),
        ],
    )
    (going,) = history.runs()
    assert going['ended'] == '' and going['duration_s'] == 44 * 60
    feed(history, [(90, 'UNDOCKING', '', 655.0, 55.0), (120, 'MOWING', '', 900.0, 90.0)])
    feed(
        history,
        [(150, 'DOCKING', '', 1200.0, 100.0), (151, 'IDLE', 'mowing complete', 1205.0, 100.0)],
    )
    (run,) = history.runs()
    assert run['ended'] and run['result'] == 'mowing complete'
    assert run['distance_m'] == 1205.0 and run['mowed_pct'] == 100.0
    assert run['duration_s'] == 150 * 60
    assert [s['state'] for s in run['stops']] == ['PAUSED', 'RETURNING', 'CHARGING']
    assert run['stops'][1]['why'] == 'rain: returning to the dock'
    again = RunHistory(path)  # a restart reads it back
    assert again.runs() == [run]
    with path.open('a') as f:
        f.write('{"started": \n')  # a damaged line: skipped and counted
    assert RunHistory(path).damaged_lines == 1 and len(RunHistory(path).runs()) == 1


def test_an_error_ends_the_story_and_midnight_does_not_lose_distance(tmp_path):
    history = RunHistory()
    feed(
        history,
        [
            (0, 'CHARGING', '', 90.0, 0.0),
            (1, 'UNDOCKING', '', 90.0, 0.0),
            (30, 'MOWING', '', 190.0, 20.0),
            (31, 'MOWING', '', 20.0, 22.0),  # midnight: today's distance starts again
            (32, 'ERROR', 'safety stop: lift', 25.0, 22.0),
            (40, 'IDLE', '', 25.0, 22.0),
        ],
    )
    (run,) = history.runs()
    assert run['distance_m'] == 125.0  # 100 before midnight, 20 + 5 after
    assert run['result'] == 'ended after an error: safety stop: lift'
    assert json.loads(json.dumps(run)) == run
    feed(history, [(50, 'IDLE', '', 25.0, 22.0), (51, 'TEACHING', '', 25.0, 22.0)])
    assert len(history.runs()) == 1  # teaching is not a run


def test_the_app_records_runs_from_the_operator_and_serves_them(tmp_path):
    import time

    from app_fakes import login, make_client

    client, operator = make_client(tmp_path)
    assert client.get('/api/history').status_code == 401
    login(client)
    time.sleep(0.5)  # the feeder sees IDLE
    operator.set(state='MOWING', activity='mowing', distance_today_m=12.0)
    deadline = time.monotonic() + 10
    while not client.get('/api/history').json()['runs'] and time.monotonic() < deadline:
        time.sleep(0.1)
    operator.set(state='PAUSED', activity='paused', message='paused by the owner')
    time.sleep(0.5)
    operator.set(state='IDLE', activity='docked', message='docked by the owner')
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        runs = client.get('/api/history').json()['runs']
        if runs and runs[0]['ended']:
            break
        time.sleep(0.1)
    (run,) = runs
    assert run['result'] == 'docked by the owner'
    assert [s['state'] for s in run['stops']] == ['PAUSED']
    assert (tmp_path / 'data' / 'history.jsonl').is_file()
