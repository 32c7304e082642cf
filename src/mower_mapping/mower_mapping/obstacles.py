"""Obstacle extraction: connected obstacle cells become polygons, buffered by a safety margin."""

from __future__ import annotations

import cv2
import numpy as np
import shapely
from shapely.geometry import Polygon


def position_key(poly: Polygon) -> tuple[float, float]:
    """The order obstacle lists are kept in: by centroid, x then y, to the millimetre."""
    return (round(poly.centroid.x, 3), round(poly.centroid.y, 3))


def extract_obstacles(
    mask: np.ndarray,
    origin_xy: np.ndarray,
    resolution_m: float,
    margin_m: float = 0.1,
    min_area_m2: float = 0.005,
) -> list[Polygon]:
    """Polygons (map frame) of 8-connected regions of ``mask``, each buffered by ``margin_m``.

    Regions smaller than ``min_area_m2`` (before buffering) are dropped. Holes are filled (a
    ring of obstacle cells shuts its inside off from the mower anyway), so that an outline is
    the whole obstacle: map/obstacles carries outlines, and the planner on the robot and in the
    simulator plans around exactly these polygons. Sorted by position.
    """
    if not mask.any():
        return []
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area * resolution_m**2 < min_area_m2:
            continue
        rows, cols = np.nonzero(comp[y : y + h, x : x + w] == i)  # within its bounding box
        rows, cols = rows + y, cols + x
        boxes = shapely.box(
            origin_xy[0] + cols * resolution_m,
            origin_xy[1] + rows * resolution_m,
            origin_xy[0] + (cols + 1) * resolution_m,
            origin_xy[1] + (rows + 1) * resolution_m,
        )
        region = shapely.union_all(boxes).buffer(margin_m, quad_segs=4)
        for part in shapely.get_parts(region):  # one part, unless margin_m is 0
            out.append(Polygon(part.exterior))
    return sorted(out, key=position_key)


def cells_inside(
    shape: tuple[int, int], origin_xy: np.ndarray, resolution_m: float, polygons: list
) -> np.ndarray:
    """Which cells of a grid lie in one of ``polygons``: a cell does when its centre does.

    Each polygon is tested on the cells of its bounding box only, so a few small polygons on a
    large grid cost little (a keep-out's or an obstacle's cells, not the whole lawn's).
    """
    mask = np.zeros(shape, dtype=bool)
    rows, cols = shape
    ox, oy, res = float(origin_xy[0]), float(origin_xy[1]), resolution_m
    for poly in polygons:
        x0, y0, x1, y1 = poly.bounds
        c0, c1 = max(0, int((x0 - ox) // res)), min(cols, int((x1 - ox) // res) + 1)
        r0, r1 = max(0, int((y0 - oy) // res)), min(rows, int((y1 - oy) // res) + 1)
        if c0 >= c1 or r0 >= r1:
            continue
        xs = ox + (np.arange(c0, c1) + 0.5) * res
        ys = oy + (np.arange(r0, r1) + 0.5) * res
        gx, gy = np.meshgrid(xs, ys)
        mask[r0:r1, c0:c1] |= shapely.contains_xy(poly, gx, gy)
    return mask


def obstacle_core_centre(poly: Polygon, margin_m: float) -> tuple[float, float]:
    """Centre of an extracted obstacle (its buffered outline shrunk back by the margin)."""
    core = poly.buffer(-margin_m)
    c = (core if not core.is_empty else poly).centroid
    return float(c.x), float(c.y)
