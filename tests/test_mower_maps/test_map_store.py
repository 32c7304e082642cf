"""MapStore: versions of the owner's map, checked saves, conflicts, restore, damaged files."""

from __future__ import annotations

import json

import pytest
from conftest import MAPS

from mower_maps import MapError, load_map, map_to_geojson
from mower_maps.map_store import (
    MapConflictError,
    MapStore,
    feature_at_fault,
    parse_document,
)


def with_keepout(doc: dict, ring) -> dict:
    out = json.loads(json.dumps(doc))
    out['features'].append(
        {
            'type': 'Feature',
            'properties': {'role': 'keepout', 'name': 'new bed'},
            'geometry': {'type': 'Polygon', 'coordinates': [ring]},
        }
    )
    return out


def test_saves_restores_and_conflicts(tmp_path):
    lawn = load_map(MAPS / 'demo_lawn.geojson')
    store = MapStore(tmp_path, lawn)
    assert store.current == 1 and map_to_geojson(store.lawn()) == map_to_geojson(lawn)
    doc = with_keepout(store.get(1), [[6, 6], [8, 6], [8, 8], [6, 8], [6, 6]])
    version, edited = store.save(doc, 1, 'a new bed')
    assert version == 2 and any(f.name == 'new bed' for f in edited.features)
    with pytest.raises(MapConflictError, match='reload'):
        store.save(doc, 1)
    version, back = store.restore(1, 2)
    assert version == 3 and map_to_geojson(back) == map_to_geojson(lawn)
    assert [v['note'] for v in store.versions()][1:] == ['a new bed', 'restored version 1']
    again = MapStore(tmp_path, load_map(MAPS / 'l_shaped_lawn.geojson'))  # reopened
    assert again.current == 3 and map_to_geojson(again.lawn()) == map_to_geojson(lawn)


def test_a_failed_check_names_the_feature_and_writes_nothing(tmp_path):
    store = MapStore(tmp_path, load_map(MAPS / 'demo_lawn.geojson'))
    files = sorted(p.name for p in tmp_path.iterdir())
    doc = with_keepout(store.get(1), [[40, 40], [41, 40], [41, 41], [40, 40]])
    with pytest.raises(MapError) as info:
        store.save(doc, 1)
    assert feature_at_fault(info.value) == len(doc['features']) - 1
    assert sorted(p.name for p in tmp_path.iterdir()) == files and store.current == 1
    with pytest.raises(MapError, match='not GeoJSON'):
        parse_document(b'{"type": "FeatureCollection", ')
    assert feature_at_fault(MapError('the map has no boundary')) is None


def test_a_version_changed_outside_the_app_and_a_damaged_index(tmp_path):
    lawn = load_map(MAPS / 'demo_lawn.geojson')
    store = MapStore(tmp_path, lawn)
    store.save(with_keepout(store.get(1), [[6, 6], [8, 6], [8, 8], [6, 8], [6, 6]]), 1)
    (tmp_path / 'v0001.geojson').write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(MapError, match='changed outside the app'):
        store.get(1)
    (tmp_path / 'index.json').write_text('[{"version": ')
    fresh = MapStore(tmp_path, lawn)
    assert 'damaged' in fresh.damaged and fresh.current == 3  # after the files kept
    assert (tmp_path / 'v0002.geojson').is_file()
    assert any(
        p.name.startswith('index.json') and p.name != 'index.json' for p in tmp_path.iterdir()
    )
