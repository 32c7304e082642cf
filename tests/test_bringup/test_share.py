"""mower_bringup.share_dir: the ament index when ROS has the package, else the checkout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT

from mower_bringup import share, share_dir

AMENT_DOUBLE = Path(__file__).resolve().parents[1] / 'ament_double'


def _forget_ament(monkeypatch) -> None:
    for name in [m for m in sys.modules if m.split('.')[0] == 'ament_index_python']:
        monkeypatch.delitem(sys.modules, name)


@pytest.fixture
def no_ament(monkeypatch):
    """ament_index_python cannot be imported (no ROS), even where ROS is installed."""
    _forget_ament(monkeypatch)
    monkeypatch.setitem(sys.modules, 'ament_index_python', None)


@pytest.fixture
def ament(monkeypatch):
    """The ament_index_python double importable, AMENT_PREFIX_PATH unset; undone after."""
    _forget_ament(monkeypatch)
    monkeypatch.syspath_prepend(str(AMENT_DOUBLE))
    monkeypatch.delenv('AMENT_PREFIX_PATH', raising=False)
    yield monkeypatch
    for name in [m for m in sys.modules if m.split('.')[0] == 'ament_index_python']:
        del sys.modules[name]


def _prefix(root: Path, *packages: str) -> Path:
    """An install prefix whose ament index lists ``packages``."""
    for package in packages:
        marker = root / 'share' / 'ament_index' / 'resource_index' / 'packages' / package
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text('')
        (root / 'share' / package).mkdir(parents=True, exist_ok=True)
    return root


def test_without_ros_the_checkout_top_level_and_package_folders(no_ament):
    assert share_dir() == ROOT
    for folder, name in (
        ('launch', 'robot.launch.py'),
        ('config', 'mapping.yaml'),
        ('maps', 'demo_lawn.geojson'),
        ('models', 'lawnnet_int8.onnx'),
    ):
        assert (share_dir() / folder / name).is_file()
    assert share_dir('mower_description') == ROOT / 'src' / 'mower_description'
    assert (share_dir('mower_description') / 'urdf' / 'mower.urdf.xacro').is_file()


def test_the_ament_index_first(ament, tmp_path):
    first = _prefix(tmp_path / 'ws', 'mower_bringup')
    second = _prefix(tmp_path / 'opt', 'mower_bringup', 'mower_description')
    ament.setenv('AMENT_PREFIX_PATH', f'{first}:{second}')
    assert share_dir() == first / 'share' / 'mower_bringup'  # the first prefix wins
    assert share_dir('mower_description') == second / 'share' / 'mower_description'


@pytest.mark.parametrize('prefix_path', [None, 'elsewhere'])
def test_the_checkout_when_the_index_lacks_the_package(ament, tmp_path, prefix_path):
    if prefix_path:  # a sourced ROS without this workspace
        ament.setenv('AMENT_PREFIX_PATH', str(_prefix(tmp_path / prefix_path, 'rclpy')))
    assert share_dir() == ROOT
    assert share_dir('mower_description') == ROOT / 'src' / 'mower_description'


def test_neither_index_nor_checkout_is_a_clear_error(no_ament, monkeypatch, tmp_path):
    monkeypatch.setattr(share, 'CHECKOUT', tmp_path / 'lib')  # an installed module's parents
    with pytest.raises(
        LookupError,
        match=r'mower_bringup: not in the ament index .*'
        r'ament_index_python is not installed.*colcon build',
    ):
        share_dir()
    with pytest.raises(LookupError, match='mower_nothing'):
        share_dir('mower_nothing')
