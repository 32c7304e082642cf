"""Stage 4a, stripe angle: fixed, automatic (fewest turns), or rotating from run to run."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from mower_coverage.geometry import cumulative_length, rings_of, rotate


class AngleSelector(ABC):
    """Interface of the angle stage: an angle in radians, ENU, in ``[0, pi)``."""

    @abstractmethod
    def select(self, inner: Polygon | MultiPolygon, spacing_m: float) -> float:
        """The stripe direction for this lawn."""


class FixedAngle(AngleSelector):
    """Always the same angle."""

    def __init__(self, angle_deg: float) -> None:
        """Stripes at ``angle_deg`` (ENU, counter-clockwise from east)."""
        self.angle_rad = math.radians(angle_deg) % math.pi

    def select(self, inner: Polygon | MultiPolygon, spacing_m: float) -> float:
        """The fixed angle."""
        return self.angle_rad


class RotatingAngle(FixedAngle):
    """A base angle plus an increment per mowing run, so the grass is not always cut alike."""

    def __init__(self, base_deg: float, increment_deg: float, run_index: int) -> None:
        """Angle ``base + run_index * increment`` degrees."""
        super().__init__(base_deg + run_index * increment_deg)


def count_chords(rings: list[np.ndarray], angle_rad: float, spacing_m: float) -> int:
    """How many stripes (chords of the area on lines at ``angle_rad``) there are."""
    pts = [rotate(r, -angle_rad) for r in rings]
    y = np.concatenate([p[:, 1] for p in pts])
    ymin, ymax = float(y.min()), float(y.max())
    y_first, n = line_positions(ymin, ymax, spacing_m)
    total = 0
    for p in pts:
        y0, y1 = p[:-1, 1], p[1:, 1]
        lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
        jlo = np.ceil((lo - y_first) / spacing_m)
        jhi = np.ceil((hi - y_first) / spacing_m) - 1
        total += int(np.clip(jhi - jlo + 1, 0, None).sum())
    return total // 2 if n else 0


def line_positions(ymin: float, ymax: float, spacing_m: float) -> tuple[float, int]:
    """First line and line count: lines ``spacing_m`` apart, centred on ``[ymin, ymax]``."""
    h = ymax - ymin
    # a height of exactly k spacings gets k lines, not k + 1 lying on the two edges
    n = int(math.floor(h / spacing_m - 1e-9)) + 1 if h > 0 else 1
    return ymin + (h - (n - 1) * spacing_m) / 2.0, n


class AutoAngle(AngleSelector):
    """Brute force over angles: the fewest stripes (so turns), ties to the smaller angle.

    Candidates are a regular sweep plus the directions of the area's longest edges, which
    is where the optimum usually lies for garden shapes.
    """

    def __init__(self, step_deg: float = 5.0, edge_candidates: int = 8) -> None:
        """Sweep every ``step_deg`` degrees and try the ``edge_candidates`` longest edges."""
        self.step_deg = step_deg
        self.edge_candidates = edge_candidates

    def candidates(self, rings: list[np.ndarray]) -> list[float]:
        """Angles tried, radians in ``[0, pi)``, sorted and unique to 1e-9."""
        angles = list(np.radians(np.arange(0.0, 180.0, self.step_deg)))
        if rings:
            ext = rings[0]
            seg = np.diff(ext, axis=0)
            lengths = np.hypot(seg[:, 0], seg[:, 1])
            for i in np.argsort(-lengths, kind='stable')[: self.edge_candidates]:
                angles.append(math.atan2(seg[i, 1], seg[i, 0]) % math.pi)
        return sorted({round(a % math.pi, 9) for a in angles})

    def select(self, inner: Polygon | MultiPolygon, spacing_m: float) -> float:
        """The candidate angle with the fewest stripes."""
        rings = rings_of(inner)
        if not rings:
            return 0.0
        rings = sorted(rings, key=lambda r: -cumulative_length(r)[-1])
        best = min(self.candidates(rings), key=lambda a: (count_chords(rings, a, spacing_m), a))
        return float(best)
