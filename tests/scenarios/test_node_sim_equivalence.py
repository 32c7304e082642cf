"""One composition: the nodes (on the strict rclpy double) and the simulator decide alike.

The same inputs go through mapping_node -> coverage_node -> mission_node, wired topic to topic
as the launch files wire them, and through the simulated run's composition (``mower sim``'s
MowingRun: its mapping core, replanning policy, planner and mission). Both must reach the same
decisions: the same plan (points, segment kinds, transit region), the same replan when the
camera finds an obstacle on the plan, the same forced replan when the mission asks, and the
same resume point from the same mowed layer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import MAPS, ROOT

pytestmark = pytest.mark.slow  # builds the MuJoCo world and plans several times

LAWN = MAPS / 'demo_lawn.geojson'


def node_values(name: str, **changes) -> list:
    from rclpy.parameter import Parameter

    config = ROOT / 'config' / f'{name.removesuffix("_node")}.yaml'
    values = yaml.safe_load(config.read_text())[f'/**/{name}']['ros__parameters']
    values.update(changes)
    return [Parameter(k, value=v) for k, v in values.items()]


def sub(node, topic):
    return next(s for s in node.subscriptions if s.topic == topic)


def last(node, topic):
    return next(p for p in node.publishers if p.topic == topic).published[-1]


def stamped(msg, t):
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int(round((t % 1) * 1e9))
    return msg


def odom(t, x, y, yaw):
    from nav_msgs.msg import Odometry

    msg = stamped(Odometry(), t)
    msg.header.frame_id, msg.child_frame_id = 'map', 'base_link'
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z = math.sin(yaw / 2)
    msg.pose.pose.orientation.w = math.cos(yaw / 2)
    return msg


def label_image(t, w, h, shift=0):
    """Lawn, sky along the top, and an object in front of the mower (``shift`` pixels right)."""
    from sensor_msgs.msg import Image

    lab = np.zeros((h, w), np.uint8)
    lab[: h // 10] = 3
    lab[int(h * 0.62) : int(h * 0.75), int(w * 0.45) + shift : int(w * 0.55) + shift] = 2
    return stamped(Image(height=h, width=w, encoding='mono8', step=w, data=lab.tobytes()), t)


@pytest.fixture
def both(ros, tmp_path):
    from mower_control.mission_node import MissionNode
    from mower_coverage.coverage_node import CoverageNode
    from mower_mapping.mapping_node import MappingNode
    from mower_maps import load_map
    from mower_offline.run import MowingRun, RunConfig

    run = MowingRun(
        load_map(LAWN),
        tmp_path / 'sim',
        RunConfig(perception='truth', camera_hz=2.0, record=False),
    )
    nodes = (
        MappingNode(
            parameter_overrides=node_values(
                'mapping_node', map_file=str(LAWN), use_confidence=False
            )
        ),
        CoverageNode(parameter_overrides=node_values('coverage_node', map_file=str(LAWN))),
        MissionNode(parameter_overrides=node_values('mission_node', map_file=str(LAWN))),
    )
    yield run, *nodes
    run.loop.close()
    for n in nodes:
        n.destroy_node()


def assert_same_plan(handoff, run, mission_node):
    from mower_coverage.handoff import PlanHandoff

    sim = PlanHandoff.from_plan(run.plan)
    assert np.array_equal(handoff.points, sim.points)
    assert np.array_equal(handoff.kinds, sim.kinds)
    assert handoff.region.equals_exact(sim.region, 0.0)
    robot, simulated = mission_node.mission, run.loop.mission
    assert np.array_equal(robot.plan_points, simulated.plan_points)
    assert np.array_equal(robot.plan_kinds, simulated.plan_kinds)
    assert robot.region.equals_exact(simulated.region, 0.0)


def test_nodes_and_simulator_make_the_same_plans_replans_and_resume_points(both):
    from std_msgs.msg import Bool
    from std_srvs.srv import Trigger

    from mower_coverage.handoff import PlanHandoff
    from mower_mapping.conversions import camera_info_k, labels_from_msg, odometry_pose
    from mower_sim.conversions import camera_info_msg

    run, mapping, coverage, mission = both
    mapper = run.loop.mapper

    def to_mission():
        msg = last(coverage, 'coverage/plan')
        sub(mission, 'coverage/plan').deliver(msg)
        return PlanHandoff.from_json(msg.data)

    # 1. the first plan
    assert_same_plan(to_mission(), run, mission)

    # 2. the camera sees an object on the plan: both replan around the same obstacle
    m = run.sim.mower
    info = camera_info_msg(
        run.sim.camera_intrinsics(), m.image_width, m.image_height, 0.0, 'camera_optical_frame'
    )
    sub(mapping, 'camera/camera_info').deliver(info)
    k, d, w, h = camera_info_k(info)
    mapper.set_camera(k, w, h, d)
    x0, y0 = run.plan.path.points[len(run.plan.path.points) // 3]
    for i in range(6):
        pose = odom(10.0 + 0.5 * i, float(x0), float(y0), 0.3)
        sub(mapping, 'odom').deliver(pose)
        mapper.add_pose(*odometry_pose(pose))
    # it moves about (a pet): every frame a new view to the mapping, and a whole sighting
    # (0.5 s apart, a 2 Hz camera's pace: mapping's fuse_period_s)
    for i in range(1, 5):
        labels = label_image(10.0 + 0.5 * i, w, h, shift=(w // 20) * (i % 2))
        sub(mapping, 'segmentation/labels').deliver(labels)
        mapper.fuse(_stamp(labels), labels_from_msg(labels))
    assert mapping.counts['frames'] == mapper.counts['frames'] == 4
    mapping.publish_timer.fire()
    sub(coverage, 'map/obstacles').deliver(last(mapping, 'map/obstacles'))
    run._check_obstacles(force=False)
    assert len(mapping.obstacles) == len(run.detected()) == 1
    assert run.replans == 1 and coverage._policy.replans == 1
    assert_same_plan(to_mission(), run, mission)

    # 3. the mission stays blocked and asks: both plan again with what they see now
    coverage.services[0].call(Trigger.Request())
    run._check_obstacles(force=True)
    assert run.replans == 2 and coverage._policy.replans == 2
    assert_same_plan(to_mission(), run, mission)

    # 4. the blade mows the start of the plan: both resume at the same point
    sub(mapping, 'mower/blade').deliver(Bool(data=True))
    run.loop.mapper.blade_on = True
    driven = run.loop.mission.point_at(np.arange(0.0, 12.0, 0.05))  # the first 12 m
    t = 20.0
    for (x, y), (x1, y1) in zip(driven[:-1], driven[1:]):
        pose = odom(t, float(x), float(y), math.atan2(y1 - y, x1 - x))
        sub(mapping, 'odom').deliver(pose)
        mapper.add_pose(*odometry_pose(pose))
        t += 0.1
    mapping.publish_timer.fire()
    sub(mission, 'map/coverage').deliver(last(mapping, 'map/coverage'))
    robot, simulated = mission.mission.resume_point(), run.loop.mission.resume_point()
    assert 8.0 < robot < 12.0  # mowed to about 12 m, minus the overlap
    assert robot == simulated


def _stamp(msg) -> float:
    from mower_mapping.conversions import stamp_seconds

    return stamp_seconds(msg.header.stamp)
