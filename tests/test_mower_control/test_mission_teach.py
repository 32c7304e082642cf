"""The mission's TEACHING state: entered and left by requests, blade off, faults to ERROR."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from mower_control.mission import TEACH_REQUESTS, Mission, MissionInputs, MissionParams
from mower_maps.teach import CLOSED, INTERRUPTED, TeachParams, TeachRecorder

DOCK = (0.3, 3.0, 0.0)
LAWN = box(0.0, 0.0, 10.0, 6.0)
PLAN = np.array([[1.0, 1.0], [9.0, 1.0]])


def ring(area, offset_m: float, step_m: float = 0.006, laps: float = 1.03) -> np.ndarray:
    line = area.buffer(offset_m, join_style='mitre').exterior
    s = (1.0 + np.arange(0.0, laps * line.length, step_m)) % line.length
    return np.array([line.interpolate(v).coords[0] for v in s])


class Teleop:
    """Ticks the mission at 50 Hz while 'the owner' moves the mower along routes."""

    def __init__(self, m: Mission) -> None:
        self.m, self.t, self.pose = m, 0.0, (DOCK[0], DOCK[1], 0.0)

    def tick(self, **kw):
        out = self.m.tick(MissionInputs(self.t, self.pose, **kw))
        self.t += 0.02
        return out

    def drive(self, route, **kw):
        outs = []
        for x, y in route:
            self.pose = (float(x), float(y), 0.0)
            outs.append(self.tick(**kw))
        return outs


def mission(tmp_path=None) -> tuple[Mission, Teleop]:
    path = tmp_path / 'teach.json' if tmp_path is not None else None
    m = Mission(MissionParams(), DOCK, LAWN.buffer(-0.2), teach=TeachRecorder(TeachParams(), path))
    m.set_plan(PLAN)
    d = Teleop(m)
    d.tick()
    return m, d


def test_teach_start_from_idle_enters_teaching_blade_off_no_path(tmp_path):
    m, d = mission(tmp_path)
    assert m.request('teach/start') == (True, 'teaching: drive with teleop; the blade stays off')
    out = d.tick()
    assert out.state == 'TEACHING' and out.path is None and not out.blade
    assert out.message.startswith('teaching: mark boundary')
    assert m.request('teach/start') == (False, 'already TEACHING')
    assert m.request('start') == (False, 'already TEACHING')
    assert m.request('dock') == (False, 'teaching: finish or cancel it first')
    assert m.request('pause')[0] is False


def test_teach_requests_outside_teaching_are_refused():
    m, d = mission()
    for name in TEACH_REQUESTS[1:]:
        ok, message = m.request(name)
        assert not ok and message == 'not teaching (IDLE): call teach/start first'
    m.request('start')
    d.tick()
    assert m.state.name in ('UNDOCKING', 'MOWING')
    ok, message = m.request('teach/start')
    assert not ok and message.startswith('cannot teach while')


def test_teaching_from_charging_and_a_whole_session_back_to_idle(tmp_path):
    m, d = mission(tmp_path)
    m._switch('CHARGING', m._last)
    assert m.request('teach/start')[0]
    d.tick(charging=True)
    assert m.state.name == 'TEACHING'
    route = ring(LAWN, -0.11)
    d.drive(route[:1])
    assert m.request('teach/boundary')[1].startswith('recording boundary 1')
    outs = d.drive(route)
    assert all(o.state == 'TEACHING' and not o.blade and o.path is None for o in outs)
    assert m.teach.recordings[0].status == CLOSED
    d.drive([(0.3, 3.0)])
    assert m.request('teach/dock')[0]
    ok, message = m.request('teach/finish')
    assert ok and message == 'draft map ready: 1 boundary(ies), 0 keep-out(s), a dock'
    assert d.tick().state == 'IDLE'
    assert m.teach_result.ok and m.teach_result.draft.dock[:2] == pytest.approx((0.3, 3.0))


def test_a_failed_finish_stays_in_teaching_with_the_faults(tmp_path):
    m, d = mission(tmp_path)
    m.request('teach/start')
    d.tick()
    ok, message = m.request('teach/finish')
    assert not ok and 'no boundary recorded' in message
    assert d.tick().state == 'TEACHING'
    assert m.request('teach/undo') == (False, 'nothing to undo')
    ok, message = m.request('teach/cancel')
    assert ok and message.startswith('teaching cancelled')
    assert d.tick().state == 'IDLE'


def test_an_emergency_stop_while_recording_goes_to_error_and_the_recording_is_kept(tmp_path):
    m, d = mission(tmp_path)
    m.request('teach/start')
    d.tick()
    route = ring(LAWN, -0.11)
    d.drive(route[:1])
    m.request('teach/boundary')
    d.drive(route[:2000])
    out = d.tick(safety_latched=('emergency stop',), safety_reasons=('emergency stop',))
    assert out.state == 'ERROR'
    assert (
        out.message.startswith('safety stop: emergency stop while recording boundary 1: ')
        and 'poses kept in' in out.message
    )
    rec = m.teach.recordings[0]
    assert rec.status == INTERRUPTED
    saved = TeachRecorder.load(tmp_path / 'teach.json').recordings[0]
    assert saved.status == INTERRUPTED and len(saved.poses) == len(rec.poses)
    # not while the stop is latched; then back to teaching, and the recording continues
    assert m.request('teach/start')[1] == 'reset the safety stop first: emergency stop'
    d.tick()
    assert m.request('resume') == (True, 'resuming TEACHING')
    d.drive(route[2000:])
    assert m.state.name == 'TEACHING' and rec.status == CLOSED
    assert m.request('teach/finish')[0]


def test_a_lost_motor_board_while_teaching_goes_to_error(tmp_path):
    m, d = mission(tmp_path)
    m.request('teach/start')
    d.tick()
    route = ring(LAWN, -0.11)
    d.drive(route[:1])
    m.request('teach/boundary')
    d.drive(route[:500])
    outs = d.drive(route[500:800], board_connected=False)
    assert outs[-1].state == 'ERROR'
    assert outs[-1].message.startswith('motor board lost while recording boundary 1')
    assert m.request('teach/start')[0]  # nothing latched: teach again
    d.drive(route[800:])
    assert m.state.name == 'TEACHING'


def test_a_pose_that_stops_coming_interrupts_the_recording(tmp_path):
    m, d = mission(tmp_path)
    m.request('teach/start')
    d.tick()
    route = ring(LAWN, -0.11)
    d.drive(route[:1])
    m.request('teach/boundary')
    for x, y in route[:300]:
        d.pose = (float(x), float(y), 0.0)
        d.tick(pose_time_s=d.t)
    stamp = d.t - 0.02
    for _ in range(100):  # 2 s of ticks with the same stale pose
        d.tick(pose_time_s=stamp)
    assert m.state.name == 'TEACHING'  # a fault of the recording, not of the mission
    assert m.teach.recordings[0].status == INTERRUPTED
    assert m.message.startswith('pose lost for 1.')


def test_the_geofence_does_not_hold_the_owner_back_while_teaching_the_rest_of_safety_does():
    from mower_control.safety import SafetyParams, SafetySupervisor

    s = SafetySupervisor(SafetyParams(), box(0.0, 0.0, 10.0, 10.0))

    def out(mission: str, t: float):
        s.command(0.3, 0.0, t)
        s.imu(np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, 9.81]), t)
        s.odometry(9.85, 5.0, 0.0, t)  # at the lawn's edge, driving out
        s.mission(mission, True)
        return s.filter(t)

    mowing = out('MOWING', 0.0)
    assert mowing.v_mps == 0.0 and 'geofence' in mowing.reasons
    teaching = out('TEACHING', 0.02)
    assert teaching.v_mps == 0.3 and not teaching.reasons
    assert not teaching.blade  # the blade runs only while MOWING
    s.emergency_stop(True, 0.03)
    stopped = out('TEACHING', 0.04)
    assert stopped.v_mps == 0.0 and 'emergency stop' in stopped.latched
