"""mission_node's discovery on the strict rclpy double: map/semantic in, paths out, draft written.

A follower is played by the test: each path mission_node publishes is driven at once (the pose
jumps to its end) and reported done on ``controller/progress`` for that path's stamp, as the
controller does. The semantic grid is a lawn the camera has already seen whole, so the explorer
goes straight to its edge tours and home.
"""

from __future__ import annotations

import json
import math

import numpy as np
import shapely
from shapely.geometry import LineString, Point, box, shape
from test_mission_node_teach import make, odom

RES = 0.05
LAWN, OTHER = 0, 1
LAWN_BOX = box(1.0, 1.0, 11.0, 7.0)  # a 10 x 6 m lawn in a 12 x 8 m grid of other ground
BED = box(5.0, 3.5, 6.5, 4.5)  # a bed in it
DOCK = (1.5, 4.0, math.pi)  # on the lawn's west edge, facing out (it reverses onto the dock)


def semantic_msg(stamp):
    """map/semantic of the whole lawn, as mapping_node publishes it."""
    from mower_mapping.conversions import grid_msg, semantic_values

    cm = np.full((160, 240), OTHER, np.uint8)
    cm[20:140, 20:220] = LAWN
    cm[70:90, 100:130] = OTHER  # the bed
    return grid_msg(semantic_values(cm), np.zeros(2), RES, 'map', stamp)


class Follower:
    """Drives each published path at once and reports it done (controller/progress)."""

    def __init__(self, node) -> None:
        self.node, self.t, self.seen = node, 0.0, 0
        self.odom = next(s for s in node.subscriptions if s.topic == 'odom')
        self.progress = next(s for s in node.subscriptions if s.topic == 'controller/progress')
        self.paths = next(p for p in node.publishers if p.topic == 'mission/path').published
        self.driven: list[np.ndarray] = []

    def tick(self, pose) -> tuple:
        """One 10 Hz tick: the pose, the state machine, then the newest path driven."""
        from mower_control.conversions import path_points, progress_msg, stamp_s

        self.t += 0.1
        self.node.get_clock().set_now(self.t)
        self.odom.deliver(odom(*pose))
        self.node.step()
        if len(self.paths) == self.seen:
            return pose
        self.seen = len(self.paths)
        msg = self.paths[-1]
        pts = path_points(msg)
        if len(pts) < 2:
            return pose
        self.driven.append(pts)
        d = pts[-1] - pts[-2]
        yaw = math.atan2(d[1], d[0])  # (the heading of the last leg onto the dock is not used)
        pose = (float(pts[-1][0]), float(pts[-1][1]), yaw)
        self.odom.deliver(odom(*pose))
        values = dict.fromkeys(('cross_track_m', 'v_mps', 'w_radps'), 0.0)
        length = float(np.hypot(*np.diff(pts, axis=0).T).sum())
        values.update(path_stamp_s=stamp_s(msg.header.stamp), progress_m=length, done=1.0)
        self.progress.deliver(progress_msg(values))
        return pose


def services(node) -> dict:
    return {s.srv_name: s for s in node.services}


def call(node, name: str):
    from std_srvs.srv import Trigger

    return services(node)[name].call(Trigger.Request())


def discover_until_done(node, f: Follower) -> str:
    """Tick from the dock until the mission leaves DISCOVERING (3000 ticks at most); its state."""
    pose, states = DOCK, []
    for _ in range(3000):
        pose = f.tick(pose)
        states.append(node.mission.state.name)
        if states[-1] != 'DISCOVERING' and 'DISCOVERING' in states:
            break
    return states[-1]


def test_mower_discover_explores_the_semantic_grid_and_writes_the_draft(ros, tmp_path):
    node = make(map_file='', discovery_dir=str(tmp_path / 'discovery'))
    assert 'mower/discover' in services(node)
    f = Follower(node)
    f.tick(DOCK)
    refused = call(node, 'mower/discover')
    assert not refused.success and 'no semantic grid yet' in refused.message
    sem = next(s for s in node.subscriptions if s.topic == 'map/semantic')
    sem.deliver(semantic_msg(node.get_clock().now().to_msg()))
    response = call(node, 'mower/discover')
    assert response.success, response.message
    assert discover_until_done(node, f) == 'IDLE', node.mission.message
    assert node.explorer.phase == 'done' and node.explorer.tours >= 1
    blade = next(p for p in node.publishers if p.topic == 'mower/blade_request').published
    assert not any(msg.data for msg in blade)
    # every path but the last leg onto the dock keeps the clearance (0.32 m between cells of
    # the 0.1 m working grid: over 0.25 m from the lawn's edge and the bed)
    inner = shapely.difference(LAWN_BOX.buffer(-0.25), BED.buffer(0.25))
    for pts in f.driven[1:-1]:
        for x, y in pts[1:]:
            assert inner.covers(Point(x, y)), (x, y)
    assert np.hypot(*(f.driven[-1][-1] - DOCK[:2])) < 1e-6  # home onto the dock
    doc = json.loads((tmp_path / 'discovery' / 'discovered.geojson').read_text())
    assert doc['properties']['provenance'] == 'discovery'
    roles = [feat['properties']['role'] for feat in doc['features']]
    assert roles.count('boundary') == 1 and roles.count('keepout') == 1 and 'dock' in roles
    boundary = shape(
        next(f['geometry'] for f in doc['features'] if f['properties']['role'] == 'boundary')
    )
    iou = boundary.intersection(LAWN_BOX).area / boundary.union(LAWN_BOX).area
    assert iou > 0.97
    assert (tmp_path / 'discovery' / 'discovered.png').exists()


def test_discover_is_refused_without_a_pose_and_a_malformed_grid_is_counted(ros, tmp_path):
    from nav_msgs.msg import OccupancyGrid

    node = make(map_file='', discovery_dir=str(tmp_path))
    response = call(node, 'mower/discover')
    assert not response.success and response.message.startswith('no pose yet')
    sem = next(s for s in node.subscriptions if s.topic == 'map/semantic')
    bad = OccupancyGrid()
    bad.info.width, bad.info.height, bad.info.resolution = 4, 4, 0.05
    bad.data = [0] * 3  # 3 cells, info says 16
    sem.deliver(bad)
    assert node.bad_messages == 1 and node.semantic is None
    assert not list(tmp_path.iterdir())  # nothing written


def test_low_battery_sends_the_discovery_to_charge_and_it_goes_on_after(ros, tmp_path):
    from sensor_msgs.msg import BatteryState

    node = make(map_file='', discovery_dir=str(tmp_path / 'discovery'))
    f = Follower(node)
    f.tick(DOCK)
    sem = next(s for s in node.subscriptions if s.topic == 'map/semantic')
    sem.deliver(semantic_msg(node.get_clock().now().to_msg()))
    assert call(node, 'mower/discover').success
    battery = next(s for s in node.subscriptions if s.topic == 'battery')
    pose, states = DOCK, []
    for k in range(3000):
        if k == 12:  # two paths in (a whole discovery of this lawn takes eight): battery low
            battery.deliver(BatteryState(percentage=0.2))
        pose = f.tick(pose)
        states.append(node.mission.state.name)
        if states[-1] == 'CHARGING':
            break
    assert states[-1] == 'CHARGING'  # home to charge, the discovery not over
    assert node.mission.message == 'charging: the discovery goes on when charged'
    home = len(f.driven)
    assert home < 6  # it went home before going round the whole edge
    assert np.hypot(*(f.driven[-1][-1] - DOCK[:2])) < 1e-6  # home onto the dock
    assert not (tmp_path / 'discovery' / 'discovered.geojson').exists()  # no draft yet
    assert node.mission.explore.explorer.phase == 'recharge'
    battery.deliver(BatteryState(percentage=1.0))  # charged: it goes on where it was
    for _ in range(3000):
        pose = f.tick(pose)
        states.append(node.mission.state.name)
        if states[-1] not in ('CHARGING', 'DISCOVERING'):
            break
    assert 'DISCOVERING' in states[states.index('CHARGING') :]
    assert states[-1] == 'IDLE', node.mission.message
    assert node.mission.explore.explorer.recharges == 1
    assert len(f.driven) > home + 2  # explored on after charging
    assert np.hypot(*(f.driven[-1][-1] - DOCK[:2])) < 1e-6
    assert (tmp_path / 'discovery' / 'discovered.geojson').exists() or list(
        (tmp_path / 'discovery').glob('discovered.rejected.geojson')
    )


def test_discovery_keeps_clear_of_the_obstacles_mapping_found_not_only_the_class_map(
    ros, tmp_path
):
    """What the safety stop halts for (map/obstacles) is what the explorer plans around.

    The class map shows lawn where mapping_node has found a post (its obstacle layer is ahead
    of the class map: the floor, the foot spread); random garden 1's discovery stood before
    such a post until its time limit when the explorer planned on the class map alone.
    """
    from mower_mapping.conversions import obstacle_markers

    node = make(map_file='', discovery_dir=str(tmp_path / 'discovery'))
    f = Follower(node)
    f.tick(DOCK)
    stamp = node.get_clock().now().to_msg()
    next(s for s in node.subscriptions if s.topic == 'map/semantic').deliver(semantic_msg(stamp))
    post = Point(5.75, 3.15).buffer(0.13)  # a 6 cm post and the 0.1 m margin, on the way
    obstacles = next(s for s in node.subscriptions if s.topic == 'map/obstacles')
    obstacles.deliver(obstacle_markers([post], 'map', stamp))
    class_map, origin, res = node._semantic_grid()
    assert (class_map == 2).sum() > 0 and (node.semantic[0] == 2).sum() == 0
    assert call(node, 'mower/discover').success
    assert discover_until_done(node, f) == 'IDLE', node.mission.message
    legs = [LineString(pts) for pts in f.driven[1:-1] if len(pts) >= 2]
    near = min(post.distance(leg) for leg in legs)
    assert near >= 0.2  # the explorer's clearance from a blocked cell, to a cell
