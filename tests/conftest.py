"""Shared test set-up: hypothesis profile, paths, and the strict rclpy double fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
MAPS = ROOT / 'maps'
SHARED_DATA = ROOT.parent / 'shared' / 'data'
DOUBLE_DIR = Path(__file__).resolve().parent / 'ros_double'

# Property tests: fixed seed (derandomised) and a bounded number of examples, so `make test`
# is reproducible and bounded; `HYPOTHESIS_PROFILE` is not read: the profile is fixed here.
settings.register_profile(
    'ci',
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile('ci')

_ROS_ROOTS = (
    'rclpy',
    'builtin_interfaces',
    'std_msgs',
    'std_srvs',
    'geometry_msgs',
    'nav_msgs',
    'sensor_msgs',
    'visualization_msgs',
    'diagnostic_msgs',
    'rcl_interfaces',
    'tf2_msgs',
    'action_msgs',
    'unique_identifier_msgs',
    'shape_msgs',
    'stereo_msgs',
    'trajectory_msgs',
    'lifecycle_msgs',
    'rosgraph_msgs',
    'statistics_msgs',
    'rmw_dds_common',
    'actionlib_msgs',
    'libstatistics_collector',
    'composition_interfaces',
    'type_description_interfaces',
    'service_msgs',
)


def _is_node_module(name: str) -> bool:
    """Modules of ours that import rclpy or messages: nodes, conversions, the node kit."""
    return name.startswith('mower_') and (
        name.endswith('_node')
        or name.endswith('.conversions')
        or name.split('.')[0] == 'mower_node_kit'
    )


def _purge() -> dict:
    gone = {}
    for name in list(sys.modules):
        root = name.split('.')[0]
        msg_pkg = any(name == r or name.startswith(r + '.') for r in _ROS_ROOTS)
        if msg_pkg or _is_node_module(name) or root == 'ros_double' and 'rclpy' in name:
            gone[name] = sys.modules.pop(name)
    return gone


def pytest_configure(config: pytest.Config) -> None:
    """The marker that picks the message definitions of the ``ros`` fixture."""
    config.addinivalue_line(
        'markers',
        "ros_distro(name): the ros fixture's message "
        "definitions, 'humble' (the default) or 'jazzy'",
    )


@pytest.fixture
def ros(monkeypatch, request):
    """Install the strict rclpy double and the message modules, initialised; undo after.

    The messages are Humble's unless the test is marked ``@pytest.mark.ros_distro('jazzy')``.
    """
    saved = _purge()
    from ros_double.messages import DEFAULT_DISTRO, install_message_modules

    marker = request.node.get_closest_marker('ros_distro')
    distro = marker.args[0] if marker else DEFAULT_DISTRO
    for name, module in install_message_modules(distro).items():
        sys.modules[name] = module
    monkeypatch.syspath_prepend(str(DOUBLE_DIR))
    import rclpy

    rclpy.init()
    try:
        yield rclpy
    finally:
        rclpy.try_shutdown()
        _purge()
        sys.modules.update(saved)


@pytest.fixture(scope='session')
def map_paths() -> list[Path]:
    """Every map shipped in maps/."""
    paths = sorted(MAPS.glob('*.geojson'))
    assert len(paths) >= 4
    return paths
