"""mapping_node against the strict rclpy double, with config/mapping.yaml."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import ROOT

CONFIG = ROOT / 'config' / 'mapping.yaml'


def make_node(ros, **changes):
    from rclpy.parameter import Parameter

    from mower_mapping.mapping_node import MappingNode

    values = yaml.safe_load(CONFIG.read_text())['/**/mapping_node']['ros__parameters']
    values['use_confidence'] = False  # these tests send labels alone; the confidence tests ask
    # these tests send the same frame from a robot standing still: every one is fused
    # (test_a_still_robot_fuses_a_view_once checks the configured rule)
    values['still_travel_m'] = 0.0
    # and each frame 0.1 s apart is a whole sighting (test_a_faster_camera_... checks the rule)
    values['fuse_period_s'] = 0.0
    values.update(changes)
    return MappingNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


def camera_info():
    from sensor_msgs.msg import CameraInfo

    f = 120 / math.tan(math.radians(30))
    return CameraInfo(
        width=320,
        height=240,
        k=[f, 0.0, 160.0, 0.0, f, 120.0, 0.0, 0.0, 1.0],
        d=[0.0] * 5,
        distortion_model='plumb_bob',
    )


def odom(t, x, y, yaw=0.0):
    from nav_msgs.msg import Odometry

    msg = Odometry()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int(round((t % 1) * 1e9))
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return msg


def labels(t, block=True, h=240, w=320):
    from sensor_msgs.msg import Image

    lab = np.zeros((h, w), np.uint8)
    lab[:20] = 3
    if block:
        lab[150:180, 150:170] = 2
    msg = Image(height=h, width=w, encoding='mono8', step=w, data=lab.tobytes())
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int(round((t % 1) * 1e9))
    return msg


def subs(node):
    return {s.topic: s for s in node.subscriptions}


def pubs(node):
    return {p.topic: p for p in node.publishers}


def test_topics_qos_and_parameters(ros):
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    node = make_node(ros)
    p = pubs(node)
    for topic in ('map/semantic', 'map/obstacle_cells', 'map/coverage', 'map/obstacles'):
        assert p[topic].qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
    s = subs(node)
    assert s['segmentation/labels'].qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    assert {'camera/camera_info', 'odom', 'mower/blade'} <= set(s)
    config = yaml.safe_load(CONFIG.read_text())['/**/mapping_node']['ros__parameters']
    assert {n for n in node._parameters if n != 'use_sim_time'} == set(config)


def node_that_saw_the_block(ros):
    """A node given three frames of the block ahead of the robot at (2, 3), then published."""
    node = make_node(ros)
    s = subs(node)
    s['camera/camera_info'].deliver(camera_info())
    for k in range(6):
        s['odom'].deliver(odom(10.0 + 0.1 * k, 2.0, 3.0))
    for t in (10.1, 10.2, 10.3):
        s['segmentation/labels'].deliver(labels(t))
    node.publish_timer.fire()
    return node


def test_labels_at_a_known_pose_become_an_obstacle_in_the_grid(ros):
    node = node_that_saw_the_block(ros)
    grid = pubs(node)['map/semantic'].published[-1]
    values = np.array(grid.data, dtype=np.int8).reshape(grid.info.height, grid.info.width)
    assert (values == 100).any() and (values == 0).sum() > 1000 and (values == -1).any()
    (obst,) = node.obstacles
    assert obst.centroid.x > 2.5 and abs(obst.centroid.y - 3.0) < 0.2  # ahead of the robot
    assert len(pubs(node)['map/obstacles'].published[-1].markers) == 2  # DELETEALL + one


def test_obstacle_cells_carry_what_the_floor_finds_that_the_class_map_leaves_out(ros):
    """map/obstacle_cells is the layer the planner's outlines and the simulated safety stop use.

    Before, safety_node and controller_node read map/semantic, whose obstacles (the class map's,
    without ``obstacle_floor``) leave out a small obstacle on long-seen lawn.
    """
    node = make_node(ros)
    s = subs(node)
    s['camera/camera_info'].deliver(camera_info())
    for k in range(30):
        s['odom'].deliver(odom(10.0 + 0.1 * k, 2.0, 3.0))
    for k in range(14):  # ten frames of plain lawn, then the block in four
        s['segmentation/labels'].deliver(labels(10.05 + 0.1 * k, block=k >= 10))
    node.publish_timer.fire()

    def values(topic):
        g = pubs(node)[topic].published[-1]
        return np.array(g.data, dtype=np.int8).reshape(g.info.height, g.info.width)

    cells, semantic = values('map/obstacle_cells'), values('map/semantic')
    mask = node.mapper.grid.obstacle_mask()
    assert mask.any()
    assert np.array_equal(cells == 100, mask) and set(np.unique(cells)) <= {0, 50, 100}
    assert np.array_equal(cells, node.mapper.grid.obstacle_values())  # 50: suspected
    assert not (semantic == 100).any()  # the class map: still lawn, seen so far more often
    assert node.obstacles  # the planner's outlines come from the same layer


def test_a_faster_camera_makes_no_more_evidence_a_second(ros):
    config = yaml.safe_load(CONFIG.read_text())['/**/mapping_node']['ros__parameters']
    assert config['fuse_period_s'] == 0.45

    def block_seen_at_10_hz(period: float):
        node = make_node(ros, fuse_period_s=period)
        s = subs(node)
        s['camera/camera_info'].deliver(camera_info())
        for k in range(6):
            s['odom'].deliver(odom(10.0 + 0.1 * k, 2.0, 3.0))
        for t in (10.1, 10.2, 10.3, 10.4):  # a block in four frames of 0.3 s
            s['segmentation/labels'].deliver(labels(t))
        assert node.counts['frames'] == 4
        node.publish_timer.fire()  # the obstacles are extracted as the grids are published
        return node

    # as configured: 1 + 3 x 0.22 = 1.67 sightings (1.4 of log-odds < 2.0), not an obstacle
    assert block_seen_at_10_hz(config['fuse_period_s']).obstacles == []
    assert len(block_seen_at_10_hz(0.0).obstacles) == 1  # four whole sightings: one


def test_a_still_robot_fuses_a_view_once(ros):
    config = yaml.safe_load(CONFIG.read_text())['/**/mapping_node']['ros__parameters']
    node = make_node(ros, still_travel_m=config['still_travel_m'])  # as configured: 0.05 m
    s = subs(node)
    s['camera/camera_info'].deliver(camera_info())
    for k in range(6):
        s['odom'].deliver(odom(10.0 + 0.1 * k, 2.0, 3.0))
    for t in (10.1, 10.2, 10.3, 10.4):
        s['segmentation/labels'].deliver(labels(t))
    assert node.counts['frames'] == 2 and node.counts['same_view'] == 2  # still_frames 2
    assert node.obstacles == []  # two sightings of the block: not an obstacle
    node.publish_timer.fire()
    diag = pubs(node)['/diagnostics'].published[-1].status[0]
    assert {kv.key: kv.value for kv in diag.values}['same_view'] == '2'
    assert diag.level == diag.OK  # a repeated view is no fault


def test_bad_label_images_and_missing_poses_are_counted_and_skipped(ros):
    node = make_node(ros)
    s = subs(node)
    s['segmentation/labels'].deliver(labels(1.0))  # no camera_info yet
    s['camera/camera_info'].deliver(camera_info())
    s['odom'].deliver(odom(5.0, 0.0, 0.0))
    s['odom'].deliver(odom(5.1, 0.1, 0.0))
    s['segmentation/labels'].deliver(labels(9.0))  # no pose at t = 9
    s['segmentation/labels'].deliver(labels(5.05, h=120, w=160))  # wrong size
    wrong = labels(5.05)
    wrong.encoding = 'rgb8'
    s['segmentation/labels'].deliver(wrong)
    s['segmentation/labels'].deliver(labels(5.05))  # a good one still goes in
    assert node.counts == {
        'frames': 1,
        'bad_labels': 2,
        'no_pose': 1,
        'no_camera_info': 1,
        'same_view': 0,
    }
    logs = ' '.join(text for _, text in node.get_logger().records)
    assert 'no pose at that time' in logs and 'does not match the camera' in logs
    node.publish_timer.fire()
    diag = pubs(node)['/diagnostics'].published[-1].status[0]
    assert diag.level == diag.WARN


def test_the_coverage_layer_survives_a_restart(ros, tmp_path):
    from std_msgs.msg import Bool

    path = tmp_path / 'coverage.npz'
    node = make_node(
        ros, coverage_file=str(path), map_file=str(ROOT / 'maps' / 'demo_lawn.geojson')
    )
    s = subs(node)
    s['mower/blade'].deliver(Bool(data=True))
    for k in range(40):
        s['odom'].deliver(odom(1.0 + 0.1 * k, 1.0 + 0.05 * k, 2.0))
    before = node.coverage.mowed.copy()
    assert node.coverage.mowed_area_m2() == pytest.approx(
        1.95 * 0.22 + math.pi * 0.11**2, rel=0.05
    )
    node.publish_timer.fire()
    diag = pubs(node)['/diagnostics'].published[-1].status[0]
    share = float({kv.key: kv.value for kv in diag.values}['mowed_share'])
    assert share == pytest.approx(node.coverage.mowed_area_m2() / 144.76, rel=0.02)
    node.destroy_node()  # saves
    again = make_node(
        ros, coverage_file=str(path), map_file=str(ROOT / 'maps' / 'demo_lawn.geojson')
    )
    assert np.array_equal(again.coverage.mowed, before)
    again.publish_timer.fire()
    cov = pubs(again)['map/coverage'].published[-1]
    assert (np.array(cov.data) == 100).sum() > 100


def confidence(t, block=0.95, ground=0.95, h=240, w=320):
    """A segmentation/confidence image as segmentation_node publishes it, for labels(t)."""
    from std_msgs.msg import Header

    from mower_segmentation.conversions import confidence_to_msg

    conf = np.full((h, w), ground, np.float32)
    conf[150:180, 150:170] = block
    header = Header()
    header.stamp.sec, header.stamp.nanosec = int(t), int(round((t % 1) * 1e9))
    return confidence_to_msg(conf, header)


def test_confidence_round_trips_through_its_mono8_image(ros):
    from mower_mapping.conversions import confidence_from_msg

    msg = confidence(1.0, block=0.3, ground=1.0)
    assert (msg.encoding, msg.step) == ('mono8', 320)
    conf = confidence_from_msg(msg)
    assert conf.dtype == np.float32 and conf.shape == (240, 320)
    assert conf.max() == 1.0 and abs(float(conf[160, 160]) - 0.3) <= 0.5 / 255 + 1e-6
    msg.encoding = '32FC1'
    with pytest.raises(ValueError, match='encoding'):
        confidence_from_msg(msg)


def fused_with_confidence(ros, block_confidence):
    """A use_confidence node after three frames; labels and confidence interleaved."""
    node = make_node(ros, use_confidence=True)
    s = subs(node)
    s['camera/camera_info'].deliver(camera_info())
    for k in range(6):
        s['odom'].deliver(odom(10.0 + 0.1 * k, 2.0, 3.0))
    s['segmentation/labels'].deliver(labels(10.1))
    s['segmentation/confidence'].deliver(confidence(10.1, block_confidence))
    s['segmentation/confidence'].deliver(confidence(10.2, block_confidence))  # before labels
    s['segmentation/labels'].deliver(labels(10.2))
    s['segmentation/labels'].deliver(labels(10.3))
    s['segmentation/confidence'].deliver(confidence(10.3, block_confidence))
    node.publish_timer.fire()
    return node


def test_use_confidence_pairs_labels_and_confidence_by_stamp(ros):
    from rclpy.qos import ReliabilityPolicy

    assert 'segmentation/confidence' not in subs(make_node(ros))  # off by default
    sure = fused_with_confidence(ros, 0.95)
    sub = subs(sure)['segmentation/confidence']
    assert sub.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    assert sure.counts['frames'] == 3 and len(sure.obstacles) == 1
    doubtful = fused_with_confidence(ros, 0.3)  # the same labels, the block doubtful
    assert doubtful.counts['frames'] == 3 and doubtful.obstacles == []
    assert (doubtful.mapper.grid.logodds[0] > 0).sum() > 1000  # the sure lawn is mapped
    diag = pubs(doubtful)['/diagnostics'].published[-1].status[0]
    values = {kv.key: kv.value for kv in diag.values}
    assert values['with_confidence'] == '3' and values['without_confidence'] == '0'
    assert diag.level == diag.OK


def test_labels_whose_confidence_is_lost_are_fused_without_and_counted(ros):
    node = make_node(ros, use_confidence=True)
    s = subs(node)
    s['camera/camera_info'].deliver(camera_info())
    for k in range(6):
        s['odom'].deliver(odom(10.0 + 0.1 * k, 2.0, 3.0))
    s['segmentation/labels'].deliver(labels(10.1))  # its confidence never comes
    s['segmentation/labels'].deliver(labels(10.2))
    assert node.counts['frames'] == 0  # waiting for their confidence
    s['segmentation/confidence'].deliver(confidence(10.2))
    assert node.counts['frames'] == 2 and node.pairer.unpaired == 1
    logs = ' '.join(text for _, text in node.get_logger().records)
    assert 'without confidence' in logs
    node.publish_timer.fire()
    diag = pubs(node)['/diagnostics'].published[-1].status[0]
    assert {kv.key: kv.value for kv in diag.values}['without_confidence'] == '1'
    assert diag.level == diag.WARN


def test_grids_skip_the_per_value_check_of_humbles_setter(ros):
    """An int8 array.array is taken as it is; a list costs tens of ms per grid on Humble."""
    import array

    from builtin_interfaces.msg import Time
    from ros_double.messages import SLOW_CHECKS

    from mower_mapping.conversions import grid_msg

    SLOW_CHECKS.clear()
    values = np.full((600, 600), -1, dtype=np.int8)
    values[0, :3] = (0, 50, 100)
    msg = grid_msg(values, np.array([-5.0, -5.0]), 0.05, 'map', Time())
    assert SLOW_CHECKS == []
    assert isinstance(msg.data, array.array) and msg.data.typecode == 'b'
    assert list(msg.data[:4]) == [0, 50, 100, -1] and len(msg.data) == 600 * 600


def test_a_coverage_file_that_cannot_be_written_is_logged_not_fatal(ros, tmp_path):
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('a file where the folder should be')
    node = make_node(ros, coverage_file=str(blocker / 'coverage.npz'))
    node.save()  # the timer's callback: must not raise out of spin
    assert any(
        sev == 'ERROR' and 'cannot save the coverage layer' in text
        for sev, text in node.get_logger().records
    )
    assert blocker.read_text() == 'a file where the folder should be'


def test_a_flat_keepout_on_map_lawn_clears_the_obstacle_cells_on_it(ros):
    """map/lawn's pond explains the obstacle cells on it.

    map/obstacle_cells and map/obstacles lose them (the mapping core's rule:
    test_mapper.test_a_flat_keepout_explains_the_obstacle_cells_on_it).
    """
    from std_msgs.msg import String
    from test_mapper import keepout_map

    node = node_that_saw_the_block(ros)
    s = subs(node)

    def found():
        g = pubs(node)['map/obstacle_cells'].published[-1]
        return (np.array(g.data, dtype=np.int8) == 100).sum()

    assert found() > 0 and len(node.obstacles) == 1
    s['map/lawn'].deliver(String(data=keepout_map('flower_bed')))
    node.publish_timer.fire()
    assert found() > 0 and len(node.obstacles) == 1  # a bed explains nothing
    s['map/lawn'].deliver(String(data=keepout_map('pond')))
    node.publish_timer.fire()
    assert found() == 0 and node.obstacles == []
    assert len(pubs(node)['map/obstacles'].published[-1].markers) == 1  # DELETEALL alone


def test_map_files_flat_keepouts_are_known_ground_from_the_start(ros):
    """With map_file, back_garden's pond and paved path are known ground from the start.

    The same cells as MowingRun's mapping core gets from the same map (Mapper.set_lawn).
    """
    from mower_mapping.mapper import Mapper, grid_extent
    from mower_maps import load_map

    path = ROOT / 'maps' / 'back_garden.geojson'
    node = make_node(ros, map_file=str(path))
    known = node.mapper.grid.known_ground
    lawn = load_map(path)
    core = Mapper(node.p, grid_extent(node.p, lawn.boundary.bounds))
    assert core.set_lawn(lawn) == int(known.sum()) > 0
    assert np.array_equal(core.grid.known_ground, known)
    # about the pond and the path (6.15 + 8.66 m²) and a rim of cells around them
    assert 14.8 < known.sum() * node.mapper.grid.res**2 < 16.5


def test_a_tolerance_that_would_hide_obstacles_beside_a_keepout_is_refused(ros):
    """A keepout_explains_m beyond 0.1 m is refused at declaration, by name.

    It would clear the cells of an object on the lawn next to a pond.
    """
    from rclpy.exceptions import InvalidParameterValueException

    with pytest.raises(InvalidParameterValueException, match='keepout_explains_m'):
        make_node(ros, keepout_explains_m=0.5)
    assert make_node(ros, keepout_explains_m=-1.0).mapper.grid.known_ground is None
