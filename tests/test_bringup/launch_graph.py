"""Evaluate the launch files with the launch API double, and build the ROS graph they start.

Each node gets the command line launch_ros would give it (launch_ros/actions/node.py,
``Node._perform_substitutions`` and ``execute``, humble and jazzy alike): ``-r __node:=`` when
named, ``-r __ns:=`` when a namespace is set (its own or a ``PushRosNamespace``), then the group's
``SetParameter`` values as ``-p name:=value`` BEFORE anything else, then each entry of
``parameters`` in order as ``--params-file`` (a dict is written to a file keyed by the node's
fully qualified name when name and namespace are both known, else ``/**``), then the remaps.
Which values a node then gets is rcl's and rclpy's rule (tests/ros_double/rclpy/_ros_args.py):
node keys in order of first appearance, matched against the fully qualified name.

Our nodes' publishers, subscriptions and parameters come from instantiating them on the strict
rclpy double with that command line; the third-party nodes (robot_localization,
robot_state_publisher, ros_gz_bridge, tf2_ros) are modelled below from their documented
interfaces and their config files, with their parameters resolved by the same rule (rclcpp's
``parameter_map.cpp`` is rclpy's ``node.cpp`` rule).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = Path(__file__).resolve().parents[1] / 'launch_double'
ROS_DOUBLE = Path(__file__).resolve().parents[1] / 'ros_double'
_DOUBLE_ROOTS = ('launch', 'launch_ros', 'lifecycle_msgs', '_record')
# launch_ros writes each parameter dict to a file of its own (NamedTemporaryFile, kept)
_PARAMS_DIR = tempfile.TemporaryDirectory(prefix='launch_params_')
_COMMANDS: list[str] = []  # executables of Command substitutions (xacro ...), while evaluating


@dataclass
class NodeSpec:
    """A node as a launch file starts it."""

    package: str
    executable: str
    name: str
    namespace: str  # '' for the root namespace
    params: list[Any]  # the node's ``parameters``: file paths (str) and dicts, in order
    remaps: list[tuple[str, str]]
    arguments: list[str]
    lifecycle: bool
    source: str
    fqn: str = ''  # fully qualified name: /namespace/name
    global_params: list[tuple[str, Any]] = field(default_factory=list)  # SetParameter
    ros_args: list[str] = field(default_factory=list)  # the command line launch_ros builds


@dataclass
class Evaluation:
    """What a launch file (and what it includes) starts."""

    nodes: list[NodeSpec] = field(default_factory=list)
    processes: list[list[str]] = field(default_factory=list)
    arguments: dict[str, dict[str, tuple[Any, str]]] = field(default_factory=dict)
    transitions: dict[int, set[str]] = field(default_factory=dict)  # id(node) -> transitions
    lifecycle_nodes: dict[int, NodeSpec] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)  # executables run by Command
    files: list[str] = field(default_factory=list)  # the file evaluated, then its includes


def _swap_in():
    saved = {k: v for k, v in sys.modules.items() if k.split('.')[0] in _DOUBLE_ROOTS}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, str(DOUBLE))
    return saved


def _swap_out(saved):
    for k in [k for k in sys.modules if k.split('.')[0] in _DOUBLE_ROOTS]:
        del sys.modules[k]
    sys.path.remove(str(DOUBLE))
    sys.modules.update(saved)


@contextmanager
def launch_api() -> Iterator[None]:
    """The launch API double importable as ``launch``, ``launch_ros``, ``lifecycle_msgs``."""
    saved = _swap_in()
    try:
        yield
    finally:
        _swap_out(saved)


def evaluate(path: Path, args: dict[str, str] | None = None) -> Evaluation:
    """Run ``generate_launch_description`` of ``path`` and walk what it returns."""
    saved = _swap_in()
    try:
        ev = Evaluation()
        _COMMANDS.clear()
        _evaluate_file(Path(path), dict(args or {}), ev, namespace=None)
        ev.commands = list(_COMMANDS)
        return ev
    finally:
        _swap_out(saved)


def _evaluate_file(path: Path, ctx: dict[str, str], ev: Evaluation, namespace: str | None) -> None:
    spec = importlib.util.spec_from_file_location(
        f'launch_file_{path.stem.replace(".", "_")}', path
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    desc = module.generate_launch_description()
    ev.files.append(str(path))
    ev.arguments.setdefault(path.name, {})
    _walk(desc.kw['initial_entities'], ctx, ev, namespace, path)


def _resolve(value: Any, ctx: dict[str, str]) -> Any:
    from launch import LaunchContext
    from launch.substitutions import Command, LaunchConfiguration
    from launch_ros.descriptions import ParameterValue

    if isinstance(value, LaunchConfiguration):
        return value.perform(LaunchContext(ctx))
    if isinstance(value, Command):
        parts = value.kw['command']
        text = ''.join(
            str(_resolve(p, ctx)) for p in (parts if isinstance(parts, list) else [parts])
        )
        _COMMANDS.append(text.split()[0])
        return text
    if isinstance(value, ParameterValue):
        return _resolve(value.kw['value'], ctx)
    if isinstance(value, (list, tuple)):
        return [_resolve(v, ctx) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _param_value(value: Any, ctx: dict[str, str]) -> Any:
    """A node parameter: substitutions are evaluated, then read as YAML (as launch_ros does)."""
    from launch.substitutions import LaunchConfiguration
    from launch_ros.descriptions import ParameterValue

    if isinstance(value, ParameterValue):
        v = _resolve(value, ctx)
        return v if value.kw.get('value_type') is str else yaml.safe_load(v)
    if isinstance(value, LaunchConfiguration):
        return yaml.safe_load(_resolve(value, ctx))
    return _resolve(value, ctx)


def _condition(entity: Any, ctx: dict[str, str]) -> bool:
    from launch.conditions import IfCondition, UnlessCondition

    cond = entity.kw.get('condition')
    if cond is None:
        return True
    text = str(_resolve(cond.kw['predicate_expression'], ctx)).strip().lower()
    if text not in ('true', 'false', '1', '0'):
        raise ValueError(f'condition {text!r} is not a boolean')
    truth = text in ('true', '1')
    return (
        truth
        if isinstance(cond, IfCondition)
        else not truth
        if isinstance(cond, UnlessCondition)
        else truth
    )


def _join_ns(outer: str, inner: str) -> str:
    parts = [p for p in (outer.strip('/'), inner.strip('/')) if p]
    return '/' + '/'.join(parts) if parts else ''


def _prefix_ns(base: str | None, ns: str | None) -> str | None:
    """launch_ros utilities/namespace_utils.py ``prefix_namespace`` (None: not set)."""
    if base is None and ns is None:
        return None
    if ns is None:
        out = base
    elif not base or ns.startswith('/'):
        out = ns
    else:
        out = ('' if base == '/' else base) + '/' + ns
    return out if out == '/' else out.rstrip('/')


def _absolute_ns(ns: str | None) -> str | None:
    """launch_ros ``make_namespace_absolute``."""
    return None if ns is None else ns if ns.startswith('/') else '/' + ns


def _ros_args(
    name: str | None,
    ns: str | None,
    global_params: list[tuple[str, Any]],
    params: list[Any],
    remaps: list[tuple[str, str]],
    arguments: list[str],
    fqn: str,
) -> list[str]:
    """The ROS arguments launch_ros gives a node (see the module docstring)."""
    out = [*arguments, '--ros-args']
    if name is not None:
        out += ['-r', f'__node:={name}']
    if ns is not None:
        out += ['-r', f'__ns:={ns}']
    for key, value in global_params:
        out += ['-p', f'{key}:={value}']
    for p in params:
        if isinstance(p, dict):
            key = fqn if name is not None and ns is not None else '/**'
            with tempfile.NamedTemporaryFile(
                'w', prefix='launch_params_', suffix='.yaml', dir=_PARAMS_DIR.name, delete=False
            ) as f:
                yaml.dump({key: {'ros__parameters': p}}, f, default_flow_style=False)
            p = f.name
        out += ['--params-file', str(p)]
    for a, b in remaps:
        out += ['-r', f'{a}:={b}']
    return out


def _walk(entities, ctx, ev: Evaluation, namespace: str, path: Path) -> None:
    from launch import LaunchContext
    from launch.actions import (
        DeclareLaunchArgument,
        EmitEvent,
        ExecuteProcess,
        GroupAction,
        IncludeLaunchDescription,
        OpaqueFunction,
        RegisterEventHandler,
    )
    from launch_ros.actions import LifecycleNode, Node, PushRosNamespace, SetParameter

    for e in entities:
        if not _condition(e, ctx):
            continue
        if isinstance(e, DeclareLaunchArgument):
            name, default = e.kw['name'], e.kw.get('default_value')
            ev.arguments[path.name][name] = (default, e.kw.get('description', ''))
            if name not in ctx:
                if default is None:
                    raise KeyError(f'{path.name}: launch argument {name!r} is required')
                ctx[name] = str(_resolve(default, ctx))
        elif isinstance(e, GroupAction):
            _walk(e.kw['actions'], dict(ctx), ev, namespace, path)
        elif isinstance(e, PushRosNamespace):
            namespace = _absolute_ns(_prefix_ns(namespace, str(_resolve(e.kw['namespace'], ctx))))
        elif isinstance(e, SetParameter):
            ctx = dict(ctx)
            ctx['__global_params__'] = [
                *ctx.get('__global_params__', []),
                (e.kw['name'], _param_value(e.kw['value'], ctx)),
            ]
        elif isinstance(e, IncludeLaunchDescription):
            src = e.kw['launch_description_source']
            file = Path(str(_resolve(src.kw['launch_file_path'], ctx)))
            assert file.exists(), f'{path.name} includes {file}, which does not exist'
            sub = dict(ctx)
            for k, v in e.kw.get('launch_arguments', ()):
                sub[str(k)] = str(_resolve(v, ctx))
            _evaluate_file(file, sub, ev, namespace)
        elif isinstance(e, (Node, LifecycleNode)):
            kw = e.kw
            params: list[Any] = []
            for p in kw.get('parameters', []):
                if isinstance(p, dict):
                    params.append({k: _param_value(v, ctx) for k, v in p.items()})
                else:
                    params.append(str(_resolve(p, ctx)))
            given_name = str(_resolve(kw['name'], ctx)) if 'name' in kw else None
            name = given_name or kw['executable']
            own_ns = str(_resolve(kw['namespace'], ctx)) if 'namespace' in kw else None
            ns = _absolute_ns(_prefix_ns(namespace, own_ns))
            fqn = _join_ns(ns or '', name)
            remaps = [
                (str(_resolve(a, ctx)), str(_resolve(b, ctx))) for a, b in kw.get('remappings', [])
            ]
            arguments = [str(x) for x in _resolve(kw.get('arguments', []), ctx)]
            global_params = list(ctx.get('__global_params__', []))
            spec = NodeSpec(
                kw['package'],
                kw['executable'],
                name,
                _join_ns(ns or '', ''),
                params,
                remaps,
                arguments,
                isinstance(e, LifecycleNode),
                path.name,
                fqn,
                global_params,
                _ros_args(given_name, ns, global_params, params, remaps, arguments, fqn),
            )
            ev.nodes.append(spec)
            if spec.lifecycle:
                ev.lifecycle_nodes[id(e)] = spec
        elif isinstance(e, ExecuteProcess):
            ev.processes.append([str(x) for x in _resolve(e.kw['cmd'], ctx)])
        elif isinstance(e, OpaqueFunction):
            out = e.kw['function'](
                LaunchContext(ctx), *e.kw.get('args', []), **e.kw.get('kwargs', {})
            )
            _walk(out or [], ctx, ev, namespace, path)
        elif isinstance(e, EmitEvent):
            change = e.kw['event']
            target = change.kw['lifecycle_node_matcher'].target
            ev.transitions.setdefault(id(target), set()).add(
                {1: 'configure', 3: 'activate'}[change.kw['transition_id']]
            )
        elif isinstance(e, RegisterEventHandler):
            handler = e.kw['event_handler']
            for sub_e in handler.kw.get('entities', []):
                change = sub_e.kw['event']
                target = change.kw['lifecycle_node_matcher'].target
                assert target is handler.kw['target_lifecycle_node']
                ev.transitions.setdefault(id(target), set()).add(
                    {1: 'configure', 3: 'activate'}[change.kw['transition_id']]
                )
        else:
            raise TypeError(f'{path.name}: the evaluator does not know {type(e).__name__}')


# -- the graph -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A publisher or a subscription, resolved."""

    node: str
    topic: str
    msgtype: str
    reliability: str  # RELIABLE / BEST_EFFORT
    durability: str  # VOLATILE / TRANSIENT_LOCAL


def resolve_topic(name: str, namespace: str, remaps: list[tuple[str, str]]) -> str:
    """A topic as the node sees it after remapping and namespacing (rcl's rules, no '~')."""

    def full(n: str) -> str:
        return n if n.startswith('/') else _join_ns(namespace, n)

    target = full(name)
    for a, b in remaps:
        if full(a) == target:
            return full(b)
    return target


NODE_CLASSES = {  # executable -> (module, class)
    'camera_node': ('mower_perception.camera_node', 'CameraNode'),
    'segmentation_node': ('mower_segmentation.segmentation_node', 'SegmentationNode'),
    'mapping_node': ('mower_mapping.mapping_node', 'MappingNode'),
    'coverage_node': ('mower_coverage.coverage_node', 'CoverageNode'),
    'controller_node': ('mower_control.controller_node', 'ControllerNode'),
    'mission_node': ('mower_control.mission_node', 'MissionNode'),
    'safety_node': ('mower_control.safety_node', 'SafetyNode'),
    'motor_driver_node': ('mower_control.motor_driver_node', 'MotorDriverNode'),
    'sim_node': ('mower_sim.sim_node', 'SimNode'),
    'mqtt_bridge_node': ('mower_integrations.mqtt_bridge_node', 'MqttBridgeNode'),
    'app_node': ('mower_app.app_node', 'AppNode'),
}


def _ros_args_module():
    """tests/ros_double/rclpy/_ros_args.py: plain Python, loaded without the rclpy double."""
    name = 'launch_graph_ros_args'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROS_DOUBLE / 'rclpy' / '_ros_args.py')
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def own_config(spec: NodeSpec) -> str | None:
    """The node's own parameter file: the first of its files in config/."""
    files = [p for p in spec.params if isinstance(p, str)]
    own = [p for p in files if Path(p).parent == ROOT / 'config']
    return own[0] if own else None


def node_parameters(spec: NodeSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the parameters the node starts with, those its own config file gives it).

    Both by rcl's and rclpy's rule on the node's command line (see the module docstring); the
    second from the node's own file alone, which a namespace must not lose.
    """
    ros_args = _ros_args_module()
    merged = ros_args.node_overrides([ros_args.parse(spec.ros_args)], spec.fqn)
    own: dict[str, Any] = {}
    path = own_config(spec)
    if path is not None:
        alone = ros_args.RosArgs()
        ros_args.add_file(alone, path)
        own = ros_args.node_overrides([alone], spec.fqn)
    return merged, own


@contextmanager
def _here(executable: str) -> Iterator[dict[str, Any]]:
    """What a node needs on this machine besides the launch's command line (extra keywords).

    app_node serves at construction: any free port instead of 8080, the owner's password in a
    scratch folder, which is HOME too while it is built (so the app writes nothing in ours).
    """
    if executable != 'app_node':
        yield {}
        return
    import os

    from rclpy.parameter import Parameter

    from mower_app.auth import set_password

    home = Path(_PARAMS_DIR.name) / 'home'
    password = home / 'app_password.json'
    if not password.exists():
        set_password(password, 'launch graph test')
    saved = os.environ.get('HOME')
    os.environ['HOME'] = str(home)
    try:
        yield {
            'parameter_overrides': [
                Parameter('port', value=0),
                Parameter('password_file', value=str(password)),
            ]
        }
    finally:
        if saved is None:
            del os.environ['HOME']
        else:
            os.environ['HOME'] = saved


def instantiate(spec: NodeSpec):
    """Our node on the rclpy double with the launch's command line (lifecycle: configured)."""
    module, cls = NODE_CLASSES[spec.executable]
    with _here(spec.executable) as extra:
        node = getattr(importlib.import_module(module), cls)(cli_args=spec.ros_args, **extra)
    if spec.lifecycle:
        from rclpy.lifecycle import TransitionCallbackReturn

        assert node.on_configure(None) == TransitionCallbackReturn.SUCCESS
        node.on_activate(None)
    return node


def _qos_names(q) -> tuple[str, str]:
    return q.reliability.name, q.durability.name


def our_endpoints(spec: NodeSpec, node) -> tuple[list[Endpoint], list[Endpoint]]:
    """Publishers and subscriptions of one of our nodes, resolved."""
    pubs = [
        Endpoint(
            spec.name,
            resolve_topic(p.topic, spec.namespace, spec.remaps),
            p.msg_type._type,
            *_qos_names(p.qos_profile),
        )
        for p in node.publishers
    ]
    subs = [
        Endpoint(
            spec.name,
            resolve_topic(s.topic, spec.namespace, spec.remaps),
            s.msg_type._type,
            *_qos_names(s.qos_profile),
        )
        for s in node.subscriptions
    ]
    return pubs, subs


def third_party_endpoints(spec: NodeSpec) -> tuple[list[Endpoint], list[Endpoint]]:
    """Modelled interfaces of the nodes we do not write (from their sources and our configs).

    robot_localization subscribes with rclcpp::SensorDataQoS (best effort) and publishes
    odometry/filtered reliable; ros_gz_bridge publishes and subscribes reliable (depth 10);
    robot_state_publisher latches robot_description and tf_static.
    """
    rel, best, vol, latched = 'RELIABLE', 'BEST_EFFORT', 'VOLATILE', 'TRANSIENT_LOCAL'
    r = lambda t: resolve_topic(t, spec.namespace, spec.remaps)  # noqa: E731
    n = spec.name
    pubs: list[Endpoint] = []
    subs: list[Endpoint] = []
    params, _ = node_parameters(spec)
    key = (spec.package, spec.executable)
    if key == ('robot_state_publisher', 'robot_state_publisher'):
        pubs += [
            Endpoint(n, r('robot_description'), 'std_msgs/msg/String', rel, latched),
            Endpoint(n, '/tf', 'tf2_msgs/msg/TFMessage', rel, vol),
            Endpoint(n, '/tf_static', 'tf2_msgs/msg/TFMessage', rel, latched),
        ]
        subs += [Endpoint(n, r('joint_states'), 'sensor_msgs/msg/JointState', rel, vol)]
    elif key == ('robot_localization', 'ekf_node'):
        for k, v in params.items():
            if k[:-1] in ('odom', 'imu', 'pose', 'twist') and k[-1].isdigit():
                t = {
                    'odom': 'nav_msgs/msg/Odometry',
                    'imu': 'sensor_msgs/msg/Imu',
                    'pose': 'geometry_msgs/msg/PoseWithCovarianceStamped',
                    'twist': 'geometry_msgs/msg/TwistWithCovarianceStamped',
                }[k[:-1]]
                subs.append(Endpoint(n, r(v), t, best, vol))
        pubs.append(Endpoint(n, r('odometry/filtered'), 'nav_msgs/msg/Odometry', rel, vol))
        if params.get('publish_tf', True):
            pubs.append(Endpoint(n, '/tf', 'tf2_msgs/msg/TFMessage', rel, vol))
    elif key == ('robot_localization', 'navsat_transform_node'):
        subs += [
            Endpoint(n, r('imu'), 'sensor_msgs/msg/Imu', best, vol),
            Endpoint(n, r('gps/fix'), 'sensor_msgs/msg/NavSatFix', best, vol),
            Endpoint(n, r('odometry/filtered'), 'nav_msgs/msg/Odometry', best, vol),
        ]
        pubs.append(Endpoint(n, r('odometry/gps'), 'nav_msgs/msg/Odometry', rel, vol))
    elif key == ('ros_gz_bridge', 'parameter_bridge'):
        for entry in yaml.safe_load(Path(params['config_file']).read_text()):
            ep = Endpoint(n, r(entry['ros_topic_name']), entry['ros_type_name'], rel, vol)
            (pubs if entry['direction'] == 'GZ_TO_ROS' else subs).append(ep)
    elif key == ('tf2_ros', 'static_transform_publisher'):
        pubs.append(Endpoint(n, '/tf_static', 'tf2_msgs/msg/TFMessage', rel, latched))
    elif key in (('rviz2', 'rviz2'), ('ros_gz_sim', 'create')):
        pass  # rviz's topics are checked against config/mower.rviz separately
    else:
        raise KeyError(f'no interface model for {key}')
    return pubs, subs


def process_endpoints(cmd: list[str]) -> list[Endpoint]:
    """Publishers of the plain processes a launch starts.

    ``ros2 bag play --clock`` publishes /clock with rclcpp::ClockQoS (rosbag2_transport
    player.cpp), which is the sensor-data profile with depth 1 (rclcpp qos.cpp): best effort.
    """
    if cmd[:3] == ['ros2', 'bag', 'play'] and '--clock' in cmd:
        return [
            Endpoint(
                'ros2_bag_play', '/clock', 'rosgraph_msgs/msg/Clock', 'BEST_EFFORT', 'VOLATILE'
            )
        ]
    return []


def graph_problems(
    pubs: list[Endpoint], subs: list[Endpoint], external: dict[str, str]
) -> list[str]:
    """Subscriptions without a publisher (not external), type mismatches, QoS mismatches."""
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, compatible

    def profile(e: Endpoint) -> QoSProfile:
        return QoSProfile(
            depth=10,
            reliability=ReliabilityPolicy[e.reliability],
            durability=DurabilityPolicy[e.durability],
        )

    out = []
    for s in subs:
        same = [p for p in pubs if p.topic == s.topic]
        if not same:
            if s.topic not in external:
                out.append(f'no publisher: {s.node} subscribes {s.topic} ({s.msgtype})')
            continue
        for p in same:
            if p.msgtype != s.msgtype:
                out.append(
                    f'type: {s.topic}: {p.node} publishes {p.msgtype}, {s.node} wants {s.msgtype}'
                )
            ok, why = compatible(profile(p), profile(s))
            if not ok:
                out.append(f'qos: {s.topic}: {p.node} -> {s.node}: {why}')
    return out
