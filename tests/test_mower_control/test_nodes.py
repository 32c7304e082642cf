"""The four control nodes against the strict rclpy double, with their config/ files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import MAPS, ROOT

NODES = {  # module, class, config file
    'controller_node': ('mower_control.controller_node', 'ControllerNode', 'controller.yaml'),
    'safety_node': ('mower_control.safety_node', 'SafetyNode', 'safety.yaml'),
    'mission_node': ('mower_control.mission_node', 'MissionNode', 'mission.yaml'),
    'motor_driver_node': (
        'mower_control.motor_driver_node',
        'MotorDriverNode',
        'motor_driver.yaml',
    ),
}


def config(name):
    doc = yaml.safe_load((ROOT / 'config' / NODES[name][2]).read_text())
    return doc[f'/**/{name}']['ros__parameters']


def make(name, **changes):
    import importlib

    from rclpy.parameter import Parameter

    values = config(name)
    if 'map_file' in values:
        values['map_file'] = str(MAPS / 'demo_lawn.geojson')
    values.update(changes)
    module, cls, _ = NODES[name]
    node_cls = getattr(importlib.import_module(module), cls)
    return node_cls(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


def topic(node, name, kind='publishers'):
    return next(e for e in getattr(node, kind) if e.topic == name)


def odom(x, y, yaw=0.0):
    from nav_msgs.msg import Odometry

    msg = Odometry()
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return msg


def level_imu():
    from sensor_msgs.msg import Imu

    msg = Imu()
    msg.orientation.w = 1.0
    msg.linear_acceleration.z = 9.81
    return msg


@pytest.mark.parametrize('name', sorted(NODES))
def test_every_config_parameter_is_declared_with_its_type(ros, name):
    from rclpy.parameter import Parameter

    node = make(name)
    values = config(name)
    declared = {p for p in node._parameters if p != 'use_sim_time'}
    assert declared == set(values)
    for key, value in values.items():
        assert node.get_parameter(key).type_ == Parameter.Type.from_parameter_value(value), key
        assert node.describe_parameter(key).description
    node.destroy_node()


def test_controller_follows_the_mission_path(ros):
    from mower_control.conversions import path_msg, progress_values, to_stamp, twist_of

    node = make('controller_node')
    clock = node.get_clock()
    sub_path = topic(node, 'mission/path', 'subscriptions')
    sub_pose = topic(node, 'odom', 'subscriptions')
    assert sub_path.qos_profile.durability.name == 'TRANSIENT_LOCAL'
    sub_path.deliver(path_msg(np.array([[0.0, 0.0], [5.0, 0.0]]), 'map', to_stamp(1.0)))
    for k in range(50):
        clock.set_now(k * 0.02)
        sub_pose.deliver(odom(0.0, 0.05))
        node.timer.fire()
    cmd = topic(node, 'cmd_vel').published[-1]
    v, w = twist_of(cmd)
    assert 0.4 < v <= 0.5 and w < 0.0  # on its way, steering back onto the line (right)
    progress = progress_values(topic(node, 'controller/progress').published[-1])
    assert progress['path_stamp_s'] == 1.0 and progress['done'] == 0.0
    clock.set_now(5.0)  # the pose goes stale: zero
    node.timer.fire()
    assert twist_of(topic(node, 'cmd_vel').published[-1]) == (0.0, 0.0)
    node.destroy_node()


@pytest.mark.parametrize('value', [100, 50])
def test_controller_slows_near_obstacles_as_the_simulated_loop_does(ros, value):
    """One rule (``ObstacleGrid.clearance_ahead``): distance from the footprint's edge.

    Before 2026-12-03 the node took the distance from the robot's centre and the simulated loop
    from the footprint's edge, so the robot slowed earlier than the simulator showed. A
    suspected obstacle (50 on map/obstacle_cells) slows it as a found one (100) does.
    """
    from nav_msgs.msg import OccupancyGrid

    from mower_control.conversions import path_msg, to_stamp, twist_of
    from mower_control.follower import FollowerParams, obstacle_constraint

    node = make('controller_node')
    grid = OccupancyGrid()
    grid.info.width, grid.info.height, grid.info.resolution = 120, 40, 0.05
    grid.info.origin.position.x, grid.info.origin.position.y = -1.0, -1.0
    data = np.zeros((40, 120), dtype=np.int8)
    data[20, 34] = value  # a cell centred at (0.725, 0.025): just ahead on the path
    grid.data = data.ravel().tolist()
    topic(node, 'map/obstacle_cells', 'subscriptions').deliver(grid)
    topic(node, 'mission/path', 'subscriptions').deliver(
        path_msg(np.array([[0.0, 0.0], [4.0, 0.0]]), 'map', to_stamp(1.0))
    )
    clock, pose = node.get_clock(), topic(node, 'odom', 'subscriptions')
    for k in range(60):
        clock.set_now(k * 0.02)
        pose.deliver(odom(0.0, 0.0))
        node.timer.fire()
    v = twist_of(topic(node, 'cmd_vel').published[-1])[0]
    node.destroy_node()
    c = config('controller_node')
    p = FollowerParams(
        **{k: c[k] for k in FollowerParams.__dataclass_fields__ if k in c}  # the config's
    )
    d = math.hypot(0.725, 0.025)
    assert v == pytest.approx(obstacle_constraint(p.desired_speed_mps, d - 0.2, p), abs=1e-6)
    assert v < obstacle_constraint(p.desired_speed_mps, d, p) - 0.05  # not from the centre


def test_safety_node_stops_for_found_obstacles_not_for_suspected_ones(ros):
    """safety_node reads map/obstacle_cells at 90: a suspected cell (50) only slows the robot."""
    from nav_msgs.msg import OccupancyGrid

    node = make('safety_node')
    grid = OccupancyGrid()
    grid.info.width, grid.info.height, grid.info.resolution = 10, 10, 0.1
    data = np.zeros((10, 10), dtype=np.int8)
    data[2, 3], data[5, 5] = 50, 100
    grid.data = data.ravel().tolist()
    topic(node, 'map/obstacle_cells', 'subscriptions').deliver(grid)
    assert np.allclose(node.supervisor.grid.centres, [[0.55, 0.55]])
    node.destroy_node()


def test_controller_survives_malformed_messages(ros):
    from nav_msgs.msg import OccupancyGrid

    node = make('controller_node')
    bad = OccupancyGrid()
    bad.info.width, bad.info.height, bad.info.resolution = 10, 10, 0.05
    topic(node, 'map/obstacle_cells', 'subscriptions').deliver(bad)  # no data
    assert node.counts['bad_messages'] == 1
    node.publish_diagnostics()
    diag = topic(node, '/diagnostics').published[-1]
    assert diag.status[0].level == diag.status[0].WARN
    node.destroy_node()


def test_safety_node_passes_commands_and_latches_the_emergency_stop(ros):
    from geometry_msgs.msg import Twist
    from std_msgs.msg import Bool, String
    from std_srvs.srv import Trigger

    from mower_control.conversions import state_msg, status_values, twist_of

    node = make('safety_node')
    clock = node.get_clock()
    subs = {s.topic: s for s in node.subscriptions}
    assert subs['imu/data'].qos_profile.reliability.name == 'BEST_EFFORT'

    def tick(t):
        clock.set_now(t)
        cmd = Twist()
        cmd.linear.x = 0.4
        subs['cmd_vel'].deliver(cmd)
        subs['imu/data'].deliver(level_imu())
        subs['odom'].deliver(odom(5.0, 5.0))
        node.timer.fire()

    subs['mower/state'].deliver(state_msg('MOWING', 10.0, '', 0.0))
    subs['mower/blade_request'].deliver(Bool(data=True))
    tick(0.0)
    assert twist_of(topic(node, 'cmd_vel_safe').published[-1]) == (0.4, 0.0)
    assert topic(node, 'mower/blade').published[-1].data is True
    subs['mower/emergency_stop'].deliver(Bool(data=True))
    subs['mower/emergency_stop'].deliver(Bool(data=False))
    tick(0.02)
    assert twist_of(topic(node, 'cmd_vel_safe').published[-1]) == (0.0, 0.0)
    assert topic(node, 'mower/blade').published[-1].data is False
    status = status_values(topic(node, 'safety/status').published[-1])
    assert status['latched'] == 'emergency stop'
    reset = next(s for s in node.services if s.srv_name == 'safety/reset')
    assert reset.call(Trigger.Request()).success
    tick(0.04)
    assert twist_of(topic(node, 'cmd_vel_safe').published[-1]) == (0.4, 0.0)
    subs['mower/state'].deliver(String(data='not json'))
    assert node.counts['bad_messages'] == 1
    node.destroy_node()


def test_safety_node_geofence_from_the_map(ros):
    from geometry_msgs.msg import Twist

    from mower_control.conversions import status_values

    node = make('safety_node')
    subs = {s.topic: s for s in node.subscriptions}
    cmd = Twist()
    cmd.linear.x = 0.5
    subs['cmd_vel'].deliver(cmd)
    subs['imu/data'].deliver(level_imu())
    subs['odom'].deliver(odom(14.75, 5.0))  # 0.25 m from the demo lawn's east edge
    node.timer.fire()
    assert 'geofence' in status_values(topic(node, 'safety/status').published[-1])['active']
    node.destroy_node()


def test_safety_node_bad_map_fails_start_up(ros, tmp_path):
    bad = tmp_path / 'bad.geojson'
    bad.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(SystemExit, match='safety_node'):
        make('safety_node', map_file=str(bad))


def test_mission_node_services_plan_and_replan(ros):
    from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
    from std_msgs.msg import String
    from std_srvs.srv import Trigger

    from mower_control.conversions import path_points, state_of
    from mower_coverage.handoff import PlanHandoff

    node = make('mission_node')
    clock = node.get_clock()
    subs = {s.topic: s for s in node.subscriptions}
    srv = {s.srv_name: s for s in node.services}
    assert {'mower/start', 'mower/pause', 'mower/resume', 'mower/dock'} <= set(srv)
    assert {'teach/start', 'teach/finish'} <= set(srv)  # the rest: test_mission_node_teach.py
    assert not srv['mower/start'].call(Trigger.Request()).success  # no plan yet
    plan = np.array([[2.0, 2.0], [12.0, 2.0], [12.0, 2.2], [2.0, 2.2]])
    kinds = np.array([1, 2, 1])  # stripe, turn, stripe
    subs['coverage/plan'].deliver(String(data=PlanHandoff(plan, kinds, None).to_json()))
    assert np.array_equal(node.mission.plan_kinds, kinds)
    subs['odom'].deliver(odom(0.3, 5.0))  # on the dock
    assert srv['mower/start'].call(Trigger.Request()).success
    clock.set_now(0.1)
    node.step()
    assert state_of(topic(node, 'mower/state').published[-1])['state'] == 'UNDOCKING'
    path = path_points(topic(node, 'mission/path').published[-1])
    assert np.allclose(path[-1], [0.9, 5.0])  # the approach point, in front of the dock
    subs['odom'].deliver(odom(2.0, 2.0))
    node.mission._switch('MOWING', node.mission._last)  # skip the manoeuvre
    blocked = DiagnosticStatus(
        values=[KeyValue(key='active', value='obstacle'), KeyValue(key='latched', value='')]
    )
    for k in range(40):
        clock.set_now(0.2 + 0.1 * k)
        subs['safety/status'].deliver(blocked)
        node.step()
    client = node.replan_client
    assert client.srv_name == 'mower/replan' and len(client.requests) >= 1
    assert topic(node, 'mower/blade_request').published[-1].data is True
    node.destroy_node()


def test_mission_node_keeps_progress_across_restarts(ros, tmp_path):
    state = tmp_path / 'mission.json'
    node = make('mission_node', state_file=str(state))
    node.mission.progress_m = 42.5
    node.save()
    node.destroy_node()
    node = make('mission_node', state_file=str(state))
    assert node.mission.progress_m == 42.5
    node.destroy_node()
    state.write_text('garbage')
    node = make('mission_node', state_file=str(state))
    assert node.mission.progress_m == 0.0  # logged, ignored
    node.destroy_node()


def test_motor_driver_node_on_the_simulation_transport(ros):
    from geometry_msgs.msg import Twist
    from std_msgs.msg import Bool

    from mower_control.conversions import pose_of

    node = make('motor_driver_node', transport='sim')
    clock = node.get_clock()
    subs = {s.topic: s for s in node.subscriptions}
    cmd = Twist()
    cmd.linear.x = 0.5
    for k in range(100):
        clock.set_now(k * 0.02)
        subs['cmd_vel_safe'].deliver(cmd)
        subs['mower/blade'].deliver(Bool(data=True))
        node.timer.fire()
    x, y, yaw = pose_of(topic(node, 'odom').published[-1])
    assert x == pytest.approx(0.5 * 1.96, abs=0.05) and abs(y) < 1e-6
    tf = topic(node, '/tf').published[-1].transforms[0]
    assert (tf.header.frame_id, tf.child_frame_id) == ('odom', 'base_link')
    js = topic(node, 'joint_states').published[-1]
    assert list(js.name) == ['wheel_left_joint', 'wheel_right_joint']
    assert node.plant.blade
    clock.set_now(3.0)  # commands stop: zero after cmd_timeout_s
    node.timer.fire()
    assert node.plant.v == 0.0
    node.publish_diagnostics()
    assert topic(node, 'battery').published[-1].percentage == pytest.approx(1.0)
    node.destroy_node()


def test_motor_driver_node_reports_a_missing_port(ros):
    from mower_control.conversions import status_values

    node = make('motor_driver_node', port='/dev/no-such-board')
    node.timer.fire()
    status = topic(node, 'motor/status').published[-1]
    assert status.level == status.ERROR
    assert 'cannot open /dev/no-such-board' in status_values(status)['last_error']
    node.destroy_node()


def test_unknown_transport_is_refused(ros):
    with pytest.raises(SystemExit, match="transport must be 'serial' or 'sim'"):
        make('motor_driver_node', transport='can')


def test_motor_driver_node_logs_board_loss_and_reconnection(ros):
    """Connect, lose and regain the board: each severity has its own call site.

    rclpy raises ``ValueError: Logger severity cannot be changed between calls`` when one
    call site logs with two severities; from a timer that ends the node at the first loss.
    """
    node = make('motor_driver_node', transport='sim', link_timeout_s=0.1, reconnect_period_s=0.1)
    clock = node.get_clock()
    t = 0.0
    for plugged in (True, False, True, False):
        node.board.plugged = plugged
        for _ in range(40):  # 0.8 s: longer than the link timeout and the reconnect period
            t += 0.02
            clock.set_now(t)
            node.timer.fire()
        assert node.driver.status.connected is plugged
    events = [
        (sev, text) for sev, text in node.get_logger().records if text.startswith('motor board')
    ]
    assert [sev for sev, _ in events] == ['INFO', 'ERROR', 'INFO', 'ERROR']
    assert events[0][1] == 'motor board connected' and 'lost' in events[1][1]
    node.destroy_node()


@pytest.mark.parametrize('signum', ['SIGTERM', 'SIGINT'])
def test_motor_driver_main_stops_the_board_and_exits_cleanly(ros, monkeypatch, signum):
    """SIGTERM (ros2 launch stopping the stack) ends spin with ExternalShutdownException."""
    import importlib
    import signal

    from rclpy.context import default_context

    from mower_control.driver import MotorDriver

    motor_driver_node = importlib.import_module('mower_control.motor_driver_node')

    sent = []
    monkeypatch.setattr(MotorDriver, 'send_velocity', lambda self, v, w: sent.append((v, w)))
    ros.shutdown()  # main initialises rclpy itself
    default_context().signal_on_spin(getattr(signal, signum))
    assert motor_driver_node.main() == 0
    assert sent == [(0.0, 0.0)] and not ros.ok()


def test_safety_node_takes_the_owners_teleop_only_while_teaching(ros):
    from geometry_msgs.msg import Twist

    from mower_control.conversions import state_msg, twist_of

    node = make('safety_node')
    clock = node.get_clock()
    subs = {s.topic: s for s in node.subscriptions}
    assert subs['cmd_vel_teleop'].msg_type is Twist

    def twist(v):
        msg = Twist()
        msg.linear.x = v
        return msg

    def tick(t, controller, teleop=None):
        clock.set_now(t)
        subs['cmd_vel'].deliver(twist(controller))
        if teleop is not None:
            subs['cmd_vel_teleop'].deliver(twist(teleop))
        subs['imu/data'].deliver(level_imu())
        subs['odom'].deliver(odom(5.0, 5.0))
        node.timer.fire()
        return twist_of(topic(node, 'cmd_vel_safe').published[-1])

    subs['mower/state'].deliver(state_msg('MOWING', 10.0, '', 0.0))
    assert tick(0.0, 0.3, teleop=0.5) == (0.3, 0.0)  # mowing: the gamepad is ignored
    assert node.counts['teleop_ignored'] == 1
    subs['mower/state'].deliver(state_msg('TEACHING', 0.0, '', 0.0))
    assert tick(0.02, 0.0, teleop=0.5) == (0.5, 0.0)  # teaching: the controller's zeros are not
    assert tick(0.04, 0.0) == (0.5, 0.0)  # the last teleop command holds ...
    assert tick(2.0, 0.0) == (0.0, 0.0)  # ... until the watchdog: a silent teleop stops
    node.destroy_node()
