"""The live WebSocket on a fake operator: who may connect, status and plan messages."""

from __future__ import annotations

import time

import pytest
from app_fakes import FOREIGN_ORIGIN, SAME_ORIGIN, login, make_client
from fastapi import WebSocketDisconnect

from mower_app import server
from mower_app.server import STATUS_EVERY_S


def receive(ws, kind: str, timeout_s: float = 3.0) -> dict:
    """The next message of ``kind`` (other kinds skipped)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = ws.receive_json()
        if message['type'] == kind:
            return message
    raise AssertionError(f'no {kind} message in {timeout_s} s')


def refused_with(client, headers: dict | None = None) -> int:
    with pytest.raises(WebSocketDisconnect) as caught:
        with client.websocket_connect('/api/live', headers=headers or {}) as ws:
            ws.receive_json()
    return caught.value.code


def test_the_live_socket_needs_a_session_and_this_origin(tmp_path):
    client, _ = make_client(tmp_path)
    assert refused_with(client) == 4401
    client.cookies.set('mower_session', 'forged')
    assert refused_with(client, {'Origin': SAME_ORIGIN}) == 4401
    del client.cookies['mower_session']
    login(client)
    assert refused_with(client, {'Origin': FOREIGN_ORIGIN}) == 4403
    with client.websocket_connect('/api/live', headers={'Origin': SAME_ORIGIN}) as ws:
        assert receive(ws, 'status')['status']['state'] == 'IDLE'


def test_the_read_only_view_may_watch_but_not_from_another_site(tmp_path):
    client, _ = make_client(tmp_path, read_only_view=True)
    with client.websocket_connect('/api/live') as ws:
        assert receive(ws, 'status')['status']['zones'] == 2
        assert receive(ws, 'plan')['plan']['version'] == 1
    assert refused_with(client, {'Origin': FOREIGN_ORIGIN}) == 4403


def test_status_at_least_every_half_second_and_each_new_plan(tmp_path):
    client, operator = make_client(tmp_path)
    login(client)
    with client.websocket_connect('/api/live', headers={'Origin': SAME_ORIGIN}) as ws:
        first = ws.receive_json()
        assert first == {'type': 'status', 'status': operator.status().as_dict()}
        assert ws.receive_json() == {
            'type': 'plan',
            'plan': {'version': 1, 'points': [[0.5, 0.5], [4.5, 0.5]]},
        }
        t0 = time.monotonic()
        assert receive(ws, 'status') == first  # nothing changed: sent again anyway
        assert time.monotonic() - t0 < STATUS_EVERY_S + 0.5

        version = operator.new_plan([[2.0, 2.0], [3.0, 3.0]])
        plan = receive(ws, 'plan')['plan']
        assert plan == {'version': version, 'points': [[2.0, 2.0], [3.0, 3.0]]}


def test_a_changed_status_is_sent_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(server, 'STATUS_EVERY_S', 60.0)  # no heartbeat in this test
    client, operator = make_client(tmp_path)
    login(client)
    with client.websocket_connect('/api/live') as ws:
        assert ws.receive_json()['type'] == 'status'
        assert ws.receive_json()['type'] == 'plan'
        operator.set(state='MOWING', activity='mowing', x_m=1.5, y_m=2.25)
        status = receive(ws, 'status')['status']
        assert (status['state'], status['x_m'], status['y_m']) == ('MOWING', 1.5, 2.25)


def test_logging_out_closes_the_live_socket(tmp_path):
    client, _ = make_client(tmp_path)
    login(client)
    with client.websocket_connect('/api/live') as ws:
        receive(ws, 'status')
        client.post('/api/logout')
        with pytest.raises(WebSocketDisconnect) as caught:
            for _ in range(50):
                ws.receive_json()
        assert caught.value.code == 4401


def test_a_client_that_goes_away_leaves_the_app_serving(tmp_path):
    client, _ = make_client(tmp_path)
    login(client)
    for _ in range(3):
        with client.websocket_connect('/api/live') as ws:
            receive(ws, 'status')
        # closed without reading the rest
    assert client.get('/api/status').status_code == 200
    with client.websocket_connect('/api/live') as ws:
        assert receive(ws, 'plan')['plan']['version'] == 1
