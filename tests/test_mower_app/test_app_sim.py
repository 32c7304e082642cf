"""The app against the real thing: the simulator's operator around a small mowing run."""

from __future__ import annotations

import threading
import time

from app_fakes import login
from fastapi.testclient import TestClient
from lawn_gen import garden

from mower_app.auth import set_password
from mower_app.server import AppSettings, create_app
from mower_offline.operated_run import SimOperator
from mower_offline.out_dir import StopRequest
from mower_offline.run import MowingRun, RunConfig


def wait_for(condition, timeout_s: float = 60.0, what: str = ''):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f'timed out waiting for {what}')


def test_start_from_the_app_and_the_simulated_mower_mows(tmp_path):
    cfg = RunConfig(perception='truth', camera_hz=0.0, record=False, limit_s=3600.0)
    run = MowingRun(garden(), tmp_path / 'run', cfg)
    operator = SimOperator(run)
    set_password(tmp_path / 'pw.json', 'owner password')
    settings = AppSettings(password_file=tmp_path / 'pw.json', data_dir=tmp_path)
    client = TestClient(create_app(operator, settings))
    headers = {'X-CSRF-Token': login(client, 'owner password')}
    stop = StopRequest()
    thread = threading.Thread(target=lambda: run.run(False, stop=stop, operator=operator))
    thread.start()
    try:
        status = wait_for(
            lambda: (s := client.get('/api/status').json())['state'] == 'IDLE' and s, what='IDLE'
        )
        assert status['activity'] == 'docked' and status['zones'] == 2

        response = client.post('/api/command/start', headers=headers)
        assert response.status_code == 200 and response.json()['accepted'], response.text
        wait_for(lambda: client.get('/api/status').json()['state'] == 'MOWING', what='MOWING')

        response = client.post('/api/command/start_zone', json={'zone': 1}, headers=headers)
        assert response.status_code == 409  # the mission's own refusal, in its words
        assert response.json() == {
            'accepted': False,
            'message': 'already MOWING: pause and dock first',
        }
        plan = client.get('/api/map').json()['plan']
        assert plan['version'] >= 1 and len(plan['points']) > 10
        with client.websocket_connect('/api/live') as ws:
            kinds = {ws.receive_json()['type'] for _ in range(2)}
            assert kinds == {'status', 'plan'}
    finally:
        stop.signum = 2
        thread.join(60)
    assert not thread.is_alive()
