"""Stage 1, area: what may be mowed and where the robot's centre may go."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.ops import nearest_points

from mower_coverage.geometry import polygons_of
from mower_coverage.params import PlannerParams
from mower_maps import LawnMap
from mower_maps.dock import DockCheck, dock_rule

BUFFER_QUAD_SEGS = 8  # segments per quarter circle in every buffer the planner makes


class PlanningError(RuntimeError):
    """The lawn cannot be planned (for example, too narrow for the robot anywhere)."""


@dataclass(frozen=True)
class AreaModel:
    """The planning areas of one lawn.

    ``allowed`` is where the robot's centre may be (mowable area eroded by half the body width);
    ``region`` is the connected part of it that the robot can reach from its start, shrunk by
    the planner's safety margin, and is what the later stages mow. With a dock, ``dock`` is
    the dock rule's verdict (``mower_maps.dock``) and ``start`` its approach point: the plan
    starts there, where undocking ends.

    ``transit`` is where the robot drives between the things it mows: ``region`` itself on a
    map without navigation areas; with them, the part of the drivable area (lawn and
    navigation areas, eroded and shrunk alike) that holds the start, and ``region`` is then
    every part of the lawn it reaches (a MultiPolygon where a navigation area joins lawns).
    """

    mowable: Polygon | MultiPolygon
    allowed: Polygon | MultiPolygon
    region: Polygon | MultiPolygon
    reachable: Polygon | MultiPolygon  # region's allowed component dilated by half the cut
    unreachable_m2: float  # mowable area in parts cut off from the start (too narrow between)
    start: Point
    dock: DockCheck | None = None
    transit: Polygon | None = None  # None: region

    @property
    def drive_region(self) -> Polygon | MultiPolygon:
        """Where transits go: :attr:`transit`, or the mowed region on a map without one."""
        return self.region if self.transit is None else self.transit


class AreaBuilder(ABC):
    """Interface of the area stage."""

    @abstractmethod
    def build(self, lawn: LawnMap, params: PlannerParams) -> AreaModel:
        """Compute the areas of a lawn for a robot."""


def erode(geom, distance_m: float):
    """Morphological erosion with round joins (the shape of a disc robot's reach)."""
    if distance_m <= 0:
        return geom
    return geom.buffer(-distance_m, quad_segs=BUFFER_QUAD_SEGS, join_style='round')


def close_narrow_passages(allowed, margin_m: float):
    """``allowed`` (where the centre may go) less its necks and strips narrower than 2 margins.

    The pieces a morphological opening by ``margin_m`` takes away, except the small ones at
    convex corners (no wider than 1.5 margins): a lawn passage less than ``2 * margin_m`` wider
    than the body is not driven, and what lies only beyond it becomes unreachable.
    """
    if margin_m <= 0 or allowed.is_empty:
        return allowed
    # grown back by 0.1 mm more: no slivers of rounding along straight edges
    opened = erode(allowed, margin_m).buffer(margin_m + 1e-4, quad_segs=BUFFER_QUAD_SEGS)
    thin = shapely.difference(allowed, opened)
    cut = [p for p in polygons_of(thin) if shapely.minimum_bounding_radius(p) > 1.5 * margin_m]
    return shapely.difference(allowed, shapely.union_all(cut)) if cut else allowed


class DiscRobotArea(AreaBuilder):
    """Areas for a robot whose footprint is a disc of the body width."""

    def build(self, lawn: LawnMap, params: PlannerParams) -> AreaModel:
        """Mowable area, allowed area for the centre, and the reachable component."""
        mowable = lawn.mowable_area()
        if mowable.is_empty or mowable.area <= 0:
            raise PlanningError(f'{lawn.name}: no mowable area (keep-outs cover every boundary)')
        if not lawn.navigation.is_empty:
            return self._with_navigation(lawn, params, mowable)
        allowed = close_narrow_passages(
            erode(mowable, params.clearance_m), params.passage_margin_m
        )
        dock, comp, region, start = _start_part(lawn, params, allowed)
        # what the robot can reach from the part it plans in (a neck thinner than the margin
        # counts as closed)
        reachable, unreachable = _reach(region, comp, allowed, mowable, params)
        return AreaModel(mowable, allowed, region, reachable, unreachable, start, dock)

    def _with_navigation(
        self, lawn: LawnMap, params: PlannerParams, mowable: Polygon | MultiPolygon
    ) -> AreaModel:
        """Areas of a map with navigation areas: drive through them, mow only the lawn.

        The drivable area (lawn and navigation areas, less keep-outs and obstacles) is eroded
        and shrunk as the lawn is; its part at the start is the transit region, and every part
        of the eroded lawn inside it is mowed.
        """
        drivable = close_narrow_passages(
            erode(lawn.drivable_area(), params.clearance_m), params.passage_margin_m
        )
        dock, _, transit, start = _start_part(lawn, params, drivable)
        allowed = close_narrow_passages(
            erode(mowable, params.clearance_m), params.passage_margin_m
        )
        mow = shapely.intersection(erode(allowed, params.safety_margin_m), transit)
        parts = [p for p in polygons_of(mow) if p.area > 1e-6]
        if not parts:
            raise PlanningError(f'{lawn.name}: no lawn is reachable from the start')
        region = parts[0] if len(parts) == 1 else MultiPolygon(parts)
        reachable, unreachable = _reach(region, allowed, allowed, mowable, params)
        return AreaModel(
            mowable, allowed, region, reachable, unreachable, start, dock, transit=transit
        )


def _start_part(
    lawn: LawnMap, params: PlannerParams, allowed: Polygon | MultiPolygon
) -> tuple[DockCheck | None, Polygon, Polygon, Point]:
    """The dock rule's verdict, the component of ``allowed`` the plan starts in, its part.

    The component and its part (left by the safety margin) are those at the dock's approach
    point (the largest without a dock); the start is the approach point, or the nearest point
    of that part to it (its lowest-left vertex without a dock).
    """
    components = sorted(polygons_of(allowed), key=lambda p: (-p.area, p.bounds))
    if not components:
        raise PlanningError(
            f'{lawn.name}: the lawn is nowhere wide enough for a robot '
            f'{params.body_width_m:.2f} m wide'
        )
    # the dock rule with this robot's body: the plan starts at the dock's approach point
    dock = dock_rule(lawn, footprint_radius_m=params.clearance_m, clearance_m=params.clearance_m)
    if dock is not None and not dock.ok:
        raise PlanningError(f'{lawn.name}: {dock.problem}')
    approach = None if dock is None else Point(*dock.approach_xy)
    if approach is not None:
        comp = min(components, key=lambda p: (p.distance(approach), -p.area))
    else:
        comp = components[0]
    parts = sorted(
        polygons_of(erode(comp, params.safety_margin_m)), key=lambda p: (-p.area, p.bounds)
    )
    if not parts:
        raise PlanningError(f'{lawn.name}: the reachable area is too small to plan')
    if approach is None:
        region = parts[0]
        xy = min(region.exterior.coords, key=lambda c: (c[0], c[1]))
        return dock, comp, region, Point(xy[0], xy[1])
    region = min(parts, key=lambda p: (p.distance(approach), -p.area))
    start = approach if region.covers(approach) else nearest_points(region, approach)[0]
    if not region.covers(start):  # nearest point can sit a hair outside
        ring = min([region.exterior, *region.interiors], key=start.distance)
        start = ring.interpolate(ring.project(start))
        start = Point(start.x, start.y)
    return dock, comp, region, start


def _reach(
    region: Polygon | MultiPolygon,
    within: Polygon | MultiPolygon,
    allowed: Polygon | MultiPolygon,
    mowable: Polygon | MultiPolygon,
    params: PlannerParams,
) -> tuple[Polygon | MultiPolygon, float]:
    """What the deck reaches from ``region``, and the mowable area (m²) it cannot reach.

    ``region`` is grown back by the margin inside ``within``, then by half the cut.
    """
    half_cut = params.cut_width_m / 2.0
    reach_centre = shapely.intersection(
        region.buffer(params.safety_margin_m, quad_segs=BUFFER_QUAD_SEGS), within
    )
    reachable = shapely.intersection(
        reach_centre.buffer(half_cut, quad_segs=BUFFER_QUAD_SEGS), mowable
    )
    all_reach = shapely.intersection(allowed.buffer(half_cut, quad_segs=BUFFER_QUAD_SEGS), mowable)
    return reachable, max(0.0, all_reach.area - reachable.area)
