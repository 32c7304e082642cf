"""Stage 1: mowable, allowed and reachable areas."""

import pytest
import shapely
from helpers import lawn_from

from mower_coverage import PlannerParams, PlanningError
from mower_coverage.area import DiscRobotArea


def test_allowed_area_is_mowable_eroded_by_half_the_body():
    area = DiscRobotArea().build(lawn_from(shapely.box(0, 0, 10, 10)), PlannerParams())
    assert area.allowed.area == pytest.approx(9.6 * 9.6, rel=1e-9)
    assert area.region.within(area.allowed)
    # reachable = allowed dilated by half the cut: the rounded corners lose a little
    assert 9.82**2 - 0.02 < area.reachable.area < 9.82**2


def test_a_passage_narrower_than_the_robot_cuts_off_the_far_side():
    rooms = shapely.union_all(
        [shapely.box(0, 0, 5, 5), shapely.box(5, 2, 6, 2.3), shapely.box(6, 0, 11, 5)]
    )  # 0.3 m wide passage
    area = DiscRobotArea().build(lawn_from(rooms, dock=(0.0, 2.5)), PlannerParams())
    assert area.region.bounds[2] < 5.0  # planned in the dock's room only
    assert area.unreachable_m2 == pytest.approx(
        4.6 * 4.6 + 4.6 * 0.11 * 2 + 0.11 * 4.6 * 2 - 4 * (0.11**2) * (1 - 3.14159 / 4), rel=0.02
    )


def test_a_passage_wider_than_the_robot_connects_both_sides():
    rooms = shapely.union_all(
        [shapely.box(0, 0, 5, 5), shapely.box(5, 2, 6, 2.6), shapely.box(6, 0, 11, 5)]
    )  # 0.6 m > 0.4 m body
    area = DiscRobotArea().build(lawn_from(rooms, dock=(0.0, 2.5)), PlannerParams())
    assert area.region.bounds[2] > 10.0
    assert area.unreachable_m2 == 0.0


@pytest.mark.parametrize(
    ('gap', 'margin', 'joined'),
    [
        (0.45, 0.05, False),  # 2.5 cm each side of a 0.40 m body: closed
        (0.45, 0.0, True),  # without the margin: open, as before
        (0.55, 0.05, True),  # 7.5 cm each side: open
    ],
)
def test_a_passage_must_be_the_passage_margin_wider_than_the_body(gap, margin, joined):
    rooms = shapely.union_all(
        [shapely.box(0, 0, 5, 5), shapely.box(5, 2, 6, 2 + gap), shapely.box(6, 0, 11, 5)]
    )
    params = PlannerParams(passage_margin_m=margin)
    area = DiscRobotArea().build(lawn_from(rooms, dock=(0.0, 2.5)), params)
    assert (area.region.bounds[2] > 10.0) is joined
    assert (area.unreachable_m2 == 0.0) is joined


def test_a_dead_end_strip_beside_the_lawn_is_not_driven_but_corners_are():
    # a 0.44 m strip along the top of a 6 x 4 m lawn (between a shed and the boundary)
    lawn = shapely.union_all([shapely.box(0, 0, 6, 4), shapely.box(3, 4, 9, 4.44)])
    area = DiscRobotArea().build(lawn_from(lawn, dock=(0.0, 2.0)), PlannerParams())
    assert area.allowed.bounds[2] < 6.0  # the centre never goes into the strip
    plain = DiscRobotArea().build(
        lawn_from(shapely.box(0, 0, 6, 4), dock=(0.0, 2.0)), PlannerParams()
    )
    # the rectangle's own corners are kept: the centre's area is the plain erosion
    assert plain.allowed.area == pytest.approx(5.6 * 3.6, rel=1e-9)


def test_start_is_inside_the_region_even_with_the_dock_on_the_edge():
    area = DiscRobotArea().build(
        lawn_from(shapely.box(0, 0, 10, 10), dock=(0.0, 3.0)), PlannerParams()
    )
    assert area.region.covers(area.start)
    assert area.start.distance(shapely.Point(0.6, 3.0)) < 0.01  # the dock's approach point


def test_a_lawn_too_narrow_for_the_robot_is_a_clear_error():
    with pytest.raises(PlanningError, match='nowhere wide enough'):
        DiscRobotArea().build(lawn_from(shapely.box(0, 0, 10, 0.35)), PlannerParams())
