"""coverage_node against the strict rclpy double, with config/coverage.yaml as launch gives it."""

from __future__ import annotations

import json

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
    from nav_msgs.msg import Path
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy
    from std_msgs.msg import String, UInt8
    from std_srvs.srv import Trigger
    from visualization_msgs.msg import MarkerArray

    pubs = {p.topic: p for p in node.publishers}
    assert pubs['coverage/path'].msg_type is Path
    assert pubs['coverage/areas'].msg_type is MarkerArray
    for topic in ('coverage/path', 'coverage/areas'):
        assert pubs[topic].qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
        assert pubs[topic].qos_profile.reliability == ReliabilityPolicy.RELIABLE
    assert pubs['coverage/plan'].msg_type is String
    assert pubs['coverage/plan'].qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
    subs = {(s.topic, s.msg_type) for s in node.subscriptions}
    assert subs == {
        ('map/obstacles', MarkerArray),
        ('mower/state', String),
        ('coverage/zone', UInt8),
        ('map/lawn', String),
    }
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


def outlines(*boxes):
    """map/obstacles as mapping_node publishes it, for boxes (x0, y0, x1, y1)."""
    from builtin_interfaces.msg import Time

    from mower_mapping.conversions import obstacle_markers

    return obstacle_markers([shapely.box(*b) for b in boxes], 'map', Time())


def sub_of(node, topic):
    return next(s for s in node.subscriptions if s.topic == topic)


def test_the_plan_for_the_mission_carries_kinds_and_region(node):
    from mower_coverage.handoff import PlanHandoff

    (msg,) = by_topic(node, 'coverage/plan').published
    handoff = PlanHandoff.from_json(msg.data)
    expected = PlanHandoff.from_plan(node.plan)
    assert np.array_equal(handoff.points, expected.points)
    assert np.array_equal(handoff.kinds, expected.kinds)
    assert handoff.region.equals_exact(expected.region, 0.0)


def test_new_obstacle_on_the_plan_triggers_a_replan_around_it(node):
    from mower_coverage.conversions import msg_to_path

    sub_of(node, 'map/obstacles').deliver(outlines((2.0, 2.0, 2.6, 2.5)))  # a toy on the lawn
    paths = by_topic(node, 'coverage/path').published
    assert len(paths) == 2
    poses = msg_to_path(paths[-1])
    toy = shapely.box(2.0, 2.0, 2.6, 2.5).buffer(0.2 - 1e-3)
    assert not shapely.intersects(toy, shapely.points(poses[:, :2])).any()
    before = msg_to_path(paths[0])
    assert shapely.intersects(toy, shapely.points(before[:, :2])).any()
    sub_of(node, 'map/obstacles').deliver(outlines((2.0, 2.0, 2.6, 2.5)))  # the same: no replan
    assert len(by_topic(node, 'coverage/path').published) == 2


def test_an_obstacle_behind_the_mission_waits_for_the_next_plan(node):
    from std_msgs.msg import String
    from std_srvs.srv import Trigger

    from mower_coverage.conversions import msg_to_path
    from mower_maps.geometry import cumulative_length

    total = cumulative_length(node.plan.path.points)[-1]
    sub_of(node, 'mower/state').deliver(
        String(data=json.dumps({'state': 'MOWING', 'progress_m': float(total) - 0.01}))
    )
    sub_of(node, 'map/obstacles').deliver(outlines((2.0, 2.0, 2.6, 2.5)))
    assert len(by_topic(node, 'coverage/path').published) == 1  # nothing left to block
    node.services[0].call(Trigger.Request())  # the mission asks: the next plan goes around it
    paths = by_topic(node, 'coverage/path').published
    assert len(paths) == 2
    toy = shapely.box(2.0, 2.0, 2.6, 2.5).buffer(0.2 - 1e-3)
    assert not shapely.intersects(toy, shapely.points(msg_to_path(paths[-1])[:, :2])).any()


def test_malformed_inputs_are_logged_counted_and_survived(node):
    from std_msgs.msg import String
    from std_srvs.srv import Trigger

    msg = outlines((1, 1, 2, 2))
    msg.markers[1].points[0].x = float('nan')
    sub_of(node, 'map/obstacles').deliver(msg)
    sub_of(node, 'mower/state').deliver(String(data='{"state": "MOWING"'))
    assert any(
        sev == 'WARN' and 'ignoring map/obstacles' in text
        for sev, text in node.get_logger().records
    )
    diag = by_topic(node, '/diagnostics').published[-1].status[0]
    assert {kv.key: kv.value for kv in diag.values}['bad_messages'] == '2'
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


def test_a_zone_is_planned_on_request_and_the_plan_says_which(ros, tmp_path):
    from std_msgs.msg import UInt8

    from mower_coverage.coverage_node import CoverageNode
    from mower_coverage.handoff import PlanHandoff

    n = CoverageNode(parameter_overrides=overrides())
    try:
        plans = by_topic(n, 'coverage/plan').published
        assert PlanHandoff.from_json(plans[-1].data).zone == 0
        zone = next(s for s in n.subscriptions if s.topic == 'coverage/zone')
        zone.deliver(UInt8(data=1))
        assert len(plans) == 2 and PlanHandoff.from_json(plans[-1].data).zone == 1
        zone.deliver(UInt8(data=2))  # the demo lawn has one zone
        assert len(plans) == 2 and n._bad_messages == 1
        zone.deliver(UInt8(data=0))
        assert len(plans) == 3 and PlanHandoff.from_json(plans[-1].data).zone == 0
    finally:
        n.destroy_node()
