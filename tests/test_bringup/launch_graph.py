"""Evaluate the launch files with the launch API double, and build the ROS graph they start.

Our nodes' publishers, subscriptions and parameters come from instantiating them on the strict
rclpy double with the parameters the launch file gives them; the third-party nodes (robot_
localization, robot_state_publisher, ros_gz_bridge, tf2_ros) are modelled below from their
documented interfaces and their config files.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = Path(__file__).resolve().parents[1] / 'launch_double'
_DOUBLE_ROOTS = ('launch', 'launch_ros', 'lifecycle_msgs', '_record')


@dataclass
class NodeSpec:
    """A node as a launch file starts it."""

    package: str
    executable: str
    name: str
    namespace: str
    params: list[Any]  # parameter file paths (str) and dicts, in order
    remaps: list[tuple[str, str]]
    arguments: list[str]
    lifecycle: bool
    source: str


@dataclass
class Evaluation:
    """What a launch file (and what it includes) starts."""

    nodes: list[NodeSpec] = field(default_factory=list)
    processes: list[list[str]] = field(default_factory=list)
    arguments: dict[str, dict[str, tuple[Any, str]]] = field(default_factory=dict)
    transitions: dict[int, set[str]] = field(default_factory=dict)  # id(node) -> transitions
    lifecycle_nodes: dict[int, NodeSpec] = field(default_factory=dict)


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


def evaluate(path: Path, args: dict[str, str] | None = None) -> Evaluation:
    """Run ``generate_launch_description`` of ``path`` and walk what it returns."""
    saved = _swap_in()
    try:
        ev = Evaluation()
        _evaluate_file(Path(path), dict(args or {}), ev, namespace='')
        return ev
    finally:
        _swap_out(saved)


def _evaluate_file(path: Path, ctx: dict[str, str], ev: Evaluation, namespace: str) -> None:
    spec = importlib.util.spec_from_file_location(f'launch_file_{path.stem.replace(".", "_")}',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    desc = module.generate_launch_description()
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
        return ''.join(str(_resolve(p, ctx)) for p in (parts if isinstance(parts, list)
                                                       else [parts]))
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
    return truth if isinstance(cond, IfCondition) else not truth if isinstance(
        cond, UnlessCondition) else truth


def _join_ns(outer: str, inner: str) -> str:
    parts = [p for p in (outer.strip('/'), inner.strip('/')) if p]
    return '/' + '/'.join(parts) if parts else ''


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
            namespace = _join_ns(namespace, str(_resolve(e.kw['namespace'], ctx)))
        elif isinstance(e, SetParameter):
            ctx.setdefault('__global_params__', {})
            ctx = dict(ctx)
            ctx['__global_params__'] = {**ctx['__global_params__'],
                                        e.kw['name']: _param_value(e.kw['value'], ctx)}
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
            g = ctx.get('__global_params__')
            if g:
                params.append(dict(g))
            for p in kw.get('parameters', []):
                if isinstance(p, dict):
                    params.append({k: _param_value(v, ctx) for k, v in p.items()})
                else:
                    params.append(str(_resolve(p, ctx)))
            spec = NodeSpec(
                kw['package'], kw['executable'], kw.get('name') or kw['executable'],
                _join_ns(namespace, str(_resolve(kw.get('namespace', ''), ctx))), params,
                [(str(_resolve(a, ctx)), str(_resolve(b, ctx)))
                 for a, b in kw.get('remappings', [])],
                [str(x) for x in _resolve(kw.get('arguments', []), ctx)],
                isinstance(e, LifecycleNode), path.name)
            ev.nodes.append(spec)
            if spec.lifecycle:
                ev.lifecycle_nodes[id(e)] = spec
        elif isinstance(e, ExecuteProcess):
            ev.processes.append([str(x) for x in _resolve(e.kw['cmd'], ctx)])
        elif isinstance(e, OpaqueFunction):
            out = e.kw['function'](LaunchContext(ctx), *e.kw.get('args', []),
                                   **e.kw.get('kwargs', {}))
            _walk(out or [], ctx, ev, namespace, path)
        elif isinstance(e, EmitEvent):
            change = e.kw['event']
            target = change.kw['lifecycle_node_matcher'].target
            ev.transitions.setdefault(id(target), set()).add(
                {1: 'configure', 3: 'activate'}[change.kw['transition_id']])
        elif isinstance(e, RegisterEventHandler):
            handler = e.kw['event_handler']
            for sub_e in handler.kw.get('entities', []):
                change = sub_e.kw['event']
                target = change.kw['lifecycle_node_matcher'].target
                assert target is handler.kw['target_lifecycle_node']
                ev.transitions.setdefault(id(target), set()).add(
                    {1: 'configure', 3: 'activate'}[change.kw['transition_id']])
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
}


def node_parameters(spec: NodeSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(all parameters the launch gives the node, those from its own config file only)."""
    merged: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for p in spec.params:
        if isinstance(p, dict):
            merged.update(p)
            continue
        doc = yaml.safe_load(Path(p).read_text()) or {}
        for key, body in doc.items():
            k = key.strip('/')
            if key == '/**' or k == spec.name or k == (spec.namespace.strip('/') + '/' +
                                                         spec.name).strip('/'):
                values = (body or {}).get('ros__parameters', {}) or {}
                merged.update(values)
                if key != '/**':
                    own.update(values)
    return merged, own


def instantiate(spec: NodeSpec):
    """Our node on the rclpy double with the launch's parameters (lifecycle nodes configured)."""
    from rclpy.parameter import Parameter

    module, cls = NODE_CLASSES[spec.executable]
    params, _ = node_parameters(spec)
    params.pop('use_sim_time', None)
    overrides = [Parameter(k, value=v) for k, v in params.items()]
    node = getattr(importlib.import_module(module), cls)(parameter_overrides=overrides)
    if spec.lifecycle:
        from rclpy.lifecycle import TransitionCallbackReturn

        assert node.on_configure(None) == TransitionCallbackReturn.SUCCESS
        node.on_activate(None)
    return node


def _qos_names(q) -> tuple[str, str]:
    return q.reliability.name, q.durability.name


def our_endpoints(spec: NodeSpec, node) -> tuple[list[Endpoint], list[Endpoint]]:
    """Publishers and subscriptions of one of our nodes, resolved."""
    pubs = [Endpoint(spec.name, resolve_topic(p.topic, spec.namespace, spec.remaps),
                     p.msg_type._type, *_qos_names(p.qos_profile)) for p in node.publishers]
    subs = [Endpoint(spec.name, resolve_topic(s.topic, spec.namespace, spec.remaps),
                     s.msg_type._type, *_qos_names(s.qos_profile)) for s in node.subscriptions]
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
        pubs += [Endpoint(n, r('robot_description'), 'std_msgs/msg/String', rel, latched),
                 Endpoint(n, '/tf', 'tf2_msgs/msg/TFMessage', rel, vol),
                 Endpoint(n, '/tf_static', 'tf2_msgs/msg/TFMessage', rel, latched)]
        subs += [Endpoint(n, r('joint_states'), 'sensor_msgs/msg/JointState', rel, vol)]
    elif key == ('robot_localization', 'ekf_node'):
        for k, v in params.items():
            if k[:-1] in ('odom', 'imu', 'pose', 'twist') and k[-1].isdigit():
                t = {'odom': 'nav_msgs/msg/Odometry', 'imu': 'sensor_msgs/msg/Imu',
                     'pose': 'geometry_msgs/msg/PoseWithCovarianceStamped',
                     'twist': 'geometry_msgs/msg/TwistWithCovarianceStamped'}[k[:-1]]
                subs.append(Endpoint(n, r(v), t, best, vol))
        pubs.append(Endpoint(n, r('odometry/filtered'), 'nav_msgs/msg/Odometry', rel, vol))
        if params.get('publish_tf', True):
            pubs.append(Endpoint(n, '/tf', 'tf2_msgs/msg/TFMessage', rel, vol))
    elif key == ('robot_localization', 'navsat_transform_node'):
        subs += [Endpoint(n, r('imu'), 'sensor_msgs/msg/Imu', best, vol),
                 Endpoint(n, r('gps/fix'), 'sensor_msgs/msg/NavSatFix', best, vol),
                 Endpoint(n, r('odometry/filtered'), 'nav_msgs/msg/Odometry', best, vol)]
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


def graph_problems(pubs: list[Endpoint], subs: list[Endpoint],
                   external: dict[str, str]) -> list[str]:
    """Subscriptions without a publisher (not external), type mismatches, QoS mismatches."""
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, compatible

    def profile(e: Endpoint) -> QoSProfile:
        return QoSProfile(depth=10, reliability=ReliabilityPolicy[e.reliability],
                          durability=DurabilityPolicy[e.durability])

    out = []
    for s in subs:
        same = [p for p in pubs if p.topic == s.topic]
        if not same:
            if s.topic not in external:
                out.append(f'no publisher: {s.node} subscribes {s.topic} ({s.msgtype})')
            continue
        for p in same:
            if p.msgtype != s.msgtype:
                out.append(f'type: {s.topic}: {p.node} publishes {p.msgtype}, {s.node} '
                           f'wants {s.msgtype}')
            ok, why = compatible(profile(p), profile(s))
            if not ok:
                out.append(f'qos: {s.topic}: {p.node} -> {s.node}: {why}')
    return out
