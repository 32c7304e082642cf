"""Navigation areas (map role ``navigation``): the planner drives through them, never mows them."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Point, box

from mower_control.safety import fence_region
from mower_coverage import CoveragePlanner
from mower_coverage.route import KINDS
from mower_maps import map_from_geojson

FRONT = box(0.0, 0.0, 8.0, 6.0)  # the lawn with the dock
BACK = box(12.0, 4.0, 18.0, 10.0)  # a second lawn, reached only along a bent paved path
PATH = shapely.union_all(
    [box(7.5, 1.0, 10.5, 2.2), box(9.3, 1.0, 10.5, 7.0), box(9.3, 5.8, 12.5, 7.0)]
)
BED = box(3.0, 2.5, 4.5, 3.5)


def garden(with_path: bool = True, dock_on_path: bool = False):
    """Two lawns, a bed in the front one, the bent path between them (a navigation area)."""
    features = [
        {'role': 'boundary', 'name': 'front', 'geom': FRONT},
        {'role': 'boundary', 'name': 'back', 'geom': BACK},
        {'role': 'keepout', 'name': 'bed', 'geom': BED},
    ]
    if with_path:
        features.append({'role': 'navigation', 'name': 'path', 'geom': PATH})
    dock = (9.9, 3.5, np.pi / 2) if dock_on_path else (0.3, 3.0, 0.0)
    doc = {
        'type': 'FeatureCollection',
        'properties': {'name': 'two lawns', 'frame': 'enu', 'units': 'm'},
        'features': [
            {
                'type': 'Feature',
                'properties': {'role': f['role'], 'name': f['name']},
                'geometry': shapely.geometry.mapping(f['geom']),
            }
            for f in features
        ]
        + [
            {
                'type': 'Feature',
                'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': np.degrees(dock[2])},
                'geometry': {'type': 'Point', 'coordinates': list(dock[:2])},
            }
        ],
    }
    return map_from_geojson(doc, source='two lawns')


def segments(plan, kinds: set[str]):
    """The path's segments of the given kinds, as (N, 2, 2) arrays."""
    pts, k = plan.path.points, plan.path.kinds
    want = np.isin(k, [KINDS.index(name) for name in kinds])
    return np.stack([pts[:-1][want], pts[1:][want]], axis=1)


def mowed_share(plan, area) -> float:
    """Share of ``area`` within half a cut of the mowing segments."""
    mow = segments(plan, {'headland', 'stripe', 'turn'})
    swath = shapely.union_all([LineString(s).buffer(plan.params.cut_width_m / 2) for s in mow])
    return shapely.intersection(swath, area).area / area.area


def test_both_lawns_are_mowed_through_the_path_and_the_path_is_never_mowed():
    lawn = garden()
    plan = CoveragePlanner().plan(lawn)
    area = plan.area
    assert area.transit is not None and len(shapely.get_parts(area.region)) == 2
    reach = shapely.difference(FRONT, BED).buffer(-0.3)  # away from the edges: every stripe
    assert mowed_share(plan, reach) > 0.99
    assert mowed_share(plan, BACK.buffer(-0.3)) > 0.99
    # mowing happens on the lawns only; the path is driven (transits), never mowed
    mow = segments(plan, {'headland', 'stripe', 'turn'})
    lawns = shapely.union(FRONT, BACK).buffer(1e-6)
    assert all(lawns.covers(LineString(s)) for s in mow)
    drive = segments(plan, {'transit'})
    on_path = [
        s for s in drive if PATH.difference(shapely.union(FRONT, BACK)).contains(Point(s[0]))
    ]
    assert len(on_path) > 5  # it does go there
    # one lawn after the other: along the path once there and once back, not on every pass
    corridor = PATH.difference(shapely.union(FRONT, BACK))
    inside = np.array([corridor.contains(Point(p)) for p in plan.path.points])
    assert int((~inside[:-1] & inside[1:]).sum()) == 2
    # every segment keeps the robot's half width inside lawn and path, and off the bed (to
    # the 1 mm the planner's 8 segments a quarter circle cut from a rounded corner)
    allowed = shapely.difference(shapely.union_all([FRONT, BACK, PATH]), BED)
    inner = allowed.buffer(-plan.params.clearance_m + 0.002)
    pts = plan.path.points
    assert all(inner.covers(LineString(pts[i : i + 2])) for i in range(len(pts) - 1))
    assert not plan.warnings, plan.warnings
    # the geofence of the map lets the mower be on the path
    fence = fence_region(lawn)
    assert fence.contains(Point(10.0, 4.0)) and not fence.contains(Point(11.5, 3.0))


def test_without_the_path_the_back_lawn_is_cut_off_and_said_so():
    plan = CoveragePlanner().plan(garden(with_path=False))
    assert plan.area.transit is None
    assert mowed_share(plan, BACK.buffer(-0.3)) == 0.0
    assert any('cut off from the start' in w for w in plan.warnings), plan.warnings


def test_a_dock_on_the_path_starts_and_ends_the_plan_there():
    lawn = garden(dock_on_path=True)
    plan = CoveragePlanner().plan(lawn)
    start = plan.area.start
    assert PATH.contains(start) and not FRONT.contains(start)
    assert np.hypot(*(plan.path.points[0] - [start.x, start.y])) < 1e-6
    assert np.hypot(*(plan.path.points[-1] - [start.x, start.y])) < 1e-6
    assert mowed_share(plan, BACK.buffer(-0.3)) > 0.99
    assert mowed_share(plan, shapely.difference(FRONT, BED).buffer(-0.3)) > 0.99
