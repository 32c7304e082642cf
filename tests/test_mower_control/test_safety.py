"""The safety supervisor's rules, one by one, on synthetic inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box

from mower_control.safety import ObstacleGrid, SafetyParams, SafetySupervisor, stopping_distance

LEVEL = np.array([1.0, 0.0, 0.0, 0.0])
REST = np.array([0.0, 0.0, 9.81])


def healthy(
    t: float = 0.0, pose=(5.0, 5.0, 0.0), v: float = 0.5, w: float = 0.0, lawn=None
) -> SafetySupervisor:
    s = SafetySupervisor(SafetyParams(), lawn if lawn is not None else box(0, 0, 10, 10))
    feed(s, t, pose, v, w)
    s.mission('MOWING', True)
    return s


def feed(
    s: SafetySupervisor, t: float, pose=(5.0, 5.0, 0.0), v: float = 0.5, w: float = 0.0
) -> None:
    s.imu(LEVEL, REST, t)
    s.odometry(*pose, t)
    s.command(v, w, t)


def test_all_clear_passes_the_command_and_the_blade():
    out = healthy().filter(0.0)
    assert out.ok and out.v_mps == 0.5 and out.blade


@pytest.mark.parametrize('hardware', [False, True])
def test_emergency_stop_latches_until_reset(hardware):
    s = healthy()
    s.emergency_stop(True, 0.0, hardware=hardware)
    out = s.filter(0.0)
    assert out.v_mps == 0.0 and out.w_radps == 0.0 and not out.blade
    s.emergency_stop(False, 0.1, hardware=hardware)
    feed(s, 1.0)
    assert not s.filter(1.0).blade  # released, but latched
    assert s.reset()[0]
    feed(s, 1.1)
    assert s.filter(1.1).ok


def test_reset_is_refused_while_the_hardware_button_is_pressed():
    s = healthy()
    s.emergency_stop(True, 0.0, hardware=True)
    ok, why = s.reset()
    assert not ok and 'hardware emergency stop' in why


def test_tilt_latches_and_reset_waits_for_level():
    s = healthy()
    a = math.radians(30) / 2
    tilted = np.array([math.cos(a), math.sin(a), 0.0, 0.0])  # 30 degrees of roll
    s.imu(tilted, REST, 0.01)
    out = s.filter(0.01)
    assert 'tilt' in out.latched and not out.blade and out.v_mps == 0.0
    assert not s.reset()[0]
    s.imu(LEVEL, REST, 0.02)
    assert s.reset()[0]


def test_lift_is_an_upward_speed_not_a_bump():
    s = healthy()
    for k, a_up in enumerate([0.0, 20.0, -20.0, 0.0], start=1):  # a bump: up, then down
        s.imu(LEVEL, REST + [0, 0, a_up], k * 0.01)
    assert 'lift' not in s.filter(0.04).reasons
    t = 0.04
    while 'lift' not in s.filter(t).latched:  # lifted at 3 m/s²
        t += 0.01
        s.imu(LEVEL, REST + [0, 0, 3.0], t)
        assert t < 0.1
    assert not s.filter(t).blade


def test_watchdog_and_stale_sensors():
    s = healthy()
    p = s.params
    out = s.filter(p.cmd_timeout_s + 0.01)
    assert out.v_mps == 0.0 and 'command timeout' in out.reasons
    s = healthy()
    s.command(0.5, 0.0, 1.0)
    s.odometry(5.0, 5.0, 0.0, 1.0)
    out = s.filter(1.0)  # the IMU's last sample is a second old
    assert 'imu stale' in out.reasons and out.v_mps == 0.0 and not out.blade
    s = SafetySupervisor()
    s.command(0.5, 0.0, 0.0)
    assert {'imu stale', 'odometry stale'} <= set(s.filter(0.0).reasons)


def test_non_finite_commands_are_ignored():
    s = healthy()
    s.command(math.nan, 0.0, 0.1)
    s.command(math.inf, 0.0, 0.1)
    assert s.filter(0.1).v_mps == 0.5  # the last good one


def test_geofence_stops_forward_motion_but_allows_turning_and_coming_back():
    lawn = box(0, 0, 10, 10)
    s = healthy(pose=(9.75, 5.0, 0.0), lawn=lawn)  # 0.25 m from the edge, driving at it
    out = s.filter(0.0)
    assert out.v_mps == 0.0 and 'geofence' in out.reasons
    feed(s, 0.0, pose=(9.75, 5.0, 0.0), v=0.0, w=1.0)
    assert s.filter(0.0).w_radps == 1.0
    feed(s, 0.0, pose=(9.75, 5.0, math.pi), v=0.5)  # facing back into the lawn
    assert s.filter(0.0).v_mps == 0.5
    feed(s, 0.0, pose=(9.95, 5.0, math.pi), v=0.5)  # beyond the fence, heading back in
    assert s.filter(0.0).v_mps == 0.5


def test_a_mower_exactly_on_the_fence_line_may_drive_back_in():
    lawn = box(0, 0, 10, 10)
    s = healthy(pose=(5.0, 5.0, 0.0), lawn=lawn)
    edge = s._fence.bounds[2]  # the fence line on the east side (x), for the centre
    feed(s, 0.0, pose=(edge, 5.0, math.pi), v=0.5)  # on the line, heading back in
    assert s.filter(0.0).v_mps == 0.5
    feed(s, 0.0, pose=(edge, 5.0, 0.0), v=0.5)  # on the line, heading out
    assert s.filter(0.0).v_mps == 0.0


@given(st.floats(0.05, 1.0), st.floats(-0.5, 0.5))
def test_geofence_never_lets_the_stopping_footprint_leave(v, y_off):
    s = healthy(pose=(5.0, 5.0 + y_off, 0.0))
    p = s.params
    for x in np.arange(8.0, 10.0, 0.01):
        feed(s, 0.0, pose=(float(x), 5.0 + y_off, 0.0), v=v)
        if s.filter(0.0).v_mps == 0.0:
            break
    reach = x + stopping_distance(v, p) + p.footprint_radius_m
    assert reach <= 10.0 + p.geofence_margin_m + 1e-6


def test_obstacle_ahead_stops_but_one_beside_does_not():
    mask = np.zeros((100, 100), dtype=bool)
    mask[50, 58] = True  # a cell centred at (5.85, 5.05), 0.85 m ahead
    s = healthy()
    s.grid = ObstacleGrid(mask, (0.0, 0.0), 0.1)
    assert s.filter(0.0).ok  # 0.85 m: farther than stopping distance plus footprint
    feed(s, 0.0, pose=(5.45, 5.0, 0.0))
    out = s.filter(0.0)
    assert out.v_mps == 0.0 and 'obstacle' in out.reasons and out.blade
    feed(s, 0.0, pose=(5.45, 5.0, 0.0), v=0.0, w=1.0)
    assert s.filter(0.0).w_radps == 1.0  # turning in place stays allowed
    feed(s, 0.0, pose=(5.85, 4.7, 0.0))  # passing beside it, 0.35 m off
    assert s.filter(0.0).ok


def test_an_obstacle_layer_read_at_a_threshold_keeps_the_cells_at_or_above_it():
    """map/obstacle_cells: the controller (50) slows near suspected cells, the stop (90) not."""
    values = np.zeros((4, 5), np.int8)
    values[1, 2], values[2, 3] = 50, 100
    slow = ObstacleGrid.from_values(values, (1.0, 2.0), 0.1, 50)
    stop = ObstacleGrid.from_values(values, (1.0, 2.0), 0.1, 90)
    assert np.array_equal(slow.mask, values >= 50) and np.array_equal(stop.mask, values == 100)
    assert np.allclose(stop.centres, [[1.35, 2.25]])
    assert slow.origin_xy == (1.0, 2.0) and slow.resolution_m == 0.1


def test_clearance_ahead_is_from_the_footprint_edge_to_anything_in_front():
    """The follower's slowing distance: the whole half-plane ahead, from the footprint's edge.

    Cells beside the way count too (a half-seen hose's mapped pieces slow the mower, so the
    camera gets more looks at the rest); cells behind do not.
    """
    mask = np.zeros((100, 100), dtype=bool)
    mask[51, 60] = True  # centred at (6.05, 5.15)
    g = ObstacleGrid(mask, (0.0, 0.0), 0.1)
    # straight ahead, 1.05 m east and 0.1 m north of the centre: less the footprint's 0.2 m
    assert g.clearance_ahead(5.0, 5.05, 0.0, 0.2) == pytest.approx(math.hypot(1.05, 0.1) - 0.2)
    # beside the way (0.4 m to the left, 0.05 m ahead): counts
    assert g.clearance_ahead(6.0, 4.75, 0.0, 0.2) == pytest.approx(math.hypot(0.05, 0.4) - 0.2)
    # behind, or beyond the look radius: nothing
    assert g.clearance_ahead(7.0, 5.05, 0.0, 0.2) == math.inf
    assert g.clearance_ahead(5.0, 5.05, 0.0, 0.2, radius_m=0.5) == math.inf
    # within the footprint: no room at all
    assert g.clearance_ahead(5.95, 5.15, 0.0, 0.2) == 0.0
    assert (
        ObstacleGrid(np.zeros((3, 3), bool), (0.0, 0.0), 0.1).clearance_ahead(0.0, 0.0, 0.0, 0.2)
        == math.inf
    )


def test_blade_interlock_follows_the_mission():
    s = healthy()
    s.mission('RETURNING', True)
    assert not s.filter(0.0).blade
    s.mission('MOWING', False)
    assert not s.filter(0.0).blade
    s.mission('MOWING', True)
    assert s.filter(0.0).blade


def drive(s: SafetySupervisor, t0: float, t1: float, pose_at, v: float, w: float, dt=0.1):
    """Feed the supervisor every ``dt`` from ``t0`` to ``t1``; the outputs, by time."""
    outs = {}
    for k in range(int(round((t1 - t0) / dt)) + 1):
        t = t0 + k * dt
        feed(s, t, pose_at(t), v, w)
        outs[round(t, 3)] = s.filter(t)
    return outs


def test_wheels_told_to_move_while_the_pose_stays_put_latch_stuck():
    # caught on a hose: the follower asks for a crawl and a turn, the pose does not change
    s = healthy(v=0.1, w=0.3)
    outs = drive(s, 0.0, 25.0, lambda t: (5.0, 5.0, 0.0), 0.1, 0.3)
    assert all(o.ok and o.blade for t, o in outs.items() if t <= 19.9)
    late = outs[25.0]
    assert 'stuck' in late.reasons and 'stuck' in late.latched
    assert late.v_mps == 0.0 and late.w_radps == 0.0 and not late.blade
    first = min(t for t, o in outs.items() if 'stuck' in o.reasons)
    assert 20.0 < first <= 20.2  # stuck_time_s after the first command to move
    # latched: freed and moving again, it stays stopped until the owner resets it
    outs = drive(s, 25.1, 30.0, lambda t: (5.0 + 0.5 * (t - 25.1), 5.0, 0.0), 0.5, 0.0)
    assert all('stuck' in o.reasons and o.v_mps == 0.0 for o in outs.values())
    assert s.reset() == (True, 'cleared: stuck')
    # after the reset the count starts again, from zero
    outs = drive(s, 30.1, 45.0, lambda t: (8.0, 5.0, 0.0), 0.1, 0.0)
    assert all(o.ok for o in outs.values())


@pytest.mark.parametrize(
    'name, pose_at, v, w',
    [
        ('slow straight drive', lambda t: (1.0 + 0.05 * t, 5.0, 0.0), 0.05, 0.0),
        ('turning in place', lambda t: (5.0, 5.0, math.remainder(0.5 * t, math.tau)), 0.0, 0.5),
        ('standing still by command', lambda t: (5.0, 5.0, 0.0), 0.0, 0.0),
        (
            'moving, with RTK noise of a few centimetres',
            lambda t: (1.0 + 0.1 * t + 0.03 * math.sin(7 * t), 5.0 + 0.03 * math.cos(5 * t), 0.0),
            0.1,
            0.0,
        ),
    ],
)
def test_progress_or_standing_still_is_never_stuck(name, pose_at, v, w):
    s = healthy(v=v, w=w, pose=pose_at(0.0))
    outs = drive(s, 0.0, 60.0, pose_at, v, w)
    assert not any('stuck' in o.reasons for o in outs.values()), name


def test_a_crawl_below_the_travel_threshold_and_noise_on_a_stuck_mower_still_count():
    # 4 mm/s: 8 cm in 20 s, below stuck_travel_m (0.1 m)
    s = healthy(v=0.1)
    outs = drive(s, 0.0, 25.0, lambda t: (5.0 + 0.004 * t, 5.0, 0.0), 0.1, 0.0)
    assert 'stuck' in outs[25.0].latched
    # caught, with the pose jittering by 2 cm and 3 degrees
    s = healthy(v=0.1)
    outs = drive(
        s,
        0.0,
        25.0,
        lambda t: (5.0 + 0.02 * math.sin(3 * t), 5.0 + 0.02 * math.cos(2 * t), 0.05 * math.sin(t)),
        0.1,
        0.0,
    )
    assert 'stuck' in outs[25.0].latched


def test_a_stop_restarts_the_count_and_zero_switches_the_check_off():
    # stuck for 15 s, a pause of a second (commanded still), then 15 s more: not yet stuck
    s = healthy(v=0.1)
    drive(s, 0.0, 15.0, lambda t: (5.0, 5.0, 0.0), 0.1, 0.0)
    drive(s, 15.1, 16.0, lambda t: (5.0, 5.0, 0.0), 0.0, 0.0)
    outs = drive(s, 16.1, 31.0, lambda t: (5.0, 5.0, 0.0), 0.1, 0.0)
    assert not any('stuck' in o.reasons for o in outs.values())
    assert 'stuck' in drive(s, 31.1, 37.0, lambda t: (5.0, 5.0, 0.0), 0.1, 0.0)[37.0].latched
    off = SafetySupervisor(SafetyParams(stuck_time_s=0.0), box(0, 0, 10, 10))
    feed(off, 0.0, (5.0, 5.0, 0.0), 0.1, 0.0)
    off.mission('MOWING', True)
    assert not any(
        'stuck' in o.reasons for o in drive(off, 0, 100, lambda t: (5, 5, 0), 0.1, 0).values()
    )
