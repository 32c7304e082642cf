"""Stage 2, headlands: perimeter passes around the boundary and around every hole."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from mower_coverage.area import erode
from mower_coverage.geometry import polygons_of, rings_of

MIN_FILL_M2 = 1e-3  # smaller gaps (such as the slivers at convex corners) get no ring


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
    def generate(
        self, region: Polygon, spacing_m: float, passes: int, cut_width_m: float | None = None
    ) -> Headlands:
        """Headland rings inside ``region``."""


class ConstantOffsetHeadlands(HeadlandGenerator):
    """Passes at constant offsets: pass ``k`` is the edge of the region eroded by ``k`` spacings.

    Every point of the region within ``k * spacing`` of its edge lies within half a spacing of
    a pass, so with spacing not above the cut width the passes mow the whole perimeter band.
    """

    def generate(
        self, region: Polygon, spacing_m: float, passes: int, cut_width_m: float | None = None
    ) -> Headlands:
        """Rings of each pass; passes that vanish (narrow parts) simply end.

        Where pass ``k + 1`` vanishes locally (a part narrower than two spacings), the middle of
        that part can be more than half a cut from both passes; the boundary of that ground is
        driven as a *fill* ring, which mows it.
        """
        areas = []
        for k in range(passes):
            eroded = erode(region, k * spacing_m)
            if not polygons_of(eroded):
                break
            areas.append(eroded)
        levels = tuple(tuple(rings_of(a)) for a in areas)
        fills = []
        reach = (cut_width_m if cut_width_m is not None else spacing_m) / 2.0
        for k in range(len(areas) - 1):
            # ground more than half a cut from pass k and from the area of pass k + 1
            far = erode(areas[k], reach).difference(areas[k + 1].buffer(reach, quad_segs=8))
            thin = [p for p in polygons_of(far) if p.area > MIN_FILL_M2]
            fills.append(tuple(r for p in thin for r in rings_of(p)))
        return Headlands(levels, areas[-1] if areas else region, tuple(fills))
