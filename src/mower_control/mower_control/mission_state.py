"""The mission's progress kept across restarts: one small JSON file (ROS-free).

``{"progress_m": 12.5, "complete": false, "skipped": [[4.5, 2.0, 0.6]], "skips": 1}``: the
arc length of the plan mowed so far, whether the plan was mowed to its end, and the stretches
left unmowed because they stayed blocked (``Mission.skipped``: x, y and radius in the map
frame, m) with the count of skips in this run (``Mission.skips``), so that a restart neither
drives back into a blocked stretch nor forgets to name it when the run completes. A file
without ``skipped`` and ``skips`` (written before they were kept) reads as none. Saved
atomically and durably (mower_maps.safe_files), never with NaN or Infinity. Read back strictly:
a file that is not exactly that (not UTF-8 JSON, not an object, a missing or unknown key,
``progress_m`` not a finite number between 0 and :data:`MAX_PROGRESS_M`, ``complete`` not a
JSON true or false, ``skipped`` not a list of at most :data:`MAX_SKIPPED` finite
``[x, y, radius]`` with a radius above 0, ``skips`` not a whole number from the number of
stretches up to :data:`MAX_SKIPS`) is renamed aside to ``<name>.damaged-<UTC time stamp>``,
never deleted, and the mission starts from the beginning of the plan.
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
#: the most skipped stretches kept (``MissionParams.max_skips`` allows up to 10,000 skips, but
#: a stretch blocked again grows instead of adding one)
MAX_SKIPPED = 1000
#: the largest believable skip count (``MissionParams.max_skips``' upper bound)
MAX_SKIPS = 10000
_MAX_COORD_M = 1e6  # a skipped stretch's centre, |x| and |y| (m)
_MAX_RADIUS_M = 1e4
_MAX_BYTES = 128 * 1024  # a state file is a few dozen bytes, and 70 more per skipped stretch
_KEYS = ('progress_m', 'complete')
_OPTIONAL = ('skipped', 'skips')


class MissionStateError(ValueError):
    """A mission state that cannot be read or written; the message names the file and fault."""


@dataclass(frozen=True)
class MissionState:
    """What is kept across restarts."""

    progress_m: float = 0.0  # arc length of the plan mowed so far (m)
    complete: bool = False  # the plan was mowed to its end
    # stretches left unmowed because they stayed blocked: (x, y, radius) in the map frame (m)
    skipped: tuple[tuple[float, float, float], ...] = ()
    skips: int = 0  # skips in this run (a stretch blocked again and grown counts again)

    def problem(self) -> str:
        """Why this state cannot be kept ('' when it can)."""
        p = self.progress_m
        if not _is_number(p):
            return f'progress_m {p!r} is not a number'
        if not 0.0 <= p <= MAX_PROGRESS_M:  # NaN, Infinity and huge integers fail too
            return f'progress_m {p!r} is not between 0 and {MAX_PROGRESS_M:g} m'
        if not isinstance(self.complete, bool):
            return f'complete {self.complete!r} is not true or false'
        return _skipped_problem(self.skipped) or _skips_problem(self.skips, self.skipped)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _skipped_problem(skipped: object) -> str:
    """Why ``skipped`` is not a list of skipped stretches ('' when it is)."""
    if not isinstance(skipped, (list, tuple)):
        return f'skipped {skipped!r:.60} is not a list'
    if len(skipped) > MAX_SKIPPED:
        return f'skipped holds {len(skipped)} stretches, more than {MAX_SKIPPED}'
    for i, disc in enumerate(skipped):
        if not isinstance(disc, (list, tuple)) or len(disc) != 3:
            return f'skipped[{i}] {disc!r:.60} is not [x, y, radius]'
        x, y, r = disc
        if not all(_is_number(v) for v in disc):
            return f'skipped[{i}] {disc!r:.60} is not three numbers'
        if not (abs(x) <= _MAX_COORD_M and abs(y) <= _MAX_COORD_M):  # NaN fails too
            return f'skipped[{i}] centre ({x!r}, {y!r}) is not within {_MAX_COORD_M:g} m'
        if not 0.0 < r <= _MAX_RADIUS_M:
            return f'skipped[{i}] radius {r!r} is not above 0 and at most {_MAX_RADIUS_M:g} m'
    return ''


def _skips_problem(skips: object, skipped: object) -> str:
    """Why ``skips`` is not a skip count for ``skipped`` ('' when it is)."""
    if not isinstance(skips, int) or isinstance(skips, bool):
        return f'skips {skips!r:.60} is not a whole number'
    least = len(skipped) if isinstance(skipped, (list, tuple)) else 0
    if not least <= skips <= MAX_SKIPS:
        return f'skips {skips} is not between {least} (the stretches) and {MAX_SKIPS}'
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
    unknown = sorted(k for k in doc if k not in _KEYS + _OPTIONAL)
    if missing or unknown:
        raise MissionStateError(
            f'{path}: not a mission state (missing keys: {missing}, '
            f'unknown keys: {unknown}; expected {list(_KEYS)} and optionally {list(_OPTIONAL)})'
        )
    state = MissionState(
        doc['progress_m'], doc['complete'], doc.get('skipped', []), doc.get('skips', 0)
    )
    fault = state.problem()
    if fault:
        raise MissionStateError(f'{path}: {fault}')
    skipped = tuple((float(x), float(y), float(r)) for x, y, r in state.skipped)
    return MissionState(float(state.progress_m), state.complete, skipped, state.skips)


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
    skipped = f', {len(state.skipped)} skipped stretch(es)' if state.skipped else ''
    return state, f'mission state restored from {path}: {state.progress_m:.1f} m' + (
        ', complete' if state.complete else ''
    ) + skipped


def save_state(path: str | Path, state: MissionState) -> Path:
    """Write ``state`` atomically and durably.

    :class:`MissionStateError` (nothing written) when it is not a valid state; OSError when the
    file cannot be written (the old one is then left as it was). A file that already holds
    exactly this state is not written again.
    """
    fault = state.problem()
    if fault:
        raise MissionStateError(f'{path}: not saved: {fault}')
    doc = {
        'progress_m': float(state.progress_m),
        'complete': state.complete,
        'skipped': [[float(x), float(y), float(r)] for x, y, r in state.skipped],
        'skips': int(state.skips),
    }
    data = json.dumps(doc, allow_nan=False).encode('utf-8')
    with suppress(OSError), open(path, 'rb') as fh:
        if fh.read(_MAX_BYTES + 1) == data:  # unchanged (mission_node saves every second)
            return Path(path)
    return atomic_write_bytes(path, data)
