"""The simulator's ground truth of a mowing run: what the stack is scored against.

The stack only sees its own maps; :class:`GroundTruth` knows the simulator's: where the hidden
obstacles really are, which 2 cm cells the deck really cut and how often. From it come the
run's coverage figure, the passes heat map of the report and which hidden obstacles were found.

On a large lawn these are large rasters: the cut cells and the pass counts are kept in tiles
allocated where the deck went (mower_maps.tiles), the reachable area is rasterised tile by
tile, and the time each cell was last cut is not stored at all (the deck's last few seconds of
stamps tell whether a cell was just cut).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from mower_coverage import CoveragePlanner
from mower_mapping.obstacles import obstacle_core_centre
from mower_maps import LawnMap
from mower_maps.geometry import cell_index
from mower_maps.tiles import TiledRaster, TileRegion
from mower_sim.sim import COVERAGE_RES_M, LawnSim
from mower_sim.world import HiddenObstacle

NEW_PASS_AFTER_S = 3.0  # a cell cut again after this long away counts as another pass


def truth_reachable(
    lawn: LawnMap,
    planner: CoveragePlanner,
    hidden_footprints: Sequence[Any],
    obstacle_margin_m: float,
) -> Any:
    """What the deck can reach, the clearances of the configuration kept.

    The planner's reachable area (half the body width from edges and known obstacles) for the
    lawn with the hidden obstacles added as the stack treats obstacles the camera finds: their
    true footprint grown by mapping's ``obstacle_margin_m``.
    """
    hidden = [fp.buffer(obstacle_margin_m) for fp in hidden_footprints]
    lawn = lawn.with_obstacles(hidden, 'hidden') if hidden else lawn
    return planner.reachable(lawn)


class GroundTruth:
    """Coverage, passes and hidden obstacles of one run, from the simulator's own records."""

    def __init__(
        self,
        sim: LawnSim,
        lawn: LawnMap,
        planner: CoveragePlanner,
        hidden: Sequence[HiddenObstacle],
        obstacle_margin_m: float,
        cut_width_m: float,
    ) -> None:
        """Plan the reachable area (with the hidden obstacles) and start the pass counts."""
        self.sim = sim
        self.hidden = tuple(hidden)
        self.obstacle_margin_m = obstacle_margin_m
        self.cut_width_m = cut_width_m
        self.reachable = truth_reachable(
            lawn, planner, sim.world.hidden_footprints, obstacle_margin_m
        )
        self.region = TileRegion(self.reachable, sim.coverage_origin, COVERAGE_RES_M)
        self._reach_cells: int | None = None
        self.passes = TiledRaster(sim.mowed.shape, np.uint8)  # per 2 cm cell, up to 255
        # (time, first row, first column) of the deck's stamps of the last NEW_PASS_AFTER_S
        self._recent: deque[tuple[np.float32, int, int]] = deque()

    def coverage_pct(self) -> float:
        """Share of the reachable mowable area mowed (simulator ground truth), percent.

        Counted on the simulator's 2 cm raster: the cells whose centre lies in the reachable
        area, and of those the cut ones.
        """
        mowed = self.sim.mowed.count_within(self.region)
        if not mowed:  # nothing cut yet: the reachable cells need not be counted yet
            return 0.0
        if self._reach_cells is None:
            self._reach_cells = self.region.count(self.sim.mowed.shape)
        total = self._reach_cells
        return 100.0 * mowed / total if total else 0.0

    def stamp_passes(self) -> None:
        """Count the deck's passes per 2 cm cell at the current pose (blade on only).

        A cell under the deck again after more than ``NEW_PASS_AFTER_S`` away is another pass.
        Times are compared in float32 (as a float32 raster of the last cut would hold them).
        """
        sim = self.sim
        if not sim.blade_on:
            return
        x, y, _ = sim.pose
        r = int(math.ceil(self.cut_width_m / 2 / COVERAGE_RES_M))
        c = cell_index(np.array([x, y]), sim.coverage_origin, COVERAGE_RES_M)  # the deck's cell
        r0, c0 = int(c[1]) - r, int(c[0]) - r
        h, w = self.passes.shape
        n = 2 * r + 1
        if r0 < 0 or c0 < 0 or r0 + n > h or c0 + n > w:
            return
        deck = sim.deck_mask
        now = np.float32(sim.time_s)
        recent = self._recent
        while recent and now - recent[0][0] > NEW_PASS_AFTER_S:
            recent.popleft()
        cut_lately = np.zeros_like(deck)
        for _, rr, cc in recent:  # cells under the deck at a stamp of the last few seconds
            dr, dc = rr - r0, cc - c0
            if abs(dr) < n and abs(dc) < n:
                cut_lately[max(dr, 0) : n + min(dr, 0), max(dc, 0) : n + min(dc, 0)] |= deck[
                    max(-dr, 0) : n + min(-dr, 0), max(-dc, 0) : n + min(-dc, 0)
                ]
        new = deck & ~cut_lately
        if new.any():
            block = self.passes.read(r0, c0, n, n)
            block[new] = np.minimum(block[new].astype(np.int16) + 1, 255).astype(np.uint8)
            self.passes.write(r0, c0, block)
        recent.append((now, r0, c0))

    def found(self, detected: Sequence[Any]) -> list[bool]:
        """Per hidden obstacle: whether one of the ``detected`` polygons is on it.

        A detection's core (the polygon less the obstacle margin) must be centred within
        ``max(0.3, size / 2 + 0.1)`` m of the obstacle.
        """
        centres = [obstacle_core_centre(p, self.obstacle_margin_m) for p in detected]
        out = []
        for h in self.hidden:
            d = min((math.hypot(cx - h.x_m, cy - h.y_m) for cx, cy in centres), default=math.inf)
            out.append(d <= max(0.3, h.size_m / 2 + 0.1))
        return out
