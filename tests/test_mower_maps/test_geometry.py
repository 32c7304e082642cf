"""The shared geometry: quaternions, angle wrapping, arc length and the grid-cell convention."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mower_maps.geometry import (
    cell_centre,
    cell_index,
    cumulative_length,
    in_grid,
    path_length,
    quaternion_from_yaw,
    rpy_from_quaternion,
    segment_lengths,
    wrap_angle,
    yaw_from_quaternion,
)

angles = st.floats(-1e3, 1e3, allow_nan=False)
small = st.floats(-1.4, 1.4)  # a pitch away from gimbal lock


def quaternion_from_rpy(roll: float, pitch: float, yaw: float) -> tuple[float, ...]:
    """(x, y, z, w) of z-y'-x'' angles, written out independently of the module."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )


def same_angle(a: float, b: float) -> bool:
    return abs(math.remainder(a - b, 2 * math.pi)) < 1e-9


@given(angles)
def test_yaw_round_trip(yaw):
    x, y, z, w = quaternion_from_yaw(yaw)
    assert (x, y) == (0.0, 0.0)
    assert math.isclose(x * x + y * y + z * z + w * w, 1.0)
    assert same_angle(yaw_from_quaternion(x, y, z, w), yaw)


def test_quaternion_order_is_ros_and_keywords_take_mujoco_order():
    x, y, z, w = quaternion_from_yaw(math.pi / 2)
    assert (x, y, z, w) == pytest.approx((0.0, 0.0, math.sqrt(0.5), math.sqrt(0.5)))
    wxyz = np.array([w, x, y, z])  # MuJoCo's qpos[3:7]
    assert yaw_from_quaternion(x=wxyz[1], y=wxyz[2], z=wxyz[3], w=wxyz[0]) == pytest.approx(
        math.pi / 2
    )
    # read in the wrong order, a quarter turn is no quarter turn
    assert yaw_from_quaternion(*wxyz) != pytest.approx(math.pi / 2)


@given(small, small, angles)
def test_rpy_round_trip(roll, pitch, yaw):
    r, p, y = rpy_from_quaternion(*quaternion_from_rpy(roll, pitch, yaw))
    assert same_angle(r, roll) and math.isclose(p, pitch, abs_tol=1e-9) and same_angle(y, yaw)


def test_rpy_pitch_is_clamped_for_a_slightly_long_quaternion():
    s = math.sqrt(0.5) * (1 + 1e-12)
    _, pitch, _ = rpy_from_quaternion(0.0, s, 0.0, s)
    assert pitch == pytest.approx(math.pi / 2)


@given(angles)
def test_wrap_range_and_same_direction(a):
    w = wrap_angle(a)
    assert isinstance(w, float)
    assert -math.pi <= w < math.pi
    assert same_angle(w, a)


def test_wrap_edges_and_arrays():
    assert wrap_angle(math.pi) == -math.pi
    assert wrap_angle(-math.pi) == -math.pi
    just_below = math.nextafter(-math.pi, -4.0)  # (a + pi) % 2 pi rounds to 2 pi itself
    assert wrap_angle(just_below) == -math.pi
    a = np.array([0.0, 3 * math.pi, -3 * math.pi, 7.0, just_below])
    w = wrap_angle(a)
    assert isinstance(w, np.ndarray) and w.shape == a.shape
    assert np.all((w >= -math.pi) & (w < math.pi))
    assert w[:4] == pytest.approx([0.0, -math.pi, -math.pi, 7.0 - 2 * math.pi])


def test_arc_length_of_known_shapes():
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]], dtype=float)
    assert segment_lengths(square) == pytest.approx([2, 2, 2, 2])
    assert cumulative_length(square) == pytest.approx([0, 2, 4, 6, 8])
    assert path_length(square) == pytest.approx(8.0)
    t = np.linspace(0, 2 * math.pi, 2001)
    circle = np.stack([3 * np.cos(t), 3 * np.sin(t)], axis=1)
    assert path_length(circle) == pytest.approx(6 * math.pi, rel=1e-5)
    assert path_length([[0, 0], [3, 4]]) == 5.0


@pytest.mark.parametrize('n', [0, 1])
def test_arc_length_of_degenerate_polylines(n):
    pts = np.zeros((n, 2))
    assert segment_lengths(pts).shape == (0,)
    assert cumulative_length(pts).tolist() == [0.0] * n
    assert path_length(pts) == 0.0


@given(st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100)), min_size=2, max_size=30))
def test_cumulative_length_adds_up(points):
    pts = np.array(points)
    cum = cumulative_length(pts)
    assert cum.shape == (len(pts),) and cum[0] == 0.0
    assert np.all(np.diff(cum) >= 0)
    assert cum[-1] == pytest.approx(path_length(pts), rel=1e-12, abs=1e-9)
    assert path_length(pts) >= math.hypot(*(pts[-1] - pts[0])) - 1e-9


coords = st.floats(-1e4, 1e4)
resolutions = st.floats(1e-3, 10.0)
indices = st.integers(-1_000_000, 1_000_000)


@given(st.tuples(indices, indices), st.tuples(coords, coords), resolutions)
def test_cell_centre_is_in_its_own_cell(index, origin, res):
    centre = cell_centre(np.array(index), np.array(origin), res)
    assert tuple(cell_index(centre, origin, res)) == index


@given(
    st.lists(st.tuples(coords, coords), min_size=1, max_size=20),
    st.tuples(coords, coords),
    resolutions,
)
def test_every_point_is_within_half_a_cell_of_its_cell_centre(points, origin, res):
    xy = np.array(points)
    ij = cell_index(xy, origin, res)
    assert ij.shape == xy.shape and ij.dtype == np.int64
    err = np.abs(cell_centre(ij, origin, res) - xy)
    assert np.all(err <= res / 2 * (1 + 1e-6) + 1e-9)


def test_cell_convention_is_floor_with_corner_origin():
    origin, res = np.array([-1.0, 2.0]), 0.5
    # cell i covers [origin + i res, origin + (i + 1) res): the lower edge belongs to it
    assert cell_index([-1.0, 2.0], origin, res).tolist() == [0, 0]
    assert cell_index([-0.51, 2.49], origin, res).tolist() == [0, 0]
    assert cell_index([-0.5, 2.5], origin, res).tolist() == [1, 1]
    assert cell_index([-1.01, 1.99], origin, res).tolist() == [-1, -1]  # floor, not truncation
    assert cell_centre(np.array([0, 0]), origin, res).tolist() == [-0.75, 2.25]
    assert cell_centre(np.array([[2, 1]]), origin, res).tolist() == [[0.25, 2.75]]


def test_in_grid_uses_rows_cols_shape_and_xy_indices():
    shape = (2, 3)  # rows (y), cols (x)
    ij = np.array([[0, 0], [2, 1], [3, 0], [0, 2], [-1, 0]])
    assert in_grid(ij, shape).tolist() == [True, True, False, False, False]
    assert bool(in_grid(np.array([2, 1]), shape))
