"""mower_offline.schedule.Every: periodic work on a float clock, as the run's loop uses it."""

import pytest

from mower_offline.schedule import Every


def _clock(ticks: int, dt: float = 0.004, steps: int = 5) -> list[float]:
    """The loop's clock after each 50 Hz tick, summed in MuJoCo's 4 ms steps (float error)."""
    t, out = 0.0, []
    for _ in range(ticks):
        for _ in range(steps):
            t += dt
        out.append(t)
    return out


def test_a_rate_keeps_its_phase_on_a_float_clock():
    clock = _clock(5000)  # 100 s; e.g. 0.1 s is 0.10000000000000006 here, 3 s 3.00...02
    rate = Every(0.1, start_s=0.1, aligned=True)
    fired = [i + 1 for i, t in enumerate(clock) if rate.due(t)]
    assert fired == list(range(5, 5001, 5))  # every fifth tick, none late or early
    # the same answers as the integer tick arithmetic it replaced
    assert fired == [i + 1 for i, t in enumerate(clock) if int(round(t * 50)) % 5 == 0]


def test_a_timer_counts_from_when_it_fired():
    timer = Every(1.0)
    assert timer.due(0.02)  # due at the start
    assert not timer.due(1.0)  # one period after 0.02, not before
    assert timer.due(1.02)
    assert timer.next_s == pytest.approx(2.02)
    assert timer.due(5.5)  # late: it starts again from then, nothing made up
    assert not timer.due(6.0) and timer.due(6.5)


def test_the_tolerance_absorbs_float_error_and_exact_does_not():
    below = 1.0 - 1e-12  # what a float clock may read for 1 s
    assert Every(1.0, start_s=1.0).due(below)
    assert not Every(1.0, start_s=1.0, tol_s=0.0).due(below)
    assert not Every(1.0, start_s=1.0).due(1.0 - 1e-3)


def test_a_rate_skips_the_marks_it_missed():
    rate = Every(0.5, aligned=True)
    assert rate.due(0.0) and not rate.due(0.2)
    assert rate.due(1.7)  # 0.5, 1.0 and 1.5 passed: one answer, not three
    assert rate.next_s == pytest.approx(2.0)  # and the phase is kept
    assert not rate.due(1.8) and rate.due(2.0)


def test_restart_moves_the_next_time():
    timer = Every(1.0)
    assert timer.due(0.0)
    timer.restart(0.7)  # e.g. a message sent early, on a change of state
    assert not timer.due(1.0) and timer.due(1.7)


def test_same_times_same_answers():
    clock = _clock(3000)
    runs = []
    for _ in range(2):
        timers = [Every(1.0, tol_s=0.0), Every(0.2, start_s=0.2, aligned=True), Every(10.0)]
        runs.append([[i for i, t in enumerate(clock) if e.due(t)] for e in timers])
    assert runs[0] == runs[1]


@pytest.mark.parametrize('period', [0.0, -1.0, float('inf'), float('nan')])
def test_a_period_must_be_positive(period):
    with pytest.raises(ValueError, match='period_s'):
        Every(period)


def test_a_tolerance_must_not_be_negative():
    with pytest.raises(ValueError, match='tol_s'):
        Every(1.0, tol_s=-1e-6)
