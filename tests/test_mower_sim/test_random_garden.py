"""Random gardens (mower_sim.scenario.random_garden): valid maps a mower can start on."""

from __future__ import annotations

import math

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from mower_maps import map_from_geojson, map_to_geojson
from mower_sim.scenario import GARDEN_MIN_WIDTH_M, random_garden, random_hidden


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_random_garden_is_a_valid_map_with_a_dock_facing_the_lawn(seed: int) -> None:
    lawn = random_garden(seed)
    # it passes the map checks again after a round trip through GeoJSON
    again = map_from_geojson(map_to_geojson(lawn), source='again')
    assert again.mowable_area().equals_exact(lawn.mowable_area(), 1e-6)
    area = lawn.mowable_area()
    assert isinstance(area, shapely.Polygon) and 40.0 < area.area < 250.0
    # no part narrower than the minimum width (an opening by it keeps the lawn)
    half = GARDEN_MIN_WIDTH_M / 2
    assert lawn.boundary.buffer(-half).buffer(half).area > 0.99 * lawn.boundary.area
    # keep-outs 1.2 m from the edge, apart from each other and clear of the dock
    holes = [f.geometry for f in lawn.features if f.role == 'keepout']
    assert len(holes) <= 3
    dock = shapely.Point(lawn.dock.x_m, lawn.dock.y_m)
    for i, h in enumerate(holes):
        assert lawn.boundary.buffer(-1.19).contains(h)
        assert h.distance(dock) > 2.4
        assert all(h.distance(g) > 1.19 for g in holes[i + 1 :])
    # the dock: 0.3 m inside the edge, the lawn ahead of it
    assert abs(lawn.boundary.exterior.distance(dock) - 0.3) < 0.02
    heading = lawn.dock.heading_rad
    ahead = shapely.Point(dock.x + math.cos(heading), dock.y + math.sin(heading))
    behind = shapely.Point(dock.x - math.cos(heading), dock.y - math.sin(heading))
    assert lawn.boundary.contains(ahead) and not lawn.boundary.contains(behind)


def test_random_gardens_are_reproducible_and_differ_by_seed() -> None:
    a, b = random_garden(7), random_garden(7)
    assert map_to_geojson(a) == map_to_geojson(b)
    shapes = {random_garden(s).boundary.wkt for s in range(12)}
    assert len(shapes) == 12
    kinds = {f.properties.get('kind') for s in range(12) for f in random_garden(s).features}
    assert {'bed', 'pond', 'tree bed'} <= kinds
    assert len(random_hidden(a, 2, 7)) == 2  # room for the hidden obstacles of the bench
