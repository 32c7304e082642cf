"""The semantic grid: per-class log-odds evidence in the map frame, fused frame by frame.

Each labelled frame votes once per grid cell (the majority of its pixels there). The winning
class's log-odds rise by ``hit``, the others fall by ``miss``, all clamped; a cell is an obstacle
only once its obstacle evidence passes ``obstacle_threshold``, so a leaf or a shadow seen in one
frame does not stop the mower, while anything seen again and again does; evidence of a cell that
is later seen as ground decays the same way.

Obstacle pixels need care: a pixel on the side of a standing object does not lie on the ground,
so only the lowest obstacle pixel of each run in an image column (where the object meets the
ground) is projected; the pixels above it give no ground evidence at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mower_perception.camera_model import GroundLut

LAWN, OTHER, OBSTACLE, SKY = range(4)
N_GROUND = 3  # classes with ground evidence: lawn, other, obstacle


@dataclass(frozen=True)
class GridParams:
    """Fusion settings (documented in config/mapping.yaml)."""

    resolution_m: float = 0.05
    hit: float = 0.85  # log-odds added to the class a frame saw in a cell
    miss: float = 0.4  # log-odds taken from the other classes
    clamp: float = 6.0  # |log-odds| limit, so old evidence can be overturned
    obstacle_threshold: float = 2.0  # log-odds above which a cell is an obstacle (3 sightings)


class SemanticGrid:
    """A fixed-size grid (origin at its lower-left corner) of per-class log-odds."""

    def __init__(self, origin_xy: tuple[float, float], width_m: float, height_m: float,
                 params: GridParams | None = None) -> None:
        """Cover ``width_m`` x ``height_m`` metres from ``origin_xy``."""
        self.p = params or GridParams()
        self.origin = np.asarray(origin_xy, dtype=np.float64)
        self.res = self.p.resolution_m
        self.shape = (int(math.ceil(height_m / self.res)), int(math.ceil(width_m / self.res)))
        self.logodds = np.zeros((N_GROUND, *self.shape), dtype=np.float32)
        self.frames = 0

    def cells_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell indices of map points, and which fall inside the grid."""
        ij = np.floor((xy - self.origin) / self.res).astype(np.int64)
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < self.shape[1]) & (ij[:, 1] >= 0) & \
            (ij[:, 1] < self.shape[0])
        return ij[:, 1] * self.shape[1] + ij[:, 0], inside

    def fuse(self, labels: np.ndarray, lut: GroundLut, pose: tuple[float, float, float],
             roll_rad: float = 0.0, pitch_rad: float = 0.0) -> int:
        """Fuse one label image; returns the number of cells seen.

        ``pose`` is x, y, yaw of base_link at the image's time; roll and pitch are the body's.
        """
        if labels.ndim != 2 or labels.shape[0] <= lut.rows.max() or \
                labels.shape[1] <= lut.cols.max():
            size = f'{lut.grid_shape[0] * lut.stride}x{lut.grid_shape[1] * lut.stride}'
            raise ValueError(f'label image {labels.shape} does not match the camera ({size})')
        ground, valid = lut.ground_xy(roll_rad, pitch_rad)
        lab = labels[lut.rows, lut.cols]
        # obstacle pixels: keep only the lowest of each run in a column (ground contact)
        grid = np.full(lut.grid_shape, SKY, dtype=np.uint8)
        grid.ravel()[lut.grid_index] = lab
        obst = grid == OBSTACLE
        below = np.zeros_like(obst)
        below[:-1] = obst[1:]
        contact = (obst & ~below).ravel()[lut.grid_index]
        use = ((lab == LAWN) | (lab == OTHER) | contact) & valid
        if not use.any():
            return 0
        x, y, yaw = pose
        c, s = math.cos(yaw), math.sin(yaw)
        bx, by = ground[use, 0], ground[use, 1]
        world = np.column_stack([x + c * bx - s * by, y + s * bx + c * by])
        ij = np.floor((world - self.origin) / self.res).astype(np.int64)
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < self.shape[1]) & (ij[:, 1] >= 0) & \
            (ij[:, 1] < self.shape[0])
        if not inside.any():
            return 0
        ij = ij[inside]
        cls = lab[use][inside].astype(np.int64)
        # one vote per cell, counted in the window this frame covers (small and fast)
        (c0, r0), (c1, r1) = ij.min(axis=0), ij.max(axis=0)
        w = c1 - c0 + 1
        local = (ij[:, 1] - r0) * w + (ij[:, 0] - c0)
        n_local = int((r1 - r0 + 1) * w)
        counts = np.bincount(local * N_GROUND + cls, minlength=n_local * N_GROUND)
        counts = counts.reshape(n_local, N_GROUND)
        seen_local = np.flatnonzero(counts.any(axis=1))
        counts = counts[seen_local]
        winner = np.where(counts[:, OBSTACLE] > 0, OBSTACLE, np.argmax(counts[:, :2], axis=1))
        seen = (seen_local // w + r0) * self.shape[1] + (seen_local % w + c0)
        flat = self.logodds.reshape(N_GROUND, -1)
        for k in range(N_GROUND):
            delta = np.where(winner == k, self.p.hit, -self.p.miss).astype(np.float32)
            flat[k, seen] = np.clip(flat[k, seen] + delta, -self.p.clamp, self.p.clamp)
        self.frames += 1
        return len(seen)

    def obstacle_mask(self) -> np.ndarray:
        """Cells whose obstacle evidence passed the threshold."""
        return self.logodds[OBSTACLE] > self.p.obstacle_threshold

    def class_map(self, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
        """Most likely class per cell (of a window, when given); 255 where nothing was seen."""
        lo = self.logodds[:, rows, cols]
        out = np.argmax(lo, axis=0).astype(np.uint8)
        out[np.all(lo == 0, axis=0)] = 255
        weak = (out == OBSTACLE) & ~(lo[OBSTACLE] > self.p.obstacle_threshold)
        out[weak] = np.argmax(lo[:2], axis=0)[weak]
        return out
