"""Import field boundaries from other tools (WKT, GeoJSON, Fields2Cover GML) as lawn maps.

Geographic inputs (longitude/latitude) are projected (pyproj, :mod:`mower_maps.geodesy`) to a
local ENU frame at their centroid; ``target_area_m2`` scales a field uniformly about that
origin, which turns a farm field into a lawn-sized test case with the same shape.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import shapely
import shapely.affinity
from shapely import wkt
from shapely.geometry import Polygon, shape

from mower_maps.geodesy import wgs84_to_enu_array
from mower_maps.lawn_map import LawnMap, MapError, map_from_geojson


def _polygons_from_file(path: Path) -> list[Polygon]:
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        raise MapError(f'{path}: no such file') from None
    except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, not UTF-8 text
        raise MapError(f'{path}: cannot read: {exc}') from None
    suffix = path.suffix.lower()
    try:
        if suffix == '.wkt':
            geom = wkt.loads(text)
        elif suffix in ('.json', '.geojson'):
            doc = json.loads(text)
            feats = doc.get('features', [doc]) if isinstance(doc, dict) else []
            geom = shapely.union_all(
                [
                    shape(f['geometry'])
                    for f in feats
                    if isinstance(f, dict)
                    and isinstance(f.get('geometry'), dict)
                    and f['geometry'].get('type') in ('Polygon', 'MultiPolygon')
                ]
            )
        elif suffix in ('.xml', '.gml'):
            geom = _gml_field(text)
        else:
            raise MapError(f'{path}: unknown format {suffix!r} (expected .wkt, .geojson, .gml)')
    except RecursionError:
        raise MapError(f'{path}: cannot read: nested too deeply') from None
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        ET.ParseError,
        shapely.errors.GEOSException,
    ) as exc:
        raise MapError(f'{path}: cannot read: {exc}') from None
    polys = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]
    if not polys:
        raise MapError(f'{path}: no polygon found')
    return [
        Polygon(
            [c[:2] for c in p.exterior.coords], [[c[:2] for c in h.coords] for h in p.interiors]
        )
        for p in polys
    ]


def _gml_field(text: str):
    """The polygon of the element with id 'boundary' in a Fields2Cover GML file."""
    root = ET.fromstring(text)
    polys = []
    for el in root.iter():
        if el.get('id') != 'boundary':
            continue
        for coords in el.iter():
            if coords.tag.endswith('coordinates') and coords.text:
                pts = [
                    tuple(map(float, p.split(',')[:2]))
                    for p in re.split(r'\s+', coords.text.strip())
                ]
                polys.append(Polygon(pts))
    if not polys:
        raise ValueError("no element with id 'boundary'")
    return shapely.union_all(polys)


def import_field(
    path: str | Path, target_area_m2: float | None = None, name: str | None = None
) -> dict[str, Any]:
    """A lawn-map GeoJSON document (ENU metres) from a field boundary file."""
    path = Path(path)
    polys = [p.buffer(0) for p in _polygons_from_file(path)]
    merged = shapely.union_all(polys)
    minx, miny, maxx, maxy = merged.bounds
    geographic = (
        -180 <= minx
        and maxx <= 180
        and -90 <= miny
        and maxy <= 90
        and max(maxx - minx, maxy - miny) < 1.0
        and merged.area < 1e-2
    )
    if geographic:
        lon0, lat0 = merged.centroid.x, merged.centroid.y
        merged = shapely.transform(merged, lambda xy: _project(xy, lon0, lat0))
    c = merged.centroid
    merged = shapely.affinity.translate(merged, -c.x, -c.y)
    if target_area_m2 is not None:
        if not (math.isfinite(target_area_m2) and target_area_m2 > 0):
            raise MapError(
                f'{path}: the target area must be a finite number of m² above 0, '
                f'not {target_area_m2!r}'
            )
        k = math.sqrt(target_area_m2 / merged.area)
        merged = shapely.affinity.scale(merged, k, k, origin=(0, 0))
    merged = shapely.set_precision(merged, 1e-3).buffer(0)
    feats = []
    for i, p in enumerate(shapely.get_parts(merged)):
        if not isinstance(p, Polygon) or p.area <= 0:
            continue
        p = shapely.geometry.polygon.orient(p)
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'boundary', 'name': f'{path.stem} {i}'},
                'geometry': shapely.geometry.mapping(p),
            }
        )
    return {
        'type': 'FeatureCollection',
        'properties': {
            'name': name or path.stem,
            'frame': 'enu',
            'units': 'm',
            'source': path.name,
        },
        'features': feats,
    }


def _project(xy, lon0: float, lat0: float):
    return wgs84_to_enu_array(xy, lon0, lat0)


def load_field(path: str | Path, target_area_m2: float | None = None) -> LawnMap:
    """Import and validate in one step."""
    return map_from_geojson(import_field(path, target_area_m2), source=str(path))
