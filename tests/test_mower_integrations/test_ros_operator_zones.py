"""The robot's operator mows every zone in its order (ZoneSequence) and each zone's share.

RosOperator on the strict rclpy double: the same ZoneSequence as the simulator's operator.
Not run on ROS 2 (not installable here).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures('ros')


def rect(x0: float, x1: float) -> dict:
    ring = [[x0, 0.0], [x1, 0.0], [x1, 4.0], [x0, 4.0], [x0, 0.0]]
    return {'type': 'Polygon', 'coordinates': [ring]}


def two_zone_map(tmp_path):
    def feature(geometry, **props):
        return {'type': 'Feature', 'properties': props, 'geometry': geometry}

    doc = {
        'type': 'FeatureCollection',
        'features': [
            feature(rect(0.0, 5.0), role='boundary', name='west', order=2),
            feature(rect(5.0, 9.0), role='boundary', name='east', order=1),
            feature({'type': 'Point', 'coordinates': [0.3, 2.0]}, role='dock', heading_deg=0),
        ],
    }
    path = tmp_path / 'two_zones.geojson'
    path.write_text(json.dumps(doc))
    return path


def test_start_plans_zone_after_zone_and_each_zone_has_its_share(tmp_path):
    from nav_msgs.msg import OccupancyGrid
    from rclpy.node import Node
    from std_msgs.msg import String

    from mower_integrations.operator_node import RosOperator

    node = Node('zones_test')
    results = []
    op = RosOperator(
        node,
        map_file=str(two_zone_map(tmp_path)),
        on_result=lambda *r: results.append(r),
        views=True,
    )
    sub = {s.topic: s for s in node.subscriptions}
    zone_pub = next(p for p in node.publishers if p.topic == 'coverage/zone')
    start = op.requests['start']

    def state(name: str, zone: int, t: float) -> None:
        msg = {'state': name, 'mowed_pct': 0.0, 'progress_m': 0.0, 'message': '', 'zone': zone}
        sub['mower/state'].deliver(String(data=json.dumps(msg)))
        node.get_clock().set_now(t)
        op.step()

    state('IDLE', 0, 1.0)
    assert op.command('start')[0]
    op.step()
    assert [m.data for m in zone_pub.published] == [1]  # zone 1 is 'east' (order 1)
    state('IDLE', 1, 2.0)  # coverage_node planned zone 1: the mission is started
    assert len(start.requests) == 1
    for i, name in enumerate(['UNDOCKING', 'MOWING', 'RETURNING', 'DOCKING', 'IDLE']):
        state(name, 1, 3.0 + i)
    assert [m.data for m in zone_pub.published] == [1, 2]  # zone 1 docked: zone 2 planned
    state('IDLE', 2, 9.0)
    assert len(start.requests) == 2
    for i, name in enumerate(['UNDOCKING', 'MOWING', 'RETURNING', 'DOCKING', 'IDLE']):
        state(name, 2, 10.0 + i)
    assert [m.data for m in zone_pub.published] == [1, 2]  # the last zone: over
    assert op.sequence.zone == 0

    # each zone's mowed share from map/coverage: x 5..9 mowed (all of 'east', zone 1)
    grid = OccupancyGrid()
    grid.info.resolution = 0.5
    grid.info.width, grid.info.height = 18, 8
    grid.info.origin.position.x, grid.info.origin.position.y = 0.0, 0.0
    values = np.zeros((8, 18), np.int8)
    values[:, 10:] = 100
    grid.data = values.ravel().tolist()
    sub['map/coverage'].deliver(grid)
    assert op.status().zones_mowed_pct == (100.0, 0.0)
    node.destroy_node()
