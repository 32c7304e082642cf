"""The coverage planner: area -> headlands -> angle -> decomposition -> route -> path."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from shapely.geometry import MultiPolygon, Point, Polygon

from mower_coverage.angle import AngleSelector, AutoAngle, FixedAngle, RotatingAngle
from mower_coverage.area import AreaBuilder, AreaModel, DiscRobotArea, PlanningError
from mower_coverage.decomposition import (
    BoustrophedonDecomposition,
    Cell,
    Chords,
    Decomposer,
    scan_chords,
)
from mower_coverage.headlands import ConstantOffsetHeadlands, HeadlandGenerator, Headlands
from mower_coverage.params import PlannerParams
from mower_coverage.path import ArcTurns, CoveragePath, PathGenerator, PivotTurns
from mower_coverage.route import Route, RoutePlanner, SnakeRoute
from mower_coverage.transit import TransitPlanner
from mower_maps import LawnMap

DOCK_START_TOL_M = 0.01  # the plan's start may differ this much from the dock's approach point


@dataclass(frozen=True)
class Plan:
    """Everything the planner produced, stage by stage."""

    lawn: LawnMap
    params: PlannerParams
    area: AreaModel
    headlands: Headlands
    angle_rad: float
    chords: Chords
    cells: list[Cell]
    route: Route
    path: CoveragePath
    plan_time_s: float
    warnings: tuple[str, ...] = ()

    @property
    def angle_deg(self) -> float:
        """Stripe angle in degrees (ENU, from east)."""
        return math.degrees(self.angle_rad)


def angle_selector(params: PlannerParams) -> AngleSelector:
    """The angle stage that ``params.stripe_angle`` names."""
    if params.stripe_angle == 'fixed':
        return FixedAngle(params.stripe_angle_deg)
    if params.stripe_angle == 'rotating':
        return RotatingAngle(params.stripe_angle_deg, params.angle_increment_deg, params.run_index)
    return AutoAngle(params.auto_angle_step_deg)


def params_for_map(base: PlannerParams, lawn: LawnMap) -> PlannerParams:
    """Apply the mowing settings stored in a map on top of ``base``."""
    s = lawn.settings
    changes: dict = {}
    if s.headland_passes is not None:
        changes['headland_passes'] = s.headland_passes
    if s.stripe_angle_deg is not None:
        changes['stripe_angle_deg'] = s.stripe_angle_deg
        changes['stripe_angle'] = 'rotating' if s.angle_increment_deg else 'fixed'
        changes['angle_increment_deg'] = s.angle_increment_deg
    return base.updated(**changes) if changes else base


class CoveragePlanner:
    """Runs the stages in order; each stage can be swapped for another implementation."""

    def __init__(
        self,
        params: PlannerParams | None = None,
        area: AreaBuilder | None = None,
        headlands: HeadlandGenerator | None = None,
        angle: AngleSelector | None = None,
        decomposer: Decomposer | None = None,
        route: RoutePlanner | None = None,
        path: PathGenerator | None = None,
    ) -> None:
        """A planner with the default stages unless others are given."""
        self.params = params or PlannerParams()
        self.area = area or DiscRobotArea()
        self.headlands = headlands or ConstantOffsetHeadlands()
        self.angle = angle or angle_selector(self.params)
        self.decomposer = decomposer or BoustrophedonDecomposition()
        self.route = route or SnakeRoute()
        if path is None:
            r = self.params.turn_radius_m
            path = ArcTurns(r) if r > 0 else PivotTurns()
        self.path = path

    def reachable(self, lawn: LawnMap) -> Polygon | MultiPolygon:
        """The area stage alone: what the deck can reach (``plan(lawn).area.reachable``)."""
        return self.area.build(lawn, self.params).reachable

    def plan(self, lawn: LawnMap) -> Plan:
        """Plan a lawn; raise :class:`PlanningError` with a clear message if it cannot be."""
        p = self.params
        t0 = time.perf_counter()
        area = self.area.build(lawn, p)
        heads = self.headlands.generate(
            area.region, p.stripe_spacing_m, p.headland_passes, p.cut_width_m
        )
        if not heads.levels:
            raise PlanningError(f'{lawn.name}: no headland fits in the reachable area')
        angle = self.angle.select(heads.inner, p.stripe_spacing_m)
        chords = scan_chords(list(heads.levels[-1]), angle, p.stripe_spacing_m)
        cells = self.decomposer.decompose(chords)
        drive = area.drive_region  # the mowed region, and navigation areas where the map has
        route = self.route.plan(drive, area.start, heads, chords, cells)
        if area.dock is not None and route.legs:  # and ends there: the way back is planned too
            home = TransitPlanner(drive).plan(
                route.legs[-1].points[-1], np.array([area.start.x, area.start.y])
            )
            if home is not None:
                route.add('transit', home)
        path = self.path.generate(route, drive, p.pose_spacing_m)
        if len(path.points) < 2:
            raise PlanningError(f'{lawn.name}: the plan is empty')
        warnings = [f'not reached: {what}' for what in route.unreached]
        if area.dock is not None:  # the plan starts at the approach point, where undocking ends
            off = area.start.distance(Point(*area.dock.approach_xy))
            if off > DOCK_START_TOL_M:
                warnings.append(
                    f"the plan starts {off:.2f} m from the dock's approach point "
                    '(obstacles found in the way)'
                )
        if area.unreachable_m2 > 0.01:
            warnings.append(
                f'{area.unreachable_m2:.2f} m² of lawn is cut off from the start '
                'by passages narrower than the robot and its passage margin'
            )
        return Plan(
            lawn,
            p,
            area,
            heads,
            angle,
            chords,
            cells,
            route,
            path,
            time.perf_counter() - t0,
            tuple(warnings),
        )
