"""Draft maps: GeoJSON that passes the map checks, rejected drafts kept, the navigation role."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from matplotlib.image import imread
from shapely.geometry import MultiPolygon, box

from mower_maps import MapError, load_map, map_from_geojson, map_to_geojson
from mower_maps.draft_map import DraftMap, rejected_path
from mower_maps.lawn_polygons import EdgedPolygon, ExtractionParams, lawn_polygons

RES = 0.05
ORIGIN = (-1.0, -1.0)
SHAPE = (160, 240)  # 8 m x 12 m
LAWN = box(0.0, 0.0, 10.0, 6.0)
BED = box(6.0, 3.0, 8.0, 4.5)
DOCK = (0.4, 3.0, 0.0)  # on the west edge, facing east: its approach point is on the lawn
CORRIDOR = box(10.0, 2.0, 14.0, 3.0)  # a path east of the lawn, touching it


def _cells(geom) -> np.ndarray:
    cols, rows = np.meshgrid(np.arange(SHAPE[1]), np.arange(SHAPE[0]))
    return shapely.contains_xy(
        geom, ORIGIN[0] + (cols + 0.5) * RES, ORIGIN[1] + (rows + 0.5) * RES
    )


def _discovered() -> DraftMap:
    seen = np.where(_cells(box(-1.0, -1.0, 5.0, 7.0)), 9, 2)
    found = lawn_polygons(
        _cells(LAWN.difference(BED)),
        ORIGIN,
        RES,
        ExtractionParams(keep='seed'),
        seed_xy=DOCK[:2],
        seen=seen,
    )
    return DraftMap.from_extraction(found, dock=DOCK, name='front lawn')


def test_a_discovered_draft_round_trips_through_load_map(tmp_path):
    draft = _discovered()
    out = draft.write(tmp_path / 'front.geojson')
    assert out.ok, out.message
    assert out.path == tmp_path / 'front.geojson'
    assert not rejected_path(out.path).exists()
    lawn = load_map(out.path)
    assert lawn.name == 'front lawn'
    assert lawn.boundary.equals(LAWN)
    assert len(lawn.by_role('keepout')) == 1
    assert lawn.dock is not None and lawn.dock.x_m == pytest.approx(DOCK[0])
    assert lawn.mowable_area().area == pytest.approx(LAWN.area - BED.area, rel=0.01)
    # the draft's marks: the collection and every feature
    doc = json.loads(out.path.read_text())
    assert doc['properties']['draft'] is True
    assert doc['properties']['provenance'] == 'discovery'
    for feature in doc['features']:
        assert feature['properties']['draft'] is True
    boundary = lawn.by_role('boundary')[0]
    edges = boundary.properties['edge_confidence']
    ring = boundary.geometry.exterior.coords
    assert len(edges) == 1 and len(edges[0]) == len(ring) - 1
    assert 0.0 < boundary.properties['confidence'] < 1.0
    # the west part was seen more often: its edges are more confident
    xy = np.asarray(ring)
    mid_x = (xy[:-1, 0] + xy[1:, 0]) / 2
    conf = np.asarray(edges[0])
    assert conf[mid_x < 1.0].min() > conf[mid_x > 9.0].max()


def test_a_keepout_seen_as_flat_ground_keeps_its_kind_in_the_map(tmp_path):
    """The extraction's ``ground`` kind reaches the map's feature, as an owner's kind would."""
    found = lawn_polygons(
        _cells(LAWN.difference(BED)), ORIGIN, RES, obstacle_mask=np.zeros(SHAPE, bool)
    )
    assert [k.kind for k in found.keepouts] == ['ground']
    out = DraftMap.from_extraction(found, dock=DOCK).write(tmp_path / 'd.geojson', preview=False)
    assert out.ok, out.message
    (keepout,) = load_map(out.path).by_role('keepout')
    assert keepout.properties['kind'] == 'ground'
    (boundary,) = load_map(out.path).by_role('boundary')
    assert 'kind' not in boundary.properties  # nothing said where nothing is known


def test_a_taught_draft_of_bare_polygons_has_unknown_confidence(tmp_path):
    draft = DraftMap(
        boundaries=[LAWN], keepouts=[BED], dock=DOCK, provenance='teach', warnings=['rtk lost']
    )
    out = draft.write(tmp_path / 'taught.geojson', preview=False)
    assert out.ok, out.message
    assert out.preview is None
    doc = json.loads(out.path.read_text())
    assert doc['properties']['warnings'] == ['rtk lost']
    boundary = doc['features'][0]['properties']
    assert boundary['confidence'] is None and boundary['edge_confidence'] is None


def test_navigation_role_round_trips(tmp_path):
    draft = DraftMap(boundaries=[LAWN], navigation=[CORRIDOR], dock=DOCK, provenance='teach')
    out = draft.write(tmp_path / 'with_path.geojson')
    assert out.ok, out.message
    lawn = load_map(out.path)
    (corridor,) = lawn.by_role('navigation')
    assert corridor.geometry.equals(CORRIDOR)
    assert lawn.navigation.equals(CORRIDOR)
    assert lawn.mowable_area().equals(LAWN)  # never mowed
    assert lawn.drivable_area().area == pytest.approx(LAWN.area + CORRIDOR.area)
    again = map_from_geojson(json.loads(json.dumps(map_to_geojson(lawn))))
    assert again.by_role('navigation')[0].geometry.equals(CORRIDOR)
    assert again.navigation.equals(lawn.navigation)


def _doc(*features) -> dict:
    return {'type': 'FeatureCollection', 'properties': {}, 'features': list(features)}


def _feature(role: str, geom, name: str = 'f') -> dict:
    return {
        'type': 'Feature',
        'properties': {'role': role, 'name': name},
        'geometry': shapely.geometry.mapping(geom),
    }


def test_navigation_must_connect_to_a_boundary():
    far = box(20.0, 0.0, 24.0, 1.0)
    with pytest.raises(MapError, match=r"feature 1 'gate' \(navigation\) is not connected"):
        map_from_geojson(_doc(_feature('boundary', LAWN), _feature('navigation', far, 'gate')))
    # through another corridor it connects
    link = box(14.0, 0.0, 20.0, 3.0)
    lawn = map_from_geojson(
        _doc(
            _feature('boundary', LAWN),
            _feature('navigation', far, 'gate'),
            _feature('navigation', CORRIDOR, 'path'),
            _feature('navigation', link, 'link'),
        )
    )
    assert len(lawn.by_role('navigation')) == 3
    # every part of a MultiPolygon corridor must connect
    split = MultiPolygon([CORRIDOR, box(30.0, 0.0, 31.0, 1.0)])
    with pytest.raises(MapError, match=r"'split' \(navigation\) \(part 1\) is not connected"):
        map_from_geojson(_doc(_feature('boundary', LAWN), _feature('navigation', split, 'split')))


def test_navigation_must_be_a_valid_polygon():
    bowtie = {
        'type': 'Feature',
        'properties': {'role': 'navigation', 'name': 'bow'},
        'geometry': {
            'type': 'Polygon',
            'coordinates': [[[10, 0], [12, 2], [12, 0], [10, 2], [10, 0]]],
        },
    }
    with pytest.raises(MapError, match=r"'bow' \(navigation\): self-intersecting"):
        map_from_geojson(_doc(_feature('boundary', LAWN), bowtie))
    point = _feature('navigation', shapely.Point(10.0, 1.0), 'spot')
    with pytest.raises(MapError, match='geometry Point not allowed'):
        map_from_geojson(_doc(_feature('boundary', LAWN), point))


def test_a_keepout_in_a_corridor_outside_the_lawn_is_accepted():
    puddle = box(12.0, 2.2, 12.5, 2.8)
    lawn = map_from_geojson(
        _doc(
            _feature('boundary', LAWN),
            _feature('navigation', CORRIDOR, 'path'),
            _feature('keepout', puddle, 'puddle'),
        )
    )
    assert lawn.drivable_area().area == pytest.approx(LAWN.area + CORRIDOR.area - puddle.area)
    with pytest.raises(MapError, match='outside every boundary and every navigation area'):
        map_from_geojson(
            _doc(
                _feature('boundary', LAWN),
                _feature('navigation', CORRIDOR, 'path'),
                _feature('keepout', box(20.0, 20.0, 21.0, 21.0), 'far'),
            )
        )


def test_a_bad_draft_is_kept_as_rejected_with_every_fault_named(tmp_path):
    draft = DraftMap(
        boundaries=[LAWN],
        keepouts=[BED, box(20.0, 20.0, 22.0, 22.0), box(-5.0, 0.0, -4.0, 1.0)],
        dock=DOCK,
        provenance='teach',
    )
    target = tmp_path / 'bad.geojson'
    out = draft.write(target)
    assert not out.ok
    assert out.lawn is None
    assert not target.exists()  # nothing half-good where a map is expected
    assert out.path == tmp_path / 'bad.rejected.geojson' and out.path.exists()
    assert out.preview == tmp_path / 'bad.rejected.png' and out.preview.exists()
    assert len(out.faults) == 2
    assert "feature 2 'keep-out 2' (keepout) lies outside every boundary" in out.faults[0]
    assert "feature 3 'keep-out 3' (keepout) lies outside every boundary" in out.faults[1]
    assert 'rejected' in out.message and 'keep-out 3' in out.message
    assert str(out.path) in out.message
    doc = json.loads(out.path.read_text())  # nothing lost: every feature and the faults
    assert doc['properties']['faults'] == list(out.faults)
    assert [f['properties']['role'] for f in doc['features']] == ['boundary'] + ['keepout'] * 3 + [
        'dock'
    ]
    with pytest.raises(MapError, match='outside every boundary'):
        load_map(out.path)


def test_a_bad_dock_is_named(tmp_path):
    draft = DraftMap(boundaries=[LAWN], dock=(30.0, 30.0, 0.0), provenance='teach')
    out = draft.write(tmp_path / 'dock.geojson', preview=False)
    assert not out.ok
    assert any("'dock' (dock) stands" in f for f in out.faults)


def test_the_preview_is_a_real_picture(tmp_path):
    draft = DraftMap.from_extraction(
        lawn_polygons(
            _cells(LAWN.difference(BED)), ORIGIN, RES, seen=np.full(SHAPE, 3), distance_m=None
        ),
        dock=DOCK,
        navigation=[CORRIDOR],
        warnings=['dropped 1 lawn part(s)'],
    )
    out = draft.write(tmp_path / 'preview.geojson')
    assert out.ok, out.message
    assert out.preview == tmp_path / 'preview.png'
    data = out.preview.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    assert len(data) > 20_000
    img = imread(out.preview)[..., :3]
    assert img.shape[0] >= 500 and img.shape[1] >= 700
    green = (img[..., 1] > 0.7) & (img[..., 0] < 0.7) & (img[..., 2] < 0.6)  # the lawn fill
    assert green.mean() > 0.05
    assert len(np.unique(img.reshape(-1, 3).round(2), axis=0)) > 50
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith('.')]
    assert not leftovers  # atomic writes leave no temporary files


def test_draft_arguments_are_checked():
    with pytest.raises(ValueError, match='provenance'):
        DraftMap(boundaries=[LAWN], provenance='guess')
    with pytest.raises(ValueError, match='dock'):
        DraftMap(boundaries=[LAWN], dock=(0.0, math.nan, 0.0))
    with pytest.raises(TypeError, match='keepouts'):
        DraftMap(boundaries=[LAWN], keepouts=['bed'])
    edged = EdgedPolygon(LAWN, (np.ones(4),))
    assert DraftMap(boundaries=[edged]).boundaries == (edged,)


def test_rejected_path_names():
    assert rejected_path('maps/a.geojson').name == 'a.rejected.geojson'
    assert rejected_path('maps/a.json').name == 'a.rejected.json'
    assert rejected_path('maps/a').name == 'a.rejected.geojson'


def test_an_island_in_a_pond_gives_boundaries_that_do_not_overlap(tmp_path):
    pond = box(3.0, 1.5, 7.0, 4.5)
    island = box(4.5, 2.5, 5.5, 3.5)
    found = lawn_polygons(_cells(LAWN.difference(pond).union(island)), ORIGIN, RES)
    assert len(found.boundaries) == 2 and not found.keepouts
    draft = DraftMap.from_extraction(found, dock=DOCK)
    out = draft.write(tmp_path / 'island.geojson', preview=False)
    assert out.ok, out.message
    assert out.lawn.mowable_area().area == pytest.approx(
        LAWN.area - pond.area + island.area, rel=0.01
    )
