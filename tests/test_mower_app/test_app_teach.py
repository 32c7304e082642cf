"""Teach mode's routes on a fake operator: the controller's rights, the answers, OpenAPI."""

from __future__ import annotations

import pytest
from app_fakes import FOREIGN_ORIGIN, FakeOperator, login, make_client

from mower_control.teach_control import TEACH_NAMES, TeachDrive


class FakeTeacher(FakeOperator):
    """The fake operator with teach mode: requests and drives recorded, the real drive rule."""

    def __init__(self) -> None:
        super().__init__()
        self.taught: list[str] = []
        self.drives: list[tuple[float, float]] = []
        self.rule = TeachDrive()

    def teach(self, request: str) -> tuple[bool, str]:
        self.taught.append(request)
        if request == 'start':
            self.set(state='TEACHING')
            return True, 'teaching: drive with teleop; the blade stays off'
        return False, 'nothing to undo'

    def drive(self, linear: float, angular: float) -> tuple[bool, str]:
        v_w, message = self.rule.check(linear, angular, self.status().state)
        if v_w is not None:
            self.drives.append(v_w)
        return v_w is not None, message


URLS = ['/api/teach/drive'] + [f'/api/teach/{name}' for name in TEACH_NAMES]
BODY = {'linear': 0.3, 'angular': 0.0}


def test_teach_requests_and_the_joystick_answer_200_or_409_with_the_message(tmp_path):
    client, op = make_client(tmp_path, FakeTeacher())
    csrf = login(client)
    headers = {'X-CSRF-Token': csrf}
    response = client.post('/api/teach/drive', json=BODY, headers=headers)
    assert response.status_code == 409
    assert response.json() == {
        'accepted': False,
        'message': 'not teaching (IDLE): the joystick drives only while TEACHING',
    }
    response = client.post('/api/teach/start', headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        'accepted': True,
        'message': 'teaching: drive with teleop; the blade stays off',
    }
    response = client.post(
        '/api/teach/drive', json={'linear': 2, 'angular': -0.25}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()['message'] == 'driving +0.50 m/s, -0.25 rad/s'
    assert op.drives == [(0.5, -0.25)]
    response = client.post('/api/teach/undo', headers=headers)
    assert response.status_code == 409 and response.json()['message'] == 'nothing to undo'
    assert op.taught == ['start', 'undo']

    response = client.post('/api/teach/fly', headers=headers)
    assert response.status_code == 400
    assert response.json()['error'].startswith("unknown teach request 'fly'")
    for bad in (
        {'linear': 0.3},
        {'linear': 'fast', 'angular': 0.0},
        {'linear': 0.3, 'angular': 0.0, 'blade': True},
    ):
        response = client.post('/api/teach/drive', json=bad, headers=headers)
        assert response.status_code == 400 and response.json()['error'].startswith('bad request')
    response = client.post(  # JSON's NaN (Python writes it): not a speed
        '/api/teach/drive',
        content=b'{"linear": NaN, "angular": 0}',
        headers={**headers, 'Content-Type': 'application/json'},
    )
    assert response.status_code == 400
    assert op.taught == ['start', 'undo'] and op.drives == [(0.5, -0.25)]


@pytest.mark.parametrize('read_only_view', [False, True])
def test_teach_routes_need_the_controllers_rights(tmp_path, read_only_view):
    client, op = make_client(tmp_path, FakeTeacher(), read_only_view=read_only_view)
    for url in URLS:  # not logged in (the read-only view too): 401
        response = client.post(url, json=BODY, headers={'X-CSRF-Token': 'guess'})
        assert response.status_code == 401, url
    csrf = login(client)
    for url in URLS:
        response = client.post(url, json=BODY)  # no CSRF token
        assert response.status_code == 403 and 'X-CSRF-Token' in response.json()['error']
        response = client.post(url, json=BODY, headers={'X-CSRF-Token': 'not it'})
        assert response.status_code == 403, url
        response = client.post(
            url, json=BODY, headers={'X-CSRF-Token': csrf, 'Origin': FOREIGN_ORIGIN}
        )
        assert response.status_code == 403 and 'cross-site' in response.json()['error']
    assert op.taught == [] and op.drives == []


def test_a_mower_without_teach_mode_says_so_and_openapi_documents_the_routes(tmp_path):
    client, _ = make_client(tmp_path)  # the plain fake: no teach()/drive()
    csrf = login(client)
    response = client.post('/api/teach/start', headers={'X-CSRF-Token': csrf})
    assert response.status_code == 501 and 'no teach mode' in response.json()['error']
    response = client.post('/api/teach/drive', json=BODY, headers={'X-CSRF-Token': csrf})
    assert response.status_code == 501
    paths = client.get('/api/openapi.json').json()['paths']
    drive, request = paths['/api/teach/drive']['post'], paths['/api/teach/{name}']['post']
    for route in (drive, request):
        assert {'200', '409', '401', '403'} <= set(route['responses'])
        assert route['tags'] == ['teach']
    assert all(name in request['description'] for name in TEACH_NAMES)
    assert 'deadman' in drive['description']
    schema = drive['requestBody']['content']['application/json']['schema']
    assert schema['$ref'].endswith('/DriveBody')
