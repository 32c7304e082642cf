"""coverage_node against the strict rclpy double, with config/coverage.yaml as launch gives it."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import yaml
from conftest import MAPS, ROOT

CONFIG = ROOT / 'config' / 'coverage.yaml'


def overrides(**changes):
    from rclpy.parameter import Parameter

    values = yaml.safe_load(CONFIG.read_text())['/**/coverage_node']['ros__parameters']
    values['map_file'] = str(MAPS / 'demo_lawn.geojson')
    values.update(changes)
    return [Parameter(k, value=v) for k, v in values.items()]


@pytest.fixture
def node(ros):
    from mower_coverage.coverage_node import CoverageNode

    n = CoverageNode(parameter_overrides=overrides())
    yield n
    n.destroy_node()


def by_topic(node, topic):
    return next(p for p in node.publishers if p.topic == topic)


def test_every_config_parameter_is_declared_with_its_type(node):
    from rclpy.parameter import Parameter

    config = yaml.safe_load(CONFIG.read_text())['/**/coverage_node']['ros__parameters']
    declared = {name for name in node._parameters if name != 'use_sim_time'}
    assert declared == set(config)
    for name, value in config.items():
        if name == 'map_file':
            continue
        assert node.get_parameter(name).type_ == Parameter.Type.from_parameter_value(value)
        assert node.describe_parameter(name).description


def test_topics_and_qos(node):
    from nav_msgs.msg import OccupancyGrid, Path
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy
    from std_srvs.srv import Trigger
    from visualization_msgs.msg import MarkerArray

    pubs = {p.topic: p for p in node.publishers}
    assert pubs['coverage/path'].msg_type is Path
    assert pubs['coverage/areas'].msg_type is MarkerArray
    for topic in ('coverage/path', 'coverage/areas'):
        assert pubs[topic].qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
        assert pubs[topic].qos_profile.reliability == ReliabilityPolicy.RELIABLE
    (sub,) = node.subscriptions
    assert (sub.topic, sub.msg_type) == ('map/semantic', OccupancyGrid)
    (srv,) = node.services
    assert (srv.srv_name, srv.srv_type) == ('mower/replan', Trigger)


def test_publishes_a_safe_path_on_start(node):
    from mower_coverage.conversions import msg_to_path

    (msg,) = by_topic(node, 'coverage/path').published
    poses = msg_to_path(msg)
    assert len(poses) > 1000 and msg.header.frame_id == 'map'
    allowed = node.plan.area.allowed.buffer(1e-6)
    assert shapely.covers(allowed, shapely.points(poses[:, :2])).all()
    assert len(by_topic(node, 'coverage/areas').published) == 1
    diag = by_topic(node, '/diagnostics').published[-1].status[0]
    assert diag.level == diag.OK and 'planned (startup)' in diag.message


def test_replan_service(node):
    from std_srvs.srv import Trigger

    (srv,) = node.services
    response = srv.call(Trigger.Request())
    assert response.success and 'planned (requested)' in response.message
    assert len(by_topic(node, 'coverage/path').published) == 2


def grid_with_block(x0, y0, x1, y1, res=0.05, size=(240, 340)):
    from nav_msgs.msg import OccupancyGrid

    cells = np.zeros(size, dtype=np.int8)
    r0, r1 = int(y0 / res), int(y1 / res)
    c0, c1 = int(x0 / res), int(x1 / res)
    cells[r0:r1, c0:c1] = 100
    msg = OccupancyGrid()
    msg.header.frame_id = 'map'
    msg.info.resolution = res
    msg.info.height, msg.info.width = size
    msg.info.origin.orientation.w = 1.0
    msg.data = cells.ravel().tolist()
    return msg


def test_new_obstacle_in_the_semantic_map_triggers_a_replan_around_it(node):
    from mower_coverage.conversions import msg_to_path

    (sub,) = node.subscriptions
    sub.deliver(grid_with_block(2.0, 2.0, 2.6, 2.5))  # a toy on the lawn, not in the map
    paths = by_topic(node, 'coverage/path').published
    assert len(paths) == 2
    poses = msg_to_path(paths[-1])
    toy = shapely.box(2.0, 2.0, 2.6, 2.5).buffer(0.2 - 1e-3)
    assert not shapely.intersects(toy, shapely.points(poses[:, :2])).any()
    before = msg_to_path(paths[0])
    assert shapely.intersects(toy, shapely.points(before[:, :2])).any()
    sub.deliver(grid_with_block(2.0, 2.0, 2.6, 2.5))  # the same again: no replan
    assert len(by_topic(node, 'coverage/path').published) == 2


def test_malformed_grid_is_logged_counted_and_survived(node):
    from std_srvs.srv import Trigger

    msg = grid_with_block(1, 1, 2, 2)
    msg.data = msg.data[:-7]
    (sub,) = node.subscriptions
    sub.deliver(msg)
    assert any(sev == 'WARN' and 'ignoring map/semantic' in text
               for sev, text in node.get_logger().records)
    diag = by_topic(node, '/diagnostics').published[-1].status[0]
    assert {kv.key: kv.value for kv in diag.values}['bad_grid_messages'] == '1'
    assert node.services[0].call(Trigger.Request()).success


def test_missing_map_reports_an_error_and_keeps_running(ros):
    from std_srvs.srv import Trigger

    from mower_coverage.coverage_node import CoverageNode

    node = CoverageNode(parameter_overrides=overrides(map_file='/nonexistent/lawn.geojson'))
    assert by_topic(node, 'coverage/path').published == []
    diag = by_topic(node, '/diagnostics').published[-1].status[0]
    assert diag.level == diag.ERROR and 'no such file' in diag.message
    response = node.services[0].call(Trigger.Request())
    assert not response.success and 'no such file' in response.message


def test_bad_parameter_values_are_rejected(node):
    from rclpy.parameter import Parameter

    (r,) = node.set_parameters([Parameter('cut_width_m', value=-0.5)])
    assert not r.successful
    (r,) = node.set_parameters([Parameter('stripe_spacing_m', value=0.3)])
    assert not r.successful and 'must not exceed cut_width_m' in r.reason
    (r,) = node.set_parameters([Parameter('stripe_angle', value='sideways')])
    assert not r.successful
    (r,) = node.set_parameters([Parameter('headland_passes', value=3)])
    assert r.successful
