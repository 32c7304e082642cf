"""Where the lawn is mowed, as everyone reads it: one cell convention, one share formula.

The mapping keeps the mowed layer; the mission asks it where to resume and how much is done;
the reports say the mowed share. They all read a :class:`MowedGrid`: a boolean raster with its
origin and cell size. A point belongs to the cell whose square contains it, ``floor((p -
origin) / res)`` (the convention of nav_msgs/OccupancyGrid, whose origin is the corner of cell
(0, 0)); the mowed area inside a shape counts the cells whose centre lies inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from mower_maps.geometry import cell_centre, cell_index, in_grid


@dataclass(frozen=True)
class MowedGrid:
    """A mowed raster: ``mowed[row, col]`` for the cell at ``origin + (col, row) * res``."""

    mowed: np.ndarray  # (rows, cols) bool
    origin: tuple[float, float]  # map frame position of the corner of cell (0, 0), m
    res: float  # cell size, m

    @classmethod
    def from_values(
        cls, values: np.ndarray, origin: tuple[float, float], res: float, threshold: int = 50
    ) -> MowedGrid:
        """From an occupancy-style raster: cells at or above ``threshold`` are mowed."""
        if not (np.isfinite(res) and res > 0):
            raise ValueError(f'mowed grid resolution {res} is not a positive number')
        if not all(np.isfinite(origin)):
            raise ValueError(f'mowed grid origin {origin} is not finite')
        return cls(
            np.asarray(values) >= threshold, (float(origin[0]), float(origin[1])), float(res)
        )

    def cells(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) int64 (col, row) of the cells holding the points ``xy`` (N, 2)."""
        return cell_index(np.asarray(xy, dtype=float), np.asarray(self.origin), self.res)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        """(N,) bool: is the ground mowed at each point (False outside the raster)."""
        ij = self.cells(np.asarray(xy, dtype=float).reshape(-1, 2))
        inside = in_grid(ij, self.mowed.shape)
        out = np.zeros(len(ij), dtype=bool)
        out[inside] = self.mowed[ij[inside, 1], ij[inside, 0]]
        return out

    def area_m2(self, within=None) -> float:
        """Mowed area (m²); with ``within``, of the cells whose centre lies inside it."""
        if within is None:
            return float(np.count_nonzero(self.mowed)) * self.res**2
        rows, cols = np.nonzero(self.mowed)
        xy = cell_centre(np.column_stack([cols, rows]), np.asarray(self.origin), self.res)
        return (
            float(np.count_nonzero(shapely.contains_xy(within, xy[:, 0], xy[:, 1]))) * self.res**2
        )

    def share(self, mowable) -> float:
        """Share (0..1) of the mowable area mowed; 0 for an empty area."""
        return mowed_share(self.area_m2(mowable), mowable)


def mowed_share(mowed_m2: float, mowable) -> float:
    """The one share formula: ``mowed_m2`` of the area ``mowable`` (0..1; 0 when it is empty).

    ``mowed_m2`` counts the mowed cells whose centre lies inside ``mowable``
    (:meth:`MowedGrid.area_m2`).
    """
    area = float(mowable.area)
    return min(1.0, mowed_m2 / area) if area > 0 else 0.0


#: The mowed layer's colour in :func:`mowed_png` (RGBA): a green the lawn shows through.
MOWED_RGBA = (46, 160, 67, 150)


def mowed_png(
    grid: MowedGrid, rgba: tuple[int, int, int, int] = MOWED_RGBA
) -> tuple[bytes, tuple[float, float, float, float]]:
    """A PNG of the mowed cells (``rgba``; transparent elsewhere) and its bounds.

    One pixel a cell, north (+y) up: the first image row is the grid's last. The bounds are
    (x0, y0, x1, y1) of the grid's outer corners in its frame (m), for an image overlay.
    Raises ValueError when the image cannot be encoded.
    """
    import cv2

    rows, cols = grid.mowed.shape
    image = np.zeros((max(rows, 1), max(cols, 1), 4), np.uint8)
    r, g, b, a = rgba
    image[:rows, :cols][grid.mowed[::-1]] = (b, g, r, a)  # cv2 writes BGRA
    ok, png = cv2.imencode('.png', image)
    if not ok:
        raise ValueError(f'the mowed grid ({cols} x {rows} cells) could not be encoded as PNG')
    x0, y0 = grid.origin
    return png.tobytes(), (x0, y0, x0 + cols * grid.res, y0 + rows * grid.res)
