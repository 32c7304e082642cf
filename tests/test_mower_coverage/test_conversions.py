"""Conversions between messages and planner types, with the real ROS 2 definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from helpers import lawn_from

from mower_coverage import CoveragePlanner, PlannerParams


def test_path_roundtrip_and_wire_format(ros):
    from builtin_interfaces.msg import Time
    from ros_double.messages import to_cdr

    from mower_coverage.conversions import msg_to_path, path_to_msg

    poses = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, math.pi / 2], [2.0, -1.0, -3.0]])
    msg = path_to_msg(poses, 'map', Time(sec=12, nanosec=5))
    assert msg.header.frame_id == 'map' and len(msg.poses) == 3
    assert msg.poses[1].header.stamp.sec == 12
    assert np.allclose(msg_to_path(msg), poses)
    assert len(to_cdr(msg)) > 3 * 50  # serialises with the real nav_msgs/Path definition


def test_markers_cover_lawn_and_plan(ros):
    from builtin_interfaces.msg import Time
    from ros_double.messages import to_cdr
    from visualization_msgs.msg import Marker

    from mower_coverage.conversions import plan_to_markers

    lawn = lawn_from(shapely.box(0, 0, 8, 6), holes=[shapely.Point(4, 3).buffer(0.4)])
    plan = CoveragePlanner(PlannerParams()).plan(lawn)
    arr = plan_to_markers(plan, 'map', Time(sec=1, nanosec=0))
    assert arr.markers[0].action == Marker.DELETEALL
    namespaces = {m.ns for m in arr.markers}
    assert {'lawn/boundary', 'lawn/obstacle', 'plan/stripe', 'plan/headland'} <= namespaces
    stripes = [m for m in arr.markers if m.ns == 'plan/stripe'][0]
    assert stripes.type == Marker.LINE_LIST and len(stripes.points) % 2 == 0
    to_cdr(arr)


def _grid(ros_cells: np.ndarray, resolution: float, x0: float, y0: float, yaw: float = 0.0):
    from nav_msgs.msg import OccupancyGrid

    from mower_coverage.conversions import yaw_to_quaternion

    msg = OccupancyGrid()
    msg.header.frame_id = 'map'
    msg.info.resolution = resolution
    msg.info.height, msg.info.width = ros_cells.shape
    msg.info.origin.position.x = x0
    msg.info.origin.position.y = y0
    msg.info.origin.orientation = yaw_to_quaternion(yaw)
    msg.data = ros_cells.astype(int).ravel().tolist()
    return msg


def test_occupied_cells_become_obstacles_in_the_map_frame(ros):
    from mower_coverage.conversions import obstacles_from_grid, occupancy_grid_to_array

    cells = np.zeros((40, 60), dtype=np.int8)
    cells[10:20, 30:36] = 100  # 0.5 m x 0.3 m at 5 cm
    cells[30, 5] = 100  # one cell: below the minimum area
    cells[0:5, 0:5] = 50  # other ground, not an obstacle
    grid, res, origin, yaw = occupancy_grid_to_array(_grid(cells, 0.05, -1.0, 2.0))
    polys = obstacles_from_grid(grid, res, origin, yaw, threshold=90, min_area_m2=0.01)
    assert len(polys) == 1
    assert polys[0].area == pytest.approx(0.3 * 0.5, rel=1e-6)
    assert polys[0].centroid.x == pytest.approx(-1.0 + 33 * 0.05, abs=1e-9)
    assert polys[0].centroid.y == pytest.approx(2.0 + 15 * 0.05, abs=1e-9)


def test_rotated_grid_origin_is_applied(ros):
    from mower_coverage.conversions import obstacles_from_grid, occupancy_grid_to_array

    cells = np.zeros((10, 10), dtype=np.int8)
    cells[0:2, 4:6] = 100
    grid, res, origin, yaw = occupancy_grid_to_array(_grid(cells, 0.1, 0.0, 0.0, math.pi / 2))
    (poly,) = obstacles_from_grid(grid, res, origin, yaw, 90, 0.0)
    assert poly.centroid.x == pytest.approx(-0.1) and poly.centroid.y == pytest.approx(0.5)


def test_malformed_grid_raises_value_error(ros):
    from mower_coverage.conversions import occupancy_grid_to_array

    msg = _grid(np.zeros((4, 4)), 0.05, 0.0, 0.0)
    msg.data = [0] * 15
    with pytest.raises(ValueError, match='15 cells, expected 4x4'):
        occupancy_grid_to_array(msg)
    msg = _grid(np.zeros((4, 4)), 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match='bad grid geometry'):
        occupancy_grid_to_array(msg)
