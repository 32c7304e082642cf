"""Where a charging dock may be: one rule for the map check, the planner and the geofence.

The docked mower stands on the dock point, facing ``heading_deg``. It leaves and reaches the dock
along the dock's axis: the **approach point** lies ``undock_distance_m`` from the dock on that
axis, behind the docked mower (it drives onto the dock forwards) or, when only that side is
free, in front of it (it reverses onto the dock). The **corridor** is what the mower's
footprint (a disc of ``footprint_radius_m``) sweeps between the dock and the approach point.

A dock may be used when all three hold (:func:`dock_rule`):

1. the dock point lies on the lawn or at most :data:`DOCK_MAX_OUTSIDE_M` (0.3 m) outside its
   boundaries;
2. the corridor, the docked mower's footprint included, overlaps no keep-out and no obstacle
   of the map;
3. the approach point lies where the mower's centre may drive: on the lawn, at least
   ``clearance_m`` (half the body width) from every edge, keep-out and obstacle.

The map check (:func:`mower_maps.lawn_map.map_from_geojson`, so ``mower map check`` and every
map loader) refuses a dock that breaks the rule with the stack's default robot
(:data:`FOOTPRINT_RADIUS_M`, :data:`CLEARANCE_M`, :data:`UNDOCK_DISTANCE_M`); the coverage
planner applies it with its own body width, and its plan starts and ends at the approach point;
the safety supervisor's geofence (``mower_control.safety.fence_region``) adds the corridor to
the lawn, so a legal docking is never stopped; the mission (``Mission.dock_line``) picks the
approach side with :func:`approach_point`. Obstacles found at run time
(``LawnMap.with_obstacles``, marked ``properties.detected``) are not part of the rule: they are
the planner's and the obstacle stop's business.

ROS-free: shapely, numpy and math only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

if TYPE_CHECKING:
    from mower_maps.lawn_map import LawnMap

#: The dock point may lie at most this far outside the lawn's boundaries (metres).
DOCK_MAX_OUTSIDE_M = 0.3
#: The stack's default robot: footprint radius (safety_node ``footprint_radius_m``, half the
#: planner's ``body_width_m``), metres.
FOOTPRINT_RADIUS_M = 0.2
#: Distance the mower's centre keeps from every edge (the planner's ``clearance_m``), metres.
CLEARANCE_M = 0.2
#: Distance of the approach point from the dock (mission_node ``undock_distance_m``), metres.
UNDOCK_DISTANCE_M = 0.6
#: Overlap below this (m²) is rounding, not a dock in a keep-out.
OVERLAP_TOL_M2 = 1e-6
#: Points this close to the allowed area count as inside it (rounding of the erosion).
INSIDE_TOL_M = 1e-6
_QUAD_SEGS = 8  # as the planner's buffers


@dataclass(frozen=True)
class DockCheck:
    """The rule's verdict on a lawn's dock, and the geometry the stack uses.

    ``problem`` is empty when the dock may be used; otherwise it is one line naming the dock
    feature and the fault (without the map's source).
    """

    x_m: float  # where the docked mower's centre (base_link) stands
    y_m: float
    heading_rad: float  # which way the docked mower faces (ENU, from east)
    approach_xy: tuple[float, float]  # where it leaves the dock's axis for the lawn
    reverse: bool  # True: the approach point is in front; the mower reverses onto the dock
    corridor: Polygon  # the footprint swept from the dock to the approach point
    problem: str = ''

    @property
    def ok(self) -> bool:
        """The dock may be used."""
        return not self.problem

    @property
    def dock_xy(self) -> tuple[float, float]:
        """The docked mower's position."""
        return self.x_m, self.y_m


def approach_point(
    x_m: float, y_m: float, heading_rad: float, undock_distance_m: float, area: Any = None
) -> tuple[np.ndarray, bool]:
    """(approach point, reverse onto the dock) of a dock at ``(x_m, y_m)`` facing a heading.

    Behind the docked mower (it drives onto the dock forwards) unless only the point in front
    lies in ``area`` (a shapely geometry: where the mower's centre may drive, edge and
    :data:`INSIDE_TOL_M` included; ``None``: anywhere).
    """
    d = undock_distance_m * np.array([math.cos(heading_rad), math.sin(heading_rad)])
    here = np.array([x_m, y_m], dtype=float)
    behind, front = here - d, here + d
    if area is not None and not _inside(area, behind) and _inside(area, front):
        return front, True
    return behind, False


def _inside(area: Any, xy: np.ndarray) -> bool:
    return bool(shapely.dwithin(area, shapely.points(xy), INSIDE_TOL_M))


def _ground(lawn: LawnMap) -> Polygon | MultiPolygon:
    """Where the mower may be: the boundaries, and the navigation areas where the map has."""
    nav = lawn.navigation
    return lawn.boundary if nav.is_empty else shapely.union(lawn.boundary, nav)


def allowed_area(lawn: LawnMap, clearance_m: float = CLEARANCE_M) -> Polygon | MultiPolygon:
    """Where the mower's centre may drive: the map's drivable area eroded by ``clearance_m``.

    The drivable area is the lawn and the navigation areas (a dock may stand on a path); only
    the map's own keep-outs and obstacles count (not those found at run time).
    """
    holes = [
        f.geometry
        for f in lawn.features
        if f.role in ('keepout', 'obstacle') and not f.properties.get('detected')
    ]
    ground = _ground(lawn)
    mowable = ground.difference(shapely.union_all(holes)) if holes else ground
    if clearance_m <= 0:
        return mowable
    return mowable.buffer(-clearance_m, quad_segs=_QUAD_SEGS, join_style='round')


def dock_rule(
    lawn: LawnMap,
    footprint_radius_m: float = FOOTPRINT_RADIUS_M,
    clearance_m: float = CLEARANCE_M,
    undock_distance_m: float = UNDOCK_DISTANCE_M,
) -> DockCheck | None:
    """Check the lawn's dock against the rule (see the module); ``None`` when it has none."""
    docks = lawn.by_role('dock')
    if not docks or lawn.dock is None:
        return None
    feature = docks[0]
    d = lawn.dock
    allowed = allowed_area(lawn, clearance_m)
    approach, reverse = approach_point(d.x_m, d.y_m, d.heading_rad, undock_distance_m, allowed)
    dock_pt = Point(d.x_m, d.y_m)
    axis = LineString([dock_pt, Point(*approach)])
    corridor = (
        axis.buffer(footprint_radius_m, quad_segs=_QUAD_SEGS)
        if footprint_radius_m > 0
        else axis.buffer(INSIDE_TOL_M)
    )

    def verdict(problem: str = '') -> DockCheck:
        return DockCheck(
            d.x_m,
            d.y_m,
            d.heading_rad,
            (float(approach[0]), float(approach[1])),
            reverse,
            corridor,
            problem,
        )

    label = feature.label
    outside = float(_ground(lawn).distance(dock_pt))
    if outside > DOCK_MAX_OUTSIDE_M:
        return verdict(
            f'{label} stands {outside:.2f} m outside the lawn; a dock may stand at most '
            f'{DOCK_MAX_OUTSIDE_M:g} m outside the boundary (or a navigation area): move it '
            'onto the lawn edge'
        )
    for f in lawn.features:
        if f.role not in ('keepout', 'obstacle') or f.properties.get('detected'):
            continue
        overlap = float(corridor.intersection(f.geometry).area)
        if overlap > OVERLAP_TOL_M2:
            where = 'lies in' if f.geometry.covers(dock_pt) else 'is too close to'
            return verdict(
                f'{label} {where} {f.label}: the docked mower or its way off the dock '
                f'({undock_distance_m:g} m along the dock, {footprint_radius_m:g} m either '
                f'side) overlaps it by {overlap:.2f} m²: move the dock'
            )
    if not _inside(allowed, approach):
        heading = math.degrees(d.heading_rad)
        u = undock_distance_m * np.array([math.cos(d.heading_rad), math.sin(d.heading_rad)])
        behind, front = np.array([d.x_m, d.y_m]) - u, np.array([d.x_m, d.y_m]) + u
        return verdict(
            f'{label}: neither approach point {undock_distance_m:g} m behind or in front of '
            f'the dock (heading {heading:g}°) is where the mower may drive (on the lawn, '
            f'{clearance_m:g} m clear of every edge, keep-out and obstacle): behind '
            f'{_why_not(lawn, behind)}, in front {_why_not(lawn, front)}; turn the dock to '
            'face the lawn (heading_deg) or move it'
        )
    return verdict()


def _why_not(lawn: LawnMap, xy: np.ndarray) -> str:
    """Why the mower's centre may not stand at ``xy``: off the lawn, in or near what."""
    p = Point(float(xy[0]), float(xy[1]))
    ground = _ground(lawn)
    if not ground.covers(p):
        return f'is {ground.distance(p):.2f} m off the lawn'
    holes = [
        f
        for f in lawn.features
        if f.role in ('keepout', 'obstacle') and not f.properties.get('detected')
    ]
    for f in holes:
        if f.geometry.covers(p):
            return f'is in {f.label}'
    edge = ground.boundary.distance(p)
    near = min(holes, key=lambda f: f.geometry.distance(p), default=None)
    if near is not None and near.geometry.distance(p) < edge:
        return f'is {near.geometry.distance(p):.2f} m from {near.label}'
    return f'is {edge:.2f} m from the lawn edge'
