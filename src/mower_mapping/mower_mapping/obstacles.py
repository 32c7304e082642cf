"""Obstacle extraction: connected obstacle cells become polygons, buffered by a safety margin."""

from __future__ import annotations

import cv2
import numpy as np
import shapely
from shapely.geometry import Polygon


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
    return sorted(out, key=lambda p: (round(p.centroid.x, 3), round(p.centroid.y, 3)))


def obstacle_core_centre(poly: Polygon, margin_m: float) -> tuple[float, float]:
    """Centre of an extracted obstacle (its buffered outline shrunk back by the margin)."""
    core = poly.buffer(-margin_m)
    c = (core if not core.is_empty else poly).centroid
    return float(c.x), float(c.y)
