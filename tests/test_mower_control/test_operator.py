"""The operator core: status from the stack's reports, and the rules for commands."""

from __future__ import annotations

import datetime
import math

import pytest

from mower_control.mission import STATES
from mower_control.operator import (
    ACTIVITIES,
    COMMANDS,
    StatusTracker,
    activity,
    check_command,
    mission_request,
    zone_to_plan,
)


def test_every_mission_state_has_a_home_assistant_activity():
    for cls in STATES:
        for charging in (False, True):
            assert activity(cls.name, charging) in ACTIVITIES
    assert activity('IDLE', True) == 'docked'
    assert activity('IDLE', False) == 'paused'  # stopped out on the lawn
    assert activity('RETURNING', False) == 'returning'
    assert activity('ERROR', True) == 'error'
    assert activity('NO_SUCH_STATE', False) == 'error'


@pytest.mark.parametrize(
    ('command', 'state', 'wanted'),
    [
        ('start', 'IDLE', 'start'),
        ('start', 'CHARGING', 'start'),
        ('start', 'PAUSED', 'resume'),  # Home Assistant's start_mowing: start or resume
        ('pause', 'MOWING', 'pause'),
        ('resume', 'PAUSED', 'resume'),
        ('dock', 'MOWING', 'dock'),
    ],
)
def test_mission_requests(command, state, wanted):
    assert mission_request(command, state) == wanted


def test_commands_that_are_not_mission_requests_are_refused():
    for command in ('emergency_stop', 'start_zone', 'launch'):
        with pytest.raises(ValueError):
            mission_request(command, 'IDLE')


def test_zone_rules():
    assert zone_to_plan('start_zone', 2, 0, 'IDLE') == 2
    assert zone_to_plan('start', 0, 2, 'IDLE') == 0  # after a zone's run: the whole lawn
    assert zone_to_plan('start', 0, 2, 'PAUSED') is None  # resume the zone's run
    assert zone_to_plan('start', 0, 0, 'IDLE') is None
    assert zone_to_plan('pause', 0, 2, 'MOWING') is None


def test_check_command():
    assert all(check_command(c, 1, 1) == '' for c in COMMANDS)
    assert 'unknown command' in check_command('fly', 0, 1)
    assert 'no zone 3' in check_command('start_zone', 3, 2)
    assert 'no zone 0' in check_command('start_zone', 0, 2)


class Day:
    def __init__(self) -> None:
        self.date = datetime.date(2026, 6, 1)

    def __call__(self) -> datetime.date:
        return self.date


def test_distance_today_adds_steps_skips_jumps_and_restarts_at_midnight():
    day = Day()
    t = StatusTracker(zones=1, today=day)
    for i in range(11):  # 10 steps of 0.5 m
        t.pose(0.5 * i, 0.0, 0.0)
    assert t.status().distance_today_m == pytest.approx(5.0)
    t.pose(50.0, 0.0, 0.0)  # a localisation jump is not driven
    t.pose(50.0, 1.0, math.pi / 2)
    assert t.status().distance_today_m == pytest.approx(6.0)
    assert t.status().heading_deg == pytest.approx(90.0)
    t.pose(float('nan'), 0.0, 0.0)  # no pose: nothing changes
    assert t.status().x_m == 50.0
    day.date = datetime.date(2026, 6, 2)
    t.pose(50.0, 2.0, 0.0)
    assert t.status().distance_today_m == pytest.approx(1.0)


def test_last_error_and_problem():
    t = StatusTracker()
    assert t.status().state == 'UNKNOWN' and not t.status().problem
    t.mission('MOWING', '', 10.0)
    assert t.status().activity == 'mowing' and t.status().last_error == ''
    t.mission('ERROR', 'the motor board is lost', 10.0)
    s = t.status()
    assert s.problem and s.activity == 'error' and s.last_error == 'the motor board is lost'
    t.mission('IDLE', '', 10.0)
    assert not t.status().problem
    assert t.status().last_error == 'the motor board is lost'  # kept until the next one
    t.safety(('emergency stop',), True)
    s = t.status()
    assert s.problem and s.emergency_stop and s.last_error == 'safety stop: emergency stop'
    t.safety((), False)
    assert not t.status().problem and not t.status().emergency_stop


def test_battery_blade_and_unknowns():
    t = StatusTracker()
    t.battery(float('nan'), True)
    t.blade(True)
    t.mission('CHARGING', '', float('nan'))
    s = t.status()
    assert s.battery_pct is None and s.charging and s.blade and s.mowed_pct is None
    assert s.activity == 'docked'
    d = s.as_dict()
    assert d['battery_pct'] is None and d['updated']
