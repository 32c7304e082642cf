"""``colcon build`` builds every package, and the install tree alone holds what the bringup needs.

colcon-core and colcon-ros (from PyPI, pinned in requirements.txt) build each ament_python
package here as on the robot: a plain ``colcon build`` (files copied, not --symlink-install),
one prefix per package (colcon's default, isolated), into a temporary folder. Then only the
install tree is looked at:

- every package is installed (its package.xml in its share directory, its ament index marker)
  and each console entry point is an executable script where ``ros2 run`` looks for it
  (``lib/<package>/``; the ``mower`` command in ``bin/``), with its module installed;
- the bringup's share directory holds every launch file of launch/, and every config, model
  and map file that the launch files name (the names parsed from the installed launch files);
- evaluated in a fresh interpreter that sees only the install tree's Python packages
  (PYTHONPATH and AMENT_PREFIX_PATH as ``source install/setup.bash`` sets them, the
  ament_index double of tests/ament_double in place of ROS's), the installed launch files find
  mower_bringup and mower_description through the ament index, and every file they pass on
  lies in the install tree and exists; so do the files that the ``mower`` command and the
  simulator's composition default to (the demo map, the model, config/).

Not covered here (no ROS 2 on this machine): ROS's own ament_index_python, ``ros2 launch``,
``ros2 run`` and rosdep.
"""

from __future__ import annotations

import ast
import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

PACKAGES = sorted(p.name for p in (ROOT / 'src').iterdir() if (p / 'package.xml').exists())
BRINGUP = 'mower_bringup'
HERE = Path(__file__).resolve().parent
AMENT_DOUBLE = HERE.parent / 'ament_double'
# where a file a launch file names is installed, by its suffix: (package, folder of its share)
INSTALLED_AT = {
    '.launch.py': (BRINGUP, 'launch'),
    '.yaml': (BRINGUP, 'config'),
    '.rviz': (BRINGUP, 'config'),
    '.geojson': (BRINGUP, 'maps'),
    '.onnx': (BRINGUP, 'models'),
    '.xacro': ('mower_description', 'urdf'),
}
NOT_FILES = {  # absolute paths the launch files pass on that are not installed files
    '/dev/ttyACM0': 'serial_port: the motor board',
    '/tmp/mower_gz': 'world_dir: sim_gazebo writes the world there at launch time',
}


def _colcon() -> Path:
    exe = Path(sys.executable).with_name('colcon')
    if not exe.exists():
        pytest.fail(
            'colcon is not installed: make install (requirements.txt pins colcon-core '
            'and colcon-ros)'
        )
    return exe


def _clean_env() -> dict[str, str]:
    """This environment without a sourced ROS or workspace."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(('AMENT_', 'COLCON_'))
        and k not in ('PYTHONPATH', 'CMAKE_PREFIX_PATH', 'ROS_DISTRO')
    }


@pytest.fixture(scope='module')
def install(tmp_path_factory) -> Path:
    """The install tree of a plain ``colcon build`` of src/ in a temporary folder."""
    tmp = tmp_path_factory.mktemp('colcon')
    cmd = [
        str(_colcon()),
        '--log-base',
        str(tmp / 'log'),
        'build',
        '--base-paths',
        str(ROOT / 'src'),
        '--build-base',
        str(tmp / 'build'),
        '--install-base',
        str(tmp / 'install'),
        '--event-handlers',
        'console_direct-',
    ]
    done = subprocess.run(
        cmd, cwd=tmp, env=_clean_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (
        f'colcon build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}'
    )
    return tmp / 'install'


def _site_packages(install: Path, package: str) -> Path:
    found = sorted((install / package / 'lib').glob('python3*/site-packages'))
    assert len(found) == 1, (package, found)
    return found[0]


def _entry_points(package: str) -> list[tuple[str, str]]:
    """(script name, module) of each console script in src/<package>/setup.py."""
    text = (ROOT / 'src' / package / 'setup.py').read_text()
    return re.findall(r"'([\w-]+) = ([\w.]+):\w+'", text)


def test_every_package_is_built_and_installed(install):
    assert BRINGUP in PACKAGES
    for package in PACKAGES:
        share = install / package / 'share'
        assert (share / package / 'package.xml').is_file(), package
        assert (share / 'ament_index' / 'resource_index' / 'packages' / package).is_file()


def test_console_entry_points_are_installed_where_ros2_run_finds_them(install):
    scripts = 0
    for package in PACKAGES:
        cfg = ROOT / 'src' / package / 'setup.cfg'
        in_lib = cfg.exists() and f'install_scripts=$base/lib/{package}' in cfg.read_text()
        for name, module in _entry_points(package):
            script = install / package / ('lib/' + package if in_lib else 'bin') / name
            assert script.is_file() and os.access(script, os.X_OK), script
            assert re.match(r'#!\S*python', script.read_text().splitlines()[0]), script
            module_file = _site_packages(install, package) / (module.replace('.', '/') + '.py')
            assert module_file.is_file(), (name, module_file)
            scripts += 1
    assert scripts >= 10  # the nine nodes and the mower command
    assert (install / 'mower_perception' / 'lib' / 'mower_perception' / 'camera_node').exists()
    assert (install / 'mower_cli' / 'bin' / 'mower').exists()


def test_the_bringup_share_holds_every_launch_file(install):
    share = install / BRINGUP / 'share' / BRINGUP / 'launch'
    ours = sorted((ROOT / 'launch').glob('*.launch.py'))
    assert {p.name for p in share.glob('*.launch.py')} == {p.name for p in ours}
    for path in ours:
        assert filecmp.cmp(path, share / path.name, shallow=False), path.name


def _named_files(path: Path) -> set[str]:
    """The file names written in a launch file: string constants with a data file suffix."""
    return {
        n.value
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and re.fullmatch(r'[\w.-]+', n.value)
        and n.value.endswith(tuple(INSTALLED_AT))
    }


def test_every_file_the_launch_files_name_is_installed(install):
    launch_files = sorted((install / BRINGUP / 'share' / BRINGUP / 'launch').glob('*.py'))
    named = set().union(*(_named_files(p) for p in launch_files))
    assert {
        'stack.launch.py',
        'mapping.yaml',
        'overrides.yaml',
        'camera_info.yaml',
        'ekf.yaml',
        'gz_bridge.yaml',
        'mower.rviz',
        'demo_lawn.geojson',
        'lawnnet_int8.onnx',
        'mower.urdf.xacro',
    } <= named, named
    for name in sorted(named):
        package, folder = next(v for k, v in INSTALLED_AT.items() if name.endswith(k))
        assert (install / package / 'share' / package / folder / name).is_file(), name


def test_installed_launch_files_find_their_files_in_the_install_tree(install, tmp_path):
    site = [str(_site_packages(install, p)) for p in PACKAGES]
    env = {
        **_clean_env(),
        'PYTHONPATH': os.pathsep.join([*site, str(AMENT_DOUBLE)]),
        'AMENT_PREFIX_PATH': os.pathsep.join(str(install / p) for p in PACKAGES),
        'PYTHONDONTWRITEBYTECODE': '1',
    }
    done = subprocess.run(
        [sys.executable, str(HERE / 'install_probe.py'), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    found = json.loads(done.stdout)
    for package, module in found['modules'].items():  # ours from the install, not the checkout
        assert Path(module).is_relative_to(install / package), module
    share = install / BRINGUP / 'share' / BRINGUP
    assert Path(found['share']) == share
    assert (
        Path(found['description_share'])
        == install / 'mower_description' / 'share' / 'mower_description'
    )
    for name, path in found['defaults'].items():  # mower sim, mower replay: the shipped files
        assert Path(path).is_relative_to(share) and Path(path).exists(), (name, path)
    assert set(found['launch']) == {p.name for p in (ROOT / 'launch').glob('*.launch.py')}
    installed = set()
    for name, launch in found['launch'].items():
        assert all(Path(f).parent == share / 'launch' for f in launch['files']), launch['files']
        for path in map(Path, launch['named']):
            if path.is_relative_to(install):
                assert path.is_file(), (name, path)
                installed.add(path.relative_to(install))
            else:
                assert str(path) in NOT_FILES or path.is_relative_to(tmp_path), (name, path)
    robot = found['launch']['robot.launch.py']
    assert [Path(f).name for f in robot['files']] == ['robot.launch.py', 'stack.launch.py']
    assert {
        Path(BRINGUP) / 'share' / BRINGUP / 'config' / 'mapping.yaml',
        Path(BRINGUP) / 'share' / BRINGUP / 'maps' / 'demo_lawn.geojson',
        Path(BRINGUP) / 'share' / BRINGUP / 'models' / 'lawnnet_int8.onnx',
        Path(BRINGUP) / 'share' / BRINGUP / 'config' / 'mower.rviz',
        Path('mower_description') / 'share' / 'mower_description' / 'urdf' / 'mower.urdf.xacro',
    } <= installed, installed
