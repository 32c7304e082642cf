"""The app's JSON API on a fake operator: login, sessions, CSRF, origins, commands, headers."""

from __future__ import annotations

import pytest
from app_fakes import FOREIGN_ORIGIN, LAWN, PASSWORD, SAME_ORIGIN, Clock, login, make_client
from fastapi.testclient import TestClient

from mower_app.server import SECURITY_HEADERS, AppSettings, same_origin
from mower_control.operator import COMMANDS

COMMAND_URLS = [f'/api/command/{name}' for name in COMMANDS]
VIEW_URLS = ['/api/status', '/api/map']


def test_login_gives_a_strict_httponly_cookie_and_the_csrf_token(tmp_path):
    client, _ = make_client(tmp_path)
    assert client.get('/api/session').json() == {
        'authenticated': False,
        'read_only_view': False,
        'csrf': None,
    }
    response = client.post('/api/login', json={'password': PASSWORD})
    assert response.status_code == 200
    csrf = response.json()['csrf']
    cookie = response.headers['set-cookie']
    assert cookie.startswith('mower_session=')
    attributes = {a.strip().split('=')[0].lower() for a in cookie.split(';')[1:]}
    assert {'httponly', 'path', 'samesite', 'max-age'} <= attributes
    assert 'samesite=strict' in cookie.lower() and 'path=/' in cookie.lower()
    assert PASSWORD not in cookie and csrf not in cookie
    assert client.get('/api/session').json() == {
        'authenticated': True,
        'read_only_view': False,
        'csrf': csrf,
    }
    assert client.get('/api/status').status_code == 200


def test_a_wrong_password_is_401_and_too_many_are_429_for_the_rest_of_the_minute(tmp_path):
    clock = Clock()
    client, _ = make_client(tmp_path, clock=clock)
    for _ in range(5):
        response = client.post('/api/login', json={'password': 'not the password'})
        assert response.status_code == 401
        assert response.json() == {'error': 'wrong password'}
        assert 'set-cookie' not in response.headers
    response = client.post('/api/login', json={'password': PASSWORD})  # even the right one
    assert response.status_code == 429
    assert response.headers['retry-after'] == '60'
    assert 'too many failed logins' in response.json()['error']
    other = TestClient(client.app, client=('10.0.0.9', 4000))  # another address may try
    assert other.post('/api/login', json={'password': PASSWORD}).status_code == 200
    clock.t += 30.0
    response = client.post('/api/login', json={'password': PASSWORD})
    assert response.status_code == 429 and response.headers['retry-after'] == '30'
    clock.t += 30.0
    login(client)
    client.post('/api/logout')
    response = client.post('/api/login', json={'password': 'wrong again'})
    assert response.status_code == 401  # the good login cleared the failures


def test_login_without_a_password_set_is_503_and_says_how(tmp_path):
    client, _ = make_client(tmp_path, password=None)
    response = client.post('/api/login', json={'password': 'anything at all'})
    assert response.status_code == 503
    assert 'mower app password' in response.json()['error']


def test_login_from_another_site_and_malformed_logins_are_refused(tmp_path):
    client, _ = make_client(tmp_path)
    response = client.post(
        '/api/login', json={'password': PASSWORD}, headers={'Origin': FOREIGN_ORIGIN}
    )
    assert response.status_code == 403 and 'cross-site' in response.json()['error']
    response = client.post('/api/login', json={})
    assert response.status_code == 400 and response.json()['error'].startswith('bad request')
    response = client.post(
        '/api/login', content=b'{', headers={'Content-Type': 'application/json'}
    )
    assert response.json() == {'error': 'bad request: the body is not valid JSON'}


@pytest.mark.parametrize('url', COMMAND_URLS + VIEW_URLS)
def test_every_control_and_view_endpoint_needs_a_session(tmp_path, url):
    client, operator = make_client(tmp_path)
    method = client.post if url.startswith('/api/command/') else client.get
    response = method(url)
    assert response.status_code == 401
    assert response.json() == {'error': 'log in first'}
    client.cookies.set('mower_session', 'forged')
    forged = method(url, headers={'X-CSRF-Token': 'x'})
    assert forged.status_code == 401
    if method == client.post:  # the session is checked before the body
        assert method(url, json={'zone': 'one'}).status_code == 401
    assert operator.commands == []


@pytest.mark.parametrize('url', COMMAND_URLS)
def test_commands_need_the_sessions_csrf_token_and_this_origin(tmp_path, url):
    client, operator = make_client(tmp_path)
    csrf = login(client)
    body = {'zone': 1}
    assert client.post(url, json=body).status_code == 403  # no token
    response = client.post(url, json=body, headers={'X-CSRF-Token': csrf + 'x'})
    assert response.status_code == 403 and 'X-CSRF-Token' in response.json()['error']
    response = client.post(
        url, json=body, headers={'X-CSRF-Token': csrf, 'Origin': FOREIGN_ORIGIN}
    )
    assert response.status_code == 403 and 'cross-site' in response.json()['error']
    assert operator.commands == []
    response = client.post(url, json=body, headers={'X-CSRF-Token': csrf, 'Origin': SAME_ORIGIN})
    assert response.status_code == 200, response.text
    assert operator.commands == [(url.rsplit('/', 1)[1], 1)]


def test_another_sessions_token_does_not_do(tmp_path):
    client, operator = make_client(tmp_path)
    login(client)
    other = TestClient(client.app)
    other_csrf = login(other)
    response = client.post('/api/command/start', headers={'X-CSRF-Token': other_csrf})
    assert response.status_code == 403 and operator.commands == []


def test_commands_reach_the_operator_with_their_zone(tmp_path):
    client, operator = make_client(tmp_path)
    headers = {'X-CSRF-Token': login(client)}
    response = client.post('/api/command/start_zone', json={'zone': 2}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {'accepted': True, 'message': 'start_zone accepted'}
    assert client.post('/api/command/start', headers=headers).status_code == 200  # no body
    assert client.post('/api/command/pause', json={}, headers=headers).status_code == 200
    assert operator.commands == [('start_zone', 2), ('start', 0), ('pause', 0)]


def test_unknown_commands_and_zones_are_400_and_do_not_reach_the_operator(tmp_path):
    client, operator = make_client(tmp_path)
    headers = {'X-CSRF-Token': login(client)}
    response = client.post('/api/command/fly', headers=headers)
    assert response.status_code == 400
    assert response.json()['error'].startswith("unknown command 'fly' (one of start, start_zone")
    response = client.post('/api/command/start_zone', json={'zone': 3}, headers=headers)
    assert response.status_code == 400 and response.json() == {'error': 'no zone 3: the map has 2'}
    response = client.post('/api/command/start_zone', json={'zone': 'two'}, headers=headers)
    assert response.status_code == 400 and 'zone' in response.json()['error']
    response = client.post('/api/command/start_zone', json={'zone': -1}, headers=headers)
    assert response.status_code == 400
    assert operator.commands == []


def test_a_refused_command_is_409_with_the_missions_message(tmp_path):
    client, operator = make_client(tmp_path)
    headers = {'X-CSRF-Token': login(client)}
    operator.refusal = 'nothing to resume: not paused'
    response = client.post('/api/command/resume', headers=headers)
    assert response.status_code == 409
    assert response.json() == {'accepted': False, 'message': 'nothing to resume: not paused'}
    assert operator.commands == [('resume', 0)]


def test_status_and_map_are_the_operators(tmp_path):
    client, operator = make_client(tmp_path)
    login(client)
    status = client.get('/api/status').json()
    assert status == operator.status().as_dict()
    assert status['state'] == 'IDLE' and status['battery_pct'] == 91.2 and status['zones'] == 2
    operator.set(state='MOWING', activity='mowing', charging=False)
    assert client.get('/api/status').json()['state'] == 'MOWING'
    operator.new_plan([[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]])
    assert client.get('/api/map').json() == {
        'lawn': LAWN,
        'plan': {'version': 2, 'points': [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0]]},
    }


def test_the_read_only_view_shows_status_and_map_but_never_takes_commands(tmp_path):
    client, operator = make_client(tmp_path, read_only_view=True)
    assert client.get('/api/session').json() == {
        'authenticated': False,
        'read_only_view': True,
        'csrf': None,
    }
    for url in VIEW_URLS:
        assert client.get(url).status_code == 200
    for url in COMMAND_URLS:
        response = client.post(url, json={'zone': 1}, headers={'X-CSRF-Token': 'guess'})
        assert response.status_code == 401
    assert operator.commands == []


def test_logout_and_expiry_end_the_session(tmp_path):
    clock = Clock()
    client, operator = make_client(tmp_path, clock=clock, session_hours=1.0)
    csrf = login(client)
    response = client.post('/api/logout', headers={'X-CSRF-Token': csrf})
    assert response.status_code == 200 and response.json() == {'authenticated': False}
    assert 'mower_session=' in response.headers['set-cookie']  # cleared
    assert client.get('/api/session').json()['authenticated'] is False
    assert client.post('/api/command/start', headers={'X-CSRF-Token': csrf}).status_code == 401
    assert client.post('/api/logout', headers={'Origin': FOREIGN_ORIGIN}).status_code == 403

    csrf = login(client)
    clock.t += 3599.0
    assert client.get('/api/status').status_code == 200
    clock.t += 1.0
    assert client.get('/api/status').status_code == 401
    assert client.post('/api/command/start', headers={'X-CSRF-Token': csrf}).status_code == 401
    assert client.get('/api/session').json()['csrf'] is None
    assert operator.commands == []


def test_openapi_lists_the_routes_and_no_docs_page_loads_a_cdn(tmp_path):
    client, _ = make_client(tmp_path)
    spec = client.get('/api/openapi.json').json()
    assert {
        '/api/login',
        '/api/logout',
        '/api/session',
        '/api/status',
        '/api/map',
        '/api/command/{name}',
        '/api/maps',
        '/api/maps/{version}',
        '/api/maps/{version}/restore',
    } <= set(spec['paths'])
    assert 'post' in spec['paths']['/api/command/{name}']
    assert '/api/live' in spec['info']['description']  # the WebSocket, in words
    for url in ('/docs', '/redoc'):
        response = client.get(url)
        assert response.status_code == 404 and 'cdn' not in response.text.lower()


def test_every_response_carries_the_security_headers(tmp_path):
    client, _ = make_client(tmp_path)
    responses = [
        client.get('/'),
        client.get('/index.html'),
        client.get('/api/status'),
        client.get('/api/session'),
        client.get('/api/openapi.json'),
        client.get('/api/nothing-here'),
        client.post('/api/login', json={'password': 'wrong password'}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 200, 200, 404, 401]
    assert 'text/html' in responses[0].headers['content-type']
    assert responses[5].json() == {'error': 'nothing at /api/nothing-here'}
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
    assert "script-src 'self'" in SECURITY_HEADERS['Content-Security-Policy']
    assert responses[2].headers['cache-control'] == 'no-store'


@pytest.mark.parametrize(
    ('origin', 'host', 'same'),
    [
        (None, 'mower.local:8080', True),
        ('http://mower.local:8080', 'mower.local:8080', True),
        ('http://MOWER.local:8080', 'mower.local:8080', True),
        ('http://mower.local', 'mower.local', True),
        ('http://mower.local:80', 'mower.local', True),
        ('https://mower.local', 'mower.local:443', True),
        ('http://[::1]:8080', '[::1]:8080', True),
        ('http://mower.local:8081', 'mower.local:8080', False),
        ('https://mower.local', 'mower.local:80', False),  # 443 is not 80
        ('http://evil.example', 'mower.local', False),
        ('null', 'mower.local', False),
        ('file://', 'mower.local', False),
        ('http://mower.local:99999', 'mower.local:99999', False),
        ('http://mower.local', None, False),
    ],
)
def test_same_origin(origin, host, same):
    headers = {k: v for k, v in (('origin', origin), ('host', host)) if v is not None}
    assert same_origin(headers) is same


def test_settings_that_cannot_work_are_refused():
    for bad in ({'port': 70000}, {'session_hours': 0.0}, {'login_attempts_per_minute': 0}):
        with pytest.raises(ValueError):
            AppSettings(**bad)
