"""Scenario helpers: hidden obstacles placed on the lawn, away from the dock."""

from __future__ import annotations

import math

import numpy as np
import shapely

from mower_maps import LawnMap
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
