"""Parameter files and -p rules as rcl merges them and rclpy matches them to a node.

The rule (tests/ros_double/rclpy/_ros_args.py cites the sources): node keys in the order they
first appear over all sources; each key that matches the node's fully qualified name updates the
node's parameters in that order; within one key a later source wins.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


def _file(tmp_path: Path, name: str, doc: dict) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _params(key: str, **values) -> dict:
    return {key: {'ros__parameters': values}}


def test_a_wildcard_that_appeared_first_loses_to_the_node_key_whatever_the_file_order(
    ros, tmp_path
):
    from rclpy._ros_args import node_overrides, parse

    own = _file(tmp_path, 'own.yaml', _params('/**/mapping_node', resolution_m=0.05))
    site = _file(tmp_path, 'site.yaml', _params('/**', resolution_m=0.1))
    # launch_ros passes SetParameter values as -p before the files: '/**' appears first
    argv = ['--ros-args', '-p', 'use_sim_time:=True', '--params-file', own, '--params-file', site]
    got = node_overrides([parse(argv)], '/mapping_node')
    assert got == {'use_sim_time': True, 'resolution_m': 0.05}
    # without the -p, '/**' first appears after the node's key: the site file wins
    argv = ['--ros-args', '--params-file', own, '--params-file', site]
    assert node_overrides([parse(argv)], '/mapping_node')['resolution_m'] == 0.1


def test_within_one_key_the_later_source_wins(ros, tmp_path):
    from rclpy._ros_args import node_overrides, parse

    a = _file(tmp_path, 'a.yaml', _params('/**/n', x=1, y='a'))
    b = _file(tmp_path, 'b.yaml', _params('/**/n', x=2))
    got = node_overrides([parse(['--ros-args', '--params-file', a, '--params-file', b])], '/n')
    assert got == {'x': 2, 'y': 'a'}


def test_keys_are_strings_n_and_slash_n_are_two_keys(ros, tmp_path):
    """'/n' appears first, 'n' second: 'n' is applied last although '/n' was given last."""
    from rclpy._ros_args import node_overrides, parse

    files = [
        _file(tmp_path, f'{i}.yaml', _params(key, x=i)) for i, key in enumerate(('/n', 'n', '/n'))
    ]
    argv = ['--ros-args'] + [a for f in files for a in ('--params-file', f)]
    args = parse(argv)
    assert list(args.params) == ['/n', 'n']
    assert node_overrides([args], '/n') == {'x': 1}


@pytest.mark.parametrize(
    ('key', 'fqn', 'matches'),
    [
        ('/**', '/n', True),
        ('/**', '/robot/arm/n', True),
        ('/*', '/n', True),
        ('/*', '/robot/n', False),
        ('n', '/n', True),
        ('n', '/robot/n', False),
        ('/n', '/robot/n', False),
        ('/robot/n', '/robot/n', True),
        ('robot/n', '/robot/n', True),
        ('/**/n', '/n', True),
        ('/**/n', '/robot/n', True),
        ('/**/n', '/robot/m', False),
        ('/robot/*', '/robot/n', True),
        ('/robot/*', '/n', False),
        ('/**/n', '/robot/nn', False),
    ],
)
def test_node_keys_match_the_fully_qualified_name(ros, key, fqn, matches):
    from rclpy._ros_args import key_matches

    assert key_matches(key, fqn) is matches


def test_nested_keys_and_parameter_names(ros, tmp_path):
    from rclpy._ros_args import node_overrides, parse

    f = _file(tmp_path, 'p.yaml', {'robot': {'n': {'ros__parameters': {'a': {'b': 1.5}}}}})
    args = parse(['--ros-args', '--params-file', f])
    assert list(args.params) == ['robot/n']
    assert node_overrides([args], '/robot/n') == {'a.b': 1.5}
    assert node_overrides([args], '/n') == {}


def test_rules_and_errors(ros, tmp_path):
    from rclpy._ros_args import parse

    args = parse(
        [
            'prog',
            'x',
            '--ros-args',
            '-p',
            'n:speed:=2.5',
            '--param',
            'on:=true',
            '--log-level',
            'info',
            '--',
            'not_ros',
        ]
    )
    assert args.params == {'n': {'speed': 2.5}, '/**': {'on': True}}
    with pytest.raises(ValueError, match='unknown ROS argument'):
        parse(['--ros-args', '--no-such-flag'])
    with pytest.raises(ValueError, match='no node names'):
        parse(
            [
                '--ros-args',
                '--params-file',
                _file(tmp_path, 'bad.yaml', {'ros__parameters': {'x': 1}}),
            ]
        )
    with pytest.raises(ValueError, match='one type'):
        parse(['--ros-args', '-p', 'xs:=[1, a]'])


def test_the_node_double_reads_its_command_line_like_rclpy(ros, tmp_path):
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    f = _file(
        tmp_path,
        'p.yaml',
        {'n': {'ros__parameters': {'x': 1}}, '/**/n': {'ros__parameters': {'y': 2}}},
    )
    node = Node(
        'n',
        cli_args=['--ros-args', '-r', '__ns:=/robot', '--params-file', f],
        parameter_overrides=[Parameter('z', value=3)],
        automatically_declare_parameters_from_overrides=True,
    )
    assert node.get_namespace() == '/robot'
    assert not node.has_parameter('x')  # keyed by the bare name: lost in a namespace
    assert node.get_parameter('y').value == 2
    assert node.get_parameter('z').value == 3  # parameter_overrides come last
    renamed = Node('n', cli_args=['--ros-args', '-r', '__node:=m', '-p', 'm:w:=1.0'])
    assert renamed.get_name() == 'm'
    assert renamed.declare_parameter('w', 0.0).value == 1.0
