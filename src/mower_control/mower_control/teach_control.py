"""Teach mode from an operator: the teach requests an owner's app may send, and its joystick.

The owner teaches the lawn by driving its edges (the mission's TEACHING state,
:mod:`mower_maps.teach`). On the robot a gamepad may drive by teleop; from the owner's app the
page's on-screen joystick does, through the operator interface (:class:`TeachControl`: the
simulator's ``mower_offline.operated_run.SimOperator`` and the robot's
``mower_integrations.operator_node.RosOperator``). The rules both follow are here:

- :data:`TEACH_NAMES`, :func:`teach_request`, :func:`check_teach`: the teach requests, the
  mission's :data:`~mower_control.mission.TEACH_REQUESTS` named without ``teach/``;
- :class:`TeachDrive`: a joystick command (linear m/s, angular rad/s) is taken only when both
  are finite and the mission is TEACHING, is clamped to :class:`TeachDriveParams`' maxima, and
  holds for at most ``deadman_s``: without a fresh one the wheels stop (the page sends about
  ten a second while the stick is held, and a zero when it is let go). The safety supervisor
  still filters every command (emergency stop, tilt, watchdog, obstacle stop);
- :func:`write_draft`: where teach/finish's draft map goes, and what the owner is told.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from mower_control.mission import TEACH_REQUESTS
from mower_node_kit.params import check_ranges, param

#: The teach requests an operator may send, by short name (``start``, ``boundary``, ...).
TEACH_NAMES = tuple(r.removeprefix('teach/') for r in TEACH_REQUESTS)

#: The mission state in which the joystick drives.
TEACHING = 'TEACHING'


def teach_request(name: str) -> str:
    """The mission's request for ``name`` (``start`` or ``teach/start``: ``teach/start``).

    Raises ValueError, naming the teach requests, for anything else.
    """
    full = name if name.startswith('teach/') else f'teach/{name}'
    if full not in TEACH_REQUESTS:
        raise ValueError(f'unknown teach request {name!r} (one of {", ".join(TEACH_NAMES)})')
    return full


def check_teach(name: str) -> str:
    """'' when ``name`` is a teach request an operator may send, else why not."""
    try:
        teach_request(name)
    except ValueError as exc:
        return str(exc)
    return ''


@dataclass(frozen=True)
class TeachDriveParams:
    """The joystick's limits. Units are in the names."""

    max_linear_mps: float = param(
        0.5, "the joystick's top speed, forwards and backwards", 0.0, 2.0
    )
    max_angular_radps: float = param(1.0, "the joystick's top turn rate, either way", 0.0, 4.0)
    deadman_s: float = param(
        0.5, 'a drive command holds this long; without a fresh one the wheels stop', 0.05, 5.0
    )

    def __post_init__(self) -> None:
        """Refuse values out of range (ConfigError naming the field)."""
        check_ranges(self)


def _clamp(value: float, limit: float) -> float:
    return min(max(value, -limit), limit)


class TeachDrive:
    """The joystick's rule (see the module): check, clamp, hold, let go.

    :meth:`check` is pure (any thread); :meth:`hold` and :meth:`step` belong to the one thread
    that commands the wheels (the simulator's loop, the node's timer), on its clock.
    """

    def __init__(self, params: TeachDriveParams | None = None) -> None:
        """No command held."""
        self.params = params or TeachDriveParams()
        self._held: tuple[float, float, float] | None = None  # (v, w, since s)
        self._sending = False  # the last step commanded the wheels: a zero follows the end

    def check(
        self, linear: float, angular: float, state: str
    ) -> tuple[tuple[float, float] | None, str]:
        """((v, w) clamped, message), or (None, why not), for a command in mission ``state``."""
        if not (math.isfinite(linear) and math.isfinite(angular)):
            return None, f'drive needs finite speeds, not linear {linear}, angular {angular}'
        if state != TEACHING:
            return None, f'not teaching ({state}): the joystick drives only while TEACHING'
        p = self.params
        v, w = _clamp(linear, p.max_linear_mps), _clamp(angular, p.max_angular_radps)
        if v == 0.0 and w == 0.0:
            return (0.0, 0.0), 'stopped'
        return (v, w), f'driving {v:+.2f} m/s, {w:+.2f} rad/s'

    def hold(self, v_mps: float, w_radps: float, now_s: float) -> None:
        """Drive a checked (v, w) from ``now_s`` on, for at most ``deadman_s``."""
        self._held = (float(v_mps), float(w_radps), float(now_s))

    @property
    def holding(self) -> bool:
        """Whether a command is held (fresh or not yet let go by :meth:`step`)."""
        return self._held is not None

    def step(self, now_s: float, state: str) -> tuple[float, float] | None:
        """The teleop velocity to command at ``now_s``; None: nothing (the teleop is silent).

        The held command while it is at most ``deadman_s`` old and the mission TEACHING; when
        it goes stale (a clock gone back too) or teaching ends: (0, 0) once, then nothing until
        the next command.
        """
        held = self._held
        if held is not None:
            v, w, since = held
            if state == TEACHING and since <= now_s <= since + self.params.deadman_s:
                self._sending = True
                return v, w
            self._held = None
        if self._sending:
            self._sending = False
            return 0.0, 0.0
        return None


@runtime_checkable
class TeachControl(Protocol):
    """Teach mode from an operator (thread-safe in both implementations)."""

    def teach(self, request: str) -> tuple[bool, str]:
        """One of :data:`TEACH_NAMES` to the mission; (accepted, message in words)."""
        ...

    def drive(self, linear: float, angular: float) -> tuple[bool, str]:
        """A joystick command (m/s, rad/s; :class:`TeachDrive`'s rule); (accepted, message)."""
        ...


def write_draft(result: Any, path: str | Path, message: str) -> str:
    """Write teach/finish's draft map (a TeachResult's) to ``path``; the message, extended.

    Nothing to write (no result, no draft): the message as it was. The draft's checks decide
    where it goes (``path``, or beside it as rejected:
    :meth:`mower_maps.draft_map.DraftMap.write`).
    """
    if result is None or result.draft is None:
        return message
    try:
        written = result.draft.write(path)
    except OSError as exc:
        return f'{message}; the draft map could not be written: {exc}'
    return f'{message}; {written.message.splitlines()[-1]}'
