"""The launch files, evaluated with the launch API double: nodes, parameters, the topic graph."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT
from launch_graph import (
    NODE_CLASSES,
    Endpoint,
    evaluate,
    graph_problems,
    instantiate,
    launch_api,
    node_parameters,
    our_endpoints,
    process_endpoints,
    third_party_endpoints,
)

LAUNCH = ROOT / 'launch'
# Inputs no node of the launch publishes, by design (drivers and people, started separately).
EXTERNAL = {
    'robot.launch.py': {
        '/imu/data': 'the IMU driver (hardware-specific)',
        '/gnss/fix': 'the RTK-GNSS driver (hardware-specific)',
        # /mower/emergency_stop: published by mqtt_bridge_node here (mqtt:=true), else by a
        # remote or the operator, as in simulation
        '/mower/rain': 'a rain sensor, when fitted',
    },
    'sim_mujoco.launch.py': {
        '/mower/emergency_stop': 'a remote or the operator',
        '/coverage/zone': 'an operator: mqtt_bridge_node (mqtt:=true) or ros2 topic pub',
        '/map/lawn': "the owner's app (app:=true) when a map is saved, or ros2 topic pub",
        '/cmd_vel_teleop': "a gamepad (teleop_twist_joy) or the owner's app (app:=true)",
        '/mower/rain': 'a rain sensor, when fitted',
        '/battery': 'no motor board in simulation: the mission assumes a full battery',
        '/motor/status': 'no motor board in simulation',
        '/motor/estop_input': 'no motor board in simulation',
    },
    'replay.launch.py': {
        '/camera/image_raw': 'the bag',
        '/camera/camera_info': 'the bag',
        '/odometry/global': 'the bag',
        '/mower/blade': 'the bag, when recorded',
        '/map/lawn': 'the bag, when recorded (a map the owner saved)',
    },
}
EXTERNAL['sim_gazebo.launch.py'] = EXTERNAL['sim_mujoco.launch.py']
LAUNCH_FILES = [
    'robot.launch.py',
    'sim_mujoco.launch.py',
    'sim_gazebo.launch.py',
    'replay.launch.py',
]


def launch_args(name: str, tmp_path) -> dict[str, str]:
    return {
        # the Home Assistant bridge and the owner's app in the graph too
        'robot.launch.py': {'mqtt': 'true', 'app': 'true'},
        'sim_gazebo.launch.py': {'world_dir': str(tmp_path / 'gz')},
        'replay.launch.py': {'bag': str(tmp_path / 'bag')},
    }.get(name, {})


def entry_points() -> set[tuple[str, str]]:
    out = set()
    for setup in ROOT.glob('src/*/setup.py'):
        for exe in re.findall(r"'(\w+) = [\w.]+:main'", setup.read_text()):
            out.add((setup.parent.name, exe))
    return out


@pytest.fixture(scope='module')
def evaluations(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('launch')
    return {name: evaluate(LAUNCH / name, launch_args(name, tmp)) for name in LAUNCH_FILES}


def test_every_launch_file_evaluates_and_starts_what_it_should(evaluations):
    ours = {
        'segmentation_node',
        'mapping_node',
        'coverage_node',
        'mission_node',
        'controller_node',
        'safety_node',
    }
    robot = {n.executable for n in evaluations['robot.launch.py'].nodes}
    assert (
        ours
        | {
            'camera_node',
            'motor_driver_node',
            'robot_state_publisher',
            'ekf_node',
            'navsat_transform_node',
        }
        <= robot
    )
    assert 'rviz2' not in robot  # use_rviz defaults to false
    mujoco = {n.executable for n in evaluations['sim_mujoco.launch.py'].nodes}
    assert ours | {'sim_node', 'robot_state_publisher'} <= mujoco
    assert 'motor_driver_node' not in mujoco
    gz = evaluations['sim_gazebo.launch.py']
    assert ours | {'parameter_bridge', 'create'} <= {n.executable for n in gz.nodes}
    assert any(p[:2] == ['gz', 'sim'] for p in gz.processes)
    replay = evaluations['replay.launch.py']
    assert {n.executable for n in replay.nodes} == {'segmentation_node', 'mapping_node'}
    assert any(p[:3] == ['ros2', 'bag', 'play'] and '--clock' in p for p in replay.processes)


def test_use_rviz_starts_rviz_with_our_config(tmp_path):
    ev = evaluate(LAUNCH / 'robot.launch.py', {'use_rviz': 'true'})
    rviz = [n for n in ev.nodes if n.executable == 'rviz2']
    assert len(rviz) == 1 and rviz[0].arguments == ['-d', str(ROOT / 'config' / 'mower.rviz')]


def test_robot_launch_arguments_are_documented(evaluations):
    args = evaluations['robot.launch.py'].arguments['robot.launch.py']
    for name in (
        'map',
        'params_file',
        'model',
        'execution_providers',
        'serial_port',
        'camera_device',
        'namespace',
        'use_rviz',
        'log_level',
    ):
        assert name in args and args[name][1], name


def test_nodes_exist_and_their_files_exist(evaluations):
    eps = entry_points()
    for name, ev in evaluations.items():
        for n in ev.nodes:
            if n.package.startswith('mower_'):
                assert (n.package, n.executable) in eps, (name, n.package, n.executable)
            for p in n.params:
                if isinstance(p, str):
                    assert (ROOT / p).exists() or __import__('os').path.exists(p), (name, p)


def test_lifecycle_nodes_are_configured_and_activated(evaluations):
    for name, ev in evaluations.items():
        for key, spec in ev.lifecycle_nodes.items():
            assert ev.transitions.get(key) == {'configure', 'activate'}, (name, spec.name)


def test_use_sim_time_is_set_once_for_each_group(evaluations):
    for name, ev in evaluations.items():
        for n in ev.nodes:
            want = name != 'robot.launch.py'
            params, _ = node_parameters(n)
            assert params.get('use_sim_time') is want, (name, n.name)


def test_namespace_applies_to_the_whole_stack():
    ev = evaluate(LAUNCH / 'robot.launch.py', {'namespace': 'mower1'})
    for n in ev.nodes:
        assert n.namespace == '/mower1', n


def _graph(ev) -> tuple[list[Endpoint], list[Endpoint]]:
    """Publishers and subscriptions of everything a launch starts (rclpy double needed)."""
    pubs: list[Endpoint] = []
    subs: list[Endpoint] = []
    for spec in ev.nodes:
        if spec.executable in NODE_CLASSES and spec.package.startswith('mower_'):
            node = instantiate(spec)
            p, s = our_endpoints(spec, node)
            node.destroy_node()
        else:
            p, s = third_party_endpoints(spec)
        pubs += p
        subs += s
    for cmd in ev.processes:
        pubs += process_endpoints(cmd)
    return pubs, subs


@pytest.fixture(scope='module')
def graphs(evaluations, request):
    ros = request.getfixturevalue('ros_module')
    out = {name: _graph(ev) for name, ev in evaluations.items()}
    assert ros is not None
    return out


@pytest.fixture(scope='module')
def ros_module():
    """The strict rclpy double for the whole module (as the `ros` fixture, module-scoped)."""
    import sys

    from conftest import DOUBLE_DIR, _purge

    saved = _purge()
    from ros_double.messages import install_message_modules

    for name, module in install_message_modules().items():
        sys.modules[name] = module
    sys.path.insert(0, str(DOUBLE_DIR))
    import rclpy

    rclpy.init()
    try:
        yield rclpy
    finally:
        rclpy.try_shutdown()
        sys.path.remove(str(DOUBLE_DIR))
        _purge()
        sys.modules.update(saved)


@pytest.mark.parametrize('name', LAUNCH_FILES)
def test_topic_graph_is_connected_typed_and_qos_compatible(graphs, name):
    pubs, subs = graphs[name]
    assert len(pubs) > (3 if name == 'replay.launch.py' else 20) and len(subs) > 3
    problems = graph_problems(pubs, subs, EXTERNAL.get(name, {}))
    assert not problems, problems
    published = {p.topic for p in pubs}
    for topic in EXTERNAL.get(name, {}):  # the allowance is not stale
        assert any(s.topic == topic for s in subs) and topic not in published, topic


@pytest.mark.parametrize(
    'name', ['robot.launch.py', 'sim_mujoco.launch.py', 'sim_gazebo.launch.py']
)
def test_topic_graph_holds_under_a_namespace(ros_module, name, tmp_path):
    """namespace:=mower1: every node moves, every node keeps its parameters (topic names)."""
    ev = evaluate(LAUNCH / name, {**launch_args(name, tmp_path), 'namespace': 'mower1'})
    pubs, subs = _graph(ev)
    external = {'/mower1' + topic: why for topic, why in EXTERNAL.get(name, {}).items()}
    assert not graph_problems(pubs, subs, external)
    assert all(
        s.topic.startswith('/mower1/') or s.topic in ('/clock', '/tf', '/tf_static') for s in subs
    ), sorted({s.topic for s in subs})


def test_the_graph_check_finds_each_kind_of_fault(ros_module):
    pub = Endpoint('a', '/x', 'std_msgs/msg/Bool', 'BEST_EFFORT', 'VOLATILE')
    sub = Endpoint('b', '/x', 'std_msgs/msg/Bool', 'RELIABLE', 'VOLATILE')
    assert any(p.startswith('qos:') for p in graph_problems([pub], [sub], {}))
    latched = Endpoint('c', '/x', 'std_msgs/msg/Bool', 'BEST_EFFORT', 'TRANSIENT_LOCAL')
    assert any(p.startswith('qos:') for p in graph_problems([pub], [latched], {}))
    typed = Endpoint('d', '/x', 'std_msgs/msg/String', 'BEST_EFFORT', 'VOLATILE')
    assert any(p.startswith('type:') for p in graph_problems([pub], [typed], {}))
    lonely = Endpoint('e', '/y', 'std_msgs/msg/Bool', 'RELIABLE', 'VOLATILE')
    assert graph_problems([pub], [lonely], {}) == [
        'no publisher: e subscribes /y (std_msgs/msg/Bool)'
    ]
    assert graph_problems([pub], [lonely], {'/y': 'a driver'}) == []


def test_robot_graph_wires_the_pose_through_robot_localization(graphs):
    pubs, subs = graphs['robot.launch.py']
    who = {(e.node, e.topic) for e in pubs}
    assert ('ekf_global', '/odometry/global') in who
    assert ('motor_driver_node', '/wheel/odom') in who
    assert ('motor_driver_node', '/tf') not in who  # the EKF publishes odom -> base_link
    for node in ('mapping_node', 'controller_node', 'mission_node', 'safety_node'):
        assert (node, '/odometry/global') in {(e.node, e.topic) for e in subs}, node
    assert ('segmentation_node', '/camera/image_raw') in {(e.node, e.topic) for e in subs}


def test_config_parameters_match_the_declared_ones(evaluations, ros_module):
    """Every parameter in a node's config file is declared with the same type, and vice versa."""
    seen = set()
    for ev in evaluations.values():
        for spec in ev.nodes:
            if spec.executable not in NODE_CLASSES or spec.executable in seen:
                continue
            seen.add(spec.executable)
            node = instantiate(spec)
            _, own = node_parameters(spec)
            declared = {
                name: p.value for name, p in node._parameters.items() if name != 'use_sim_time'
            }
            assert set(own) == set(declared), (spec.executable, set(own) ^ set(declared))
            for k, v in own.items():
                dv = declared[k]
                same = type(v) is type(dv) or (isinstance(v, list) and isinstance(dv, list))
                assert same, (spec.executable, k, type(v).__name__, type(dv).__name__)
            node.destroy_node()
    assert seen == set(NODE_CLASSES)


def test_rviz_config_names_topics_that_the_launches_publish(graphs):
    doc = yaml.safe_load((ROOT / 'config' / 'mower.rviz').read_text())
    displays = doc['Visualization Manager']['Displays']
    topics = []
    for d in displays:
        for key in ('Topic', 'Description Topic'):
            if key in d:
                topics.append(
                    (
                        d['Class'],
                        d[key]['Value'],
                        d[key].get('Reliability Policy'),
                        d[key].get('Durability Policy'),
                    )
                )
    assert len(topics) >= 9
    classes = {d['Class'] for d in displays}
    assert {
        'rviz_default_plugins/Image',
        'rviz_default_plugins/Map',
        'rviz_default_plugins/Path',
        'rviz_default_plugins/RobotModel',
        'rviz_default_plugins/TF',
        'rviz_default_plugins/MarkerArray',
    } <= classes
    for name in ('robot.launch.py', 'sim_mujoco.launch.py'):
        pubs, _ = graphs[name]
        by_topic = {p.topic: p for p in pubs}
        for cls, topic, rel, dur in topics:
            assert topic in by_topic, (name, cls, topic)
            p = by_topic[topic]
            if rel == 'Reliable':
                assert p.reliability == 'RELIABLE', (topic, 'best-effort publisher')
            if dur == 'Transient Local':
                assert p.durability == 'TRANSIENT_LOCAL', (topic, 'volatile publisher')


def test_the_launch_double_takes_launch_ros_keywords_only():
    """As launch_ros actions/lifecycle_node.py: name and namespace required, no autostart."""
    with launch_api():
        from launch_ros.actions import LifecycleNode, Node

        with pytest.raises(TypeError, match='autostart'):
            LifecycleNode(package='p', executable='e', name='n', namespace='', autostart=True)
        with pytest.raises(TypeError, match='namespace'):
            LifecycleNode(package='p', executable='e', name='n')
        with pytest.raises(TypeError, match='executable'):
            Node(package='p', name='n')
