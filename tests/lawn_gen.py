"""Random lawns for property tests: concave boundaries, narrow passages, holes near each other.

Built from a seed with numpy only, so hypothesis can draw seeds and shrink them, and a failing
lawn can be rebuilt from its seed alone.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import Point, Polygon, box

from mower_maps import LawnMap, MapError, map_from_geojson, map_to_geojson  # noqa: F401


def random_lawn(seed: int, size_m: float = 12.0) -> LawnMap:
    """A random lawn: a star-shaped or notched boundary with 0 to 6 holes."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3)
    if kind == 0:  # star-shaped polygon with concave parts
        n = int(rng.integers(5, 14))
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = rng.uniform(0.45, 1.0, n) * size_m / 2
        pts = np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
        boundary = Polygon(pts).buffer(0)
    elif kind == 1:  # two rooms joined by a corridor of random width (a narrow passage)
        w = float(rng.uniform(0.3, 1.6))
        a = shapely.box(0, 0, size_m * 0.45, size_m * 0.6)
        b = shapely.box(size_m * 0.55, 0, size_m, size_m * 0.7)
        y = float(rng.uniform(0.5, size_m * 0.5))
        corridor = shapely.box(size_m * 0.4, y, size_m * 0.6, y + w)
        boundary = shapely.union_all([a, b, corridor])
    else:  # a rectangle with notches cut from its sides
        boundary = shapely.box(0, 0, size_m, size_m * 0.7)
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(0, size_m), rng.uniform(0, size_m * 0.7)
            boundary = boundary.difference(
                shapely.box(x, y, x + rng.uniform(0.5, 4), y + rng.uniform(0.5, 4))
            )
    boundary = max(shapely.get_parts(boundary.buffer(0)), key=lambda p: p.area)
    boundary = shapely.set_precision(boundary, 1e-3)
    boundary = max(shapely.get_parts(boundary.buffer(0)), key=lambda p: p.area)
    boundary = Polygon(boundary.exterior)
    feats = [_feature('boundary', 'lawn', boundary)]
    minx, miny, maxx, maxy = boundary.bounds
    placed = []
    for i in range(int(rng.integers(0, 7))):
        for _ in range(20):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if boundary.contains(Point(x, y)):
                break
        else:
            continue
        if rng.random() < 0.5:
            geom = Point(x, y).buffer(float(rng.uniform(0.05, 0.8)), quad_segs=4)
        else:
            w, h = rng.uniform(0.2, 2.5, 2)
            geom = shapely.affinity.rotate(shapely.box(x, y, x + w, y + h), rng.uniform(0, 90))
        # sometimes put a hole right next to another, or touching the boundary
        if placed and rng.random() < 0.3:
            other = placed[int(rng.integers(0, len(placed)))]
            geom = shapely.affinity.translate(
                geom,
                *(
                    np.asarray(other.centroid.coords[0])
                    - np.asarray(geom.centroid.coords[0])
                    + rng.uniform(-1, 1, 2)
                ),
            )
        geom = shapely.set_precision(geom, 1e-3)
        if geom.is_empty or not geom.is_valid or not geom.intersects(boundary):
            continue
        if geom.intersection(boundary).area <= 0:
            continue
        placed.append(geom)
        role = 'obstacle' if rng.random() < 0.5 else 'keepout'
        feats.append(_feature(role, f'hole {i}', geom))
    doc = {
        'type': 'FeatureCollection',
        'properties': {'name': f'random {seed}'},
        'features': feats,
    }
    inner = boundary.buffer(-0.5)  # empty for a lawn thinner than 1 m: no dock then
    if rng.random() < 0.7 and not inner.is_empty:
        p = boundary.exterior.interpolate(float(rng.uniform(0, boundary.exterior.length)))
        q = shapely.ops.nearest_points(inner, p)[0]  # facing the lawn
        heading = math.degrees(math.atan2(q.y - p.y, q.x - p.x))
        dock = {
            'type': 'Feature',
            'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': heading},
            'geometry': {'type': 'Point', 'coordinates': [p.x, p.y]},
        }
        try:  # a dock the dock rule refuses (in or next to a hole, a narrow spot) is left out
            return map_from_geojson(
                {**doc, 'features': doc['features'] + [dock]}, source=f'random-{seed}'
            )
        except MapError:
            pass
    return map_from_geojson(doc, source=f'random-{seed}')


def _feature(role: str, name: str, geom) -> dict:
    geom = shapely.geometry.polygon.orient(geom) if isinstance(geom, Polygon) else geom
    return {
        'type': 'Feature',
        'properties': {'role': role, 'name': name},
        'geometry': shapely.geometry.mapping(geom),
    }


# -- two lawns joined by a bent path (navigation areas, zones) ------------------------------

FRONT = box(0.0, 0.0, 8.0, 6.0)  # the lawn with the dock
BACK = box(12.0, 4.0, 18.0, 10.0)  # a second lawn, reached only along a bent paved path
PATH = shapely.union_all(
    [box(7.5, 1.0, 10.5, 2.2), box(9.3, 1.0, 10.5, 7.0), box(9.3, 5.8, 12.5, 7.0)]
)
BED = box(3.0, 2.5, 4.5, 3.5)


def garden(with_path: bool = True, dock_on_path: bool = False):
    """Two lawns, a bed in the front one, the bent path between them (a navigation area)."""
    features = [
        {'role': 'boundary', 'name': 'front', 'geom': FRONT},
        {'role': 'boundary', 'name': 'back', 'geom': BACK},
        {'role': 'keepout', 'name': 'bed', 'geom': BED},
    ]
    if with_path:
        features.append({'role': 'navigation', 'name': 'path', 'geom': PATH})
    dock = (9.9, 3.5, np.pi / 2) if dock_on_path else (0.3, 3.0, 0.0)
    doc = {
        'type': 'FeatureCollection',
        'properties': {'name': 'two lawns', 'frame': 'enu', 'units': 'm'},
        'features': [
            {
                'type': 'Feature',
                'properties': {'role': f['role'], 'name': f['name']},
                'geometry': shapely.geometry.mapping(f['geom']),
            }
            for f in features
        ]
        + [
            {
                'type': 'Feature',
                'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': np.degrees(dock[2])},
                'geometry': {'type': 'Point', 'coordinates': list(dock[:2])},
            }
        ],
    }
    return map_from_geojson(doc, source='two lawns')


def rectangle_lawn(name: str, width_m: float, height_m: float, dock_xy: tuple) -> dict:
    """A GeoJSON document: a rectangular lawn from the origin, the dock facing east."""
    ring = [[0, 0], [width_m, 0], [width_m, height_m], [0, height_m], [0, 0]]
    return {
        'type': 'FeatureCollection',
        'name': name,
        'crs_note': 'ENU metres',
        'features': [
            {
                'type': 'Feature',
                'properties': {'role': 'boundary', 'name': 'lawn'},
                'geometry': {'type': 'Polygon', 'coordinates': [ring]},
            },
            {
                'type': 'Feature',
                'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0},
                'geometry': {'type': 'Point', 'coordinates': list(dock_xy)},
            },
        ],
    }
