"""The regulated pure pursuit follower, on an ideal unicycle (no simulator)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mower_control.follower import (
    FollowerParams,
    PathFollower,
    approach_constraint,
    curvature_constraint,
    lookahead_distance,
    obstacle_constraint,
    split_at_pivots,
)

DT = 0.02


def drive(f: PathFollower, pose, limit_s: float = 200.0, obstacle=math.inf):
    """Integrate a perfect unicycle under the follower; returns the trace."""
    x, y, yaw = pose
    t = 0.0
    trace = []
    while t < limit_s:
        cmd = f.step(x, y, yaw, t, obstacle)
        trace.append((t, x, y, yaw, cmd))
        if cmd.mode == 'done':
            break
        x += cmd.v_mps * math.cos(yaw) * DT
        y += cmd.v_mps * math.sin(yaw) * DT
        yaw += cmd.w_radps * DT
        t += DT
    return trace


def test_converges_onto_a_straight_line_from_an_offset():
    f = PathFollower()
    f.set_path(np.array([[0.0, 0.0], [20.0, 0.0]]))
    trace = drive(f, (0.0, 0.25, 0.0))
    assert trace[-1][4].mode == 'done'
    late = [abs(y) for t, x, y, _, _ in trace if x > 5.0]
    assert max(late) < 0.01
    assert math.hypot(trace[-1][1] - 20.0, trace[-1][2]) <= 0.05


def test_stops_on_a_pivot_and_turns_in_place():
    """A U-turn of pivots (0.2 m stripe spacing): the corners are reached, never cut."""
    pts = np.array([[0.0, 0.0], [5.0, 0.0], [5.0, 0.2], [0.0, 0.2]])
    f = PathFollower()
    f.set_path(pts)
    assert len(f.segments) == 3
    trace = drive(f, (0.0, 0.0, 0.0))
    xs = np.array([x for _, x, _, _, _ in trace])
    assert xs.max() <= 5.0 + 0.03  # no overshoot past the stripe end
    rotating = [(x, y) for _, x, y, _, c in trace if c.mode == 'rotating']
    assert rotating  # every rotation happens on a corner
    assert all(np.hypot(*(pts - (x, y)).T).min() <= 0.04 for x, y in rotating)
    assert abs(trace[-1][2] - 0.2) < 0.03 and trace[-1][1] < 0.05


def test_reverse_paths_are_driven_backwards():
    f = PathFollower()
    f.set_path(np.array([[0.0, 0.0], [-1.0, 0.0]]), reverse=True)
    trace = drive(f, (0.0, 0.0, 0.0))
    assert trace[-1][4].mode == 'done'
    assert all(c.v_mps <= 0.0 for *_, c in trace)
    assert abs(trace[-1][3]) < 0.05 and trace[-1][1] < -0.9


def test_speed_and_acceleration_limits_hold():
    p = FollowerParams()
    f = PathFollower(p)
    theta = np.linspace(0, 2 * np.pi, 200)
    f.set_path(np.stack([2 * np.cos(theta), 2 * np.sin(theta)], axis=1))
    trace = drive(f, (2.0, 0.0, math.pi / 2))
    v = np.array([c.v_mps for *_, c in trace])
    w = np.array([c.w_radps for *_, c in trace])
    assert np.abs(v).max() <= p.desired_speed_mps + 1e-9
    assert np.abs(w).max() <= p.max_angular_speed_radps + 1e-9
    assert np.abs(np.diff(v)).max() <= p.max_linear_accel_mps2 * DT + 1e-9
    assert np.abs(np.diff(w)).max() <= p.max_angular_accel_radps2 * DT + 1e-6


def test_regulation_heuristics():
    p = FollowerParams()
    assert lookahead_distance(0.0, p) == p.min_lookahead_m
    assert lookahead_distance(10.0, p) == p.max_lookahead_m
    assert curvature_constraint(0.5, 0.0, p) == 0.5
    assert curvature_constraint(0.5, 1 / (p.regulated_min_radius_m / 2), p) == pytest.approx(0.25)
    assert obstacle_constraint(0.5, 10.0, p) == 0.5
    assert obstacle_constraint(0.5, 0.0, p) == p.min_regulated_speed_mps
    assert approach_constraint(0.5, 0.0, p) == p.min_approach_speed_mps
    assert approach_constraint(0.5, 5.0, p) == 0.5


def test_slows_down_near_an_obstacle():
    f = PathFollower()
    f.set_path(np.array([[0.0, 0.0], [20.0, 0.0]]))
    trace = drive(f, (0.0, 0.0, 0.0), limit_s=10.0, obstacle=0.3)
    assert max(c.v_mps for *_, c in trace) <= 0.5 * 0.3 / 1.0 + 1e-6


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match='max_lookahead_m'):
        FollowerParams(max_lookahead_m=-1.0)
    with pytest.raises(ValueError, match='desired_speed_mps'):
        FollowerParams(desired_speed_mps=2.0, max_speed_mps=1.0)


@given(st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=0, max_size=12))
def test_any_polyline_splits_into_segments_that_keep_its_length(points):
    pts = np.array(points, dtype=float).reshape(-1, 2)
    segs = split_at_pivots(pts, 0.5)
    if len(pts) >= 2:
        total = float(np.hypot(*np.diff(pts, axis=0).T).sum())
        assert sum(s.length_m for s in segs) == pytest.approx(total, abs=1e-5)
    f = PathFollower()
    f.set_path(pts)
    cmd = f.step(0.0, 0.0, 0.0, 0.0)
    assert math.isfinite(cmd.v_mps) and math.isfinite(cmd.w_radps)
