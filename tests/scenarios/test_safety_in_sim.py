"""Control and safety in the simulator (the issue's acceptance), one test per safety case.

The whole control chain runs closed loop in MuJoCo (mower_sim.closed_loop.ClosedLoop): mission ->
path follower -> safety supervisor -> motor driver -> simulated motor board -> mower. Each test
puts the mower mid-stripe on the demo lawn, mowing, and then makes something go wrong.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from conftest import MAPS  # noqa: E402

from mower_coverage import CoveragePlanner, PlannerParams, params_for_map  # noqa: E402
from mower_coverage.route import KINDS  # noqa: E402
from mower_maps import load_map  # noqa: E402
from mower_offline.closed_loop import ClosedLoop, LoopConfig  # noqa: E402
from mower_sim.sim import LawnSim  # noqa: E402
from mower_sim.world import HiddenObstacle, WorldConfig  # noqa: E402

TICK_S = 0.02


@pytest.fixture(scope='module')
def demo():
    lawn = load_map(MAPS / 'demo_lawn.geojson')
    plan = CoveragePlanner(params_for_map(PlannerParams(), lawn)).plan(lawn)
    return lawn, plan


def stripe_start(plan, k: int) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Start point, heading and arc length of the k-th stripe of the plan, and its end."""
    pts, kinds = plan.path.points, plan.path.kinds
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    i = int(np.flatnonzero(kinds == KINDS.index('stripe'))[k])
    d = pts[i + 1] - pts[i]
    return pts[i], math.atan2(d[1], d[0]), float(cum[i]), pts[i + 1]


def mowing_mid_stripe(
    lawn,
    plan,
    k: int = 3,
    config: LoopConfig | None = None,
    world: WorldConfig | None = None,
    settle_s: float = 3.0,
    render: bool = False,
) -> ClosedLoop:
    """A loop whose mower is mowing the k-th stripe at cruising speed."""
    xy, heading, s, _ = stripe_start(plan, k)
    sim = LawnSim(lawn, world or WorldConfig(), seed=3, render=render)
    sim.set_pose(float(xy[0]), float(xy[1]), heading)
    loop = ClosedLoop(
        sim, config or LoopConfig(), plan.path.points, plan.path.kinds, plan.area.region
    )
    loop.mission.progress_m = s + loop.cfg.mission.resume_overlap_m
    assert loop.mission.request('start')[0]
    loop.run(settle_s)
    tick = loop.ticks[-1]
    assert tick.mission.state == 'MOWING' and sim.blade_on
    assert tick.follower.mode == 'following' and tick.safety.ok
    return loop


def speed(loop: ClosedLoop) -> float:
    """The mower's true ground speed (m/s)."""
    return float(np.hypot(*loop.sim.data.qvel[:2]))


def run_recording(loop: ClosedLoop, duration_s: float) -> dict[str, list]:
    """Step for ``duration_s``; record time, speed, blade, safety output and mission state."""
    rec: dict[str, list] = {
        't': [],
        'speed': [],
        'blade': [],
        'v': [],
        'w': [],
        'state': [],
        'reasons': [],
    }
    end = loop.sim.time_s + duration_s
    while loop.sim.time_s < end:
        tick = loop.step()
        rec['t'].append(loop.sim.time_s)
        rec['speed'].append(speed(loop))
        rec['blade'].append(loop.sim.blade_on)
        rec['v'].append(tick.safety.v_mps)
        rec['w'].append(tick.safety.w_radps)
        rec['state'].append(tick.mission.state)
        rec['reasons'].append(tick.safety.reasons)
    return rec


def test_follower_holds_a_stripe_within_3_cm_rms(demo):
    lawn, plan = demo
    xy, heading, _, end = stripe_start(plan, 5)
    loop = mowing_mid_stripe(lawn, plan, k=5, settle_s=0.5)
    direction = np.array([math.cos(heading), math.sin(heading)])
    errors = []
    while True:
        loop.step()
        p = np.array(loop.sim.pose[:2])
        along = float((p - xy) @ direction)
        if along > float((end - xy) @ direction) - 0.3:
            break
        d = p - xy
        errors.append(float(direction[0] * d[1] - direction[1] * d[0]))
    assert len(errors) > 100  # several metres of stripe
    rms = math.sqrt(float(np.mean(np.square(errors))))
    assert rms <= 0.03, rms
    assert max(abs(e) for e in errors) <= 0.06


def test_emergency_stop_mid_stripe_stops_everything_until_reset(demo):
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    t0 = loop.sim.time_s
    loop.safety.emergency_stop(True, t0)  # the topic; latched on arrival
    loop.safety.emergency_stop(False, t0 + 0.01)  # released: stays latched anyway
    rec = run_recording(loop, 5.0)
    assert rec['v'][0] == 0.0 and rec['w'][0] == 0.0 and not rec['blade'][0]
    assert not any(rec['blade']) and all(v == 0.0 and w == 0.0 for v, w in zip(rec['v'], rec['w']))
    stopped = [s < 0.01 for s in rec['speed']]
    assert all(stopped[int(1.0 / TICK_S) :])  # standing still from 1 s on, for 4 s
    assert rec['state'][-1] == 'ERROR'
    assert loop.mission.request('resume')[0] is False  # not before the reset
    ok, _ = loop.safety.reset()
    assert ok
    loop.step()  # the mission sees the cleared stop on its next tick
    assert loop.mission.request('resume')[0]
    rec = run_recording(loop, 12.0)  # back to the resume point (0.3 m overlap), then on
    assert rec['state'][-1] == 'MOWING' and rec['blade'][-1] and max(rec['speed']) > 0.3


def test_hardware_emergency_stop_needs_release_before_reset(demo):
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    loop.board.press_estop(True)
    assert not loop.sim.blade_on  # the board cuts the blade itself, at once
    rec = run_recording(loop, 2.0)
    assert 'hardware emergency stop' in rec['reasons'][-1] and rec['speed'][-1] < 0.01
    assert loop.safety.reset()[0] is False
    loop.board.press_estop(False)
    run_recording(loop, 0.3)
    assert loop.safety.reset()[0] is True


@pytest.mark.parametrize('event', ['tilt', 'lift'])
def test_tilt_and_lift_stop_the_blade_within_100_ms(demo, event):
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    sim = loop.sim
    limit = loop.cfg.safety.tilt_limit_rad
    if event == 'tilt':  # tipped sideways: the event is the moment it passes the limit
        _, heading, _, _ = stripe_start(plan, 3)
        sim.push(torque_nm=(25.0 * math.cos(heading), 25.0 * math.sin(heading), 0.0))
        while sim.tilt_rad <= limit:
            loop.step()
        t_event = sim.time_s
    else:  # lifted by hand: the event is the moment the lifting starts
        sim.push(force_n=(0.0, 0.0, 125.0))
        t_event = sim.time_s
    t_off = None
    for _ in range(int(0.5 / TICK_S)):
        tick = loop.step()
        if t_off is None and not sim.blade_on:
            t_off = sim.time_s
    sim.push()
    assert t_off is not None
    assert t_off - t_event <= 0.100, t_off - t_event
    assert event in tick.safety.latched and tick.safety.v_mps == 0.0
    assert tick.mission.state == 'ERROR'


def test_command_silence_stops_the_wheels_within_the_timeout(demo):
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    timeout = loop.cfg.safety.cmd_timeout_s
    loop.commands_enabled = False
    t0 = loop.sim.time_s
    rec = run_recording(loop, 2.0)
    t = np.array(rec['t']) - t0
    v = np.array(rec['v'])
    assert np.all(v[t > timeout + TICK_S] == 0.0)
    assert np.any(v[t < timeout - TICK_S] > 0.3)  # it really was driving until then
    assert all('command timeout' in r for r, tt in zip(rec['reasons'], t) if tt > timeout + TICK_S)
    braking = 0.5 / 1.0 + 0.1  # from 0.5 m/s at the board's ramp, plus a margin
    assert np.all(np.array(rec['speed'])[t > timeout + braking] < 0.02)


def test_driving_at_the_boundary_stops_before_leaving_it(demo):
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    x, y, _ = loop.sim.pose
    loop.sim.set_pose(x, y, -math.pi / 2)  # facing the south edge, 8.9 m away
    loop.manual = (0.8, 0.0)  # a controller gone wrong: straight out at 0.8 m/s
    rec = run_recording(loop, 20.0)
    assert loop.sim.events.boundary_exits == 0
    assert any('geofence' in r for r in rec['reasons'])
    p = loop.cfg.safety
    foot = shapely.Point(loop.sim.pose[:2]).buffer(p.footprint_radius_m)
    outside = foot.difference(lawn.boundary)
    reach = shapely.hausdorff_distance(outside, outside.boundary) if not outside.is_empty else 0.0
    assert reach <= p.geofence_margin_m + 0.02, reach  # within the margin, plus 2 cm
    assert rec['speed'][-1] < 0.01


@pytest.mark.slow
def test_hidden_obstacle_in_the_path_stops_before_contact(demo):
    lawn, plan = demo
    xy, heading, _, _ = stripe_start(plan, 3)
    ahead = xy + 4.0 * np.array([math.cos(heading), math.sin(heading)])
    world = WorldConfig(hidden=(HiddenObstacle('rock', float(ahead[0]), float(ahead[1]), 0.35),))
    loop = mowing_mid_stripe(
        lawn, plan, config=LoopConfig(camera_hz=10.0), world=world, settle_s=0.5, render=True
    )
    rec = run_recording(loop, 15.0)
    assert loop.sim.events.collisions == 0
    assert any('obstacle' in r for r in rec['reasons'])
    gap = math.hypot(*(np.array(loop.sim.pose[:2]) - ahead)) - 0.35 / 2 - 0.2
    assert 0.0 < gap < 0.5, gap  # stopped close, without touching
    assert rec['speed'][-1] < 0.01
    assert loop.mission.replans >= 1  # and it asked the planner for a way around


def test_motor_board_disconnect_stops_safely_reconnects_and_reports(demo):
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    loop.board.plugged = False
    t0 = loop.sim.time_s
    rec = run_recording(loop, 3.0)
    t = np.array(rec['t']) - t0
    assert not loop.driver.status.connected and loop.driver.status.disconnects == 1
    assert all('odometry stale' in r for r, tt in zip(rec['reasons'], t) if tt > 0.35)
    assert np.all(np.array(rec['speed'])[t > 1.2] < 0.01)  # the board's watchdog, too
    assert not any(np.array(rec['blade'])[t > 0.6])
    assert rec['state'][-1] == 'ERROR'
    diag = loop.driver.diagnostics()
    assert diag['connected'] == 'False' and diag['disconnects'] == '1'
    assert 'plugged' in diag['last_error']
    loop.board.plugged = True
    rec = run_recording(loop, 1.5)
    assert loop.driver.status.connected and loop.driver.status.connects == 2
    assert 'odometry stale' not in rec['reasons'][-1]
    assert loop.mission.request('resume')[0]
    rec = run_recording(loop, 12.0)
    assert rec['state'][-1] == 'MOWING' and max(rec['speed']) > 0.3


def test_a_mower_caught_mid_stripe_is_stopped_as_stuck_and_the_mission_errs(demo):
    """Held where it is (as the garden hose held it on random garden 0): blade and wheels stop.

    The mower is put back where it was after every tick, as if caught: the follower keeps
    asking to drive, the pose does not move. After ``stuck_time_s`` the supervisor latches
    'stuck' and the mission goes to ERROR with that reason; a reset lets it resume.
    """
    lawn, plan = demo
    loop = mowing_mid_stripe(lawn, plan)
    x, y, yaw = loop.sim.pose
    limit = loop.cfg.safety.stuck_time_s
    states, blades, t0 = [], [], loop.sim.time_s
    while loop.sim.time_s < t0 + limit + 2.0:
        tick = loop.step()
        loop.sim.set_pose(x, y, yaw)
        states.append((loop.sim.time_s - t0, tick.mission.state, tick.safety.reasons))
        blades.append((loop.sim.time_s - t0, loop.sim.blade_on))
    assert all(s == 'MOWING' for t, s, _ in states if t < limit - 0.5)
    assert all(on for t, on in blades if t < limit - 0.5)  # caught, still mowing for a while
    stuck = [t for t, _, reasons in states if 'stuck' in reasons]
    assert stuck and limit - 0.5 < stuck[0] < limit + 1.0
    assert states[-1][1] == 'ERROR' and 'stuck' in loop.mission.message
    assert not any(on for t, on in blades if t > stuck[0] + 0.1)
    assert loop.ticks[-1].safety.v_mps == 0.0 and loop.ticks[-1].safety.w_radps == 0.0
    assert loop.safety.reset()[0]
    loop.step()
    assert loop.mission.request('resume')[0]
