"""Stage 2, headlands: perimeter passes around the boundary and around every hole."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from mower_coverage.area import erode
from mower_coverage.geometry import polygons_of, rings_of

FILL_OVERLAP_M = 0.01  # fill rings stop this far short of where the next pass takes over
MIN_FILL_M2 = 1e-4  # thinner leftovers than this are not worth a ring


@dataclass(frozen=True)
class Headlands:
    """Headland rings per pass (pass 0 follows the edge of the region) and the inner area.

    The last pass is the boundary of ``inner``: stripes end on it, so every stripe end is
    joined to the headland network.
    """

    levels: tuple[tuple[np.ndarray, ...], ...]
    inner: Polygon | MultiPolygon
    fills: tuple[tuple[np.ndarray, ...], ...] = ()  # per pass: extra rings in thin parts


class HeadlandGenerator(ABC):
    """Interface of the headland stage."""

    @abstractmethod
    def generate(self, region: Polygon, spacing_m: float, passes: int) -> Headlands:
        """Headland rings inside ``region``."""


class ConstantOffsetHeadlands(HeadlandGenerator):
    """Passes at constant offsets: pass ``k`` is the edge of the region eroded by ``k`` spacings.

    Every point of the region within ``k * spacing`` of its edge lies within half a spacing of
    a pass, so with spacing not above the cut width the passes mow the whole perimeter band.
    """

    def generate(self, region: Polygon, spacing_m: float, passes: int) -> Headlands:
        """Rings of each pass; passes that vanish (narrow parts) simply end.

        Where pass ``k + 1`` vanishes locally (a part narrower than two spacings), the middle of
        that part would be more than half a cut from both passes; a *fill* ring at half a
        spacing inside pass ``k``, kept only where pass ``k + 1`` is absent, mows it.
        """
        areas = []
        for k in range(passes):
            eroded = erode(region, k * spacing_m)
            if not polygons_of(eroded):
                break
            areas.append(eroded)
        levels = tuple(tuple(rings_of(a)) for a in areas)
        fills = []
        for k in range(len(areas) - 1):
            half = erode(areas[k], spacing_m / 2.0)
            near_next = areas[k + 1].buffer(spacing_m / 2.0 + FILL_OVERLAP_M, quad_segs=8)
            thin = [p for p in polygons_of(half.difference(near_next)) if p.area > MIN_FILL_M2]
            fills.append(tuple(r for p in thin for r in rings_of(p)))
        return Headlands(levels, areas[-1] if areas else region, tuple(fills))
