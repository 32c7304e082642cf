"""Lawn maps: the shipped maps load, and every kind of bad map gets a message naming it."""

from __future__ import annotations

import json
import math

import pytest

from mower_maps import MapError, load_map, map_from_geojson, map_to_geojson, parse_map
from mower_maps.geodesy import enu_to_wgs84, wgs84_to_enu


def doc(*features, **props) -> dict:
    return {'type': 'FeatureCollection', 'properties': props, 'features': list(features)}


def poly(role: str, coords: list, name: str = 'f', **props) -> dict:
    return {
        'type': 'Feature',
        'properties': {'role': role, 'name': name, **props},
        'geometry': {'type': 'Polygon', 'coordinates': [coords]},
    }


SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]


def test_shipped_maps_load(map_paths):
    areas = {}
    for path in map_paths:
        lawn = load_map(path)
        assert lawn.by_role('boundary')
        assert lawn.mowable_area().area > 0
        areas[path.stem] = lawn.boundary.area
    assert 120 <= areas['demo_lawn'] <= 180  # "about 150 m²"
    assert 1800 <= areas['large_lawn'] <= 2300  # "about 2,000 m²"
    large = load_map([p for p in map_paths if p.stem == 'large_lawn'][0])
    assert len(large.by_role('keepout')) + len(large.by_role('obstacle')) >= 15


def test_demo_lawn_has_one_tree_and_one_flower_bed(map_paths):
    lawn = load_map([p for p in map_paths if p.stem == 'demo_lawn'][0])
    assert len(lawn.by_role('obstacle')) == 1
    assert len(lawn.by_role('keepout')) == 1
    assert lawn.dock is not None


def test_point_obstacle_becomes_disc_and_mowable_excludes_holes():
    lawn = map_from_geojson(
        doc(
            poly('boundary', SQUARE),
            {
                'type': 'Feature',
                'properties': {'role': 'obstacle', 'name': 'tree', 'radius_m': 0.5},
                'geometry': {'type': 'Point', 'coordinates': [5, 5]},
            },
            poly('keepout', [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]], 'bed'),
        )
    )
    tree = lawn.by_role('obstacle')[0].geometry
    assert tree.area == pytest.approx(math.pi * 0.25, rel=0.01)
    assert lawn.mowable_area().area == pytest.approx(100 - 4 - tree.area, rel=1e-9)


def test_settings_are_read():
    lawn = map_from_geojson(
        doc(
            poly('boundary', SQUARE),
            mowing={'stripe_angle_deg': 30, 'headland_passes': 3, 'angle_increment_deg': 15},
        )
    )
    assert lawn.settings.stripe_angle_deg == 30.0
    assert lawn.settings.headland_passes == 3
    assert lawn.settings.angle_increment_deg == 15.0
    auto = map_from_geojson(doc(poly('boundary', SQUARE), mowing={'stripe_angle_deg': 'auto'}))
    assert auto.settings.stripe_angle_deg is None


def test_roundtrip_through_geojson(map_paths):
    lawn = load_map(map_paths[0])
    again = map_from_geojson(json.loads(json.dumps(map_to_geojson(lawn))))
    assert again.mowable_area().symmetric_difference(lawn.mowable_area()).area < 1e-6


def test_wgs84_map_converts_to_enu():
    lon0, lat0 = 5.0, 52.0
    ring = [list(enu_to_wgs84(x, y, lon0, lat0)) for x, y in SQUARE]
    lawn = map_from_geojson(doc(poly('boundary', ring), frame='wgs84', datum=[lon0, lat0]))
    assert lawn.boundary.area == pytest.approx(100.0, rel=1e-6)
    minx, miny, _, _ = lawn.boundary.bounds
    assert abs(minx) < 1e-6 and abs(miny) < 1e-6


def test_geodesy_roundtrip_and_scale():
    e, n = wgs84_to_enu(5.001, 52.001, 5.0, 52.0)
    # 0.001 deg of latitude is about 111.3 m; of longitude at 52 N about 68.6 m
    assert n == pytest.approx(111.3, abs=0.3)
    assert e == pytest.approx(68.7, abs=0.3)
    lon, lat = enu_to_wgs84(e, n, 5.0, 52.0)
    assert lon == pytest.approx(5.001, abs=1e-12) and lat == pytest.approx(52.001, abs=1e-12)


# -- every fault, with the words the message must contain -----------------------------------

BAD_MAPS = {
    'empty file': ('', ['empty file']),
    'not json': ('{"type": "FeatureCollection", ', ['not JSON', 'line 1']),
    'not a collection': ('[1, 2]', ['FeatureCollection']),
    'no features': (json.dumps(doc()), ['no features']),
    'self-intersection': (
        json.dumps(doc(poly('boundary', [[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]], 'bowtie'))),
        ["feature 0 'bowtie' (boundary)", 'self-intersecting'],
    ),
    'unclosed ring': (
        json.dumps(doc(poly('boundary', [[0, 0], [10, 0], [10, 10], [0, 10]], 'open lawn'))),
        ["feature 0 'open lawn'", 'unclosed ring'],
    ),
    'keepout outside': (
        json.dumps(
            doc(
                poly('boundary', SQUARE, 'lawn'),
                poly('keepout', [[20, 20], [22, 20], [22, 22], [20, 22], [20, 20]], 'far bed'),
            )
        ),
        ["feature 1 'far bed' (keepout)", 'outside every boundary'],
    ),
    'overlapping boundaries': (
        json.dumps(
            doc(
                poly('boundary', SQUARE, 'front'),
                poly('boundary', [[5, 5], [15, 5], [15, 15], [5, 15], [5, 5]], 'back'),
            )
        ),
        ["feature 1 'back'", "overlaps feature 0 'front'"],
    ),
    'wrong units degrees': (
        json.dumps(
            doc(
                poly(
                    'boundary',
                    [[5.0, 52.0], [5.0001, 52.0], [5.0001, 52.0001], [5.0, 52.0001], [5.0, 52.0]],
                )
            )
        ),
        ['wrong units', 'WGS84 degrees'],
    ),
    'wrong units millimetres': (
        json.dumps(
            doc(poly('boundary', [[0, 0], [15000, 0], [15000, 30000], [0, 30000], [0, 0]]))
        ),
        ['wrong units', 'millimetres'],
    ),
    'wrong units property': (
        json.dumps(doc(poly('boundary', SQUARE), units='ft')),
        ["wrong units 'ft'"],
    ),
    'unknown role': (
        json.dumps(
            doc(
                {
                    'type': 'Feature',
                    'properties': {'role': 'pond'},
                    'geometry': {'type': 'Point', 'coordinates': [1, 1]},
                }
            )
        ),
        ['feature 0', "unknown or missing role 'pond'"],
    ),
    'point obstacle without radius': (
        json.dumps(
            doc(
                poly('boundary', SQUARE),
                {
                    'type': 'Feature',
                    'properties': {'role': 'obstacle', 'name': 'post'},
                    'geometry': {'type': 'Point', 'coordinates': [1, 1]},
                },
            )
        ),
        ["feature 1 'post' (obstacle)", 'radius_m'],
    ),
    'wgs84 without datum': (json.dumps(doc(poly('boundary', SQUARE), frame='wgs84')), ['datum']),
    'no boundary': (
        json.dumps(
            doc(
                {
                    'type': 'Feature',
                    'properties': {'role': 'dock'},
                    'geometry': {'type': 'Point', 'coordinates': [1, 1]},
                }
            )
        ),
        ['no boundary'],
    ),
    'bad coordinate': (
        json.dumps(doc(poly('boundary', [[0, 0], [10, 'x'], [10, 10], [0, 0]], 'typo'))),
        ["feature 0 'typo'", 'bad position'],
    ),
}


@pytest.mark.parametrize('case', sorted(BAD_MAPS))
def test_bad_map_message_names_feature_and_fault(case):
    text, words = BAD_MAPS[case]
    with pytest.raises(MapError) as err:
        parse_map(text, source='bad.geojson')
    message = str(err.value)
    assert message.startswith('bad.geojson: ')
    for word in words:
        assert word in message, f'{word!r} not in {message!r}'


def test_missing_file_is_a_map_error(tmp_path):
    with pytest.raises(MapError, match='no such file'):
        load_map(tmp_path / 'nope.geojson')
