"""Plan quality: coverage, overlap, length against the lower bound, turns and violations."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import shapely

from mower_coverage.area import BUFFER_QUAD_SEGS, AreaModel
from mower_coverage.path import CoveragePath

VIOLATION_SAMPLE_M = 0.05  # spacing of the samples checked against the allowed area
VIOLATION_TOL_M = 1e-6  # numerical tolerance of that check


@dataclass(frozen=True)
class PlanMetrics:
    """The figures ``mower plan --json`` prints (areas in m², shares in percent)."""

    coverage_pct: float  # share of the mowable area swept by the deck
    coverage_reachable_pct: float  # share of the reachable area swept by the deck
    overlap_pct: float  # deck area driven twice or more, as a share of the swept area
    path_length_m: float
    lower_bound_m: float  # mowable area / cut width
    length_ratio: float  # path_length_m / lower_bound_m
    turns: int
    violations: int  # path samples (every 5 cm) whose footprint leaves the allowed area
    samples: int
    mowable_m2: float
    reachable_m2: float
    unreachable_m2: float
    swept_m2: float

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def swept_area(path: CoveragePath, cut_width_m: float):
    """The ground the deck passes over (blade on along the whole path)."""
    if len(path.points) < 2:
        return shapely.Polygon()
    line = shapely.linestrings(path.points)
    return line.buffer(cut_width_m / 2.0, quad_segs=BUFFER_QUAD_SEGS)


def count_violations(path: CoveragePath, allowed) -> tuple[int, int]:
    """(samples outside ``allowed``, samples checked), with samples every 5 cm."""
    pts = path.samples(VIOLATION_SAMPLE_M)
    if len(pts) == 0:
        return 0, 0
    zone = allowed.buffer(VIOLATION_TOL_M)
    shapely.prepare(zone)
    inside = shapely.covers(zone, shapely.points(pts))
    return int((~inside).sum()), len(pts)


def evaluate(area: AreaModel, path: CoveragePath, cut_width_m: float) -> PlanMetrics:
    """Measure a path on its lawn."""
    swept = swept_area(path, cut_width_m)
    mowable_m2 = float(area.mowable.area)
    reach_m2 = float(area.reachable.area)
    covered = float(shapely.intersection(swept, area.mowable).area)
    covered_reach = float(shapely.intersection(swept, area.reachable).area)
    length = path.length_m
    swept_m2 = float(swept.area)
    overlap = 100.0 * max(0.0, length * cut_width_m - swept_m2) / swept_m2 if swept_m2 else 0.0
    lower = mowable_m2 / cut_width_m
    bad, n = count_violations(path, area.allowed)
    return PlanMetrics(
        coverage_pct=100.0 * covered / mowable_m2 if mowable_m2 else 0.0,
        coverage_reachable_pct=100.0 * covered_reach / reach_m2 if reach_m2 else 0.0,
        overlap_pct=overlap,
        path_length_m=length,
        lower_bound_m=lower,
        length_ratio=length / lower if lower else float('nan'),
        turns=path.turns,
        violations=bad,
        samples=n,
        mowable_m2=mowable_m2,
        reachable_m2=reach_m2,
        unreachable_m2=float(area.unreachable_m2),
        swept_m2=swept_m2,
    )


def uncovered(area: AreaModel, path: CoveragePath, cut_width_m: float):
    """The reachable ground the deck misses (for plots and debugging)."""
    return shapely.difference(area.reachable, swept_area(path, cut_width_m))
