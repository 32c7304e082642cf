"""Navigation areas (map role ``navigation``): the planner drives through them, never mows them."""

from __future__ import annotations

import numpy as np
import shapely
from lawn_gen import BACK, BED, FRONT, PATH, garden
from shapely.geometry import LineString, Point

from mower_control.safety import fence_region
from mower_coverage import CoveragePlanner
from mower_coverage.route import KINDS


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


def test_one_zone_is_mowed_and_the_other_lawn_only_driven_through():
    import pytest

    from mower_maps import MapError

    lawn = garden()
    assert [z.name for z in lawn.zones] == ['front', 'back']
    assert lawn.zone_map(0) is lawn
    back = lawn.zone_map(2)
    assert [f.role for f in back.features if f.name == 'front'] == ['navigation']
    plan = CoveragePlanner().plan(back)
    assert mowed_share(plan, BACK.buffer(-0.3)) > 0.99  # away from the edges: every stripe
    whole = CoveragePlanner().plan(lawn)
    assert mowed_share(plan, BACK) >= mowed_share(whole, BACK) - 0.005  # as when all are mowed
    mowing = segments(plan, {'headland', 'stripe', 'turn'})
    assert shapely.intersection(
        shapely.union_all([LineString(s) for s in mowing]), FRONT.buffer(-0.05)
    ).is_empty  # not a metre of the front lawn is mowed: it is driven through
    fence = fence_region(back)
    assert all(fence.buffer(1e-6).covers(Point(p)) for p in plan.path.points)
    front = CoveragePlanner().plan(lawn.zone_map(1))
    assert mowed_share(front, FRONT.difference(BED).buffer(-0.3)) > 0.99
    assert mowed_share(front, BACK) < 0.01
    for bad in (3, -1):
        with pytest.raises(MapError, match=f'no zone {bad}'):
            lawn.zone_map(bad)
