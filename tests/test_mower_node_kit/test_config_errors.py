"""Issue 16, defect 12: every config value checked by one rule, every error one clear line.

config/*.yaml as ``mower sim`` reads them (mower_offline.run.loop_config and the planner's
parameters, through mower_control.parameters.node_yaml), and the same parameters as the nodes
declare them (against the strict rclpy double): a value of the wrong type, outside its range or
under a misspelt key raises ConfigError, ``FILE: KEY = VALUE why``, before anything runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from mower_control.parameters import (
    NODE_CORES,
    NODE_EXTRA,
    NODE_FILES,
    build,
    check_config_dir,
    node_specs,
    node_yaml,
    validate_node_config,
)
from mower_node_kit.params import ConfigError, Spec, check_value, from_values, type_name

CONFIG = ROOT / 'config'
FILES = NODE_FILES


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of config/ to spoil one line of."""
    out = tmp_path / 'config'
    shutil.copytree(CONFIG, out)
    return out


def spoil(config_dir: Path, name: str, line: str, new: str) -> Path:
    """Replace the line of ``name`` that starts (after indentation) with ``line``."""
    path = config_dir / name
    lines = path.read_text().splitlines()
    (i,) = [i for i, text in enumerate(lines) if text.strip().startswith(line)]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i] = indent + new
    path.write_text('\n'.join(lines) + '\n')
    return path


def sim_config(config_dir: Path) -> None:
    """Read the configuration as ``mower sim`` does, before it plans or simulates anything."""
    from mower_offline.run import RunConfig, _planner_params, loop_config

    _planner_params(config_dir)
    loop_config(RunConfig(config_dir=config_dir))


def one_line(exc: pytest.ExceptionInfo, *parts: str) -> str:
    """The error's one line, which must hold every one of ``parts``."""
    text = str(exc.value)
    assert '\n' not in text and type(exc.value).__name__ == 'ConfigError', text
    for part in parts:
        assert part in text, (part, text)
    return text


# -- the configuration files, as the simulator reads them -----------------------------------


def test_the_shipped_configuration_passes():
    sim_config(CONFIG)
    values = check_config_dir(CONFIG)
    assert set(values) == set(NODE_CORES) == set(FILES)
    for node, name in FILES.items():
        assert values[node] == node_yaml(CONFIG / name, node)
        assert set(values[node]) == set(node_specs(node))  # every parameter is in its file


def test_a_whole_directory_is_checked_before_any_work(config_dir):
    spoil(config_dir, 'safety.yaml', 'rate_hz:', 'rate_hz: 0.0')
    with pytest.raises(ConfigError, match=r'safety.yaml: rate_hz = 0.0 is outside \[1.0, 1000'):
        check_config_dir(config_dir)
    (config_dir / 'safety.yaml').unlink()
    with pytest.raises(ConfigError, match='safety.yaml: cannot be read'):
        check_config_dir(config_dir)


@pytest.mark.parametrize(
    'name, line, new, parts',
    [
        (
            'controller.yaml',
            'max_speed_mps:',
            "max_speed_mps: 'fast'",
            ["controller.yaml: max_speed_mps = 'fast' has the wrong type (expected float)"],
        ),
        (
            'mission.yaml',
            'max_replans:',
            'max_replans: 2.5',
            ['mission.yaml: max_replans = 2.5 has the wrong type (expected int)'],
        ),
        (
            'mapping.yaml',
            'use_confidence:',
            "use_confidence: 'yes'",
            ["use_confidence = 'yes' has the wrong type (expected bool)"],
        ),
        (
            'coverage.yaml',
            'headland_passes:',
            'headland_passes: true',
            ['coverage.yaml: headland_passes = True has the wrong type (expected int)'],
        ),
        (
            'motor_driver.yaml',
            'wheel_joints:',
            "wheel_joints: ['left', 3]",
            ['motor_driver.yaml: wheel_joints[1] = 3 has the wrong type (expected str)'],
        ),
        (
            'mapping.yaml',
            'origin_xy:',
            'origin_xy: 5.0',
            ['mapping.yaml: origin_xy = 5.0 has the wrong type (expected list)'],
        ),
        (
            'safety.yaml',
            'max_decel_mps2:',
            'max_decel_mps2: .nan',
            ['safety.yaml: max_decel_mps2 = nan is not a finite number'],
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_file_key_and_value(config_dir, name, line, new, parts):
    spoil(config_dir, name, line, new)
    with pytest.raises(ConfigError) as exc:
        sim_config(config_dir)
    one_line(exc, str(config_dir / name), *parts)


@pytest.mark.parametrize(
    'name, line, new, parts',
    [
        (
            'controller.yaml',
            'max_speed_mps:',
            'max_sped_mps: 1.0',
            [
                'controller.yaml: max_sped_mps = 1.0 is an unknown key for controller_node',
                '(did you mean max_speed_mps?)',
            ],
        ),
        (
            'motor_driver.yaml',
            'track_m:',
            'track_width_m: 0.32',
            [
                'track_width_m = 0.32 is an unknown key for motor_driver_node',
                'did you mean track_m?',
            ],
        ),
        (
            'mapping.yaml',
            'obstacle_threshold:',
            'obstacle_treshold: 2.0',
            ['mapping.yaml: obstacle_treshold', 'did you mean obstacle_threshold?'],
        ),
        (
            'coverage.yaml',
            'headland_passes:',
            'headland_pases: 3',
            ['coverage.yaml: headland_pases = 3', 'did you mean headland_passes?'],
        ),
        (
            'segmentation.yaml',
            'threads:',
            'zzz: 1',
            ['zzz = 1 is an unknown key for segmentation_node'],
        ),
    ],
)
def test_a_misspelt_key_is_refused_with_the_nearest_valid_name(config_dir, name, line, new, parts):
    spoil(config_dir, name, line, new)
    with pytest.raises(ConfigError) as exc:
        sim_config(config_dir)
    text = one_line(exc, str(config_dir / name), *parts)
    if 'zzz' in text:
        assert 'did you mean' not in text


@pytest.mark.parametrize(
    'line, new, part',
    [
        ('wheel_radius_m:', 'wheel_radius_m: 0', 'wheel_radius_m = 0 is outside [0.005, 2.0]'),
        ('track_m:', 'track_m: 0.0', 'track_m = 0.0 is outside [0.01, 5.0]'),
        ('ticks_per_rev:', 'ticks_per_rev: 0', 'ticks_per_rev = 0 is outside'),
        ('max_wheel_speed_mps:', 'max_wheel_speed_mps: -1.0', 'max_wheel_speed_mps = -1.0'),
    ],
)
def test_drive_parameters_are_validated(config_dir, line, new, part):
    spoil(config_dir, 'motor_driver.yaml', line, new)
    with pytest.raises(ConfigError) as exc:
        sim_config(config_dir)
    one_line(exc, 'motor_driver.yaml: ' + part)


def test_a_drive_that_would_divide_by_zero_cannot_be_made():
    from mower_control.kinematics import DiffDrive

    for bad in ({'track_m': 0.0}, {'wheel_radius_m': 0.0}, {'ticks_per_rev': 0}):
        with pytest.raises(ConfigError, match=f'{next(iter(bad))} = 0'):
            DiffDrive(**bad)


@pytest.mark.parametrize(
    'name, line, new, part',
    [
        (
            'mission.yaml',
            'return_battery_pct:',
            'return_battery_pct: 150.0',
            'return_battery_pct = 150.0 is outside [0.0, 100.0]',
        ),
        (
            'mission.yaml',
            'resume_battery_pct:',
            'resume_battery_pct: 20.0',
            'return_battery_pct = 25.0 must be below resume_battery_pct (20.0)',
        ),
        (
            'motor_driver.yaml',
            'low_battery_pct:',
            'low_battery_pct: -5.0',
            'low_battery_pct = -5.0 is outside [0.0, 100.0]',
        ),
        (
            'controller.yaml',
            'min_lookahead_m:',
            'min_lookahead_m: 2.0',
            'min_lookahead_m = 2.0 must not exceed max_lookahead_m (0.9)',
        ),
        (
            'controller.yaml',
            'goal_tolerance_m:',
            'goal_tolerance_m: 0.0',
            'goal_tolerance_m = 0.0 is outside',
        ),
        (
            'safety.yaml',
            'tilt_limit_rad:',
            'tilt_limit_rad: 10.0',
            'tilt_limit_rad = 10.0 is outside',
        ),
        (
            'coverage.yaml',
            'cut_width_m:',
            'cut_width_m: 0.1',
            'stripe_spacing_m (0.2) must not exceed cut_width_m (0.1)',
        ),
        (
            'coverage.yaml',
            'replan_min_change_m2:',
            'replan_min_change_m2: -1.0',
            'replan_min_change_m2 = -1.0 is outside [0.0, 100.0]',
        ),
        ('mapping.yaml', 'lut_stride:', 'lut_stride: 0', 'lut_stride = 0 is outside [1, 64]'),
        (
            'segmentation.yaml',
            'min_confidence:',
            'min_confidence: 2.0',
            'min_confidence = 2.0 is outside [0.0, 1.0]',
        ),
    ],
)
def test_values_outside_their_range_are_refused(config_dir, name, line, new, part):
    spoil(config_dir, name, line, new)
    with pytest.raises(ConfigError) as exc:
        sim_config(config_dir) if name != 'segmentation.yaml' else node_yaml(
            config_dir / name, 'segmentation_node'
        )
    one_line(exc, f'{name}: {part}')


def test_a_negative_obstacle_threshold_is_a_config_error_naming_mapping_yaml(config_dir):
    from mower_maps import MapError

    spoil(config_dir, 'mapping.yaml', 'obstacle_threshold:', 'obstacle_threshold: -1')
    with pytest.raises(ConfigError) as exc:
        sim_config(config_dir)
    one_line(
        exc, f'{config_dir / "mapping.yaml"}: obstacle_threshold = -1 is outside [0.0, 100.0]'
    )
    assert not isinstance(exc.value, MapError)


def test_the_replay_reads_mapping_yaml_by_the_same_rule(config_dir):
    spoil(config_dir, 'mapping.yaml', 'hit:', 'hit: -1')
    with pytest.raises(ConfigError, match=r'mapping.yaml: hit = -1 is outside \[0.0, 10.0\]'):
        node_yaml(config_dir / 'mapping.yaml', 'mapping_node')


def test_files_that_cannot_be_read_are_one_line_errors(tmp_path):
    bad = tmp_path / 'controller.yaml'
    bad.write_text('/**/controller_node:\n  ros__parameters:\n    max_speed_mps: [1\n')
    with pytest.raises(ConfigError, match=r'controller.yaml: is not valid YAML at line \d'):
        node_yaml(bad, 'controller_node')
    with pytest.raises(ConfigError, match='nope.yaml: cannot be read'):
        node_yaml(tmp_path / 'nope.yaml', 'controller_node')
    bad.write_text('/**/safety_node:\n  ros__parameters: {}\n')
    with pytest.raises(ConfigError, match='no ros__parameters section for /controller_node'):
        node_yaml(bad, 'controller_node')
    bad.write_text('/**/controller_node:\n  ros__parameters: [1, 2]\n')
    with pytest.raises(ConfigError, match='ros__parameters is not a mapping'):
        node_yaml(bad, 'controller_node')


def test_a_site_wide_section_checks_only_the_keys_of_this_node(tmp_path):
    """``/**`` serves every node: another node's key is not an error, a bad value is."""
    path = tmp_path / 'overrides.yaml'
    path.write_text(
        '/**:\n  ros__parameters:\n    map_file: x.geojson\n    seed: 3\n'
        '/**/controller_node:\n  ros__parameters:\n    max_speed_mps: 0.8\n'
    )
    values = node_yaml(path, 'controller_node')
    assert values['max_speed_mps'] == 0.8 and values['seed'] == 3
    path.write_text('/**:\n  ros__parameters:\n    max_speed_mps: 50.0\n')
    with pytest.raises(ConfigError, match='overrides.yaml: max_speed_mps = 50.0 is outside'):
        node_yaml(path, 'controller_node')


# -- the rule itself ------------------------------------------------------------------------


def test_the_type_rule():
    spec = Spec(1.0, 'a float', 0.0, 10.0)
    assert check_value('k', 2, spec) == 2.0 and isinstance(check_value('k', 2, spec), float)
    for bad, kind in ((True, 'float'), ('2.0', 'float'), (None, 'float')):
        with pytest.raises(ConfigError, match=f'has the wrong type \\(expected {kind}\\)'):
            check_value('k', bad, spec)
    with pytest.raises(ConfigError, match=r'k = False has the wrong type \(expected int\)'):
        check_value('k', False, Spec(3, 'an int'))
    with pytest.raises(ConfigError, match=r'expected bool'):
        check_value('k', 1, Spec(True, 'a flag'))
    with pytest.raises(ConfigError, match=r'expected str'):
        check_value('k', 5, Spec('odom', 'a topic'))
    assert check_value('k', (1, 2), Spec([0.0, 0.0], 'a point')) == [1.0, 2.0]
    assert check_value('k', ['a', 1], Spec([], 'anything')) == ['a', 1]
    with pytest.raises(ConfigError, match=r'k = inf is not a finite number'):
        check_value('k', float('inf'), Spec(1.0, 'no range'))


def test_config_error_is_a_value_error_of_one_line():
    err = ConfigError('track_m', 0, 'is outside [0.01, 5.0]', 'config/motor_driver.yaml')
    assert isinstance(err, ValueError)
    assert str(err) == 'config/motor_driver.yaml: track_m = 0 is outside [0.01, 5.0]'
    assert (err.source, err.key, err.value) == ('config/motor_driver.yaml', 'track_m', 0)
    assert str(ConfigError('k', 'x' * 200, 'is bad')).count('x') < 80
    assert str(ConfigError('k', 1, 'is bad').in_file('f.yaml')) == 'f.yaml: k = 1 is bad'


def test_build_names_the_key_of_a_wrong_type_and_the_file_when_told():
    from mower_control.follower import FollowerParams
    from mower_control.mission import MissionParams

    with pytest.raises(ConfigError, match=r"^max_speed_mps = 'fast' has the wrong type"):
        build(FollowerParams, {'max_speed_mps': 'fast'})
    with pytest.raises(ConfigError, match=r'^m.yaml: return_battery_pct = 95'):
        build(MissionParams, {'return_battery_pct': 95}, 'm.yaml')
    assert from_values(FollowerParams, {'max_speed_mps': 2}).max_speed_mps == 2.0


def test_every_number_of_every_node_has_a_range():
    for node in NODE_CORES:
        for name, spec in node_specs(node).items():
            if type_name(spec.default) in ('int', 'float'):
                assert spec.low is not None and spec.high is not None, (node, name)
                assert spec.low <= spec.default <= spec.high, (node, name)


# -- the nodes: the same rule in their declarations (the strict rclpy double) ---------------


def test_each_node_declares_the_one_table_the_files_are_checked_with(ros):
    from mower_control import controller_node, mission_node, motor_driver_node, safety_node
    from mower_coverage import coverage_node, params
    from mower_segmentation import node_params, segmentation_node

    for module in (controller_node, mission_node, motor_driver_node, safety_node):
        assert module.EXTRA is NODE_EXTRA[module.__name__.rsplit('.', 1)[1]]
    assert coverage_node.NODE_PARAMETERS is params.NODE_PARAMETERS
    assert segmentation_node.PARAMETERS is node_params.PARAMETERS
    for node in ('coverage_node', 'segmentation_node'):
        assert set(node_specs(node)) >= set(
            getattr(
                params if node == 'coverage_node' else node_params,
                'NODE_PARAMETERS' if node == 'coverage_node' else 'PARAMETERS',
            )
        )


def _control_node(name: str, **overrides):
    import importlib

    from rclpy.parameter import Parameter

    module, cls = {
        'controller_node': ('mower_control.controller_node', 'ControllerNode'),
        'motor_driver_node': ('mower_control.motor_driver_node', 'MotorDriverNode'),
    }[name]
    values = {**{k: v for k, v in node_yaml(CONFIG / FILES[name], name).items()}, **overrides}
    if name == 'motor_driver_node':
        values['transport'] = 'sim'
    node_cls = getattr(importlib.import_module(module), cls)
    return node_cls(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


@pytest.mark.parametrize(
    'name, change, refused',
    [
        ('controller_node', {'max_speed_mps': 9.0}, 'value'),
        ('controller_node', {'control_rate_hz': 0.0}, 'value'),  # its range: NODE_EXTRA's
        ('controller_node', {'obstacle_threshold': 0}, 'value'),
        ('controller_node', {'max_speed_mps': 'fast'}, 'type'),
        ('controller_node', {'cmd_vel_stamped': 1}, 'type'),
        ('motor_driver_node', {'wheel_radius_m': 0.0}, 'value'),
        ('motor_driver_node', {'track_m': 0.0}, 'value'),
        ('motor_driver_node', {'low_battery_pct': 150.0}, 'value'),
    ],
)
def test_the_nodes_refuse_what_the_files_refuse(ros, name, change, refused):
    """The double refuses it at declaration (the range from the same metadata), by name."""
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

    ((key, value),) = change.items()
    with pytest.raises(ConfigError):  # what the simulator says of the same value in the file
        validate_node_config(FILES[name], name, {key: value})
    kind = {'value': InvalidParameterValueException, 'type': InvalidParameterTypeException}
    with pytest.raises(kind[refused], match=key):
        _control_node(name, **change)


def test_what_rclpy_lets_through_the_rule_refuses(ros):
    """A NaN under a range that rclpy's double lets through; a list of the wrong items."""
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    from mower_node_kit.params import declare  # as the double's modules see it

    node = Node(
        'rule_test',
        parameter_overrides=[
            Parameter('joints', value=['a', 'b']),
            Parameter('rate', value=float('nan')),
        ],
    )
    with pytest.raises(ValueError, match=r'rule_test: rate = nan is not a finite number'):
        declare(
            node, {'joints': Spec(['left', 'right'], 'joint names'), 'rate': Spec(10.0, 'a rate')}
        )
    node.destroy_node()


def test_the_nodes_declare_the_ranges(ros):
    node = _control_node('controller_node')
    d = node.describe_parameter('control_rate_hz')
    assert (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value) == (
        1.0,
        1000.0,
    )
    d = node.describe_parameter('max_speed_mps')
    assert (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value) == (
        0.01,
        5.0,
    )
    node.destroy_node()


def test_a_float_range_makes_the_double_refuse_a_value_outside_it(ros):
    from rclpy.exceptions import InvalidParameterValueException
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    from mower_node_kit.params import declare  # as the double's modules see it

    node = Node('range_test', parameter_overrides=[Parameter('gain', value=1.5)])
    with pytest.raises(InvalidParameterValueException, match=r'gain: 1.5 is outside'):
        declare(node, {'gain': Spec(0.5, 'a gain', 0.0, 1.0)})
    node.destroy_node()
    node = Node('range_test2')
    declare(node, {'gain': Spec(0.5, 'a gain', 0.0, 1.0)}, read_only=False)
    (refused,) = node.set_parameters([Parameter('gain', value=-0.5)])
    assert not refused.successful and node.get_parameter('gain').value == 0.5
    node.destroy_node()
