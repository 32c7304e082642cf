"""Zones: their order and their own mowing settings (issue 18: 'name zones and order them')."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mower_coverage import CoveragePlanner, PlannerParams, params_for_map
from mower_maps import MapError, map_from_geojson, map_to_geojson
from mower_maps.lawn_map import MowingSettings


def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {'type': 'Polygon', 'coordinates': [ring]}


def three_zones(**props) -> dict:
    """West, middle and east lawns (file order), touching, with a dock in the west one."""
    feats = []
    for i, name in enumerate(('west', 'middle', 'east')):
        p = {'role': 'boundary', 'name': name, **props.get(name, {})}
        feats.append(
            {'type': 'Feature', 'properties': p, 'geometry': rect(4 * i, 0, 4 * i + 4, 3)}
        )
    feats.append(
        {
            'type': 'Feature',
            'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0},
            'geometry': {'type': 'Point', 'coordinates': [0.3, 1.5]},
        }
    )
    return {
        'type': 'FeatureCollection',
        'properties': {
            'name': 'three',
            'mowing': {'stripe_angle_deg': 'auto', 'headland_passes': 2},
        },
        'features': feats,
    }


def test_zones_follow_their_order_and_unordered_ones_come_last_in_file_order():
    lawn = map_from_geojson(three_zones(east={'order': 1}, west={'order': 7}))
    assert [z.name for z in lawn.zones] == ['east', 'west', 'middle']
    assert [z.name for z in map_from_geojson(three_zones()).zones] == ['west', 'middle', 'east']
    # zone 1 is the first in that order: the others become drive-only
    one = lawn.zone_map(1)
    assert [f.name for f in one.by_role('boundary')] == ['east']
    assert {f.name for f in one.by_role('navigation')} == {'west', 'middle'}


def test_a_zone_has_its_own_settings_over_the_maps():
    lawn = map_from_geojson(
        three_zones(
            middle={'mowing': {'stripe_angle_deg': 30, 'headland_passes': 3}},
            east={'mowing': {'stripe_angle_deg': 'auto'}},
        )
    )
    assert lawn.zone_settings(0) == MowingSettings(None, 2, 0.0)
    assert lawn.zone_settings(1) == MowingSettings(None, 2, 0.0)  # west: the map's
    assert lawn.zone_settings(2) == MowingSettings(30.0, 3, 0.0)
    assert lawn.zone_settings(3) == MowingSettings(None, 2, 0.0)
    assert lawn.zone_map(2).settings == MowingSettings(30.0, 3, 0.0)
    with pytest.raises(MapError, match='no zone 4'):
        lawn.zone_settings(4)
    # and the planner mows the zone with them: 30 degrees, three headland passes
    params = params_for_map(PlannerParams(), lawn.zone_map(2))
    plan = CoveragePlanner(params).plan(lawn.zone_map(2))
    assert plan.angle_deg == pytest.approx(30.0)
    assert len(plan.headlands.levels) == 3
    whole = CoveragePlanner(params_for_map(PlannerParams(), lawn)).plan(lawn)
    assert len(whole.headlands.levels) == 2


def test_order_and_settings_survive_a_save():
    doc = three_zones(middle={'order': 1, 'mowing': {'headland_passes': 4}}, west={'order': 2})
    again = map_from_geojson(map_to_geojson(map_from_geojson(doc)))
    assert [z.name for z in again.zones] == ['middle', 'west', 'east']
    assert again.zone_settings(1).headland_passes == 4


@pytest.mark.parametrize(
    ('props', 'message'),
    [
        (
            {'west': {'order': 2}, 'east': {'order': 2}},
            "order 2 is also the order of feature 0 'west'",
        ),
        ({'west': {'order': 0}}, 'order must be an integer from 1 to 1000, got 0'),
        ({'west': {'order': 1001}}, 'order must be an integer from 1 to 1000'),
        ({'west': {'order': 1.5}}, 'order must be an integer'),
        ({'west': {'order': True}}, 'order must be an integer'),
        ({'west': {'order': '1'}}, 'order must be an integer'),
        ({'middle': {'mowing': []}}, 'properties.mowing must be an object'),
        ({'middle': {'mowing': {'headland_passes': 0}}}, 'headland_passes must be an integer'),
        ({'middle': {'mowing': {'headland_passes': True}}}, 'headland_passes must be an integer'),
        ({'middle': {'mowing': {'stripe_angle_deg': 'north'}}}, 'stripe_angle_deg must be'),
        ({'middle': {'mowing': {'stripe_angle_deg': float('nan')}}}, 'stripe_angle_deg must be'),
        ({'middle': {'mowing': {'headland_pases': 2}}}, "unknown setting(s) 'headland_pases'"),
        ({'middle': {'mowing': {'stripe_angle_deg': 1e308}}}, 'from -360 to 360, got 1e+308'),
        ({'middle': {'mowing': {'angle_increment_deg': 400}}}, 'from -180 to 180, got 400'),
    ],
)
def test_a_bad_order_or_setting_names_the_zone(props, message):
    with pytest.raises(MapError) as err:
        map_from_geojson(three_zones(**props), source='edited')
    assert message in str(err.value)
    assert str(err.value).startswith('edited: feature')


@given(st.permutations([1, 2, 3]), st.booleans())
def test_any_order_numbers_the_zones_by_it(orders, drop_last):
    props = {n: {'order': o * 10} for n, o in zip(('west', 'middle', 'east'), orders)}
    if drop_last:
        props = copy.deepcopy(props)
        del props['east']['order']
    lawn = map_from_geojson(three_zones(**props))
    names = [z.name for z in lawn.zones]
    ordered = sorted((o, n) for n, o in zip(('west', 'middle', 'east'), orders))
    expected = [n for _, n in ordered if not (drop_last and n == 'east')]
    assert names == expected + (['east'] if drop_last else [])
