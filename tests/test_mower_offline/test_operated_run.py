"""The simulator's operator: commands from another thread, applied between control ticks."""

from __future__ import annotations

import threading
import time

import numpy as np
import shapely
from lawn_gen import BACK, garden
from shapely.geometry import LineString, Point

from mower_coverage.route import KINDS
from mower_offline.operated_run import SimOperator
from mower_offline.out_dir import StopRequest
from mower_offline.run import MowingRun, RunConfig


def wait(condition, timeout_s: float = 60.0, what: str = '') -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f'timed out waiting for {what}')


def test_zones_pause_resume_dock_and_stop_from_another_thread(tmp_path):
    lawn = garden()
    cfg = RunConfig(perception='truth', camera_hz=0.0, record=False, limit_s=3600.0)
    run = MowingRun(lawn, tmp_path, cfg)
    op = SimOperator(run)
    assert op.command('start') == (False, 'the simulated mower is not running')
    stop = StopRequest()
    done: dict = {}
    thread = threading.Thread(
        target=lambda: done.setdefault('result', run.run(False, stop=stop, operator=op))
    )
    thread.start()
    try:
        wait(lambda: op.status().state == 'IDLE', what='IDLE')
        s = op.status()
        assert s.zones == 2 and s.activity == 'docked' and s.charging
        assert op.command('start_zone', 3) == (False, 'no zone 3: the map has 2')
        assert op.command('fly')[0] is False

        ok, why = op.command('start_zone', 2)
        assert ok, why
        assert run.zone == 2
        pts, kinds = run.plan.path.points, run.plan.path.kinds
        mowing = np.isin(kinds, [KINDS.index(k) for k in ('headland', 'stripe', 'turn')])
        lines = shapely.union_all([LineString(pts[i : i + 2]) for i in np.flatnonzero(mowing)])
        assert BACK.buffer(0.01).covers(lines)  # zone 2's plan mows the back lawn only
        wait(lambda: op.status().state == 'MOWING', what='MOWING')
        assert op.status().zone == 2
        assert op.command('start_zone', 1) == (False, 'already MOWING: pause and dock first')

        assert op.command('pause')[0]
        wait(lambda: op.status().activity == 'paused', what='paused')
        assert op.command('start') == (True, 'resuming MOWING')  # start resumes when paused
        wait(lambda: op.status().state == 'MOWING', what='resumed')
        assert run.zone == 2  # resumed on the zone's plan, not the whole lawn's
        inside = BACK.buffer(-0.2)
        samples = []

        def on_back_lawn() -> bool:
            s = op.status()
            samples.append(s)
            return inside.contains(shapely.Point(s.x_m, s.y_m))

        wait(on_back_lawn, what='on the back lawn')
        # driving there, over the front lawn (zone 1: not mowed now) and the path, the blade
        # stays off
        crossing = [
            s for s in samples if s.state == 'MOWING' and not BACK.contains(Point(s.x_m, s.y_m))
        ]
        assert len(crossing) > 5 and not any(s.blade for s in crossing)
        wait(lambda: op.status().blade, what='mowing the back lawn')
        assert op.status().distance_today_m > 8.0  # through the path from the front lawn

        assert op.command('dock')[0]
        wait(lambda: op.status().activity == 'returning', what='returning')

        assert op.command('emergency_stop')[0]
        wait(lambda: op.status().emergency_stop and op.status().problem, what='estop')
        assert not op.status().blade
        x, y = op.status().x_m, op.status().y_m
        t0 = run.sim.time_s
        wait(lambda: run.sim.time_s > t0 + 5.0, what='5 simulated seconds')
        assert np.hypot(op.status().x_m - x, op.status().y_m - y) < 0.05
        assert op.command('start_zone', 1)[1].startswith('reset the safety stop first')
        assert [c[1] for c in op.log][-1] == 'start_zone'
    finally:
        stop.signum = 2
        thread.join(60)
    assert not thread.is_alive()
    assert done['result'].summary['interrupted']
    assert op.command('pause') == (False, 'the simulated mower is not running')
