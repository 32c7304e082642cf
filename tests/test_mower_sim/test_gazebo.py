"""Gazebo assets: the generated SDF parses and has the models, sensors and topics it should."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import yaml
from conftest import MAPS, ROOT

from mower_maps import load_map
from mower_sim.gazebo import GZ_TOPICS, bridge_config, write_gazebo
from mower_sim.world import MowerConfig


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    lawn = load_map(MAPS / 'back_garden.geojson')
    out = tmp_path_factory.mktemp('gz')
    return lawn, write_gazebo(lawn, out), out


def test_world_has_ground_lawn_obstacles_and_the_mower(assets):
    lawn, paths, out = assets
    world = ET.parse(paths['world']).getroot()
    assert world.tag == 'sdf' and world.get('version') == '1.9'
    names = [m.get('name') for m in world.iter('model')]
    assert 'ground' in names and 'lawn_0' in names
    n_obstacles = sum(
        len(list(getattr(f.geometry, 'geoms', [f.geometry])))
        for f in lawn.features
        if f.role == 'obstacle'
    )
    assert sum(n.startswith('obstacle_') for n in names) == n_obstacles
    assert sum(n.startswith('keepout_') for n in names) == len(lawn.by_role('keepout'))
    include = world.find('.//include')
    assert include.find('uri').text == 'model://mower'
    x, y = (float(v) for v in include.find('pose').text.split()[:2])
    assert (x, y) == pytest.approx((lawn.dock.x_m, lawn.dock.y_m))
    plugins = {p.get('filename') for p in world.iter('plugin')}
    assert {'gz-sim-physics-system', 'gz-sim-sensors-system', 'gz-sim-imu-system'} <= plugins
    for mesh in world.iter('uri'):
        if mesh.text.endswith('.obj'):
            text = open(mesh.text).read()
            assert text.count('\nf ') >= 2


def test_mower_model_sensors_topics_and_drive(assets):
    _, paths, _ = assets
    model = ET.parse(paths['model']).getroot().find('model')
    sensors = {s.get('type'): s for s in model.iter('sensor')}
    assert sensors['camera'].find('topic').text == GZ_TOPICS['image']
    cam = sensors['camera'].find('camera')
    assert cam.find('camera_info_topic').text == GZ_TOPICS['camera_info']
    m = MowerConfig()
    assert int(cam.find('image/width').text) == m.image_width
    assert sensors['imu'].find('topic').text == GZ_TOPICS['imu']
    dd = [p for p in model.iter('plugin') if p.get('filename') == 'gz-sim-diff-drive-system'][0]
    assert float(dd.find('wheel_separation').text) == pytest.approx(m.wheel_track_m)
    assert float(dd.find('wheel_radius').text) == pytest.approx(m.wheel_radius_m)
    joints = {j.get('name') for j in model.iter('joint')}
    assert {dd.find('left_joint').text, dd.find('right_joint').text} <= joints


def test_bridge_covers_every_topic_and_matches_config():
    entries = bridge_config()
    gz = {e['gz_topic_name'] for e in entries}
    assert set(GZ_TOPICS.values()) <= gz | {'tf'}
    assert [e for e in entries if e['ros_topic_name'] == 'cmd_vel'][0]['direction'] == 'ROS_TO_GZ'
    assert yaml.safe_load((ROOT / 'config' / 'gz_bridge.yaml').read_text()) == entries
