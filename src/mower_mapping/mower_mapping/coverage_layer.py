"""The mowed-coverage layer.

The deck's footprint swept along the pose history while the blade runs, saved to disk so a run
resumes after a reboot or an emergency stop without re-mowing.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from mower_maps.geometry import cell_index
from mower_maps.mowed import MowedGrid


def coverage_share(mowed: np.ndarray, factor: int) -> np.ndarray:
    """Mowed share (0..1) of each block of ``factor`` x ``factor`` cells (edges cut off)."""
    h, w = (mowed.shape[0] // factor) * factor, (mowed.shape[1] // factor) * factor
    return mowed[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


class CoverageLayer:
    """A boolean raster of mowed ground in the map frame."""

    def __init__(self, origin_xy: tuple[float, float], width_m: float, height_m: float,
                 resolution_m: float = 0.02, cut_width_m: float = 0.22) -> None:
        """A layer covering ``width_m`` x ``height_m`` from ``origin_xy`` (lower-left)."""
        self.origin = np.asarray(origin_xy, dtype=np.float64)
        self.res = float(resolution_m)
        self.cut_width_m = float(cut_width_m)
        self.shape = (int(math.ceil(height_m / self.res)), int(math.ceil(width_m / self.res)))
        self.mowed = np.zeros(self.shape, dtype=bool)
        r = int(math.ceil(cut_width_m / 2 / self.res))
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        self._disc = (xx ** 2 + yy ** 2) * self.res ** 2 <= (cut_width_m / 2) ** 2
        self._last: np.ndarray | None = None

    def update(self, x_m: float, y_m: float, blade_on: bool) -> None:
        """Record the deck at a new pose; the segment from the last pose is swept."""
        p = np.array([x_m, y_m], dtype=np.float64)
        if not blade_on or not np.all(np.isfinite(p)):
            self._last = None
            return
        start = p if self._last is None else self._last
        n = max(1, int(math.ceil(np.hypot(*(p - start)) / self.res)))
        r = self._disc.shape[0] // 2
        for f in np.linspace(0.0, 1.0, n + 1)[(1 if self._last is not None else 0):]:
            # the disc is centred on the cell holding the point (origin: corner of cell (0, 0))
            c = cell_index(start + f * (p - start), self.origin, self.res)
            r0, c0 = c[1] - r, c[0] - r
            rs, cs = max(r0, 0), max(c0, 0)
            re = min(r0 + 2 * r + 1, self.shape[0])
            ce = min(c0 + 2 * r + 1, self.shape[1])
            if rs >= re or cs >= ce:
                continue
            self.mowed[rs:re, cs:ce] |= self._disc[rs - r0:re - r0, cs - c0:ce - c0]
        self._last = p

    def mowed_area_m2(self, within=None) -> float:
        """Mowed area, optionally only inside a geometry (such as the mowable lawn)."""
        return self.grid().area_m2(within)

    def mowed_share(self, mowable) -> float:
        """Share of the mowable area already mowed (mower_maps.mowed's one formula)."""
        return self.grid().share(mowable)

    def grid(self) -> MowedGrid:
        """The layer as a :class:`MowedGrid` (a view: no copy)."""
        return MowedGrid(self.mowed, (float(self.origin[0]), float(self.origin[1])), self.res)

    def published(self, factor: int) -> MowedGrid:
        """The layer as map/coverage carries it (what the mission sees on the robot).

        Cells ``factor`` times larger, mowed where half or more of their fine cells are.
        """
        return MowedGrid(coverage_share(self.mowed, factor) >= 0.5,
                         (float(self.origin[0]), float(self.origin[1])), self.res * factor)

    def save(self, path: str | Path) -> Path:
        """Write atomically (a crash mid-write never leaves a half file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix='.npz')
        with os.fdopen(fd, 'wb') as fh:
            np.savez_compressed(fh, mowed=np.packbits(self.mowed), shape=self.shape,
                                origin=self.origin, res=self.res, cut=self.cut_width_m)
        os.replace(tmp, path)
        return path

    @staticmethod
    def load(path: str | Path) -> CoverageLayer:
        """Restore a saved layer exactly; ValueError if the file is damaged."""
        try:
            with np.load(path) as d:
                shape = tuple(int(v) for v in d['shape'])
                layer = CoverageLayer(tuple(d['origin']), shape[1] * float(d['res']),
                                      shape[0] * float(d['res']), float(d['res']),
                                      float(d['cut']))
                bits = np.unpackbits(d['mowed'])[:shape[0] * shape[1]]
                layer.shape = shape
                layer.mowed = bits.reshape(shape).astype(bool)
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f'{path}: not a saved coverage layer ({exc})') from None
        return layer
