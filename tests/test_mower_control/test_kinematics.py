"""Differential-drive kinematics and odometry from encoder ticks."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mower_control.kinematics import DiffDrive, Odometry

DRIVE = DiffDrive(wheel_radius_m=0.1, track_m=0.4, ticks_per_rev=1000)


@given(st.floats(-1.5, 1.5), st.floats(-3.0, 3.0))
def test_wheel_speeds_and_body_velocity_are_inverse(v, w):
    left, right = DRIVE.wheel_speeds(v, w)
    assert DRIVE.body_velocity(left, right) == pytest.approx((v, w), abs=1e-12)


def test_limit_keeps_the_curvature():
    v, w = DRIVE.limit(1.0, 4.0, 0.8)
    left, right = DRIVE.wheel_speeds(v, w)
    assert max(abs(left), abs(right)) == pytest.approx(0.8)
    assert w / v == pytest.approx(4.0)


def ticks(metres):
    return round(metres / (2 * math.pi * 0.1) * 1000)


def test_straight_line_and_a_pivot():
    odo = Odometry(DRIVE)
    odo.update(0, 0, 0)
    odo.update(ticks(1.0), ticks(1.0), 2_000_000)
    assert (odo.x_m, odo.y_m) == pytest.approx((1.0, 0.0), abs=1e-3)
    assert odo.v_mps == pytest.approx(0.5, abs=1e-3)
    quarter = math.pi / 2 * 0.2  # each wheel's arc for a 90 degree pivot
    odo.update(ticks(1.0) - ticks(quarter), ticks(1.0) + ticks(quarter), 3_000_000)
    assert odo.yaw_rad == pytest.approx(math.pi / 2, abs=2e-3)
    assert (odo.x_m, odo.y_m) == pytest.approx((1.0, 0.0), abs=1e-3)


def test_a_full_circle_in_many_steps_returns_home():
    odo = Odometry(DRIVE)
    radius = 1.0
    for k in range(201):  # a circle of radius 1 m, left wheel inside
        a = 2 * math.pi * k / 200
        odo.update(ticks(a * (radius - 0.2)), ticks(a * (radius + 0.2)), k * 100_000)
    assert (odo.x_m, odo.y_m) == pytest.approx((0.0, 0.0), abs=0.01)


def test_time_that_does_not_advance_is_ignored():
    odo = Odometry(DRIVE)
    odo.update(0, 0, 1000)
    assert not odo.update(100, 100, 1000)
    assert odo.x_m == 0.0
