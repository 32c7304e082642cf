"""When the camera's obstacles call for a new plan: one policy for the robot and the simulator.

coverage_node (obstacles from map/obstacles, progress from mower/state, forced by the
``mower/replan`` service the mission calls when it stays blocked) and the simulated run
(obstacles from the same mapping core, progress from its mission) both feed a
:class:`ReplanPolicy` and plan again exactly when it says so, around its obstacles.

The rule: obstacles the camera sees count, known ones too (the planner then keeps the detection
margin from what the camera saw, so the safety stop is not triggered by a stripe grazing it);
obstacles that do not touch the lawn are left out. A change of the obstacles by less than
``min_change_m2`` is ignored. A larger change replans when the rest of the plan (from the
mission's progress) comes within the planner's clearance of the added obstacles; otherwise the
new obstacles are kept for the next plan without replanning now. Obstacles that went away, or
obstacles already there, never call for a plan by themselves: a mower standing by an obstacle
it found (the rest of its plan starts within the clearance) replanned at every label
flickering anywhere, and crept along large_lawn's edges. A forced update (the mission
asked) always replans, with the obstacles seen now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from mower_maps import LawnMap
from mower_node_kit.params import check_ranges, param

#: a plan keeps the clearance from the obstacles it was made around, to within this (m)
CLEARANCE_TOL_M = 0.02


@dataclass(frozen=True)
class ReplanParams:
    """The policy's settings (coverage_node parameters of the same names)."""

    replan_min_change_m2: float = param(
        0.05, 'replan when detected obstacles change by more than this (m²)', 0.0, 100.0
    )
    min_obstacle_area_m2: float = param(
        0.01, 'detected obstacles smaller than this are ignored (m²)', 0.0, 100.0
    )

    def __post_init__(self) -> None:
        """Ranges as declared."""
        check_ranges(self)


@dataclass(frozen=True)
class ReplanDecision:
    """What the policy decided on one update."""

    replan: bool
    reason: str
    obstacles: tuple[Polygon, ...] = field(default=())  # what the next plan goes around


class ReplanPolicy:
    """Decides, from detected obstacles and what is left of the plan, when to plan again."""

    def __init__(
        self, lawn: LawnMap, clearance_m: float, params: ReplanParams | None = None
    ) -> None:
        """``clearance_m``: the planner's distance from edges (a path that close is blocked)."""
        self.lawn = lawn
        self.clearance_m = float(clearance_m)
        self.params = params or ReplanParams()
        self.obstacles: list[Polygon] = []  # what the current (or next) plan goes around
        self.replans = 0

    def relevant(self, detected: list[Polygon]) -> list[Polygon]:
        """The detected obstacles that count: touching the lawn, large enough, valid."""
        out = []
        for p in detected:
            if p.is_empty or p.area < self.params.min_obstacle_area_m2:
                continue
            if p.intersects(self.lawn.boundary):
                out.append(p)
        return out

    def update(
        self, detected: list[Polygon], rest_of_plan: np.ndarray | None, force: bool = False
    ) -> ReplanDecision:
        """Take the obstacles seen now; say whether to plan again.

        On a replan, plan around :attr:`obstacles` (:meth:`lawn_for_planning`).
        ``rest_of_plan``: the plan's points still to be driven ((N, 2); None or fewer than
        two points: nothing left, so nothing to block).
        """
        new = self.relevant(detected)
        if force:
            self.obstacles = new
            self.replans += 1
            return ReplanDecision(True, 'requested', tuple(new))
        after = shapely.union_all(new) if new else Polygon()
        before = shapely.union_all(self.obstacles) if self.obstacles else Polygon()
        change = float(shapely.symmetric_difference(after, before).area)
        if change < self.params.replan_min_change_m2:
            return ReplanDecision(
                False, f'obstacles changed by {change:.3f} m² only', tuple(self.obstacles)
            )
        rest = None if rest_of_plan is None else np.asarray(rest_of_plan, dtype=float)
        self.obstacles = new
        if rest is None or len(rest) < 2:
            return ReplanDecision(False, 'nothing left of the plan to block', tuple(new))
        added = shapely.difference(after, before)
        if added.is_empty or shapely.LineString(rest).distance(added) >= (
            self.clearance_m - CLEARANCE_TOL_M
        ):
            return ReplanDecision(
                False, 'the added obstacles are off the rest of the plan', tuple(new)
            )
        self.replans += 1
        return ReplanDecision(True, f'{len(new)} detected obstacle(s) on the plan', tuple(new))

    def lawn_for_planning(self) -> LawnMap:
        """The lawn with the obstacles the policy holds."""
        return self.lawn.with_obstacles(self.obstacles) if self.obstacles else self.lawn
