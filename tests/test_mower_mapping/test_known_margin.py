"""Obstacle cells of what the lawn map already has take a small margin (``known_margin_m``).

The camera sees the mapped shed, bench and trees as obstacles too; grown by the full
``obstacle_margin_m`` their cells kept the planner 0.1 m farther off them than their mapped
outline does, and a corridor between a shed and the boundary was never mowed (back_garden).
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from shapely.geometry import Point, box

from mower_coverage import CoveragePlanner, PlannerParams
from mower_mapping.mapper import KNOWN_REACH_M, Extent, Mapper
from mower_mapping.semantic_grid import OBSTACLE
from mower_maps import parse_map

SHED = (3.0, 5.0, 7.0, 7.4)  # x0, y0, x1, y1: the corridor above it is 0.6 m wide


def lawn_with_shed(boundary: dict | None = None, **shed):
    """A 10 x 8 m lawn with a mapped shed 0.6 m below its top edge (``shed``: more properties).

    ``boundary``: more properties of the lawn's boundary.
    """

    def feature(props, b):
        x0, y0, x1, y1 = b
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        geometry = {'type': 'Polygon', 'coordinates': [ring]}
        return {'type': 'Feature', 'properties': props, 'geometry': geometry}

    return parse_map(
        json.dumps(
            {
                'type': 'FeatureCollection',
                'properties': {'name': 'shed test', 'frame': 'enu', 'units': 'm'},
                'features': [
                    feature({'role': 'boundary', **(boundary or {})}, (0.0, 0.0, 10.0, 8.0)),
                    feature({'role': 'obstacle', 'kind': 'shed', **shed}, SHED),
                ],
            }
        )
    )


def mapper_seeing(cells: np.ndarray, **values) -> Mapper:
    """A mapper (5 cm cells over 10 x 8 m) whose obstacle layer is ``cells``."""
    mapper = Mapper(values, Extent((0.0, 0.0), (10.0, 8.0)))
    grid = mapper.grid
    grid.logodds[OBSTACLE][cells] = grid.p.obstacle_threshold + 1.0
    return mapper


def cell_centres(grid) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of every cell centre (the grid's shape)."""
    rows, cols = np.indices(grid.shape)
    return grid.origin[0] + (cols + 0.5) * grid.res, grid.origin[1] + (rows + 0.5) * grid.res


def seen_shed_and_toy() -> np.ndarray:
    """The shed as the camera sees it (one 5 cm row past its walls), and a toy on the lawn."""
    probe = Mapper({}, Extent((0.0, 0.0), (10.0, 8.0)))
    x, y = cell_centres(probe.grid)
    x0, y0, x1, y1 = SHED
    shed = (x > x0 - 0.05) & (x < x1 + 0.05) & (y > y0 - 0.05) & (y < y1 + 0.05)
    toy = (np.abs(x - 5.0) < 0.1) & (np.abs(y - 2.0) < 0.1)
    return shed | toy


def test_cells_beside_a_mapped_obstacle_take_the_small_margin():
    lawn = lawn_with_shed()
    cells = seen_shed_and_toy()
    mapper = mapper_seeing(cells)
    wide = [p.area for p in mapper.obstacles()]  # no map yet: every cell the full margin
    assert len(wide) == 2
    mapper.set_lawn(lawn)
    found = mapper.obstacles()
    assert len(found) == 2
    shed_poly = next(p for p in found if p.contains(Point(5.0, 6.0)))
    toy_poly = next(p for p in found if p.contains(Point(5.0, 2.0)))
    margin, known = mapper.values['obstacle_margin_m'], mapper.values['known_margin_m']
    assert 0.0 <= known < margin
    # the shed's cells reach 0.05 m past its wall; the outline that much plus the small margin
    top = shed_poly.bounds[3]
    assert abs(top - (SHED[3] + 0.05 + known)) < 1e-6
    # the toy, 2 m from anything mapped, keeps the full margin (its cells span 0.2 m)
    assert abs(toy_poly.bounds[3] - (2.1 + margin)) < 1e-6
    assert sum(p.area for p in found) < sum(wide)

    off = mapper_seeing(cells, known_margin_m=-1.0)
    off.set_lawn(lawn)
    assert sorted(p.area for p in off.obstacles()) == sorted(wide)
    mapper.set_lawn(None)
    assert sorted(p.area for p in mapper.obstacles()) == sorted(wide)


def test_an_object_beside_the_mapped_one_keeps_the_full_margin_beyond_the_reach():
    """A hose lying out from the shed: its cells past the reach are no part of the shed."""
    lawn = lawn_with_shed()
    probe = Mapper({}, Extent((0.0, 0.0), (10.0, 8.0)))
    x, y = cell_centres(probe.grid)
    hose = (np.abs(x - 5.0) < 0.05) & (y < SHED[1]) & (y > SHED[1] - 1.0)
    mapper = mapper_seeing(seen_shed_and_toy() | hose)
    mapper.set_lawn(lawn)
    outline = shapely.union_all(mapper.obstacles()).intersection(box(0.0, 3.0, 10.0, 8.0))
    margin = mapper.values['obstacle_margin_m']
    # the hose's far end, 1 m below the shed, keeps the full margin
    assert abs(outline.bounds[1] - (SHED[1] - 1.0 - margin)) < 0.03
    # and along it, beyond the reach, the full margin on either side
    mid_y = SHED[1] - 0.5
    across = outline.intersection(shapely.LineString([(4.0, mid_y), (6.0, mid_y)]))
    assert across.length > 0.1 + 2 * margin - 1e-6
    assert KNOWN_REACH_M < 0.5


def test_a_corridor_between_a_mapped_shed_and_the_boundary_stays_open():
    """The planner can reach the 0.6 m corridor above the shed only with the small margin."""
    lawn = lawn_with_shed()
    cells = seen_shed_and_toy()
    planner = CoveragePlanner(PlannerParams())
    corridor = box(SHED[0] + 0.5, SHED[3], SHED[2] - 0.5, 8.0)

    def reached(mapper: Mapper) -> float:
        mapper.set_lawn(lawn)
        reach = planner.reachable(lawn.with_obstacles(mapper.obstacles()))
        return float(reach.intersection(corridor).area / corridor.area)

    # the map alone: the deck reaches all but 0.09 m along the boundary and the wall
    alone = planner.reachable(lawn).intersection(corridor).area / corridor.area
    assert abs(alone - 0.7) < 0.01
    # with the camera's cells (0.05 m past the wall) and the small margin: 0.08 m less
    assert abs(reached(mapper_seeing(cells)) - (0.6 - 0.18 - 0.08) / 0.6) < 0.01
    assert reached(mapper_seeing(cells, known_margin_m=-1.0)) == 0.0  # closed


def test_the_margin_is_off_unless_below_the_obstacle_margin():
    lawn = lawn_with_shed()
    cells = seen_shed_and_toy()
    same = mapper_seeing(cells, known_margin_m=0.1, obstacle_margin_m=0.1)
    same.set_lawn(lawn)
    plain = mapper_seeing(cells)
    assert sorted(p.area for p in same.obstacles()) == sorted(p.area for p in plain.obstacles())


def test_what_the_camera_drew_explains_nothing():
    """A draft's outlines are the camera's own (or the wheels'): they explain no cells.

    An obstacle's may be smaller than the object (back_garden, discovery seed 3: a hidden object
    of the draft touched with the small margin); a boundary drawn beside a wall may lie a few
    centimetres off it (seed 8: the corridor above the shed, planned from the draft's boundary,
    ended in three touches of the wall). Their cells keep ``obstacle_margin_m``.
    """
    cells = seen_shed_and_toy()
    mapper = mapper_seeing(cells)
    margin = mapper.values['obstacle_margin_m']
    wide = sorted(p.area for p in mapper.obstacles())
    for flag in ('draft', 'detected'):
        mapper = mapper_seeing(cells)
        mapper.set_lawn(lawn_with_shed(**{flag: True}))
        shed_poly = next(p for p in mapper.obstacles() if p.contains(Point(5.0, 6.0)))
        assert abs(shed_poly.bounds[0] - (SHED[0] - 0.05 - margin)) < 1e-6
        # a boundary someone drew (not a draft's) still explains the cells beside it
        assert mapper._known is not None and mapper._known[0, 0] and not mapper._known[80, 20]
    # a whole draft (boundary and shed drawn): nothing known, every cell the full margin
    draft = mapper_seeing(cells)
    draft.set_lawn(lawn_with_shed(boundary={'draft': True}, draft=True))
    assert draft._known is None
    assert sorted(p.area for p in draft.obstacles()) == wide
    # a drawn boundary round a mapped shed: the shed explains its cells, the boundary none
    mixed = mapper_seeing(cells)
    mixed.set_lawn(lawn_with_shed(boundary={'draft': True}))
    assert mixed._known is not None and not mixed._known[0, 0] and not mixed._known[159, 100]
    x, y = cell_centres(mixed.grid)
    beside_wall = (np.abs(y - (SHED[3] + 0.025)) < 0.01) & (np.abs(x - 5.0) < 0.03)
    assert beside_wall.any() and mixed._known[beside_wall].all()
    top = next(p for p in mixed.obstacles() if p.contains(Point(5.0, 6.0))).bounds[3]
    assert abs(top - (SHED[3] + 0.05 + mixed.values['known_margin_m'])) < 1e-6
