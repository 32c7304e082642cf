"""Coordinates the stack can work in: near the map's origin, and real WGS84 positions.

Issue 16, defect 8: ENU maps in UTM-sized metres passed the check, then the simulator's float32
camera frames tore and a run ended in a collision (at 1e9 MuJoCo raised). Defect 9: WGS84 with a
datum 5 degrees away silently added 9 % to the lawn's area; latitude 95 passed.
"""

from __future__ import annotations

import json

import pytest
from pyproj import Geod

from mower_cli.main import main
from mower_maps import MapError, map_from_geojson
from mower_maps.geodesy import enu_to_wgs84, wgs84_to_enu

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]


def square_map(ring, dock=None, **props) -> dict:
    feats = [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'lawn'},
            'geometry': {'type': 'Polygon', 'coordinates': [ring]},
        }
    ]
    if dock is not None:
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0.0},
                'geometry': {'type': 'Point', 'coordinates': dock},
            }
        )
    return {
        'type': 'FeatureCollection',
        'properties': {'name': 'lawn', **props},
        'features': feats,
    }


def shifted(dx: float, dy: float) -> list:
    return [[x + dx, y + dy] for x, y in SQUARE]


# -- defect 8: large ENU coordinates -------------------------------------------------------------


@pytest.mark.parametrize('offset', [(500_000.0, 5_000_000.0), (1e9, 1e9), (0.0, -12_000.0)])
def test_enu_coordinates_far_from_the_origin_are_refused(offset):
    with pytest.raises(MapError) as err:
        map_from_geojson(
            square_map(shifted(*offset), dock=[offset[0], offset[1] + 5]), source='utm.geojson'
        )
    message = str(err.value)
    assert message.startswith('utm.geojson: coordinates up to ')
    assert 'within 10 km of its origin' in message and 'subtract a local origin' in message
    assert '\n' not in message


def test_enu_coordinates_within_10_km_are_fine():
    lawn = map_from_geojson(square_map(shifted(6_000.0, 7_000.0)))
    assert lawn.boundary.area == pytest.approx(100.0)


@pytest.mark.parametrize('command', [['map', 'check'], ['sim']])
def test_map_check_and_sim_say_it_in_one_line(tmp_path, capsys, command):
    path = tmp_path / 'utm.geojson'
    path.write_text(
        json.dumps(square_map(shifted(500_000.0, 5_000_000.0), dock=[500_000.0, 5_000_005.0]))
    )
    assert main([*command, str(path)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'error: {path}: coordinates up to')
    assert 'Traceback' not in captured.err + captured.out


# -- defect 9: WGS84 ---------------------------------------------------------------------------


def wgs84_square(lon0: float, lat0: float, side_m: float = 10.0) -> list:
    """A square of ``side_m`` by geodesic offsets (pyproj's Geod, not the code under test)."""
    geod = Geod(ellps='WGS84')
    lon_e, lat_e, _ = geod.fwd(lon0, lat0, 90.0, side_m)
    lon_n, lat_n, _ = geod.fwd(lon0, lat0, 0.0, side_m)
    lon_ne, lat_ne, _ = geod.fwd(lon_n, lat_n, 90.0, side_m)
    return [[lon0, lat0], [lon_e, lat_e], [lon_ne, lat_ne], [lon_n, lat_n], [lon0, lat0]]


def geodesic_area(ring: list) -> float:
    lons, lats = zip(*ring[:-1], strict=True)
    return abs(Geod(ellps='WGS84').polygon_area_perimeter(lons, lats)[0])


@pytest.mark.parametrize('datum_offset_deg', [(0.0, 0.045), (0.05, 0.03), (-0.08, 0.0)])
def test_the_area_of_a_wgs84_lawn_is_its_area_on_the_ellipsoid(datum_offset_deg):
    # datum 5 to 9 km from the lawn at 60 N: the flat-earth conversion was 0.1 % off here
    ring = wgs84_square(10.0, 60.0)
    datum = [10.0 + datum_offset_deg[0], 60.0 + datum_offset_deg[1]]
    lawn = map_from_geojson(square_map(ring, frame='wgs84', datum=datum))
    assert lawn.boundary.area == pytest.approx(geodesic_area(ring), rel=1e-5)


def test_a_datum_5_degrees_away_is_refused():
    ring = wgs84_square(5.0, 52.0)
    with pytest.raises(MapError) as err:
        map_from_geojson(square_map(ring, frame='wgs84', datum=[0.0, 52.0]), source='far.geojson')
    message = str(err.value)
    assert message.startswith('far.geojson: the lawn lies up to 343')
    assert 'from the datum [0.0, 52.0]' in message and 'within 10 km' in message


@pytest.mark.parametrize(
    'position, word',
    [
        ([5.0, 95.0], 'latitude 95.0'),
        ([5.0, -90.5], 'latitude -90.5'),
        ([185.0, 52.0], 'longitude 185.0'),
        ([-180.2, 52.0], 'longitude -180.2'),
    ],
)
def test_impossible_wgs84_positions_are_refused_naming_the_feature(position, word):
    ring = [position, [5.0001, 52.0], [5.0001, 52.0001], [5.0, 52.0001], position]
    with pytest.raises(MapError) as err:
        map_from_geojson(square_map(ring, frame='wgs84', datum=[5.0, 52.0]), source='bad.geojson')
    message = str(err.value)
    assert message.startswith("bad.geojson: feature 0 'lawn' (boundary): position")
    assert word in message and '\n' not in message


def test_an_impossible_datum_is_refused():
    with pytest.raises(MapError, match='datum'):
        map_from_geojson(square_map(SQUARE, frame='wgs84', datum=[5.0, 95.0]))


def test_projection_round_trip_and_scale():
    e, n = wgs84_to_enu(5.001, 52.001, 5.0, 52.0)
    assert n == pytest.approx(111.27, abs=0.01) and e == pytest.approx(68.68, abs=0.01)
    lon, lat = enu_to_wgs84(e, n, 5.0, 52.0)
    assert lon == pytest.approx(5.001, abs=1e-12) and lat == pytest.approx(52.001, abs=1e-12)
    with pytest.raises(ValueError, match='latitude'):
        wgs84_to_enu(5.0, 95.0, 5.0, 52.0)


def test_a_map_nested_too_deeply_is_a_map_error(tmp_path):
    from mower_maps import MapError, load_map

    deep = tmp_path / 'deep.geojson'
    deep.write_text('[' * 100_000 + ']' * 100_000)
    with pytest.raises(MapError, match='nested too deeply'):
        load_map(deep)
