"""mission_node's teach services on the strict rclpy double: record, finish, draft written."""

from __future__ import annotations

import json
import math

import numpy as np
import yaml
from conftest import MAPS, ROOT
from shapely.geometry import Point, box, shape

TEACH = (
    'teach/start',
    'teach/boundary',
    'teach/keepout',
    'teach/navigation',
    'teach/dock',
    'teach/undo',
    'teach/finish',
    'teach/cancel',
)


def make(**changes):
    from rclpy.parameter import Parameter

    from mower_control.mission_node import MissionNode

    doc = yaml.safe_load((ROOT / 'config' / 'mission.yaml').read_text())
    values = doc['/**/mission_node']['ros__parameters']
    values['map_file'] = str(MAPS / 'demo_lawn.geojson')
    values.update(changes)
    return MissionNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


def odom(x, y, yaw=0.0):
    from nav_msgs.msg import Odometry

    msg = Odometry()
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return msg


class Drive:
    """Delivers odometry along a route and fires the node's state machine at 10 Hz."""

    def __init__(self, node) -> None:
        self.node, self.t = node, 0.0
        self.sub = next(s for s in node.subscriptions if s.topic == 'odom')
        self.srv = {s.srv_name: s for s in node.services}

    def call(self, name: str):
        from std_srvs.srv import Trigger

        return self.srv[name].call(Trigger.Request())

    def along(self, route, step_m: float = 0.03) -> None:  # 0.3 m/s
        clock = self.node.get_clock()
        pts = np.asarray(route, dtype=float)
        for a, b in zip(pts[:-1], pts[1:]):
            n = max(1, int(np.hypot(*(b - a)) / step_m))
            for k in range(n):
                x, y = a + (b - a) * (k + 1) / n
                self.t += 0.1
                clock.set_now(self.t)
                self.sub.deliver(odom(float(x), float(y)))
                self.node.step()

    def wait(self, seconds: float) -> None:
        clock = self.node.get_clock()
        for _ in range(int(seconds / 0.1)):
            self.t += 0.1
            clock.set_now(self.t)
            self.node.step()


def loop(area, offset_m: float, start: int = 0) -> np.ndarray:
    """The wheel track around ``area``: its corners from vertex ``start``, closed, and on."""
    ring = np.asarray(area.buffer(offset_m, join_style='mitre').exterior.coords)[:-1]
    ring = np.roll(ring, -start, axis=0)
    mid = (ring[0] + ring[1]) / 2
    return np.vstack([mid, ring[1:], ring[:1], mid, ring[1]])


def test_the_teach_services_record_a_lawn_and_write_the_draft_map(ros, tmp_path):
    from mower_control.conversions import state_of

    node = make(teach_dir=str(tmp_path))
    assert {s.srv_name for s in node.services} >= set(TEACH)
    d = Drive(node)
    d.along([(0.3, 5.0), (0.3, 5.0)])
    assert d.call('teach/boundary').message == 'not teaching (IDLE): call teach/start first'
    assert d.call('teach/start').success
    d.wait(0.2)
    state = next(p for p in node.publishers if p.topic == 'mower/state').published[-1]
    assert state_of(state)['state'] == 'TEACHING'
    lawn = loop(box(0.0, 0.0, 15.0, 10.0), -0.11)
    bed = loop(box(9.5, 2.0, 12.5, 3.2), 0.11)
    d.along([(0.3, 5.0), lawn[0]])
    assert d.call('teach/boundary').success
    d.along(lawn)
    d.along([lawn[-1], (8.0, 1.0), bed[0]])
    assert d.call('teach/keepout').success
    d.along(bed)
    d.along([bed[-1], (2.0, 5.0), (0.3, 5.0)])
    assert d.call('teach/dock').message.startswith('dock marked at (0.30, 5.00) m')
    blade = next(p for p in node.publishers if p.topic == 'mower/blade_request').published
    assert not any(msg.data for msg in blade)
    # mapping_node's obstacle outlines: one on the lawn joins the draft, one off it does not
    from mower_mapping.conversions import obstacle_markers

    tree, shed = Point(3.0, 7.0).buffer(0.4), box(16.0, 2.0, 18.0, 4.0)
    obstacles = next(s for s in node.subscriptions if s.topic == 'map/obstacles')
    obstacles.deliver(obstacle_markers([tree, shed], 'map', node.get_clock().now().to_msg()))
    response = d.call('teach/finish')
    assert response.success, response.message
    assert response.message.startswith('draft map ready: 1 boundary(ies), 1 keep-out(s), a dock')
    assert response.message.endswith(f'draft map written to {tmp_path / "draft_map.geojson"}')
    doc = json.loads((tmp_path / 'draft_map.geojson').read_text())
    assert doc['properties']['provenance'] == 'teach'
    found = [f for f in doc['features'] if f['properties']['role'] == 'obstacle']
    assert len(found) == 1 and shape(found[0]['geometry']).symmetric_difference(tree).area < 0.02
    assert (tmp_path / 'draft_map.png').exists()
    assert list(tmp_path.glob('teach_recording.json.taught-*'))
    d.wait(0.2)
    assert node.mission.state.name == 'IDLE'
    node.destroy_node()


def test_a_teach_session_survives_a_restart_and_a_fault_is_a_diagnostics_line(ros, tmp_path):
    from mower_control.conversions import status_values

    node = make(teach_dir=str(tmp_path))
    d = Drive(node)
    d.along([(0.3, 5.0), (0.3, 5.0)])
    d.call('teach/start')
    d.wait(0.2)
    lawn = loop(box(0.0, 0.0, 15.0, 10.0), -0.11)
    d.along([(0.3, 5.0), lawn[0]])
    d.call('teach/boundary')
    d.along(lawn[:3])
    d.wait(2.0)  # the pose stops coming: the recording is interrupted, and kept
    node.publish_diagnostics()
    diag = next(p for p in node.publishers if p.topic == '/diagnostics').published[-1]
    status = diag.status[0]
    assert 'TEACHING pose lost for' in status.message
    assert 'boundary 1 (interrupted' in status_values(status)['teach']
    node.destroy_node()
    node = make(teach_dir=str(tmp_path))  # a restart: the session comes back
    assert node.mission.teach.recordings[0].label == 'boundary 1'
    d = Drive(node)
    d.along([lawn[2], lawn[2]])
    assert d.call('teach/start').message.startswith('teaching')
    d.wait(0.2)
    d.along(lawn[2:])  # back where it stopped: it continues and closes
    d.along([lawn[-1], (2.0, 5.0), (0.3, 5.0)])
    d.call('teach/dock')
    assert d.call('teach/finish').success
    node.destroy_node()


def test_a_rejected_finish_names_the_faults_and_keeps_the_recording(ros, tmp_path):
    node = make(teach_dir=str(tmp_path))
    d = Drive(node)
    d.along([(0.3, 5.0), (0.3, 5.0)])
    d.call('teach/start')
    d.wait(0.2)
    d.call('teach/boundary')
    d.along([(0.3, 5.0), (5.0, 5.0), (5.0, 8.0)])  # never comes back
    response = d.call('teach/finish')
    assert not response.success
    assert 'boundary 1 not closed: ends' in response.message
    assert (tmp_path / 'teach_recording.json').exists()
    assert node.mission.state.name == 'TEACHING'
    assert d.call('teach/cancel').success
    assert list(tmp_path.glob('teach_recording.json.cancelled-*'))
    node.destroy_node()
