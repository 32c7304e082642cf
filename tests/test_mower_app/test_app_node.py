"""app_node on the strict rclpy double: the owner's app over the stack's topics and services.

The node serves real HTTP (uvicorn on a free port, read with urllib as a browser would, with the
session cookie and the CSRF token); the test delivers the topics as mission_node, the
localisation, the battery and coverage_node would publish them, and answers the service calls
as mission_node does. Not run on ROS 2 (not installable here): the double models rclpy's API.
"""

from __future__ import annotations

import json
import math
import socket
import urllib.error
import urllib.request

import pytest
from conftest import MAPS

pytestmark = pytest.mark.usefixtures('ros')

PASSWORD = 'correct horse battery'


@pytest.fixture
def password_file(tmp_path, monkeypatch):
    """The owner's password in tmp_path; HOME there too, so the app writes nothing in ours."""
    from mower_app.auth import set_password

    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    path = tmp_path / 'app_password.json'
    set_password(path, PASSWORD)
    return path


def make(owner_password, **changes):
    from rclpy.parameter import Parameter

    from mower_app.app_node import AppNode

    values = {
        'port': 0,
        'password_file': str(owner_password),
        'map_file': str(MAPS / 'demo_lawn.geojson'),
        **changes,
    }
    return AppNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


@pytest.fixture
def node(password_file):
    n = make(password_file)
    yield n
    n.destroy_node()


class Browser:
    """HTTP to the node's app, keeping the session cookie and the CSRF token."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip('/')
        self.cookie = ''
        self.csrf = ''

    def request(self, method: str, path: str, body: dict | None = None, csrf: bool = True):
        headers = {'Content-Type': 'application/json'}
        if self.cookie:
            headers['Cookie'] = self.cookie
        if csrf and self.csrf:
            headers['X-CSRF-Token'] = self.csrf
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return response.status, json.loads(response.read()), response.headers
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read()), exc.headers

    def get(self, path: str):
        status, doc, _ = self.request('GET', path)
        return status, doc

    def get_bytes(self, path: str):
        """(status, body bytes, headers) of a GET that answers an image."""
        req = urllib.request.Request(self.url + path, headers={'Cookie': self.cookie})
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read(), exc.headers

    def post(self, path: str, body: dict | None = None, csrf: bool = True):
        status, doc, _ = self.request('POST', path, body if body is not None else {}, csrf)
        return status, doc

    def login(self, password: str = PASSWORD) -> int:
        status, doc, headers = self.request('POST', '/api/login', {'password': password})
        if status == 200:
            self.cookie = headers['Set-Cookie'].split(';')[0]
            self.csrf = doc['csrf']
        return status


def sub(node, topic):
    return next(s for s in node.subscriptions if s.topic == topic)


def pub(node, topic):
    return next(p for p in node.publishers if p.topic == topic)


def state(name: str, zone: int = 0):
    from std_msgs.msg import String

    doc = {'state': name, 'mowed_pct': 12.5, 'progress_m': 0.0, 'message': '', 'zone': zone}
    return String(data=json.dumps(doc))


def odometry(x: float, y: float, yaw: float):
    from nav_msgs.msg import Odometry

    odom = Odometry()
    odom.pose.pose.position.x, odom.pose.pose.position.y = x, y
    odom.pose.pose.orientation.z = math.sin(yaw / 2)
    odom.pose.pose.orientation.w = math.cos(yaw / 2)
    return odom


def plan_msg(points: list[list[float]]):
    import numpy as np
    from std_msgs.msg import String

    from mower_coverage.handoff import PlanHandoff

    pts = np.asarray(points, dtype=float)
    handoff = PlanHandoff(pts, np.ones(len(pts) - 1, dtype=np.int64), None)
    return String(data=handoff.to_json())


def test_status_map_and_plan_follow_the_topics(node):
    from sensor_msgs.msg import BatteryState
    from std_msgs.msg import String

    assert node.get_name() == 'app_node'
    browser = Browser(node.server.url)
    assert browser.get('/api/status')[0] == 401  # no session
    assert browser.login('wrong password') == 401
    assert browser.login() == 200

    sub(node, 'mower/state').deliver(state('IDLE'))
    sub(node, 'odom').deliver(odometry(0.3, 5.0, math.pi / 2))
    sub(node, 'battery').deliver(
        BatteryState(
            percentage=0.87, power_supply_status=BatteryState.POWER_SUPPLY_STATUS_CHARGING
        )
    )
    code, status = browser.get('/api/status')
    assert code == 200
    assert status['state'] == 'IDLE' and status['activity'] == 'docked'
    assert (status['x_m'], status['y_m'], status['heading_deg']) == (0.3, 5.0, 90.0)
    assert status['battery_pct'] == 87.0 and status['charging'] and status['zones'] == 1
    sub(node, 'mower/state').deliver(state('MOWING'))
    sub(node, 'odom').deliver(odometry(1.3, 5.0, 0.0))
    status = browser.get('/api/status')[1]
    assert status['state'] == 'MOWING' and status['x_m'] == 1.3 and status['distance_today_m'] == 1

    # the map of map_file; the plan coverage_node latches on coverage/plan, one version each
    code, doc = browser.get('/api/map')
    assert code == 200 and doc['plan'] == {'version': 0, 'points': []}
    roles = {f['properties']['role'] for f in doc['lawn']['features']}
    assert {'boundary', 'dock'} <= roles
    plan_sub = sub(node, 'coverage/plan')
    assert plan_sub.qos_profile.durability.name == 'TRANSIENT_LOCAL'
    plan_sub.deliver(plan_msg([[0.0, 0.0], [4.0, 0.0], [4.0, 0.5]]))
    assert browser.get('/api/map')[1]['plan'] == {
        'version': 1,
        'points': [[0.0, 0.0], [4.0, 0.0], [4.0, 0.5]],
    }
    plan_sub.deliver(plan_msg([[1.0, 1.0], [2.1234567, 1.0]]))
    assert browser.get('/api/map')[1]['plan'] == {
        'version': 2,
        'points': [[1.0, 1.0], [2.123, 1.0]],
    }
    # a malformed plan: counted and logged, the last good one kept
    plan_sub.deliver(String(data='{"format": "something else"}'))
    assert node.operator.counts['bad_messages'] == 1
    assert browser.get('/api/map')[1]['plan']['version'] == 2


def test_commands_reach_the_services_and_topics(node):
    results = []
    node.operator.on_result = lambda *result: results.append(result)
    browser = Browser(node.server.url)
    assert browser.login() == 200
    sub(node, 'mower/state').deliver(state('IDLE'))
    start = node.operator.requests['start']

    # start -> mower/start on the node's timer; the mission's answer goes to on_result
    assert browser.post('/api/command/start', csrf=False)[0] == 403  # no CSRF token
    code, doc = browser.post('/api/command/start')
    assert code == 200 and doc['accepted']
    assert not start.requests  # queued: the ROS call waits for the executor's thread
    node.timers[0].fire()
    assert len(start.requests) == 1
    start.respond(success=True, message='starting')
    assert results == [('start', 0, True, 'starting')]

    # the emergency stop goes to safety_node's topic
    assert browser.post('/api/command/emergency_stop')[0] == 200
    node.operator.step()
    assert [m.data for m in pub(node, 'mower/emergency_stop').published] == [True]

    # one zone: planned first (coverage/zone), started once mower/state reports its plan
    zone_pub = pub(node, 'coverage/zone')
    assert browser.post('/api/command/start_zone', {'zone': 2})[0] == 400  # one zone only
    assert browser.post('/api/command/start_zone', {'zone': 1})[0] == 200
    node.operator.step()
    assert [m.data for m in zone_pub.published] == [1] and len(start.requests) == 1
    sub(node, 'mower/state').deliver(state('IDLE', zone=1))
    node.operator.step()
    assert len(start.requests) == 2
    start.respond(success=False, message='the battery is low')
    assert results[-1] == ('start_zone', 1, False, 'the battery is low')
    # a service that is not there: said, not hung
    node.operator.requests['dock'].ready = False
    assert browser.post('/api/command/dock')[0] == 200
    node.operator.step()
    assert results[-1] == ('dock', 0, False, 'mower/dock is not available')


def test_a_saved_map_goes_out_on_map_lawn_and_outlives_a_restart(password_file):
    """POST /api/maps: 200, the map on map/lawn (latched); a restarted app_node sends it again."""
    doc = json.loads((MAPS / 'demo_lawn.geojson').read_text())
    bed = [[5.5, 3.0], [7.5, 3.0], [7.5, 5.0], [5.5, 5.0], [5.5, 3.0]]
    doc['features'].append(
        {
            'type': 'Feature',
            'properties': {'role': 'keepout', 'name': 'new bed'},
            'geometry': {'type': 'Polygon', 'coordinates': [bed]},
        }
    )
    node = make(password_file)
    try:
        sent = pub(node, 'map/lawn')
        assert sent.qos_profile.durability.name == 'TRANSIENT_LOCAL'
        node.operator.step()
        assert not sent.published  # map_file's map is in force: nothing to send
        browser = Browser(node.server.url)
        assert browser.login() == 200
        base = browser.get('/api/maps')[1]['current']
        code, answer = browser.post('/api/maps', {'map': doc, 'base_version': base})
        assert code == 200 and 'map/lawn' in answer['message'], answer
        node.operator.step()
        (msg,) = sent.published
        assert len(json.loads(msg.data)['features']) == len(doc['features'])
        assert len(browser.get('/api/map')[1]['lawn']['features']) == len(doc['features'])
    finally:
        node.destroy_node()
    again = make(password_file)  # the same data_dir (HOME): the owner's map is sent at start
    try:
        again.operator.step()
        (msg,) = pub(again, 'map/lawn').published
        assert len(json.loads(msg.data)['features']) == len(doc['features'])
    finally:
        again.destroy_node()


def test_without_a_map_the_app_shows_an_empty_one(password_file):
    node = make(password_file, map_file='')
    try:
        browser = Browser(node.server.url)
        assert browser.login() == 200
        doc = browser.get('/api/map')[1]
        assert doc['lawn'] == {'type': 'FeatureCollection', 'features': []}
        assert browser.get('/api/status')[1]['zones'] == 0
    finally:
        node.destroy_node()


def test_start_up_errors_are_one_line_and_status_1(password_file, tmp_path, capsys, ros):
    from mower_app.app_node import main
    from mower_app.auth import PasswordNotSetError
    from mower_app.serve import AddressInUseError

    missing = tmp_path / 'nobody' / 'app_password.json'
    with pytest.raises(PasswordNotSetError, match='no owner password in .*nobody'):
        make(password_file, password_file=str(missing))
    taken = socket.socket()
    taken.bind(('127.0.0.1', 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(AddressInUseError, match=f'127.0.0.1:{port}: the address is in use'):
            make(password_file, port=port)
        ros.shutdown()  # main initialises rclpy itself
        args = ['--ros-args', '-p', f'port:={port}', '-p', f'password_file:={password_file}']
        assert main(args) == 1
    finally:
        taken.close()
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and 'the address is in use' in err, err
    assert main(['--ros-args', '-p', f'password_file:={missing}']) == 1
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and 'mower app password --file' in err, err


def test_the_camera_overlay_the_mowed_layer_and_the_obstacles_follow_the_topics(node):
    import cv2
    import numpy as np
    from builtin_interfaces.msg import Time
    from sensor_msgs.msg import Image
    from shapely.geometry import box
    from std_msgs.msg import Header

    from mower_mapping.conversions import grid_msg, obstacle_markers
    from mower_segmentation.conversions import rgb_to_msg

    browser = Browser(node.server.url)
    assert browser.get_bytes('/api/camera.jpg')[0] == 401
    assert browser.login() == 200
    code, body, _ = browser.get_bytes('/api/camera.jpg')
    assert code == 404 and json.loads(body) == {'error': 'no camera image yet'}
    assert browser.get('/api/overlay')[1] == {'coverage': None, 'obstacles': []}

    # segmentation_node's overlay (rgb8, best effort), kept as a JPEG at most once a second
    camera = sub(node, 'segmentation/overlay')
    assert camera.qos_profile.reliability.name == 'BEST_EFFORT'
    clock = node.get_clock()
    clock.set_now(100.0)
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 1] = 200  # green
    camera.deliver(rgb_to_msg(rgb, Header(frame_id='camera_optical_frame')))
    code, body, headers = browser.get_bytes('/api/camera.jpg')
    assert code == 200 and headers['Content-Type'] == 'image/jpeg' and headers['X-Frame'] == '1'
    assert headers['Cache-Control'] == 'no-store'
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (48, 64, 3) and abs(image[..., 1].mean() - 200) < 3  # BGR: green
    clock.set_now(100.5)
    camera.deliver(rgb_to_msg(rgb, Header()))
    assert browser.get_bytes('/api/camera.jpg')[2]['X-Frame'] == '1'  # too soon: not encoded
    clock.set_now(101.0)
    camera.deliver(rgb_to_msg(rgb, Header()))
    assert browser.get_bytes('/api/camera.jpg')[2]['X-Frame'] == '2'
    bad = Image(height=2, width=2, encoding='rgb8', step=6, data=bytes(3))  # 9 bytes short
    camera.deliver(bad)
    assert node.operator.counts['bad_messages'] == 0  # within the period: not even decoded
    clock.set_now(102.0)
    camera.deliver(bad)  # malformed: counted, the last image kept
    assert node.operator.counts['bad_messages'] == 1
    assert browser.get_bytes('/api/camera.jpg')[2]['X-Frame'] == '2'

    # mapping_node's mowed layer (latched): a PNG with its bounds, north up
    coverage = sub(node, 'map/coverage')
    assert coverage.qos_profile.durability.name == 'TRANSIENT_LOCAL'
    values = np.zeros((4, 8), np.int8)
    values[0, :2] = 100  # the southern row
    stamp = Time(sec=100)
    coverage.deliver(grid_msg(values, np.array([-1.0, -2.0]), 0.25, 'map', stamp))
    overlay = browser.get('/api/overlay')[1]
    assert overlay['coverage'] == {'version': 1, 'bounds': [-1.0, -2.0, 1.0, -1.0]}
    code, body, headers = browser.get_bytes('/api/coverage.png')
    assert code == 200 and headers['Content-Type'] == 'image/png'
    assert headers['X-Coverage-Bounds'] == '-1.0,-2.0,1.0,-1.0'
    png = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    assert png.shape == (4, 8, 4) and np.count_nonzero(png[..., 3]) == 2
    assert (png[3, :2, 3] > 0).all()  # the southern row is the image's last
    coverage.deliver(grid_msg(values, np.array([-1.0, -2.0]), 0.25, 'map', stamp))
    assert browser.get('/api/overlay')[1]['coverage']['version'] == 1  # unchanged: same version
    values[1, :2] = 100
    coverage.deliver(grid_msg(values, np.array([-1.0, -2.0]), 0.25, 'map', stamp))
    assert browser.get('/api/overlay')[1]['coverage']['version'] == 2

    # the obstacles the camera found (latched MarkerArray), as GeoJSON
    obstacles = sub(node, 'map/obstacles')
    assert obstacles.qos_profile.durability.name == 'TRANSIENT_LOCAL'
    obstacles.deliver(obstacle_markers([box(1.0, 1.0, 1.5, 1.25)], 'map', stamp))
    found = browser.get('/api/overlay')[1]['obstacles']
    assert len(found) == 1 and found[0]['type'] == 'Polygon'
    xs = sorted({x for x, _ in found[0]['coordinates'][0]})
    assert xs == [1.0, 1.5]
