"""Scenario helpers: hidden obstacles placed on the lawn, away from the dock; a large lawn."""

from __future__ import annotations

import math

import numpy as np
import shapely

from mower_maps import LawnMap, map_from_geojson
from mower_sim.world import HiddenObstacle

HIDDEN_KINDS = ('rock', 'toy', 'pet', 'hose', 'post', 'furniture')
SIZE_RANGE_M = {
    'rock': (0.2, 0.5),
    'toy': (0.15, 0.35),
    'pet': (0.3, 0.6),
    'hose': (0.8, 2.0),
    'post': (0.06, 0.12),
    'furniture': (0.5, 1.0),
}


def random_hidden(
    lawn: LawnMap, count: int, seed: int, kinds: tuple[str, ...] = HIDDEN_KINDS
) -> tuple[HiddenObstacle, ...]:
    """``count`` obstacles on open lawn (1 m clear of holes, the edge and the dock)."""
    rng = np.random.default_rng(seed + 7919)
    free = lawn.mowable_area().buffer(-1.0)
    if lawn.dock is not None:
        free = free.difference(shapely.Point(lawn.dock.x_m, lawn.dock.y_m).buffer(2.0))
    out: list[HiddenObstacle] = []
    minx, miny, maxx, maxy = free.bounds if not free.is_empty else (0, 0, 0, 0)
    tries = 0
    while len(out) < count and tries < 1000 and not free.is_empty:
        tries += 1
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not free.contains(shapely.Point(x, y)):
            continue
        kind = str(kinds[int(rng.integers(0, len(kinds)))])
        lo, hi = SIZE_RANGE_M[kind]
        h = HiddenObstacle(
            kind, float(x), float(y), float(rng.uniform(lo, hi)), float(rng.uniform(0, math.pi))
        )
        out.append(h)
        free = free.difference(shapely.Point(x, y).buffer(1.5))
    return tuple(out)


#: the outline of :func:`large_lawn` before scaling: a park with a notch in its north side
_PARK = (
    (0.0, 0.0),
    (1.0, -0.06),
    (1.3, 0.42),
    (1.12, 0.92),
    (0.62, 1.0),
    (0.5, 0.72),
    (0.36, 0.74),
    (0.22, 1.02),
    (-0.12, 0.86),
    (-0.08, 0.38),
)
_TREES = ((0.2, 0.2), (0.5, 0.15), (0.85, 0.3), (1.05, 0.7), (0.75, 0.8), (0.1, 0.6))


def large_lawn(area_m2: float = 30000.0) -> LawnMap:
    """A park-sized lawn of ``area_m2`` (3 ha by default): a concave outline, a pond, trees.

    For scale tests and ``mower bench large``; deterministic, in the local ENU frame, no dock
    (the mower starts at the lawn's centre).
    """
    outline = shapely.Polygon(_PARK)
    scale = math.sqrt(area_m2 / outline.area)
    boundary = shapely.Polygon([(x * scale, y * scale) for x, y in _PARK])
    pond = shapely.Point(0.7 * scale, 0.5 * scale).buffer(0.06 * scale, quad_segs=8)
    features = [
        _feature('boundary', 'park', boundary),
        _feature('keepout', 'pond', pond, kind='pond'),
    ]
    for i, (x, y) in enumerate(_TREES):
        features.append(
            _feature(
                'obstacle',
                f'tree {i + 1}',
                shapely.Point(x * scale, y * scale),
                radius_m=0.4,
                kind='tree',
            )
        )
    doc = {
        'type': 'FeatureCollection',
        'properties': {'name': f'park {area_m2 / 10000:g} ha', 'frame': 'enu', 'units': 'm'},
        'features': features,
    }
    return map_from_geojson(doc, source='large_lawn')


def _feature(role: str, name: str, geom: shapely.Geometry, **props: object) -> dict:
    return {
        'type': 'Feature',
        'properties': {'role': role, 'name': name, **props},
        'geometry': shapely.geometry.mapping(geom),
    }
