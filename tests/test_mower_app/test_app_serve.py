"""The app served by uvicorn in a thread: a free port, a taken address, a real WebSocket."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from app_fakes import FakeOperator
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from mower_app.serve import AddressInUseError, AppServer
from mower_app.server import AppSettings, create_app


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_serves_on_a_free_port_survives_a_dropped_socket_and_stops(tmp_path):
    app = create_app(
        FakeOperator(),
        AppSettings(password_file=tmp_path / 'none.json', read_only_view=True, data_dir=tmp_path),
    )
    server = AppServer(app, '127.0.0.1', 0)
    url = server.start()
    try:
        port = server.port
        assert port > 0 and url == f'http://127.0.0.1:{port}/'
        assert get_json(url + 'api/session')['read_only_view'] is True
        ws_url = f'ws://127.0.0.1:{port}/api/live'
        origin = f'http://127.0.0.1:{port}'
        with connect(ws_url, origin=origin, open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))['type'] == 'status'
            ws.socket.shutdown(socket.SHUT_RDWR)  # the phone leaves the Wi-Fi: no close frame
        with pytest.raises(ConnectionClosed) as caught:
            with connect(ws_url, origin='http://evil.example', open_timeout=5) as ws:
                ws.recv(timeout=5)
        assert caught.value.rcvd is not None and caught.value.rcvd.code == 4403
        with connect(ws_url, origin=origin, open_timeout=5) as ws:  # still serving
            kinds = {json.loads(ws.recv(timeout=5))['type'] for _ in range(2)}
            assert kinds == {'status', 'plan'}
        assert get_json(url + 'api/status')['state'] == 'IDLE'
    finally:
        server.stop()
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', port), timeout=1).close()


def test_a_taken_address_is_one_clear_error(tmp_path):
    taken = socket.socket()
    taken.bind(('127.0.0.1', 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        settings = AppSettings(password_file=tmp_path / 'none.json', data_dir=tmp_path)
        app = create_app(FakeOperator(), settings)
        with pytest.raises(AddressInUseError, match=f'127.0.0.1:{port}: the address is in use'):
            AppServer(app, '127.0.0.1', port).start()
    finally:
        taken.close()
