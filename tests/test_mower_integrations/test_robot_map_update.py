"""Saving an edited map on the robot: ``map/lawn`` from the operator to the nodes that follow it.

The app's operator (RosOperator) publishes the owner's map on ``map/lawn`` (std_msgs/String,
GeoJSON, transient local); coverage_node replans on it, mission_node drives by it, safety_node
fences by it and mapping_node measures the mowed share on it. A malformed map is counted and
changes nothing. On the strict rclpy double; not run on ROS 2 (not installable here).
"""

from __future__ import annotations

import json

import pytest
import shapely
import yaml
from conftest import MAPS, ROOT

pytestmark = pytest.mark.usefixtures('ros')

DEMO = MAPS / 'demo_lawn.geojson'
KEEPOUT = [[5.5, 3.0], [7.5, 3.0], [7.5, 5.0], [5.5, 5.0], [5.5, 3.0]]  # across the plan
INSIDE = shapely.Polygon(KEEPOUT).buffer(-0.05)  # the new keep-out's interior


def edited() -> dict:
    """The demo lawn with one more keep-out."""
    doc = json.loads(DEMO.read_text())
    doc['features'].append(
        {
            'type': 'Feature',
            'properties': {'role': 'keepout', 'name': 'new bed'},
            'geometry': {'type': 'Polygon', 'coordinates': [KEEPOUT]},
        }
    )
    return doc


def lawn_msg(doc: dict | str):
    from std_msgs.msg import String

    return String(data=doc if isinstance(doc, str) else json.dumps(doc))


def outside_doc() -> dict:
    """A map that fails the checks: a keep-out outside every lawn."""
    doc = edited()
    doc['features'][-1]['geometry']['coordinates'] = [[[30, 30], [31, 30], [31, 31], [30, 30]]]
    return doc


BAD = ['{not json', json.dumps({'type': 'FeatureCollection', 'features': []})]


def endpoint(node, topic, kind='subscriptions'):
    return next(e for e in getattr(node, kind) if e.topic == topic)


def params(config: str, name: str, **changes):
    from rclpy.parameter import Parameter

    values = yaml.safe_load((ROOT / 'config' / config).read_text())[f'/**/{name}']
    values = {**values['ros__parameters'], 'map_file': str(DEMO), **changes}
    return [Parameter(k, value=v) for k, v in values.items()]


def keepouts(lawn) -> int:
    return sum(f.role == 'keepout' for f in lawn.features)


def plan_line(msg) -> shapely.LineString:
    from mower_coverage.handoff import PlanHandoff

    return shapely.LineString(PlanHandoff.from_json(msg.data).points)


def test_the_operator_publishes_the_map_latched_and_shows_it():
    from rclpy.node import Node
    from rclpy.qos import DurabilityPolicy

    from mower_integrations.operator_node import RosOperator
    from mower_maps import map_from_geojson, map_to_geojson

    node = Node('operator_test')
    op = RosOperator(node, map_file=str(DEMO))
    out = endpoint(node, 'map/lawn', 'publishers')
    assert out.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
    lawn = map_from_geojson(edited())
    ok, message = op.set_map(lawn)
    assert ok and 'map/lawn' in message
    assert not out.published  # queued: published on the node's timer
    op.step()
    (msg,) = out.published
    assert json.loads(msg.data) == json.loads(json.dumps(map_to_geojson(lawn)))
    assert op.lawn_geojson() == map_to_geojson(lawn)
    op.step()
    assert len(out.published) == 1  # sent once


def test_coverage_node_replans_around_the_new_keepout():
    from mower_coverage.coverage_node import CoverageNode

    node = CoverageNode(parameter_overrides=params('coverage.yaml', 'coverage_node'))
    plans = endpoint(node, 'coverage/plan', 'publishers').published
    assert plan_line(plans[-1]).intersects(INSIDE)  # the old plan mows where the bed will be
    new_map = endpoint(node, 'map/lawn')
    for bad in [*BAD, json.dumps(outside_doc())]:
        new_map.deliver(lawn_msg(bad))
    assert len(plans) == 1 and node._bad_messages == 3  # counted, nothing replanned
    new_map.deliver(lawn_msg(edited()))
    assert len(plans) == 2
    assert not plan_line(plans[-1]).intersects(INSIDE)
    assert keepouts(node._lawn) == 2
    node.destroy_node()


def test_mission_node_drives_by_the_new_map():
    from mower_control.mission_node import MissionNode

    node = MissionNode(parameter_overrides=params('mission.yaml', 'mission_node'))
    region = node.mission.region
    assert region.intersects(INSIDE)
    new_map = endpoint(node, 'map/lawn')
    for bad in [*BAD, json.dumps(outside_doc())]:
        new_map.deliver(lawn_msg(bad))
    assert node.bad_messages == 3 and node.mission.region is region
    new_map.deliver(lawn_msg(edited()))
    assert not node.mission.region.intersects(INSIDE)
    assert not node.mowable.intersects(INSIDE)
    assert node.mission.dock_pose == pytest.approx((0.3, 5.0, 0.0))
    assert keepouts(node.lawn) == 2
    node.destroy_node()


def test_safety_node_fences_by_the_new_map():
    from mower_control.safety_node import SafetyNode

    node = SafetyNode(parameter_overrides=params('safety.yaml', 'safety_node'))
    fence = node.supervisor.lawn
    assert fence.contains(INSIDE)
    new_map = endpoint(node, 'map/lawn')
    for bad in [*BAD, json.dumps(outside_doc())]:
        new_map.deliver(lawn_msg(bad))
    assert node.counts['bad_messages'] == 3 and node.supervisor.lawn is fence
    new_map.deliver(lawn_msg(edited()))
    assert not node.supervisor.lawn.intersects(INSIDE)
    node.destroy_node()


def test_mapping_node_keeps_its_grids_and_measures_the_new_lawn(tmp_path):
    from mower_mapping.mapping_node import MappingNode

    node = MappingNode(
        parameter_overrides=params(
            'mapping.yaml', 'mapping_node', coverage_file=str(tmp_path / 'coverage.npz')
        )
    )
    extent, area = node.mapper.extent, node.mowable.area
    new_map = endpoint(node, 'map/lawn')
    new_map.deliver(lawn_msg('{not json'))
    assert node.bad_maps == 1 and node.mowable.area == area
    new_map.deliver(lawn_msg(edited()))
    assert node.mowable.area == pytest.approx(area - 4.0)
    assert node.mapper.extent == extent  # what was mapped stays
    node.destroy_node()


def test_the_operators_message_is_what_the_nodes_read():
    """RosOperator.set_map's message, delivered to safety_node, moves its fence."""
    from rclpy.node import Node

    from mower_control.safety_node import SafetyNode
    from mower_integrations.operator_node import RosOperator
    from mower_maps import map_from_geojson

    op = RosOperator(Node('operator_test'), map_file=str(DEMO))
    op.set_map(map_from_geojson(edited()))
    op.step()
    (msg,) = endpoint(op.node, 'map/lawn', 'publishers').published
    safety = SafetyNode(parameter_overrides=params('safety.yaml', 'safety_node'))
    endpoint(safety, 'map/lawn').deliver(msg)
    assert not safety.supervisor.lawn.intersects(INSIDE)
    safety.destroy_node()


def test_every_operator_follows_the_map_in_force_the_mqtt_bridges_too():
    from rclpy.node import Node

    from mower_integrations.operator_node import RosOperator

    node = Node('bridge_operator_test')
    op = RosOperator(node, map_file=str(DEMO))  # as mqtt_bridge_node makes it
    assert op.status().zones == 1
    two = edited()
    two['features'].append(
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'back lawn'},
            'geometry': {
                'type': 'Polygon',
                'coordinates': [[[20, 0], [26, 0], [26, 5], [20, 5], [20, 0]]],
            },
        }
    )
    endpoint(node, 'map/lawn').deliver(lawn_msg(two))
    assert op.status().zones == 2  # Home Assistant's zone buttons follow (ha_mqtt)
    assert any(f['properties']['name'] == 'back lawn' for f in op.lawn_geojson()['features'])
    for bad in BAD:
        endpoint(node, 'map/lawn').deliver(lawn_msg(bad))
    assert op.status().zones == 2 and op.counts['bad_messages'] == len(BAD)
