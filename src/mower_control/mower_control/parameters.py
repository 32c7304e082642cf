"""Parameters of the nodes: declared once from the cores' dataclasses, checked by one rule.

Each control node declares the fields of its core's parameter dataclass (FollowerParams,
SafetyParams, MissionParams, DriverParams) plus its own, read-only, with the description and
range of the dataclass's field metadata (mower_node_kit.params), and builds the dataclass from
the values. The simulator's closed loop and the replay read the same config/*.yaml files with
:func:`node_yaml`, which checks them by the same rule (mower_node_kit.params.check_value):
every key known to the node (a misspelt one is refused with the nearest valid name), every
value of its type and inside its range, and the rules between fields of the node's cores. A
bad value raises :class:`~mower_node_kit.params.ConfigError`, one line naming the file, the key
and the value, before anything runs.

:data:`NODE_EXTRA` holds the nodes' own parameters besides their cores' fields (with ranges),
for the code that reads the files without ROS; the nodes' tables give the same defaults and
descriptions (tests/test_mower_node_kit/test_config_errors.py checks they agree), and
:func:`declare` gives the control nodes these ranges.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Collection, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from mower_node_kit.params import ConfigError, Spec, check_value, field_specs, from_values
from mower_node_kit.params import declare as declare_specs

#: the control nodes' own parameters besides the fields of their cores (name -> Spec, with a
#: range for every number): the one table those nodes declare (their EXTRA); the other nodes'
#: tables live in ROS-free modules of their packages, named in NODE_CORES
NODE_EXTRA: dict[str, dict[str, Spec]] = {
    'controller_node': {
        'control_rate_hz': Spec(50.0, 'control loop rate', 1.0, 1000.0),
        'pose_topic': Spec('odom', 'nav_msgs/Odometry of base_link in the map frame'),
        'frame_id': Spec('map', 'frame of the paths'),
        'base_frame_id': Spec('base_link', 'frame of the robot (TwistStamped header)'),
        'cmd_vel_stamped': Spec(False, 'publish geometry_msgs/TwistStamped instead of Twist'),
        'obstacle_threshold': Spec(
            50,
            'map/obstacle_cells cells at or above this value slow the robot (100: found '
            "obstacles, 50: suspected ones, mapping's caution_level; 90: found ones only)",
            1,
            100,
        ),
        'pose_timeout_s': Spec(0.5, 'no pose for longer: command zero', 0.01, 60.0),
    },
    'safety_node': {
        'rate_hz': Spec(50.0, 'decision and publishing rate', 1.0, 1000.0),
        'map_file': Spec('', 'lawn map (GeoJSON) whose boundary minus keep-outs is the geofence'),
        'pose_topic': Spec('odom', 'nav_msgs/Odometry of base_link in the map frame'),
        'cmd_vel_stamped': Spec(
            False, 'cmd_vel and cmd_vel_safe are TwistStamped instead of Twist'
        ),
        'base_frame_id': Spec('base_link', 'frame of the robot (TwistStamped header)'),
        'obstacle_threshold': Spec(
            90, 'map/obstacle_cells cells at or above this value are obstacles', 1, 100
        ),
    },
    'mission_node': {
        'map_file': Spec('', 'lawn map (GeoJSON): the dock and where transits may go'),
        'clearance_m': Spec(
            0.2, 'distance transits keep from every edge (half the body width)', 0.0, 5.0
        ),
        'rate_hz': Spec(10.0, 'state machine rate', 0.1, 1000.0),
        'pose_topic': Spec('odom', 'nav_msgs/Odometry of base_link in the map frame'),
        'frame_id': Spec('map', 'frame of the paths'),
        'coverage_threshold': Spec(
            50, 'map/coverage cells at or above this value are mowed', 1, 100
        ),
        'state_file': Spec(
            '', 'progress and skipped stretches kept across restarts (JSON; "" = not kept)'
        ),
        'teach_dir': Spec(
            '~/.ros/mower_teach',
            'folder of the teach session (teach_recording.json) and its draft map',
        ),
        'discovery_dir': Spec(
            '~/.ros/mower_discovery',
            'folder of the draft map a discovery (mower/discover) writes',
        ),
        'discovery_time_limit_s': Spec(
            7200.0, 'a discovery returns to the dock after this long, whatever is left', 1.0, 1e6
        ),
    },
    'motor_driver_node': {
        'transport': Spec(
            'serial', "'serial' (a real board) or 'sim' (simulated board, ideal mower)"
        ),
        'port': Spec('/dev/ttyACM0', 'serial port of the board (any pyserial URL)'),
        'baudrate': Spec(115200, 'serial speed', 300, 10_000_000),
        'rate_hz': Spec(50.0, 'command and read rate', 1.0, 1000.0),
        'cmd_timeout_s': Spec(0.3, 'older velocity commands are replaced by zero', 0.01, 60.0),
        'cmd_vel_stamped': Spec(False, 'cmd_vel_safe is TwistStamped instead of Twist'),
        'odom_frame_id': Spec('odom', 'frame of the odometry'),
        'base_frame_id': Spec('base_link', 'frame of the robot'),
        'publish_tf': Spec(True, 'publish odom -> base_link (off when an EKF publishes it)'),
        'wheel_joints': Spec(
            ['wheel_left_joint', 'wheel_right_joint'], 'joint names of the wheels'
        ),
        'sim_start_pose': Spec([0.0, 0.0, 0.0], "transport 'sim': start x, y (m), yaw (rad)"),
    },
}

#: node -> (its cores: the dataclasses built from its values, ``module:Class``; ROS-free
#: tables of more of its parameters, ``module:NAME``), imported when that node's file is read
NODE_CORES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'controller_node': (('mower_control.follower:FollowerParams',), ()),
    'safety_node': (('mower_control.safety:SafetyParams',), ()),
    'mission_node': (('mower_control.mission:MissionParams', 'mower_maps.teach:TeachParams'), ()),
    'motor_driver_node': (('mower_control.driver:DriverParams',), ()),
    'coverage_node': (
        ('mower_coverage.params:PlannerParams', 'mower_coverage.replan:ReplanParams'),
        ('mower_coverage.params:NODE_PARAMETERS',),
    ),
    'mapping_node': (
        ('mower_mapping.semantic_grid:GridParams',),
        ('mower_mapping.mapper:PARAMETERS',),
    ),
    'segmentation_node': (
        ('mower_segmentation.confidence:ConfidenceParams',),
        ('mower_segmentation.node_params:PARAMETERS',),
    ),
    'mqtt_bridge_node': (
        ('mower_integrations.ha_mqtt:MqttSettings',),
        ('mower_integrations.ha_mqtt:NODE_PARAMETERS',),
    ),
    'app_node': (('mower_app.node_params:AppParams',), ('mower_app.node_params:NODE_PARAMETERS',)),
}

#: node -> its file in config/ (what ``mower sim`` and ``mower replay`` read)
NODE_FILES: dict[str, str] = {
    'controller_node': 'controller.yaml',
    'safety_node': 'safety.yaml',
    'mission_node': 'mission.yaml',
    'motor_driver_node': 'motor_driver.yaml',
    'coverage_node': 'coverage.yaml',
    'mapping_node': 'mapping.yaml',
    'segmentation_node': 'segmentation.yaml',
    'mqtt_bridge_node': 'mqtt_bridge.yaml',
    'app_node': 'app.yaml',
}


def _load(ref: str) -> Any:
    """The object ``module:NAME`` names."""
    module, _, name = ref.partition(':')
    return getattr(importlib.import_module(module), name)


def _core_specs(cls: type) -> dict[str, Spec]:
    """The parameters of one core dataclass: its field metadata, or its module's table.

    PlannerParams describes its fields in ``PARAMETER_SPECS`` (name -> description, low,
    high) instead of field metadata, as coverage_node declares them.
    """
    if any('description' in f.metadata for f in fields(cls)):
        return field_specs(cls)
    specs = importlib.import_module(cls.__module__).PARAMETER_SPECS
    defaults = cls()
    return {f.name: Spec(getattr(defaults, f.name), *specs[f.name]) for f in fields(cls)}


def node_cores(node: str) -> tuple[type, ...]:
    """The core dataclasses a node builds from its parameters (none for an unknown node)."""
    return tuple(_load(ref) for ref in NODE_CORES.get(node, ((), ()))[0])


def node_specs(node: str) -> dict[str, Spec] | None:
    """Every parameter of one of the stack's nodes, name -> Spec (None: a node not known here)."""
    if node not in NODE_CORES:
        return None
    cores, tables = NODE_CORES[node]
    out: dict[str, Spec] = {}
    for ref in cores:
        out.update(_core_specs(_load(ref)))
    for ref in tables:
        out.update({name: Spec(*raw) for name, raw in _load(ref).items()})
    out.update(NODE_EXTRA.get(node, {}))
    return out


def unknown_key(key: str, node: str, known: Collection[str]) -> str:
    """What is said of a key a node does not have: the nearest valid name, if one is near."""
    near = difflib.get_close_matches(key, list(known), n=1)
    return f'is an unknown key for {node}' + (f' (did you mean {near[0]}?)' if near else '')


def validate_node_config(
    path: str | Path, node: str, values: Mapping[str, Any], own: Collection[str] | None = None
) -> dict[str, Any]:
    """``values`` of ``node`` from the file ``path``, checked; returns them as read.

    Every key of ``own`` (default: every key; the keys a section naming this node gives, as
    opposed to a ``/**`` section that serves every node) must be one of the node's parameters;
    every known one must be of its type and inside its range (:func:`check_value`); then the
    node's cores are built from the values, so a rule between fields (``return_battery_pct``
    below ``resume_battery_pct``) holds too. Raises ConfigError naming ``path``. A node not in
    :data:`NODE_CORES` is not checked.
    """
    specs = node_specs(node)
    if specs is None:
        return dict(values)
    own = set(values) if own is None else set(own)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in specs:
            out[key] = check_value(key, value, specs[key], path)
        elif key in own:
            raise ConfigError(str(key), value, unknown_key(str(key), node, specs), path)
        else:
            out[key] = value  # a /** section's key for other nodes
    for cls in node_cores(node):
        from_values(cls, out, path)
    return out


def key_matches(key: str, fqn: str) -> bool:
    r"""Whether a parameter file's node key applies to the node ``fqn``.

    As rclpy and rclcpp decide (rclpy ``src/rclpy/node.cpp``, rclcpp ``parameter_map.cpp``;
    Humble and Jazzy): a leading ``/`` added, each ``/*`` read as ``(/\w+)``, the whole name
    matched. So ``/**/mapping_node`` applies in any namespace, ``mapping_node`` in the root
    namespace only.
    """
    name = key if key.startswith('/') else '/' + key
    return re.fullmatch(name.replace('/*', r'(/\w+)'), fqn, flags=re.ASCII) is not None


def _read_yaml(path: Path) -> Any:
    """The YAML document of ``path``; ConfigError naming it when it cannot be read or parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as exc:
        raise ConfigError('', why=f'cannot be read ({exc.strerror or exc})', source=path) from None
    except UnicodeDecodeError:
        raise ConfigError('', why='is not UTF-8 text', source=path) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, 'problem_mark', None)
        at = f' at line {where.line + 1}' if where is not None else ''
        problem = getattr(exc, 'problem', None) or type(exc).__name__
        raise ConfigError('', why=f'is not valid YAML{at}: {problem}', source=path) from None


def node_yaml(path: str | Path, node: str, namespace: str = '/') -> dict[str, Any]:
    """The ``ros__parameters`` a file gives one node, merged over its matching keys, checked.

    Checked by :func:`validate_node_config` for the nodes it knows: a key under a section that
    names this node (``/**/<node>``) must be one of its parameters; ``/**`` sections serve
    every node, so only their keys this node has are checked. Raises ConfigError naming
    ``path``.
    """
    path = Path(path)
    data = _read_yaml(path) or {}
    fqn = namespace.rstrip('/') + '/' + node
    out: dict[str, Any] = {}
    own: set[str] = set()
    found = False
    for key, body in data.items() if isinstance(data, dict) else ():
        if isinstance(body, dict) and 'ros__parameters' in body and key_matches(str(key), fqn):
            section = body['ros__parameters'] or {}
            if not isinstance(section, dict):
                raise ConfigError(
                    '',
                    why=f'{key}: ros__parameters is not a mapping of names to values',
                    source=path,
                )
            out.update(section)
            if str(key).rstrip('/').rsplit('/', 1)[-1] == node:
                own.update(section)
            found = True
    if not found:
        raise ConfigError('', why=f'no ros__parameters section for {fqn}', source=path)
    return validate_node_config(path, node, out, own)


def check_config_dir(config_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every node file of :data:`NODE_FILES` in ``config_dir``, checked: node -> its values.

    For a command to refuse a bad configuration in one line before it starts any work
    (ConfigError naming the file, the key and the value); a missing file is an error too.
    """
    return {node: node_yaml(Path(config_dir) / name, node) for node, name in NODE_FILES.items()}


def build(cls: type, values: Mapping[str, Any], source: str | Path = '') -> Any:
    """The dataclass from a dict of parameter values (other keys are ignored), checked.

    Raises ConfigError (naming ``source`` when given) for a value of the wrong type, outside
    its range, or breaking a rule between fields.
    """
    return from_values(cls, values, source)


def declare(node: Any, cls: type | None, extra: Mapping[str, tuple]) -> dict[str, Any]:
    """Declare a node's parameters (read-only, described, ranged); return name -> value.

    The fields of ``cls`` and the node's own table ``extra`` (:data:`NODE_EXTRA`), through
    mower_node_kit.params.declare: the same types and ranges the config files are checked with.
    """
    return declare_specs(node, {**(field_specs(cls) if cls is not None else {}), **extra})
