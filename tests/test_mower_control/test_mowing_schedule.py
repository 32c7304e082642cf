"""Mowing schedules: windows, validation in words, JSON round trips, the scheduler's decisions."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mower_control.mowing_schedule import (
    MAX_WINDOWS,
    RainClock,
    Schedule,
    ScheduleError,
    ScheduleHolder,
    Scheduler,
    Window,
    may_start,
    rain_allows,
)
from mower_control.operator import MowerStatus

MONDAY = datetime(2025, 6, 2)  # a Monday
DOCKED = MowerStatus(state='IDLE', charging=True, battery_pct=95.0, zones=2)


def at(day: int, hhmm: str, seconds: int = 0) -> datetime:
    """The local time ``hhmm`` on weekday ``day`` of the week of MONDAY."""
    hours, minutes = map(int, hhmm.split(':'))
    return MONDAY + timedelta(days=day, hours=hours, minutes=minutes, seconds=seconds)


def schedule(*windows: tuple, **kwargs) -> Schedule:
    return Schedule(windows=tuple(Window(*w) for w in windows), **kwargs)


# -- windows and their checks ------------------------------------------------------------------
def test_a_window_normalises_its_times_and_names_itself():
    w = Window(0, '9:00', '11:30', 1)
    assert (w.start, w.end, w.start_min, w.end_min) == ('09:00', '11:30', 540, 690)
    assert w.label() == 'Mon 09:00-11:30'
    assert w.command() == ('start_zone', 1)
    assert Window(6, '22:00', '24:00').command() == ('start', 0)


@pytest.mark.parametrize(
    ('args', 'words'),
    [
        ((7, '09:00', '10:00'), 'weekday 7 is not 0 (Monday) .. 6 (Sunday)'),
        ((-1, '09:00', '10:00'), 'weekday -1'),
        ((True, '09:00', '10:00'), 'weekday True'),
        ((0, '25:00', '26:00'), "Mon: start '25:00' is not a time HH:MM (00:00..23:59)"),
        ((0, '09:60', '10:00'), "start '09:60' is not a time"),
        ((0, 'nine', '10:00'), "start 'nine' is not a time"),
        ((0, '24:00', '24:00'), "start '24:00'"),
        ((0, '09:00', '24:01'), "end '24:01' is not a time HH:MM (00:00..24:00)"),
        (
            (0, '22:00', '02:00'),
            'Mon 22:00-02:00 crosses midnight: split it into Mon 22:00-24:00 and Tue 00:00-02:00',
        ),
        ((6, '23:00', '01:00'), 'and Mon 00:00-01:00'),
        ((0, '10:00', '10:00'), 'Mon 10:00-10:00 is empty: the end must be after the start'),
        ((0, '09:00', '10:00', -1), 'Mon 09:00-10:00: zone -1 is not 0 (all) or 1..N'),
    ],
)
def test_impossible_windows_are_refused_in_words(args, words):
    with pytest.raises(ScheduleError) as err:
        Window(*args)
    assert words in str(err.value)
    assert '\n' not in str(err.value)


def test_overlapping_windows_are_refused_naming_both():
    with pytest.raises(ScheduleError) as err:
        schedule((0, '09:00', '11:00'), (1, '09:00', '11:00'), (0, '10:30', '12:00', 2))
    assert str(err.value) == 'windows 1 (Mon 09:00-11:00) and 3 (Mon 10:30-12:00) overlap'
    # touching is fine, and the same hours on another day
    ok = schedule((0, '09:00', '11:00'), (0, '11:00', '12:00'), (1, '09:00', '11:00'))
    assert len(ok.windows) == 3


def test_values_out_of_range_and_too_many_windows_are_refused():
    with pytest.raises(ScheduleError, match='rain_rule .hail. is not one of skip, delay'):
        Schedule(rain_rule='hail')
    for bad in (-1.0, 72.5, float('nan'), float('inf')):
        with pytest.raises(ScheduleError, match='rain_delay_h'):
            Schedule(rain_delay_h=bad)
    with pytest.raises(ScheduleError, match=r'min_battery_pct 101 is not in 0..100'):
        Schedule(min_battery_pct=101)
    with pytest.raises(ScheduleError, match='enabled must be true or false'):
        Schedule(enabled='yes')
    many = [(d % 7, f'{h:02d}:00', f'{h:02d}:30') for d in range(7) for h in range(8)]
    with pytest.raises(ScheduleError, match=f'56 windows: at most {MAX_WINDOWS}'):
        schedule(*many)


def test_zones_are_checked_against_the_map():
    s = schedule((0, '09:00', '10:00', 2), (1, '09:00', '10:00', 3))
    s.check_zones(3)
    with pytest.raises(ScheduleError) as err:
        s.check_zones(2)
    assert str(err.value) == (
        'window 2 (Tue 09:00-10:00): there is no zone 3: the map has 2 (0: all zones)'
    )


# -- JSON ------------------------------------------------------------------------------------
def test_to_dict_is_json_and_from_dict_reads_it_back():
    s = schedule((0, '09:00', '11:00'), (4, '14:00', '16:00', 1), rain_rule='delay')
    data = json.loads(json.dumps(s.to_dict()))
    assert data == {
        'enabled': True,
        'rain_rule': 'delay',
        'rain_delay_h': 2.0,
        'min_battery_pct': 50.0,
        'windows': [
            {'weekday': 0, 'start': '09:00', 'end': '11:00', 'zone': 0},
            {'weekday': 4, 'start': '14:00', 'end': '16:00', 'zone': 1},
        ],
    }
    assert Schedule.from_dict(data) == s
    assert Schedule.from_dict({}) == Schedule()  # missing keys: the defaults


@pytest.mark.parametrize(
    ('data', 'words'),
    [
        ([], 'a schedule must be an object, not list'),
        ({'windows': [], 'colour': 'red'}, 'the schedule has unknown keys colour'),
        ({'windows': {}}, 'windows must be a list, not dict'),
        ({'windows': [5]}, 'window 1: a window must be an object, not int'),
        (
            {'windows': [{'weekday': 0, 'start': '09:00', 'end': '10:00', 'when': 1}]},
            'window 1: a window has unknown keys when',
        ),
        ({'windows': [{'weekday': 0, 'start': '09:00'}]}, "window 1: a window needs 'end'"),
        (
            {'windows': [{'weekday': '0', 'start': '09:00', 'end': '10:00'}]},
            "window 1: weekday must be an integer, not '0'",
        ),
        (
            {'windows': [{'weekday': 0, 'start': '09:00', 'end': '10:00', 'zone': 1.5}]},
            'zone must be an integer, not 1.5',
        ),
        (
            {'windows': [{'weekday': 0, 'start': 900, 'end': '10:00'}]},
            'start must be a time "HH:MM", not 900',
        ),
        (
            {'windows': [{'weekday': 0, 'start': '11:00', 'end': '10:00'}]},
            'window 1: Mon 11:00-10:00 crosses midnight',
        ),
        ({'rain_rule': 1}, 'rain_rule must be a string, not 1'),
        ({'rain_delay_h': '2'}, "rain_delay_h must be a number, not '2'"),
        ({'min_battery_pct': True}, 'min_battery_pct must be a number, not True'),
        ({'windows': [{}] * 51}, '51 windows: at most 50'),
    ],
)
def test_from_dict_refuses_wrong_keys_and_types_in_words(data, words):
    with pytest.raises(ScheduleError) as err:
        Schedule.from_dict(data)
    assert words in str(err.value)


@st.composite
def valid_schedules(draw) -> Schedule:
    """Schedules with non-overlapping windows: each day's cut points, sorted, paired."""
    windows = []
    for day in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=6)))
        for start, end in zip(cuts[0::2], cuts[1::2]):
            zone = draw(st.integers(0, 3))
            windows.append(Window(day, f'{start // 60}:{start % 60:02d}', _t(end), zone))
    draw(st.randoms()).shuffle(windows)
    return Schedule(
        windows=tuple(windows),
        rain_rule=draw(st.sampled_from(['skip', 'delay'])),
        rain_delay_h=draw(st.floats(0, 72, allow_nan=False)),
        min_battery_pct=draw(st.floats(0, 100, allow_nan=False)),
        enabled=draw(st.booleans()),
    )


def _t(minutes: int) -> str:
    return f'{minutes // 60:02d}:{minutes % 60:02d}'


@given(valid_schedules())
def test_any_valid_schedule_round_trips_through_json(s):
    assert Schedule.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@given(
    st.integers(0, 6),
    st.integers(0, 24 * 60 - 2),
    st.integers(1, 600),
    st.integers(-600, 600),
    st.integers(1, 600),
)
def test_windows_sharing_a_minute_are_always_refused(day, start, length, shift, length2):
    end = min(start + length, 24 * 60)
    start2 = max(0, min(start + shift, 24 * 60 - 1))
    end2 = min(start2 + length2, 24 * 60)
    a, b = Window(day, _t(start), _t(end)), Window(day, _t(start2), _t(end2))
    share = start < end2 and start2 < end
    if share:
        with pytest.raises(ScheduleError, match=r'windows 1 \(.*\) and 2 \(.*\) overlap'):
            Schedule(windows=(a, b))
    else:
        assert Schedule(windows=(a, b)).windows == (a, b)


# -- the decisions ---------------------------------------------------------------------------
def test_rain_rules():
    skip, delay = Schedule(rain_rule='skip'), Schedule(rain_rule='delay', rain_delay_h=2.0)
    assert not rain_allows(skip, True, 0.0) and not rain_allows(delay, True, 0.0)
    assert rain_allows(skip, False, 60.0)  # skip: as soon as it is dry
    assert not rain_allows(delay, False, 7199.0) and rain_allows(delay, False, 7200.0)
    assert rain_allows(delay, False, None)  # no rain seen


def test_may_start_needs_the_dock_and_a_known_charge():
    s = Schedule(min_battery_pct=60.0)
    assert may_start(s, DOCKED, False, None)
    assert may_start(s, MowerStatus(state='CHARGING', battery_pct=60.0), False, None)
    for status in (
        MowerStatus(state='MOWING', battery_pct=95.0),
        MowerStatus(state='ERROR', battery_pct=95.0),
        MowerStatus(state='IDLE', battery_pct=59.9),
        MowerStatus(state='IDLE', battery_pct=None),
        MowerStatus(state='IDLE', battery_pct=float('nan')),
    ):
        assert not may_start(s, status, False, None), status


def test_rain_clock_counts_from_the_end_of_the_rain():
    clock = RainClock()
    assert clock.update(0.0, False) is None
    assert clock.update(10.0, True) == 0.0
    assert clock.update(20.0, True) == 0.0
    assert clock.update(30.0, False) == 0.0
    assert clock.update(100.0, False) == 70.0


def test_a_window_starts_once_when_open_and_the_mower_may():
    sched = Scheduler()
    sched.set_schedule(schedule((0, '09:00', '11:00'), (2, '14:00', '15:00', 2)))
    assert sched.decide(at(0, '08:59', 59), DOCKED, False, None) is None  # not yet
    assert sched.decide(at(0, '09:00'), DOCKED, False, None) == ('start', 0)
    assert sched.decide(at(0, '09:00', 1), DOCKED, False, None) is None  # once per window
    assert sched.decide(at(0, '10:00'), DOCKED, False, None) is None  # stopped: not again
    assert sched.decide(at(0, '11:00'), DOCKED, False, None) is None  # closed (end excluded)
    assert sched.decide(at(2, '14:30'), DOCKED, False, None) == ('start_zone', 2)
    assert sched.decide(at(7, '09:00'), DOCKED, False, None) == ('start', 0)  # next Monday


def test_a_window_waits_for_the_battery_and_the_rain_while_it_is_open():
    sched = Scheduler(schedule((0, '09:00', '11:00'), rain_rule='delay', rain_delay_h=1.0))
    low = MowerStatus(state='CHARGING', battery_pct=40.0)
    assert sched.decide(at(0, '09:00'), low, False, None) is None
    assert sched.decide(at(0, '09:10'), DOCKED, True, 0.0) is None  # raining
    assert sched.decide(at(0, '09:50'), DOCKED, False, 2400.0) is None  # 40 min after rain
    assert sched.decide(at(0, '10:10'), DOCKED, False, 3600.0) == ('start', 0)
    busy = MowerStatus(state='MOWING', battery_pct=95.0)
    sched2 = Scheduler(schedule((0, '09:00', '11:00')))
    assert sched2.decide(at(0, '09:00'), busy, False, None) is None  # the owner's run
    assert sched2.decide(at(0, '10:59'), DOCKED, False, None) == ('start', 0)


def test_a_disabled_schedule_never_starts_and_has_no_next_run():
    sched = Scheduler(schedule((0, '09:00', '11:00'), enabled=False))
    assert sched.decide(at(0, '09:30'), DOCKED, False, None) is None
    assert sched.next_run(at(0, '08:00')) is None


def test_next_run_is_the_next_window_not_started_yet():
    sched = Scheduler(
        schedule((0, '09:00', '11:00'), (0, '14:00', '15:00'), (3, '08:00', '09:00'))
    )
    assert sched.next_run(at(0, '07:00')) == at(0, '09:00')
    assert sched.next_run(at(0, '09:30')) == at(0, '09:00')  # open, not started yet: due
    sched.decide(at(0, '09:30'), DOCKED, False, None)
    assert sched.next_run(at(0, '09:31')) == at(0, '14:00')
    assert sched.next_run(at(0, '15:00')) == at(3, '08:00')
    assert sched.next_run(at(3, '09:00')) == at(7, '09:00')  # next week
    assert Scheduler().next_run(at(0, '07:00')) is None
    # a schedule with one window that was started today: next week's
    only = Scheduler(schedule((0, '09:00', '11:00')))
    only.decide(at(0, '09:00'), DOCKED, False, None)
    assert only.next_run(at(0, '10:00')) == at(7, '09:00')


def test_the_started_windows_survive_a_new_schedule():
    sched = Scheduler(schedule((0, '09:00', '11:00')))
    assert sched.decide(at(0, '09:00'), DOCKED, False, None) == ('start', 0)
    sched.set_schedule(schedule((0, '09:00', '11:00'), (1, '09:00', '10:00')))  # saved again
    assert sched.decide(at(0, '09:30'), DOCKED, False, None) is None
    with pytest.raises(ScheduleError):
        sched.set_schedule({'windows': []})  # type: ignore[arg-type]


def test_the_scheduler_is_a_schedule_holder_and_thread_safe():
    sched = Scheduler()
    assert isinstance(sched, ScheduleHolder)
    schedules = [schedule((d, '09:00', '10:00')) for d in range(7)]

    def writer():
        for s in schedules * 20:
            sched.set_schedule(s)

    thread = threading.Thread(target=writer)
    thread.start()
    for _ in range(500):
        sched.next_run(at(0, '08:00'))
        sched.decide(at(0, '09:30'), DOCKED, False, None)
    thread.join()
    assert sched.schedule() in schedules


def test_the_end_of_a_scheduled_runs_window_sends_the_mower_home_once():
    sched = Scheduler(schedule((0, '09:00', '10:00')))
    mowing = MowerStatus(state='MOWING', battery_pct=80.0)
    assert sched.decide(at(0, '09:00'), DOCKED, False, None) == ('start', 0)
    assert sched.decide(at(0, '09:59', 59), mowing, False, None) is None  # still open
    assert sched.decide(at(0, '10:00'), mowing, False, None) == ('dock', 0)  # closed: home
    assert sched.decide(at(0, '10:00', 1), mowing, False, None) is None  # once
    # charging half-way (it would go out again by itself): kept on the dock
    sched.decide(at(7, '09:00'), DOCKED, False, None)
    charging = MowerStatus(state='CHARGING', battery_pct=30.0)
    assert sched.decide(at(7, '10:00'), charging, False, None) == ('dock', 0)
    # a run that ended by itself before the window did: nothing to do
    sched.decide(at(14, '09:00'), DOCKED, False, None)
    assert sched.decide(at(14, '10:00'), DOCKED, False, None) is None
    # the owner's own run (no window started it) is never sent home by the schedule
    own = Scheduler(schedule((0, '09:00', '10:00')))
    assert own.decide(at(0, '10:30'), mowing, False, None) is None
    # the schedule changed under the run: the window it was started in still ends it
    moved = Scheduler(schedule((0, '09:00', '10:00')))
    moved.decide(at(0, '09:00'), DOCKED, False, None)
    moved.set_schedule(schedule((0, '12:00', '13:00')))
    assert moved.decide(at(0, '10:00'), mowing, False, None) == ('dock', 0)
