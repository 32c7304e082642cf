"""Teach mode from an operator: the requests it may send and the joystick's rule."""

from __future__ import annotations

import math

import pytest

from mower_control.mission import TEACH_REQUESTS
from mower_control.teach_control import (
    TEACH_NAMES,
    TeachControl,
    TeachDrive,
    TeachDriveParams,
    check_teach,
    teach_request,
    write_draft,
)
from mower_node_kit.params import ConfigError


def test_the_teach_requests_are_the_missions_by_their_short_names():
    assert [f'teach/{n}' for n in TEACH_NAMES] == list(TEACH_REQUESTS)
    assert teach_request('boundary') == 'teach/boundary'
    assert teach_request('teach/finish') == 'teach/finish'
    assert check_teach('undo') == ''
    for bad in ('drive', 'start_zone', 'teach/fly', '', 'teach/'):
        why = check_teach(bad)
        assert why.startswith(f'unknown teach request {bad!r}') and 'boundary' in why
        with pytest.raises(ValueError):
            teach_request(bad)


def test_a_command_is_taken_only_while_teaching_finite_and_clamped():
    drive = TeachDrive()
    assert drive.check(0.3, -0.2, 'TEACHING') == ((0.3, -0.2), 'driving +0.30 m/s, -0.20 rad/s')
    assert drive.check(3.0, -9.0, 'TEACHING')[0] == (0.5, -1.0)  # the defaults' maxima
    assert drive.check(-3.0, 9.0, 'TEACHING')[0] == (-0.5, 1.0)
    assert drive.check(0.0, 0.0, 'TEACHING') == ((0.0, 0.0), 'stopped')
    for state in ('IDLE', 'MOWING', 'ERROR', 'UNKNOWN'):
        v_w, why = drive.check(0.3, 0.0, state)
        assert v_w is None and why.startswith(f'not teaching ({state})')
    for bad in ((math.nan, 0.0), (0.0, math.inf), (-math.inf, 0.0)):
        v_w, why = drive.check(*bad, 'TEACHING')
        assert v_w is None and 'finite' in why
    slow = TeachDrive(TeachDriveParams(max_linear_mps=0.2, max_angular_radps=0.5))
    assert slow.check(1.0, 1.0, 'TEACHING')[0] == (0.2, 0.5)


def test_the_params_are_checked():
    with pytest.raises(ConfigError, match='deadman_s'):
        TeachDriveParams(deadman_s=0.0)
    with pytest.raises(ConfigError, match='max_linear_mps'):
        TeachDriveParams(max_linear_mps=-1.0)


def test_the_deadman_stops_the_wheels_once_and_then_falls_silent():
    drive = TeachDrive(TeachDriveParams(deadman_s=0.5))
    assert drive.step(0.0, 'TEACHING') is None  # nothing held: the teleop is silent
    drive.hold(0.4, 0.1, 10.0)
    assert drive.holding
    assert drive.step(10.0, 'TEACHING') == (0.4, 0.1)
    assert drive.step(10.5, 'TEACHING') == (0.4, 0.1)  # at most deadman_s old
    assert drive.step(10.55, 'TEACHING') == (0.0, 0.0)  # stale: the wheels stop, once
    assert not drive.holding
    assert drive.step(10.6, 'TEACHING') is None
    drive.hold(0.4, 0.0, 11.0)  # a fresh command every 0.1 s keeps it going
    for k in range(1, 20):
        assert drive.step(11.0 + 0.05 * k, 'TEACHING') == (0.4, 0.0)
        if k % 2 == 0:
            drive.hold(0.4, 0.0, 11.0 + 0.05 * k)
    drive.hold(0.0, 0.0, 12.0)  # let go: a zero, held, then silence
    assert drive.step(12.1, 'TEACHING') == (0.0, 0.0)
    assert drive.step(12.6, 'TEACHING') == (0.0, 0.0)
    assert drive.step(12.7, 'TEACHING') is None


def test_leaving_teaching_or_a_clock_gone_back_stops_at_once():
    drive = TeachDrive()
    drive.hold(0.3, 0.0, 5.0)
    assert drive.step(5.1, 'TEACHING') == (0.3, 0.0)
    assert drive.step(5.2, 'ERROR') == (0.0, 0.0)  # an emergency stop: the command is dropped
    assert drive.step(5.3, 'TEACHING') is None  # and not taken up again
    drive.hold(0.3, 0.0, 6.0)
    assert drive.step(6.0, 'TEACHING') == (0.3, 0.0)
    assert drive.step(4.0, 'TEACHING') == (0.0, 0.0)  # the clock went back
    assert drive.step(4.1, 'TEACHING') is None


def test_the_protocol_is_what_an_operator_offers():
    class Both:
        def teach(self, request: str) -> tuple[bool, str]:
            return True, request

        def drive(self, linear: float, angular: float) -> tuple[bool, str]:
            return True, ''

    class TeachOnly:
        def teach(self, request: str) -> tuple[bool, str]:
            return True, request

    assert isinstance(Both(), TeachControl)
    assert not isinstance(TeachOnly(), TeachControl)


def test_write_draft_says_where_it_went(tmp_path):
    class Written:
        message = 'draft checked\nwritten to draft_map.geojson'

    class Draft:
        def __init__(self, error: OSError | None = None) -> None:
            self.error, self.paths = error, []

        def write(self, path):
            if self.error:
                raise self.error
            self.paths.append(path)
            return Written()

    class Result:
        def __init__(self, draft) -> None:
            self.draft = draft

    assert write_draft(None, tmp_path / 'd.geojson', 'finished') == 'finished'
    assert write_draft(Result(None), tmp_path / 'd.geojson', 'faults') == 'faults'
    draft = Draft()
    message = write_draft(Result(draft), tmp_path / 'd.geojson', 'taught')
    assert message == 'taught; written to draft_map.geojson'
    assert draft.paths == [tmp_path / 'd.geojson']
    message = write_draft(Result(Draft(OSError('disk full'))), tmp_path / 'd.geojson', 'taught')
    assert message == 'taught; the draft map could not be written: disk full'
