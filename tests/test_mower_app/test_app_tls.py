"""The app over HTTPS: a certificate the browser trusts, a cookie never sent in clear."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
import urllib.request

import pytest
from app_fakes import FakeOperator
from mqtt_broker import make_certificates

from mower_app.auth import set_password
from mower_app.serve import AppServer, AppServerError
from mower_app.server import AppSettings, create_app


def test_https_login_gives_a_secure_cookie_and_plain_http_gets_nothing(tmp_path):
    certs = make_certificates(tmp_path)
    set_password(tmp_path / 'pw.json', 'correct horse')
    settings = AppSettings(
        password_file=tmp_path / 'pw.json',
        data_dir=tmp_path,
        tls_cert=certs['server.crt'],
        tls_key=certs['server.key'],
    )
    server = AppServer(create_app(FakeOperator(), settings), '127.0.0.1', 0, settings.tls)
    url = server.start()
    try:
        assert url == f'https://127.0.0.1:{server.port}/'
        trusted = ssl.create_default_context(cafile=str(certs['ca.crt']))
        with urllib.request.urlopen(url, timeout=5, context=trusted) as page:
            assert b'<html' in page.read().lower()
        conn = http.client.HTTPSConnection('127.0.0.1', server.port, context=trusted, timeout=5)
        body = json.dumps({'password': 'correct horse'})
        conn.request('POST', '/api/login', body, {'Content-Type': 'application/json'})
        answer = conn.getresponse()
        assert answer.status == 200 and 'csrf' in json.loads(answer.read())
        cookie = answer.getheader('set-cookie').lower()
        assert '; secure' in cookie and 'httponly' in cookie and 'samesite=strict' in cookie
        conn.close()
        # a client that does not trust the certificate is refused by TLS itself
        with pytest.raises(ssl.SSLError):
            with socket.create_connection(('127.0.0.1', server.port), timeout=5) as raw:
                ssl.create_default_context().wrap_socket(raw, server_hostname='127.0.0.1')
        # plain HTTP to the HTTPS port: no page
        with socket.create_connection(('127.0.0.1', server.port), timeout=5) as raw:
            raw.sendall(b'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
            raw.settimeout(5)
            try:
                reply = raw.recv(4096)
            except (ConnectionResetError, TimeoutError):
                reply = b''
        assert b'"state"' not in reply
    finally:
        server.stop()


def test_plain_http_cookie_is_not_marked_secure(tmp_path):
    set_password(tmp_path / 'pw.json', 'correct horse')
    settings = AppSettings(password_file=tmp_path / 'pw.json', data_dir=tmp_path)
    assert settings.tls is None
    with AppServer(create_app(FakeOperator(), settings), '127.0.0.1', 0) as server:
        conn = http.client.HTTPConnection('127.0.0.1', server.port, timeout=5)
        body = json.dumps({'password': 'correct horse'})
        conn.request('POST', '/api/login', body, {'Content-Type': 'application/json'})
        answer = conn.getresponse()
        assert answer.status == 200
        assert 'secure' not in answer.getheader('set-cookie').lower()


def test_unusable_certificate_files_are_one_clear_error(tmp_path):
    certs = make_certificates(tmp_path)
    settings = AppSettings(password_file=tmp_path / 'pw.json', data_dir=tmp_path)
    app = create_app(FakeOperator(), settings)
    missing = (str(tmp_path / 'nope.crt'), str(certs['server.key']))
    with pytest.raises(AppServerError, match='the certificate .*nope.crt: No such file'):
        AppServer(app, '127.0.0.1', 0, missing).start()
    swapped = (str(certs['server.key']), str(certs['server.crt']))
    with pytest.raises(AppServerError, match='not a PEM certificate chain and its private key'):
        AppServer(app, '127.0.0.1', 0, swapped).start()
    wrong_key = (str(certs['server.crt']), str(certs['ca.key']))  # another key
    with pytest.raises(AppServerError, match='not a PEM certificate chain'):
        AppServer(app, '127.0.0.1', 0, wrong_key).start()
    with pytest.raises(ValueError, match='both tls_cert and tls_key'):
        AppSettings(password_file=tmp_path / 'pw.json', tls_cert=certs['server.crt'])


def test_mower_sim_serve_refuses_bad_https_files_in_one_line(tmp_path):
    bad = tmp_path / 'bad.pem'
    bad.write_text('not a certificate\n')
    out = tmp_path / 'run'
    result = subprocess.run(
        [sys.executable, '-m', 'mower_cli.main', 'sim', 'maps/demo_lawn.geojson', '--out',
         str(out), '--serve', '127.0.0.1:0', '--app-tls', str(bad), str(bad), '--limit-s', '5'],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith('error: cannot serve HTTPS with')
    assert 'Traceback' not in result.stderr
