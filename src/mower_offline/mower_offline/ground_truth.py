"""The simulator's ground truth of a mowing run: what the stack is scored against.

The stack only sees its own maps; :class:`GroundTruth` knows the simulator's: where the hidden
obstacles really are, which 2 cm cells the deck really cut and how often. From it come the
run's coverage figure, the passes heat map of the report and which hidden obstacles were found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from mower_coverage import CoveragePlanner
from mower_mapping.obstacles import obstacle_core_centre
from mower_maps import LawnMap
from mower_maps.geometry import cell_centre, cell_index
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
    return planner.plan(lawn).area.reachable


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
        self._reach_mask: np.ndarray | None = None
        self.passes = np.zeros(sim.mowed.shape, dtype=np.uint8)  # per 2 cm cell, up to 255
        self._last_pass = np.full(sim.mowed.shape, -1e9, dtype=np.float32)

    def coverage_pct(self) -> float:
        """Share of the reachable mowable area mowed (simulator ground truth), percent.

        Counted on the simulator's 2 cm raster against the reachable area rasterised once.
        """
        sim = self.sim
        if self._reach_mask is None:
            h, w = sim.mowed.shape
            rows, cols = np.mgrid[0:h, 0:w]
            centres = cell_centre(
                np.stack([cols, rows], axis=-1), sim.coverage_origin, COVERAGE_RES_M
            )
            self._reach_mask = shapely.contains_xy(
                self.reachable, centres[..., 0], centres[..., 1]
            )
        total = int(self._reach_mask.sum())
        mowed = int(np.count_nonzero(sim.mowed & self._reach_mask))
        return 100.0 * mowed / total if total else 0.0

    def stamp_passes(self) -> None:
        """Count the deck's passes per 2 cm cell at the current pose (blade on only).

        A cell under the deck again after more than ``NEW_PASS_AFTER_S`` away is another pass.
        """
        sim = self.sim
        if not sim.blade_on:
            return
        x, y, _ = sim.pose
        r = int(math.ceil(self.cut_width_m / 2 / COVERAGE_RES_M))
        c = cell_index(np.array([x, y]), sim.coverage_origin, COVERAGE_RES_M)  # the deck's cell
        r0, c0 = int(c[1]) - r, int(c[0]) - r
        h, w = self.passes.shape
        if r0 < 0 or c0 < 0 or r0 + 2 * r + 1 > h or c0 + 2 * r + 1 > w:
            return
        deck = sim.deck_mask
        last = self._last_pass[r0 : r0 + 2 * r + 1, c0 : c0 + 2 * r + 1]
        new = deck & (sim.time_s - last > NEW_PASS_AFTER_S)
        block = self.passes[r0 : r0 + 2 * r + 1, c0 : c0 + 2 * r + 1]
        block[new] = np.minimum(block[new].astype(np.int16) + 1, 255).astype(np.uint8)
        last[deck] = sim.time_s

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
