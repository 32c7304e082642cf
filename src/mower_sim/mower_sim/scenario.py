"""Scenario helpers: hidden obstacles away from the dock, a large lawn, random gardens."""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.affinity

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


#: Narrowest lawn of a random garden (m): every part of it is wider than this.
GARDEN_MIN_WIDTH_M = 1.6


def random_garden(seed: int) -> LawnMap:
    """A random back garden with a dock: for discovery and mowing beyond the maps in maps/.

    A rectangle of 8-16 x 6-12 m with up to two corners cut away (an L or a T), slanted sides
    and rounded or sharp corners; up to three keep-outs (rectangular beds, oval ponds, a
    round tree bed) at least 1.2 m from the edge and from each other; the dock 0.3 m inside the
    longest side, facing into the lawn. Every part of the lawn is wider than
    :data:`GARDEN_MIN_WIDTH_M`; the outline holds at least 40 m². Deterministic for a seed
    (numpy only).
    """
    rng = np.random.default_rng(seed)
    for _ in range(200):
        boundary = _garden_outline(rng)
        if boundary is not None:
            break
    else:  # pragma: no cover - 200 rejected outlines in a row does not happen
        boundary = shapely.box(0.0, 0.0, 12.0, 8.0)
    features = [_feature('boundary', f'garden {seed}', boundary)]
    free = boundary.buffer(-1.2)
    dock_xy, heading = _garden_dock(boundary)
    free = free.difference(shapely.Point(dock_xy).buffer(2.5))
    for i in range(int(rng.integers(0, 4))):
        hole = _garden_hole(rng, free)
        if hole is None:
            continue
        kind, geom = hole
        features.append(_feature('keepout', f'{kind} {i + 1}', geom, kind=kind))
        free = free.difference(geom.buffer(1.2))
    features.append(
        _feature(
            'dock', 'dock', shapely.Point(dock_xy), heading_deg=round(math.degrees(heading), 2)
        )
    )
    doc = {
        'type': 'FeatureCollection',
        'properties': {'name': f'random garden {seed}', 'frame': 'enu', 'units': 'm'},
        'features': features,
    }
    return map_from_geojson(doc, source=f'random garden {seed}')


def _garden_outline(rng: np.random.Generator) -> shapely.Polygon | None:
    """A boundary, or None when the draw made a part narrower than the minimum width."""
    w, h = float(rng.uniform(8.0, 16.0)), float(rng.uniform(6.0, 12.0))
    # slanted sides: each corner moved by up to 12 % of the sides
    corners = np.array([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)])
    corners += rng.uniform(-0.12, 0.12, corners.shape) * [w, h]
    shape = shapely.Polygon(corners)
    for _ in range(int(rng.integers(0, 3))):  # corners cut away
        cx, cy = corners[int(rng.integers(0, 4))]
        cw, ch = rng.uniform(0.25, 0.45) * w, rng.uniform(0.25, 0.45) * h
        shape = shape.difference(shapely.box(cx - cw, cy - ch, cx + cw, cy + ch))
    if rng.random() < 0.5:  # rounded corners
        r = float(rng.uniform(0.5, 1.5))
        shape = shape.buffer(-r).buffer(r, quad_segs=4)
    if not isinstance(shape, shapely.Polygon) or not shape.is_valid or shape.area < 40.0:
        return None
    shape = shapely.set_precision(shape, 0.01)
    half = GARDEN_MIN_WIDTH_M / 2
    opened = shape.buffer(-half).buffer(half)
    if not isinstance(shape, shapely.Polygon) or opened.area < 0.995 * shape.area:
        return None
    return shapely.Polygon(shape.exterior)


def _garden_dock(boundary: shapely.Polygon) -> tuple[tuple[float, float], float]:
    """The dock: 0.3 m inside the middle of the longest side, heading into the lawn."""
    xy = np.asarray(boundary.exterior.coords)
    seg = np.diff(xy, axis=0)
    k = int(np.argmax(np.hypot(*seg.T)))
    mid = xy[k] + seg[k] / 2
    normal = np.array([-seg[k][1], seg[k][0]]) / np.hypot(*seg[k])
    if not boundary.contains(shapely.Point(mid + 0.3 * normal)):
        normal = -normal
    dock = mid + 0.3 * normal
    return (float(dock[0]), float(dock[1])), math.atan2(normal[1], normal[0])


def _garden_hole(
    rng: np.random.Generator, free: shapely.Geometry
) -> tuple[str, shapely.Geometry] | None:
    """A keep-out inside ``free`` (a bed, a pond or a tree bed), or None when none fits."""
    if free.is_empty:
        return None
    minx, miny, maxx, maxy = free.bounds
    for _ in range(50):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        kind = ('bed', 'pond', 'tree bed')[int(rng.integers(0, 3))]
        if kind == 'bed':
            geom = shapely.box(-1.0, -0.4, 1.0, 0.4)
            geom = shapely.affinity.scale(geom, rng.uniform(0.6, 1.5), rng.uniform(0.8, 1.8))
        elif kind == 'pond':
            geom = shapely.affinity.scale(
                shapely.Point(0, 0).buffer(1.0, quad_segs=8),
                rng.uniform(0.6, 1.4),
                rng.uniform(0.5, 1.0),
            )
        else:
            geom = shapely.Point(0, 0).buffer(float(rng.uniform(0.4, 0.8)), quad_segs=8)
        geom = shapely.affinity.rotate(geom, float(rng.uniform(0, 180)), origin=(0, 0))
        geom = shapely.set_precision(shapely.affinity.translate(geom, x, y), 0.01)
        if free.contains(geom):
            return kind, geom
    return None
