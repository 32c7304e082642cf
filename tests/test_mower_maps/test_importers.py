"""Importing Fields2Cover's field files (read from ../shared/data, never copied)."""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA

from mower_maps import MapError
from mower_maps.importers import import_field, load_field

FIELDS = SHARED_DATA / 'fields2cover-fields'
needs_fields = pytest.mark.skipif(not FIELDS.is_dir(), reason='shared Fields2Cover data absent')


@needs_fields
def test_wkt_field_with_holes_keeps_its_area_and_holes():
    lawn = load_field(FIELDS / 'ee_field_130.wkt')
    assert lawn.boundary.area == pytest.approx(19_600, rel=0.05)  # "about 1.96 ha"
    assert len(lawn.boundary.interiors) > 0


@needs_fields
@pytest.mark.parametrize(
    'name', ['test.json', 'test_2_cell.json', 'test1.xml', 'ee_field_130.wkt']
)
def test_scaled_import_has_the_target_area(name):
    lawn = load_field(FIELDS / name, target_area_m2=2000.0)
    assert lawn.boundary.area == pytest.approx(2000.0, rel=1e-3)


@needs_fields
def test_unitless_ring_is_kept_in_metres():
    doc = import_field(FIELDS / 'test_ring.json')
    lawn = load_field(FIELDS / 'test_ring.json')
    assert doc['properties']['frame'] == 'enu'
    assert lawn.boundary.area == pytest.approx(100 - 64, rel=1e-6)


def test_unknown_format_is_a_map_error(tmp_path):
    bad = tmp_path / 'field.shp'
    bad.write_text('not a field')
    with pytest.raises(MapError, match='unknown format'):
        import_field(bad)
