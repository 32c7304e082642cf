"""The mission state machine on synthetic inputs (no simulator)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from mower_control.mission import STATES, Mission, MissionInputs, MissionParams, TriedTrack

PLAN = np.array([[1.0, 1.0], [9.0, 1.0], [9.0, 1.2], [1.0, 1.2], [1.0, 1.4], [9.0, 1.4]])
REGION = box(0.5, 0.5, 9.5, 9.5)
DOCK = (0.5, 5.0, 0.0)  # on the west edge, facing into the lawn


class Driver:
    """Follows the mission's paths perfectly: jumps along them at 1 m per tick."""

    def __init__(self, m: Mission) -> None:
        self.m = m
        self.pose = (DOCK[0], DOCK[1], DOCK[2])
        self.path_id = -1
        self.progress = 0.0
        self.done = False
        self.t = 0.0
        self.stall = False

    def tick(self, **kw):
        out = self.m.tick(
            MissionInputs(
                self.t,
                self.pose,
                follower_path_id=self.path_id,
                follower_done=self.done,
                follower_progress_m=self.progress,
                **kw,
            )
        )
        if out.path_id != self.path_id:
            self.path_id, self.progress, self.done = out.path_id, 0.0, out.path is None
            self.path = out.path
        if out.path is not None and not self.done and not self.stall:
            length = float(np.hypot(*np.diff(out.path, axis=0).T).sum())
            self.progress = min(length, self.progress + 1.0)
            self.done = self.progress >= length
            end = out.path[-1] if self.done else out.path[min(1, len(out.path) - 1)]
            self.pose = (float(end[0]), float(end[1]), self.pose[2])
        self.t += 0.1
        return out


def mission(**kw) -> tuple[Mission, Driver]:
    m = Mission(MissionParams(**kw), DOCK, REGION)
    m.set_plan(PLAN)
    return m, Driver(m)


def run_until(d: Driver, state: str, limit: int = 500, **kw):
    for _ in range(limit):
        out = d.tick(**kw)
        if out.state == state:
            return out
    raise AssertionError(f'never reached {state}; stuck in {out.state}: {out.message}')


def test_states_are_classes_with_names():
    assert [s.name for s in STATES] == [
        'IDLE',
        'UNDOCKING',
        'MOWING',
        'DISCOVERING',
        'PAUSED',
        'RETURNING',
        'DOCKING',
        'CHARGING',
        'TEACHING',
        'ERROR',
    ]


def test_a_whole_run_undocks_mows_returns_and_docks():
    m, d = mission()
    assert m.request('start') == (True, 'starting')
    seen = []
    for _ in range(400):
        out = d.tick(charging=d.pose[:2] == DOCK[:2])
        if not seen or seen[-1] != out.state:
            seen.append(out.state)
        if out.state == 'IDLE' and len(seen) > 1:
            break
    assert seen == ['UNDOCKING', 'MOWING', 'RETURNING', 'DOCKING', 'IDLE']
    assert m.complete and m.progress_m == pytest.approx(
        float(np.hypot(*np.diff(PLAN, axis=0).T).sum())
    )


def test_requests_are_checked():
    m = Mission()
    assert m.request('start') == (False, 'no coverage plan yet')
    m, d = mission()
    assert m.request('pause')[0] is False and m.request('resume')[0] is False
    assert m.request('fly')[0] is False
    m.request('start')
    run_until(d, 'MOWING')
    assert m.request('start')[0] is False


def test_pause_and_resume():
    m, d = mission()
    m.request('start')
    run_until(d, 'MOWING')
    assert m.request('pause')[0]
    out = d.tick()
    assert out.state == 'PAUSED' and out.path is None and not out.blade
    assert m.request('resume') == (True, 'resuming MOWING')
    out = d.tick()
    assert out.state == 'MOWING' and out.blade


def test_low_battery_returns_charges_and_resumes_where_it_stopped():
    m, d = mission()
    m.request('start')
    run_until(d, 'MOWING')
    for _ in range(5):
        d.tick()
    out = run_until(d, 'RETURNING', battery_pct=10.0)
    assert 'battery' in out.message
    stopped_at = m.progress_m
    assert 0 < stopped_at < 20
    run_until(d, 'CHARGING', battery_pct=10.0, charging=True)
    out = d.tick(battery_pct=50.0, charging=True)
    assert out.state == 'CHARGING'  # not charged enough
    run_until(d, 'UNDOCKING', battery_pct=95.0, charging=True)
    out = run_until(d, 'MOWING', battery_pct=95.0)
    assert m.state.s0 == pytest.approx(stopped_at - m.params.resume_overlap_m)


def _blocked_undock(reason: str, **params) -> list[str]:
    """States, tick by tick (0.1 s), of a mission whose undock a safety stop holds."""
    return [out.state for out in _blocked_undock_outputs(reason, **params)[1]]


def _blocked_undock_outputs(reason: str, **params):
    m, d = mission(**params)
    m.request('start')
    d.stall = True  # the supervisor's stop: the follower's path is not driven
    return d, [d.tick(safety_reasons=(reason,)) for _ in range(60)]


def test_the_blade_waits_until_a_handed_over_undock_is_off_the_dock():
    d, outs = _blocked_undock_outputs('obstacle', blocked_replan_s=1.0, manoeuvre_timeout_s=5.0)
    assert [o for o in outs if o.state == 'MOWING'] and not any(o.blade for o in outs)
    d.stall = False  # the way is clear again: mowing drives on, away from the dock
    blades = []
    for _ in range(40):
        out = d.tick()
        off = float(np.hypot(d.pose[0] - DOCK[0], d.pose[1] - DOCK[1]))
        blades.append((off, out.blade))
    assert any(b for _, b in blades)  # it mows once away
    assert not any(b for off, b in blades if off < 0.6 - 1e-6)  # undock_distance_m


def test_an_obstacle_on_the_way_off_the_dock_hands_over_to_mowing():
    # random garden 9, 2026-12-05: phantom cells under the mower's front held the undock
    # until manoeuvre_timeout_s, ERROR; mowing's replans go around what the camera found
    states = _blocked_undock('obstacle', blocked_replan_s=1.0, manoeuvre_timeout_s=5.0)
    first = states.index('MOWING')
    assert set(states[:first]) == {'UNDOCKING'}
    assert 10 <= first <= 13  # after blocked_replan_s (1 s of 0.1 s ticks), not before
    assert 'ERROR' not in states


def test_a_lift_on_the_way_off_the_dock_still_ends_in_error():
    states = _blocked_undock('lift', blocked_replan_s=1.0, manoeuvre_timeout_s=5.0)
    assert 'MOWING' not in states
    assert states[-1] == 'ERROR'
    assert states.index('ERROR') >= 50  # after manoeuvre_timeout_s


def test_rain_sends_it_home_and_it_waits_to_be_dry():
    m, d = mission(dry_wait_s=2.0)
    m.request('start')
    run_until(d, 'MOWING')
    run_until(d, 'RETURNING', raining=True)
    run_until(d, 'CHARGING', raining=True, charging=True)
    for _ in range(5):
        assert d.tick(raining=True, charging=True).state == 'CHARGING'
    t_dry = d.t
    run_until(d, 'UNDOCKING', charging=True)
    assert d.t - t_dry >= 2.0


def test_resume_point_comes_from_the_coverage_layer():
    mowed_until_x = 6.0

    def mowed(xy):
        return (xy[:, 1] < 1.1) & (xy[:, 0] <= mowed_until_x)  # first stripe mowed to x = 6

    m = Mission(MissionParams(), DOCK, REGION, mowed=mowed)
    m.set_plan(PLAN)
    s = m.resume_point()
    assert s == pytest.approx(5.0 + 0.1 - m.params.resume_overlap_m, abs=0.11)


def test_safety_stop_is_an_error_until_reset():
    m, d = mission()
    m.request('start')
    run_until(d, 'MOWING')
    out = d.tick(safety_latched=('emergency stop',), safety_reasons=('emergency stop',))
    assert out.state == 'ERROR' and 'emergency stop' in out.message and out.path is None
    ok, why = m.request('resume')
    assert not ok and 'reset' in why
    d.tick()
    assert m.request('resume')[0]
    assert d.tick().state == 'MOWING'


def test_lost_motor_board_is_an_error_after_a_grace_period():
    m, d = mission(link_lost_error_s=0.5)
    m.request('start')
    run_until(d, 'MOWING')
    assert d.tick(board_connected=False).state == 'MOWING'
    run_until(d, 'ERROR', limit=10, board_connected=False)
    assert m.message == 'motor board lost'


def test_a_blocked_path_asks_for_a_replan_then_gives_up_when_skipping_is_off():
    m, d = mission(blocked_replan_s=0.5, max_replans=2, skip_radius_m=0.0)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    replans = 0
    for _ in range(100):
        out = d.tick(safety_reasons=('obstacle',))
        replans += out.replan
        if out.state == 'ERROR':
            break
    assert replans == 2 and out.state == 'ERROR' and 'blocked' in out.message
    assert m.skipped == []


def test_a_blocked_way_home_is_planned_again_around_what_was_found_then_gives_up():
    """Before, RETURNING stopped by an obstacle waited for ever (large_lawn, 2026-12-03)."""
    m, d = mission(blocked_replan_s=0.5, max_replans=2)
    m.request('start')
    run_until(d, 'MOWING')
    for _ in range(3):
        d.tick()
    d.stall = True  # stopped by the obstacle as soon as it turns for home
    run_until(d, 'RETURNING', battery_pct=10.0)
    first = d.path_id
    replans = 0
    for _ in range(20):
        out = d.tick(battery_pct=10.0, safety_reasons=('obstacle',))
        replans += out.replan
        if out.replan:
            break
    assert replans == 1 and out.state == 'RETURNING' and 'blocked' in out.message
    # the planner's answer: a region with the obstacle found between here and the dock cut out
    (x, y), (ax, ay) = d.pose[:2], m.dock_line()[0]
    assert abs(ay - y) > 2.0  # far from home
    wall = box(0.0, (y + ay) / 2 - 0.2, max(x, ax) + 1.0, (y + ay) / 2 + 0.2)  # from the west
    assert shapely.LineString(d.path).intersects(wall)  # the first way home went through it
    m.set_plan(PLAN, region=REGION.difference(wall))
    out = d.tick(battery_pct=10.0, safety_reasons=('obstacle',))
    assert out.path_id != first and out.state == 'RETURNING'
    home = out.path
    assert not shapely.LineString(home).intersects(wall)  # around it
    assert np.allclose(home[0], d.pose[:2]) and np.allclose(home[-1], m.dock_line()[0])
    # still blocked after max_replans: ERROR, saying where
    for _ in range(100):
        out = d.tick(battery_pct=10.0, safety_reasons=('obstacle',))
        replans += out.replan
        if out.state == 'ERROR':
            break
    assert replans == 2 and out.state == 'ERROR'
    assert 'way back to the dock stays blocked at' in out.message


def _blocked_until_moved(d: Driver, limit: int = 200) -> list:
    """Tick with an obstacle stop until the mission hands the follower a new path."""
    outs = []
    start = d.path_id
    for _ in range(limit):
        out = d.tick(safety_reasons=('obstacle',))
        outs.append(out)
        if out.path_id != start or out.state != 'MOWING':
            break
    return outs


def test_a_stretch_that_stays_blocked_is_skipped_and_mowing_goes_on_past_it():
    m, d = mission(blocked_replan_s=0.5, max_replans=2, skip_radius_m=0.6)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    d.pose = (3.0, 1.0, 0.0)  # on the first stripe, 2 m in; the follower reports the same
    d.progress = m.state.offset + 2.0  # past the transit from the dock
    outs = _blocked_until_moved(d)
    out = outs[-1]
    assert sum(o.replan for o in outs) == 2  # the planner was asked first, as before
    assert out.state == 'MOWING' and 'skipped' in out.message
    assert len(m.skipped) == 1
    x, y, r = m.skipped[0]
    assert (x, y, r) == pytest.approx((3.3, 1.0, 0.6))
    # the new path leads from here to beyond the skipped stretch, still on the first stripe
    assert out.path[0] == pytest.approx([3.0, 1.0])
    start = out.path[1]
    assert start[1] == pytest.approx(1.0) and 3.9 <= start[0] <= 4.0
    assert np.hypot(*(start - [3.3, 1.0])) >= 0.6
    # the rest is mowed: the run completes, naming what was left
    d.stall = False
    out = run_until(d, 'RETURNING')
    assert m.complete and '1 blocked stretch(es) left unmowed at (3.3, 1.0)' in out.message


def test_a_skip_first_backs_out_along_the_track_blade_off_then_mows_on():
    m, d = mission(blocked_replan_s=0.5, max_replans=1, skip_radius_m=0.6, backout_m=0.5)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    for x in np.arange(2.0, 3.01, 0.1):  # along the first stripe up to 2 m in
        d.pose = (float(x), 1.0, 0.0)
        d.tick()
    d.progress = m.state.offset + 2.0
    out = _blocked_until_moved(d)[-1]
    # wedged: back 0.5 m the way it came, reversing, blade off
    assert out.state == 'MOWING' and out.reverse and not out.blade
    assert out.path[0] == pytest.approx([3.0, 1.0])
    assert out.path[-1] == pytest.approx([2.5, 1.0])
    assert float(np.hypot(*np.diff(out.path, axis=0).T).sum()) == pytest.approx(0.5)
    # backed out: forward again from beyond the skipped stretch, blade on
    d.stall = False
    out = d.tick()
    assert out.reverse and not out.blade  # still backing this tick
    out = d.tick()
    assert out.state == 'MOWING' and not out.reverse and out.blade
    assert out.path[1][1] == pytest.approx(1.0) and 3.9 <= out.path[1][0] <= 4.0


def test_backing_out_blocked_behind_too_mows_on_from_where_it_is():
    m, d = mission(blocked_replan_s=0.2, max_replans=1, skip_radius_m=0.6, backout_m=0.5)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    for x in np.arange(2.0, 3.01, 0.1):
        d.pose = (float(x), 1.0, 0.0)
        d.tick()
    d.progress = m.state.offset + 2.0
    out = _blocked_until_moved(d)[-1]
    assert out.reverse
    outs = _blocked_until_moved(d)  # an obstacle behind as well: it does not wait forever
    assert not outs[-1].reverse and outs[-1].blade and len(outs) < 10


def test_the_resume_point_never_falls_inside_a_skipped_stretch_with_a_coverage_layer():
    mowed_until = {'x': 2.0}

    def mowed(xy):
        return (xy[:, 1] < 1.1) & (xy[:, 0] <= mowed_until['x'])

    m, _ = mission()
    m.mowed = mowed
    # the first unmowed point is 1.1 m along the plan (x = 2.1), less the overlap
    assert m.resume_point() == pytest.approx(1.1 - 0.3, abs=0.051)
    m.skipped = [(2.5, 1.0, 0.55)]  # x 1.95 to 3.05: the resume point and its overlap in it
    s = m.resume_point()
    x = m.point_at(np.array([s]))[0]
    assert x[0] == pytest.approx(3.1, abs=0.051) and x[1] == pytest.approx(1.0)


def test_after_max_skips_it_gives_up_and_says_where_it_skipped():
    m, d = mission(blocked_replan_s=0.2, max_replans=1, skip_radius_m=0.5, max_skips=2)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    out = None
    for _ in range(400):
        out = d.tick(safety_reasons=('obstacle',))
        if out.state == 'ERROR':
            break
    assert out.state == 'ERROR'
    assert m.skips == 2
    assert 'the path stays blocked after replanning' in out.message
    assert 'left unmowed at' in out.message


def test_blocked_again_inside_a_skipped_stretch_grows_it():
    m, d = mission(blocked_replan_s=0.2, max_replans=1, skip_radius_m=0.5)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    d.pose, d.progress = (3.0, 1.0, 0.0), m.state.offset + 2.0
    _blocked_until_moved(d)
    assert m.skipped == [pytest.approx((3.25, 1.0, 0.5))]
    d.pose, d.progress = (3.5, 1.0, 0.0), 0.0  # at the start of the new path, 2.5 m in
    _blocked_until_moved(d)
    assert m.skipped == [pytest.approx((3.25, 1.0, 1.0))] and m.skips == 2


def test_a_new_run_forgets_the_skipped_stretches():
    m, d = mission(blocked_replan_s=0.2, max_replans=1)
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True
    _blocked_until_moved(d)
    assert m.skipped
    d.stall = False
    run_until(d, 'IDLE', charging=True)
    assert m.complete
    assert m.request('start')[0]
    assert m.skipped == [] and m.skips == 0


def test_a_new_plan_while_mowing_continues_on_it():
    m, d = mission()
    m.request('start')
    run_until(d, 'MOWING')
    before = d.path_id
    m.set_plan(PLAN + [0.0, 0.05])
    out = d.tick()
    assert out.state == 'MOWING' and out.path_id != before


def test_dock_request_holds_it_on_the_dock():
    m, d = mission()
    m.request('start')
    run_until(d, 'MOWING')
    assert m.request('dock')[0]
    run_until(d, 'IDLE', charging=True)  # docked, and stays: the operator asked for it
    assert not m.complete
    for _ in range(5):
        assert d.tick(charging=True, battery_pct=100.0).state == 'IDLE'


def test_the_blade_stays_off_over_navigation_areas_while_mowing():
    m, d = mission()
    m.blade_off = box(4.0, 0.0, 6.0, 10.0)  # a paved path across the plan's stripes
    m.request('start')
    run_until(d, 'MOWING')
    d.stall = True  # the test places the robot along the first stripe itself
    for x in np.arange(1.0, 9.0, 0.25):
        d.pose = (float(x), 1.0, 0.0)
        out = d.tick()
        assert out.state == 'MOWING'
        assert out.blade is not (4.0 < x < 6.0), x
    m.blade_off = None
    assert d.tick().blade


def _drive_first_stripe(m: Mission, d: Driver) -> list:
    """Drive PLAN's first stripe at 5 cm a tick, as the mission's follower reports it."""
    outs = []
    for x in np.arange(1.0, 9.001, 0.05):
        d.t += 0.1
        outs.append(m.tick(MissionInputs(d.t, (float(x), 1.0, 0.0), follower_path_id=m.path_id)))
    return outs


def test_a_point_driven_over_with_the_blade_on_is_not_resumed_at_again():
    # the coverage layer calls one point of the mowed first stripe unmowed (a corner the
    # follower cut, a cell the layer rounded away): a resume went back there every time
    def mowed(xy):
        hole = np.hypot(xy[:, 0] - 4.0, xy[:, 1] - 1.0) < 0.06
        return (xy[:, 1] < 1.05) & ~hole

    m, d = mission()
    m.mowed = mowed
    assert m.point_at(np.array([m.resume_point()]))[0][0] == pytest.approx(3.7, abs=0.06)
    m.request('start')
    run_until(d, 'MOWING')
    outs = _drive_first_stripe(m, d)
    assert all(o.state == 'MOWING' and o.blade for o in outs)
    # driven over, blade on: the next unmowed point is where the first stripe turns
    assert m.resume_point() > 7.5
    assert m.tried.near(np.array([[4.0, 1.0], [4.0, 1.2]]), 0.1).tolist() == [True, False]
    m.params = MissionParams(resume_tried_m=0.0)  # off: back to the hole
    assert m.point_at(np.array([m.resume_point()]))[0][0] == pytest.approx(3.7, abs=0.06)


def test_the_track_is_exact_and_a_lost_pose_breaks_it():
    track = TriedTrack()
    for x in np.arange(0.0, 2.001, 0.01):
        track.note((x, 0.0, 0.0))
    track.note((float('nan'), 0.0, 0.0))  # a lost pose: no line from it or across it
    track.note((2.0, 0.6, 0.0))  # 0.6 m on: a line from (2, 0) if the pose had not been lost
    track.note((2.0, 0.8, 0.0))
    near = track.near(np.array([[1.0, 0.015], [1.0, 0.025], [2.0, 0.3], [2.0, 0.7]]), 0.02)
    assert near.tolist() == [True, False, False, True]
    assert track.size < 120  # a point every 2 cm, not every tick


def _mowed_but(hole_x: float):
    """A coverage layer with PLAN's first stripe mowed but for a point at x = ``hole_x``."""

    def mowed(xy):
        return (xy[:, 1] < 1.05) & (np.hypot(xy[:, 0] - hole_x, xy[:, 1] - 1.0) >= 0.06)

    return mowed


def test_the_blade_held_off_near_the_dock_does_not_count_as_driven_over():
    m, d = mission()
    m.mowed = _mowed_but(1.3)
    m.request('start')
    run_until(d, 'MOWING')
    # as after an undock that was blocked: the blade starts undock_distance_m off the dock
    m.dock_pose, m.blade_held_near_dock = (1.3, 0.8, 0.0), True
    outs = _drive_first_stripe(m, d)
    assert not outs[6].blade and outs[20].blade  # x = 1.3 (0.2 m from the dock), 2.0
    assert m.point_at(np.array([m.resume_point()]))[0][0] == pytest.approx(1.0, abs=0.06)
    # a blade-off area (a path) keeps the blade off for good: driven over, not resumed at
    m, d = mission()
    m.mowed = _mowed_but(4.0)
    m.blade_off = box(3.5, 0.5, 4.5, 1.5)
    m.request('start')
    run_until(d, 'MOWING')
    outs = _drive_first_stripe(m, d)
    assert not outs[60].blade and outs[20].blade  # x = 4.0, 2.0
    assert m.resume_point() > 7.5
    # a new run of the plan forgets the track
    m.complete, m.state = True, m.states['IDLE']
    assert m.request('start')[0] and not m.tried.size


def driven(m, off=0.0):
    """The mower's centre drove the mowed stretches of the tests below, ``off`` north of them."""
    line = np.array([[3.0, 1.0], [9.0, 1.0], [9.0, 1.2], [1.0, 1.2]])
    m.tried.mark(line + [0.0, off])


def test_the_mower_leaves_the_plan_where_it_runs_over_mowed_lawn():
    # the first stripe is unmowed from x = 1 to 3, the rest of it and the second stripe are
    # mowed, the third is not: after x = 3 it goes straight to the third stripe
    layer = {'cut_to': 1.0}

    def mowed(xy):
        first = (xy[:, 1] < 1.1) & ((xy[:, 0] > 3.0) | (xy[:, 0] <= layer['cut_to']))
        return first | ((xy[:, 1] >= 1.1) & (xy[:, 1] < 1.3))

    def reaches(path, xy, tol=0.1):
        line = shapely.LineString(path)
        return line.distance(shapely.Point(xy)) < tol

    m, d = mission()
    m.mowed = mowed
    driven(m)
    m.request('start')
    run_until(d, 'MOWING')
    first = m.path
    assert first[-1] == pytest.approx([3.1, 1.0], abs=0.06)
    assert not reaches(first, (6.0, 1.0)) and not reaches(first, (5.0, 1.2))
    layer['cut_to'] = 3.1  # the coverage layer has caught up
    for _ in range(20):
        d.tick()
        if m.path is not first:
            break
    second = m.path
    assert second is not first and m.state.name == 'MOWING' and not m.complete
    assert reaches(second, (5.0, 1.4)) and second[-1] == pytest.approx([9.0, 1.4])
    assert not reaches(second, (5.0, 1.2)) and not reaches(second, (6.0, 1.0))
    # off: the plan is followed over the mowed lawn to its end
    layer['cut_to'] = 1.0
    m, d = mission(resume_skip_m=0.0)
    m.mowed = mowed
    driven(m)
    m.request('start')
    run_until(d, 'MOWING')
    assert reaches(m.path, (5.0, 1.2)) and m.path[-1] == pytest.approx([9.0, 1.4])


def test_a_stretch_the_follower_finishes_where_it_stands_is_not_handed_over_again():
    # the follower reports each stretch done without moving (short of a corner by the lawn's
    # edge): the mission goes on to the next stretch, and home when none is left, instead of
    # handing the same stretch over at every tick
    layer = {'cut_to': 1.0}

    def mowed(xy):
        first = (xy[:, 1] < 1.1) & ((xy[:, 0] > 3.0) | (xy[:, 0] <= layer['cut_to']))
        return first | ((xy[:, 1] >= 1.1) & (xy[:, 1] < 1.3))

    m, d = mission()
    m.mowed = mowed
    m.request('start')
    run_until(d, 'MOWING')
    pose, paths, states = d.pose, set(), []
    for _ in range(50):
        d.t += 0.1
        out = m.tick(MissionInputs(d.t, pose, follower_path_id=m.path_id, follower_done=True))
        paths.add(out.path_id)
        states.append(out.state)
    assert 'RETURNING' in states and len(paths) <= 4


def test_a_stretch_with_an_uncut_sliver_beside_its_line_is_followed():
    # the first stripe's line is mowed from x = 3, but not 0.08 m to its south (the follower
    # drifted there): the deck still has lawn to cut, so the plan is followed to its end
    def mowed(xy):
        first = (xy[:, 1] < 1.1) & (xy[:, 1] > 0.95) & (xy[:, 0] > 3.0)
        return first | ((xy[:, 1] >= 1.1) & (xy[:, 1] < 1.3))

    m, _ = mission()
    m.mowed = mowed
    driven(m)
    s0 = m.resume_point()
    assert 7.5 < m.stretch_end(s0) < 8.5  # the first stripe's end: the second is mowed
    m.params = MissionParams(resume_swath_m=0.0)  # its line only: left at x = 3
    assert m.stretch_end(s0) == pytest.approx(2.1, abs=0.06)


def test_a_stretch_the_layer_calls_mowed_but_whose_line_was_not_driven_is_followed():
    # the small lawn after an e-stop: the layer called a stripe mowed that the planner had put
    # 4 cm inside a headland's deck to cut the sliver between them; the mower's centre had
    # passed 4 cm off its line, not on it: followed, not left
    def mowed(xy):
        return (xy[:, 1] >= 0.9) & (xy[:, 1] < 1.3) & ((xy[:, 1] > 1.1) | (xy[:, 0] > 3.0))

    for off, leaves in ((0.04, False), (0.01, True)):
        m, _ = mission()
        m.mowed = mowed
        driven(m, off)
        end = m.stretch_end(m.resume_point())
        assert (end == pytest.approx(2.1, abs=0.06)) if leaves else end > 7.5, (off, end)
    m, _ = mission()  # nothing driven: the layer alone leaves nothing
    m.mowed = mowed
    assert m.stretch_end(m.resume_point()) == m.plan_length()
