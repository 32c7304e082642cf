"""Teach mode through the simulator's operator: the app's teach requests and its joystick.

The run goes on in its own thread, paced (two simulated seconds a second) so that the
joystick's commands, sent from the test's thread as the page sends them, arrive well within
the deadman time of simulated time.
"""

from __future__ import annotations

import math
import threading

import pytest
from lawn_gen import rectangle_lawn
from test_operated_run import wait

from mower_control.teach_control import TeachDrive, TeachDriveParams
from mower_maps import map_from_geojson
from mower_offline.operated_run import SimOperator
from mower_offline.out_dir import StopRequest
from mower_offline.run import MowingRun, RunConfig

SPEED = 2.0  # simulated seconds per wall second
SEND_S = 0.1  # the page's period (simulated s here)


def started(tmp_path, speed: float = SPEED):
    lawn = map_from_geojson(rectangle_lawn('teach', 8.0, 4.0, (0.3, 0.4)))
    cfg = RunConfig(perception='truth', camera_hz=0.0, record=False, limit_s=3600.0)
    run = MowingRun(lawn, tmp_path, cfg)
    op = SimOperator(run)
    stop = StopRequest()
    thread = threading.Thread(target=lambda: run.run(False, stop=stop, operator=op, speed=speed))
    return run, op, stop, thread


def hold(op: SimOperator, run: MowingRun, linear: float, angular: float, sim_s: float) -> list:
    """Send (linear, angular) every SEND_S of simulated time for ``sim_s``; the statuses seen."""
    seen = []
    end = run.sim.time_s + sim_s
    while run.sim.time_s < end:
        sent = run.sim.time_s
        ok, message = op.drive(linear, angular)
        assert ok, message
        wait(lambda due=sent + SEND_S: run.sim.time_s >= due, 5.0, 'the next send')
        seen.append(op.status())
    return seen


def xy(op: SimOperator) -> tuple[float, float]:
    s = op.status()
    return s.x_m, s.y_m


def test_the_owner_teaches_with_the_joystick_and_the_deadman_stops_the_mower(tmp_path):
    run, op, stop, thread = started(tmp_path)
    assert op.drive(0.3, 0.0) == (False, 'the simulated mower is not running')
    assert op.teach('start') == (False, 'the simulated mower is not running')
    thread.start()
    try:
        wait(lambda: op.status().state in ('IDLE', 'CHARGING'), what='on the dock')
        docked = op.status().state
        ok, why = op.drive(0.3, 0.0)
        assert not ok and why.startswith(f'not teaching ({docked})')
        assert op.teach('fly')[1].startswith("unknown teach request 'fly'")
        assert op.teach('boundary') == (
            False,
            f'not teaching ({docked}): call teach/start first',
        )
        assert op.teach('start') == (True, 'teaching: drive with teleop; the blade stays off')
        wait(lambda: op.status().state == 'TEACHING', what='TEACHING')
        ok, why = op.teach('boundary')
        assert ok and why.startswith('recording boundary 1'), why

        # the stick held forwards: the mower drives off its dock, the blade off
        x0, y0 = xy(op)
        seen = hold(op, run, 0.3, 0.0, 3.0)
        x1, y1 = xy(op)
        assert x1 - x0 > 0.5 and abs(y1 - y0) < 0.1  # east, off the dock
        assert not any(s.blade for s in seen) and {s.state for s in seen} == {'TEACHING'}
        assert run.loop.manual == (0.3, 0.0)

        # no fresh command: the wheels stop within the deadman time (0.5 simulated s)
        t_last = run.sim.time_s
        wait(lambda: run.sim.time_s > t_last + 1.0, what='1 simulated second')
        x2, y2 = xy(op)
        assert math.hypot(x2 - x1, y2 - y1) < 0.3  # at most 0.5 s at 0.3 m/s, and braking
        assert run.loop.manual is None  # the teleop let go: the follower's (idle) command
        wait(lambda: run.sim.time_s > t_last + 2.0, what='2 simulated seconds')
        assert math.hypot(xy(op)[0] - x2, xy(op)[1] - y2) < 0.01  # standing

        # turning on the spot, then let go with a zero: it stops at once
        heading = op.status().heading_deg
        hold(op, run, 0.0, 0.8, 1.0)
        assert op.drive(0.0, 0.0) == (True, 'stopped')
        turned = op.status().heading_deg
        assert (turned - heading) % 360.0 > 20.0  # left (counter-clockwise)
        t_zero = run.sim.time_s
        wait(lambda: run.sim.time_s > t_zero + 0.6, what='0.6 simulated seconds')
        settled = op.status().heading_deg
        wait(lambda: run.sim.time_s > t_zero + 1.2, what='1.2 simulated seconds')
        assert abs(op.status().heading_deg - settled) < 1.0
        ok, clamped = op.drive(5.0, -5.0)  # clamped to the joystick's top speeds
        assert ok and clamped == 'driving +0.50 m/s, -1.00 rad/s'

        ok, why = op.teach('undo')
        assert ok and why.startswith('boundary 1 undone'), why
        assert op.teach('undo') == (False, 'nothing to undo')
        ok, why = op.teach('finish')  # nothing recorded: refused with the fault, still teaching
        assert not ok and 'boundary' in why, why
        assert not (tmp_path / 'draft_map.geojson').exists()
        assert op.status().state == 'TEACHING'
        ok, why = op.teach('cancel')
        assert ok and why.startswith('teaching cancelled'), why
        wait(lambda: op.status().state == 'IDLE', what='IDLE')
        ok, why = op.drive(0.3, 0.0)
        assert not ok and why.startswith('not teaching (IDLE)')
        assert not any(s.blade for s in seen)
    finally:
        stop.signum = 2
        thread.join(60)
    assert not thread.is_alive()
    logged = [(name, zone, ok) for _, name, zone, ok, _ in op.log]
    assert logged[:3] == [('teach/boundary', 0, False), ('teach/start', 0, True)] + [
        ('teach/boundary', 0, True)
    ]
    assert ('teach/cancel', 0, True) in logged
    assert not any(name == 'drive' for name, _, _ in logged)  # ten a second: not logged


@pytest.mark.slow
def test_a_boundary_driven_round_becomes_a_draft_map_in_the_runs_folder(tmp_path):
    run, op, stop, thread = started(tmp_path, speed=6.0)
    op.teach_drive = TeachDrive(TeachDriveParams(deadman_s=2.0))  # 6x: the test's thread lags
    thread.start()
    try:
        wait(lambda: op.status().state in ('IDLE', 'CHARGING'), what='on the dock')
        assert op.teach('start')[0]
        wait(lambda: op.status().state == 'TEACHING', what='TEACHING')
        hold(op, run, 0.3, 0.0, 5.0)  # off the dock onto the lawn
        assert op.teach('boundary')[0]
        start = xy(op)
        hold(op, run, 0.3, 0.5, 4.0)  # round a circle of 0.6 m radius, back to the start
        wait(lambda: math.dist(xy(op), start) > 1.0, what='away from the start')
        hold(op, run, 0.3, 0.5, 9.0)
        ok, why = op.teach('finish')
        assert ok, why
        assert why.endswith('draft_map.geojson'), why  # where the draft went
        wait(lambda: op.status().state == 'IDLE', what='IDLE')
    finally:
        stop.signum = 2
        thread.join(60)
    assert (tmp_path / 'draft_map.geojson').is_file() and (tmp_path / 'draft_map.png').is_file()
