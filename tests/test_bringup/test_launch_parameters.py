"""What each node of a launch really starts with, under ROS 2's rule for parameter sources.

The rule (rcl merges node keys in order of first appearance, rclpy and rclcpp match them against
the fully qualified name; tests/ros_double/rclpy/_ros_args.py cites the sources) applied to the
command line launch_ros builds (launch_graph.py). Promised here, as DESIGN.md says: a node's own
file (``config/<x>.yaml``, keys ``/**/<node_name>``) survives a namespace; a site ``params_file``
(``/**``) overrides it; what a launch file passes a node as a launch argument wins over both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from launch_graph import NodeSpec, evaluate, node_parameters, own_config

LAUNCH = ROOT / 'launch'
LAUNCH_FILES = [
    'robot.launch.py',
    'sim_mujoco.launch.py',
    'sim_gazebo.launch.py',
    'replay.launch.py',
    'coverage.launch.py',
]
WITH_NAMESPACE = ['robot.launch.py', 'sim_mujoco.launch.py', 'sim_gazebo.launch.py']
WITH_PARAMS_FILE = ['robot.launch.py', 'sim_mujoco.launch.py', 'sim_gazebo.launch.py']


def _args(name: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {
        'sim_gazebo.launch.py': {'world_dir': str(tmp_path / 'gz')},
        'replay.launch.py': {'bag': str(tmp_path / 'bag')},
    }.get(name, {})
    return {**base, **extra}


def _launch_values(spec: NodeSpec) -> dict:
    """What the launch file sets for the node itself: SetParameter, then its dicts."""
    out = dict(spec.global_params)
    for p in spec.params:
        if isinstance(p, dict):
            out.update(p)
    return out


def test_every_parameter_file_keys_its_nodes_for_any_namespace():
    """DESIGN.md: ``/**/<node_name>: ros__parameters:`` (a bare node name is lost in one)."""
    for path in sorted((ROOT / 'config').glob('*.yaml')):
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, dict) or not any(
            isinstance(b, dict) and 'ros__parameters' in b for b in doc.values()
        ):
            continue  # not a parameter file (camera_info, gz_bridge, rosdep)
        for key in doc:
            assert key == '/**' or re.fullmatch(r'/\*\*/[A-Za-z_]\w*', key), (path.name, key)


@pytest.mark.parametrize('name', LAUNCH_FILES)
def test_what_the_launch_file_passes_a_node_is_what_the_node_gets(name, tmp_path):
    """Launch arguments given as a dict (and SetParameter) beat the node's own file."""
    ev = evaluate(LAUNCH / name, _args(name, tmp_path))
    checked = 0
    for spec in ev.nodes:
        params, _ = node_parameters(spec)
        for key, value in _launch_values(spec).items():
            assert params.get(key) == value, (spec.name, key, params.get(key), value)
            checked += 1
    assert checked


def test_replay_mapping_node_takes_its_pose_topic_and_map_arguments(tmp_path):
    ev = evaluate(
        LAUNCH / 'replay.launch.py',
        _args(
            'replay.launch.py',
            tmp_path,
            pose_topic='odometry/filtered',
            map=str(ROOT / 'maps' / 'demo_lawn.geojson'),
        ),
    )
    (mapping,) = [n for n in ev.nodes if n.name == 'mapping_node']
    params, _ = node_parameters(mapping)
    assert params['pose_topic'] == 'odometry/filtered'
    assert params['map_file'] == str(ROOT / 'maps' / 'demo_lawn.geojson')


@pytest.mark.parametrize('name', WITH_NAMESPACE)
def test_every_node_keeps_its_own_file_under_a_namespace(name, tmp_path):
    """Our nodes and robot_localization's: same parameters with ``namespace:=mower1``."""
    plain = {n.name: n for n in evaluate(LAUNCH / name, _args(name, tmp_path)).nodes}
    spaced = evaluate(LAUNCH / name, _args(name, tmp_path, namespace='mower1')).nodes
    with_files = 0
    for spec in spaced:
        assert spec.fqn == f'/mower1/{spec.name}', spec.fqn
        params, own = node_parameters(spec)
        if own_config(spec) is None:
            continue
        with_files += 1
        assert own, (spec.name, 'its own file gives it nothing under a namespace')
        assert params == node_parameters(plain[spec.name])[0], spec.name
    assert with_files >= (3 if name == 'sim_gazebo.launch.py' else 4)


def test_robot_localization_is_configured_under_a_namespace(tmp_path):
    ev = evaluate(LAUNCH / 'robot.launch.py', {'namespace': 'mower1'})
    ekf = {n.name: node_parameters(n)[0] for n in ev.nodes if n.package == 'robot_localization'}
    assert set(ekf) == {'ekf_local', 'ekf_global', 'navsat_transform'}
    assert ekf['ekf_local']['world_frame'] == 'odom' and ekf['ekf_global']['world_frame'] == 'map'
    assert ekf['navsat_transform']['use_odometry_yaw'] is True


@pytest.mark.parametrize('name', WITH_PARAMS_FILE)
def test_a_site_params_file_overrides_the_nodes_own_files(name, tmp_path):
    """``/**`` values of ``params_file`` beat each node's own file (not its launch values)."""
    plain = evaluate(LAUNCH / name, _args(name, tmp_path)).nodes
    site: dict = {}
    for spec in plain:
        if own_config(spec) is None or str(ROOT / 'config' / 'overrides.yaml') not in spec.params:
            continue
        _, own = node_parameters(spec)
        for key, value in own.items():
            if key in site or key in _launch_values(spec):
                continue
            if isinstance(value, bool):
                site[key] = not value
            elif isinstance(value, (int, float)):
                site[key] = value + 1
            elif isinstance(value, str):
                site[key] = value + '_site'
    assert len(site) > 10
    path = tmp_path / 'site.yaml'
    path.write_text(yaml.safe_dump({'/**': {'ros__parameters': site}}))
    nodes = evaluate(LAUNCH / name, _args(name, tmp_path, params_file=str(path))).nodes
    overridden = 0
    for spec in nodes:
        if str(path) not in spec.params:
            continue
        params, own = node_parameters(spec)
        launch = _launch_values(spec)
        for key in own:
            want = launch[key] if key in launch else site.get(key, own[key])
            assert params[key] == want, (spec.name, key, params[key], want)
            overridden += key in site and key not in launch
    assert overridden >= len(site)
