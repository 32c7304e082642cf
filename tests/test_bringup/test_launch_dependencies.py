"""Everything the launch files use is declared, so ``rosdep install`` brings it (issue 15, 3).

The launch files (launch/*.py) are installed by :data:`OWNER`, the bringup package, into its
share directory (``ros2 launch mower_bringup robot.launch.py``). Their dependencies are declared
as ``exec_depend`` of that package, so that ``rosdep install --from-paths src`` installs them.
Used means: a package whose node a launch file starts (evaluated with the launch API double,
every branch: ``use_rviz:=true``, and each ``package='...'`` written in the file), a module it
imports (launch, launch_ros, lifecycle_msgs, ours), an executable it runs (``ros2 bag``,
``gz sim``, ``xacro``), a package whose files it names (mower_description's URDF), and
``ros2 launch`` itself.
"""

from __future__ import annotations

import ast
import sys

import pytest
from catkin_pkg.package import parse_package
from conftest import ROOT
from launch_graph import evaluate

OWNER = 'mower_bringup'
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
OUR_PACKAGES = {p.name for p in (ROOT / 'src').iterdir() if (p / 'package.xml').exists()}
EXECUTABLES = {  # what a launch file runs (ExecuteProcess, Command) -> the package providing it
    'ros2 bag': ['ros2bag', 'rosbag2_storage_mcap'],  # the bags are MCAP (mower sim --out)
    'gz sim': ['ros_gz_sim'],  # gz sim comes with ros_gz_sim (gz_sim_vendor on Jazzy)
    'xacro': ['xacro'],
}
IMPORTS = {'launch': 'launch', 'launch_ros': 'launch_ros', 'lifecycle_msgs': 'lifecycle_msgs'}


def _imports(path) -> set[str]:
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Import):
            out |= {a.name.split('.')[0] for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            out.add(n.module.split('.')[0])
    return out - set(sys.stdlib_module_names)


def _written_packages(path) -> set[str]:
    """``package='...'`` of every Node written in the file, and our package names it uses."""
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.keyword) and n.arg == 'package' and isinstance(n.value, ast.Constant):
            out.add(n.value.value)
        elif isinstance(n, ast.Constant) and n.value in OUR_PACKAGES:
            out.add(n.value)
    return out


def used_packages(path, tmp_path) -> set[str]:
    """The rosdep keys a launch file needs at run time."""
    args = {'use_rviz': 'true', 'world_dir': str(tmp_path / 'gz'), 'bag': str(tmp_path / 'bag')}
    ev = evaluate(path, args)
    used = {'ros2launch'} | {n.package for n in ev.nodes} | _written_packages(path)
    for module in _imports(path):
        if module in IMPORTS:
            used.add(IMPORTS[module])
        elif module in OUR_PACKAGES:
            used.add(module)
        else:
            pytest.fail(f'{path.name} imports {module}: add it to IMPORTS')
    for run in [' '.join(cmd[:2]) for cmd in ev.processes] + ev.commands:
        keys = EXECUTABLES.get(run) or EXECUTABLES.get(run.split()[0])
        assert keys, f'{path.name} runs {run!r}: add its package to EXECUTABLES'
        used.update(keys)
    return used


def test_every_launch_file_is_checked():
    assert {p.name for p in LAUNCH_FILES} >= {
        'robot.launch.py',
        'stack.launch.py',
        'sim_mujoco.launch.py',
        'sim_gazebo.launch.py',
        'replay.launch.py',
        'coverage.launch.py',
    }


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_what_a_launch_file_uses_is_an_exec_depend(path, tmp_path):
    declared = {
        d.name for d in parse_package(str(ROOT / 'src' / OWNER / 'package.xml')).exec_depends
    }
    missing = used_packages(path, tmp_path) - declared - {OWNER}
    assert not missing, (
        f'{path.name} needs {sorted(missing)}: declare them in src/{OWNER}/package.xml'
    )


def test_the_check_sees_the_third_party_packages(tmp_path):
    used = set().union(*(used_packages(p, tmp_path / p.stem) for p in LAUNCH_FILES))
    assert {
        'robot_localization',
        'ros_gz_sim',
        'ros_gz_bridge',
        'rviz2',
        'tf2_ros',
        'launch',
        'launch_ros',
        'lifecycle_msgs',
        'xacro',
        'robot_state_publisher',
        'ros2bag',
        'mower_description',
    } <= used
