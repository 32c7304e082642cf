"""sim_node against the strict rclpy double, with config/sim.yaml as a launch gives it."""

from __future__ import annotations

import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from conftest import MAPS, ROOT  # noqa: E402

CONFIG = ROOT / 'config' / 'sim.yaml'


def overrides(**changes):
    from rclpy.parameter import Parameter

    values = yaml.safe_load(CONFIG.read_text())['/**/sim_node']['ros__parameters']
    values['map_file'] = str(MAPS / 'demo_lawn.geojson')
    values.update(changes)
    return [Parameter(k, value=v) for k, v in values.items()]


@pytest.fixture
def node(ros):
    from mower_sim.sim_node import SimNode

    n = SimNode(parameter_overrides=overrides(gnss_datum=[5.0, 52.0]))
    yield n
    n.sim.close()
    n.destroy_node()


def pub(node, topic):
    return next(p for p in node.publishers if p.topic == topic)


def test_parameters_match_the_config(node):
    config = yaml.safe_load(CONFIG.read_text())['/**/sim_node']['ros__parameters']
    assert {n for n in node._parameters if n != 'use_sim_time'} == set(config)


def test_topics_types_and_qos(node):
    from rclpy.qos import ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image

    assert pub(node, 'camera/image_raw').msg_type is Image
    assert pub(node, 'camera/camera_info').msg_type is CameraInfo
    assert pub(node, 'camera/image_raw').qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    subs = {s.topic: s for s in node.subscriptions}
    assert set(subs) == {'cmd_vel', 'mower/blade'}
    assert subs['cmd_vel'].qos_profile.reliability == ReliabilityPolicy.RELIABLE


def test_ticks_publish_sensors_at_their_rates(node):
    for _ in range(50):  # 1 s of simulated time at 0.02 s a tick
        node.timer.fire()
    assert len(pub(node, '/clock').published) == 50
    assert pub(node, '/clock').published[-1].clock.sec == 1
    images = pub(node, 'camera/image_raw').published
    assert len(images) == 10  # 10 Hz
    img = images[0]
    assert (img.height, img.width, img.encoding, img.step) == (240, 320, 'rgb8', 960)
    assert len(img.data) == 240 * 320 * 3
    info = pub(node, 'camera/camera_info').published[0]
    assert info.k[0] == pytest.approx(120 / np.tan(np.radians(30)))
    assert len(pub(node, 'imu/data').published) == 50
    fix = pub(node, 'gnss/fix').published[-1]
    assert fix.latitude == pytest.approx(52.0 + 5.0 / 111_250, abs=2e-6)


def test_cmd_vel_drives_and_times_out(node):
    from geometry_msgs.msg import Twist
    from std_msgs.msg import Bool

    subs = {s.topic: s for s in node.subscriptions}
    subs['mower/blade'].deliver(Bool(data=True))
    cmd = Twist()
    cmd.linear.x = 0.4
    for _ in range(100):  # 2 s, commanding all along
        subs['cmd_vel'].deliver(cmd)
        node.timer.fire()
    odom = pub(node, 'odom').published[-1]
    assert odom.pose.pose.position.x > 0.3 + 0.5
    assert odom.twist.twist.linear.x == pytest.approx(0.4, abs=0.05)
    assert node.sim.mowed_area_m2() > 0.1
    for _ in range(75):  # silence: the command times out and the mower stops
        node.timer.fire()
    assert abs(pub(node, 'odom').published[-1].twist.twist.linear.x) < 0.02


def test_non_finite_command_is_ignored(node):
    from geometry_msgs.msg import Twist

    cmd = Twist()
    cmd.linear.x = float('nan')
    next(s for s in node.subscriptions if s.topic == 'cmd_vel').deliver(cmd)
    node.timer.fire()
    assert any('non-finite' in text for _, text in node.get_logger().records)


def test_a_bad_map_fails_start_up_with_its_message(ros):
    from mower_maps import MapError
    from mower_sim.sim_node import SimNode

    with pytest.raises(MapError, match='no such file'):
        SimNode(parameter_overrides=overrides(map_file='/no/such/lawn.geojson'))


def test_it_steps_under_use_sim_time_before_any_clock(ros):
    """sim_mujoco.launch.py gives sim_node use_sim_time; it is also the only /clock source.

    On the node's ROS clock its timer would wait for /clock, which only that timer publishes:
    the simulated stack would never start. It steps on the steady clock instead.
    """
    from rclpy.clock import ClockType

    from mower_sim.sim_node import SimNode

    node = SimNode(parameter_overrides=overrides(use_sim_time=True))
    assert node.get_clock().ros_time_is_active and node.get_clock().now().nanoseconds == 0
    for _ in range(5):
        node.timer.fire()
    clocks = pub(node, '/clock').published
    assert len(clocks) == 5 and clocks[-1].clock.nanosec == pytest.approx(0.1e9, abs=1e3)
    assert node.timer.clock.clock_type == ClockType.STEADY_TIME
    clock_sub = next(s for s in node.subscriptions if s.topic == '/clock')
    clock_sub.deliver(clocks[-1])  # what the middleware brings back: the node's clock follows
    assert node.get_clock().now().nanoseconds == pytest.approx(0.1e9, abs=1e3)
    node.close()
    node.destroy_node()


def test_main_reports_a_bad_map_and_exits_1(ros, capsys):
    import importlib

    sim_node = importlib.import_module('mower_sim.sim_node')

    ros.shutdown()  # main initialises rclpy itself; the default map_file is empty
    assert sim_node.main() == 1
    err = capsys.readouterr().err
    assert 'cannot read' in err and 'Traceback' not in err and not ros.ok()
