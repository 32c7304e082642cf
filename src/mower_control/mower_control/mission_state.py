"""The mission's progress kept across restarts: one small JSON file (ROS-free).

``{"progress_m": 12.5, "complete": false}``: the arc length of the plan mowed so far and
whether the plan was mowed to its end. Saved atomically and durably (mower_maps.safe_files),
never with NaN or Infinity. Read back strictly: a file that is not exactly that (not UTF-8 JSON,
not an object, a missing or unknown key, ``progress_m`` not a finite number between 0 and
:data:`MAX_PROGRESS_M`, ``complete`` not a JSON true or false) is renamed aside to
``<name>.damaged-<UTC time stamp>``, never deleted, and the mission starts from the beginning
of the plan.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mower_maps.safe_files import atomic_write_bytes, quarantine

#: the largest believable progress along a plan (m)
MAX_PROGRESS_M = 1e6
_MAX_BYTES = 4096  # a state file is a few dozen bytes
_KEYS = ('progress_m', 'complete')


class MissionStateError(ValueError):
    """A mission state that cannot be read or written; the message names the file and fault."""


@dataclass(frozen=True)
class MissionState:
    """What is kept across restarts."""

    progress_m: float = 0.0  # arc length of the plan mowed so far (m)
    complete: bool = False  # the plan was mowed to its end

    def problem(self) -> str:
        """Why this state cannot be kept ('' when it can)."""
        p = self.progress_m
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            return f'progress_m {p!r} is not a number'
        if not 0.0 <= p <= MAX_PROGRESS_M:  # NaN, Infinity and huge integers fail too
            return f'progress_m {p!r} is not between 0 and {MAX_PROGRESS_M:g} m'
        if not isinstance(self.complete, bool):
            return f'complete {self.complete!r} is not true or false'
        return ''


def _reject_constant(name: str) -> Any:
    raise ValueError(f'{name} is not a number JSON allows')


def read_state(path: str | Path) -> MissionState:
    """The state saved at ``path``; :class:`MissionStateError` for anything else.

    The file is only read.
    """
    try:
        with open(path, 'rb') as fh:
            data = fh.read(_MAX_BYTES + 1)
        if len(data) > _MAX_BYTES:
            raise MissionStateError(f'{path}: too large for a mission state')
        doc = json.loads(data.decode('utf-8'), parse_constant=_reject_constant)
    except MissionStateError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        why = ' '.join(f'{type(exc).__name__}: {exc}'.split())
        raise MissionStateError(f'{path}: not a mission state ({why})') from None
    if not isinstance(doc, dict):
        raise MissionStateError(
            f'{path}: not a mission state (a JSON {type(doc).__name__}, not an object)'
        )
    missing = [k for k in _KEYS if k not in doc]
    unknown = sorted(k for k in doc if k not in _KEYS)
    if missing or unknown:
        raise MissionStateError(
            f'{path}: not a mission state (missing keys: {missing}, '
            f'unknown keys: {unknown}; expected {list(_KEYS)})'
        )
    state = MissionState(doc['progress_m'], doc['complete'])
    fault = state.problem()
    if fault:
        raise MissionStateError(f'{path}: {fault}')
    return MissionState(float(state.progress_m), state.complete)


def load_state(path: str | Path | None) -> tuple[MissionState | None, str]:
    """The saved state, or None and the one-line error to log; never raises.

    No file (or no path): ``(None, '')``. A damaged file is renamed aside
    (``<name>.damaged-<UTC>``) and the message says so; the caller starts from the beginning.
    """
    if not path or not Path(path).exists():
        return None, ''
    if Path(path).is_dir():
        return None, f'{path}: is a folder, not a mission state; starting from the beginning'
    try:
        state = read_state(path)
    except MissionStateError as exc:
        try:
            where = f'kept aside as {quarantine(path)}'
        except OSError as err:
            where = f'could not be kept aside ({err}), the next save replaces it'
        return None, f'{exc}; {where}; starting from the beginning of the plan'
    return state, f'mission state restored from {path}: {state.progress_m:.1f} m' + (
        ', complete' if state.complete else ''
    )


def save_state(path: str | Path, state: MissionState) -> Path:
    """Write ``state`` atomically and durably.

    :class:`MissionStateError` (nothing written) when it is not a valid state; OSError when the
    file cannot be written (the old one is then left as it was). A file that already holds
    exactly this state is not written again.
    """
    fault = state.problem()
    if fault:
        raise MissionStateError(f'{path}: not saved: {fault}')
    data = json.dumps(
        {'progress_m': float(state.progress_m), 'complete': state.complete}, allow_nan=False
    ).encode('utf-8')
    with suppress(OSError), open(path, 'rb') as fh:
        if fh.read(_MAX_BYTES + 1) == data:  # unchanged (mission_node saves every second)
            return Path(path)
    return atomic_write_bytes(path, data)
