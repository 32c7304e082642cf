"""Teach mode's core: the owner drives the lawn's edges, the recordings become a draft map.

:class:`TeachRecorder` is what the mission's TEACHING state, mission_node's ``teach/*`` services
and ``mower teach`` all call. The owner marks what is recorded next (:meth:`~TeachRecorder.mark`:
``boundary``, ``keepout``, ``navigation`` or ``dock``), drives it, and poses come in as they
are estimated (:meth:`~TeachRecorder.add_pose`, decimated to one every ``decimate_m``):

- **Closing.** An area recording closes by itself when the track comes back to within
  ``close_tolerance_m`` of its start after at least ``min_loop_m`` of driving (at the pose
  nearest its start: an overshoot is not part of the ring); later poses are not recorded
  until the next mark. A recording ended by a new mark or by ``finish`` closes when its end
  lies within ``close_tolerance_m`` of its start, else it stays open:
  ``boundary 1 not closed: ends 2.31 m from its start``.
- **Polygons** (:func:`track_polygon`). The closed track is simplified with ``simplify_m``
  (Douglas-Peucker: no vertex moves farther than that from the track), each edge is fitted
  again to the track poses it stands for (least squares, so that the RTK noise averages out;
  the vertices are the fitted edges' intersections), and the ring is offset by
  ``edge_offset_m``: the owner drives with the deck's edge on the lawn's edge, so the wheel
  track runs half the cut width inside a boundary (offset outward, mitred corners) and
  outside a keep-out (offset inward). A track that crosses itself is a fault naming where;
  it is never repaired silently (no ``make_valid``).
- **Seen edges** (optional). Where the camera saw the lawn / not-lawn border
  (:meth:`~TeachRecorder.add_edge_points`), a boundary or keep-out follows it rather than the
  offset wheel track: every point of the offset ring with seen edge points within
  ``edge_snap_m`` moves along its normal by their median offset (:func:`snap_to_edge`).
- **Obstacles the camera found** (optional, :meth:`~TeachRecorder.set_obstacles`: the mapping's
  obstacle outlines, replaced each time): those on the taught lawn (merged where they overlap,
  clipped to it, outside every keep-out, at least ``MIN_OBSTACLE_M2``) become the draft's
  obstacles, so trees and furniture the owner drove past are in the map without being driven
  around.
- **Checks at finish.** Every area recording closed and simple, at least one boundary, every
  keep-out at least half inside the boundaries (and navigation areas), then the map checks
  (:meth:`mower_maps.draft_map.DraftMap.check`).

**Faults** (a pose gap longer than ``lost_pose_s`` while recording, an emergency stop, an open
or self-crossing recording, a keep-out outside, no boundary) give a message and leave a state
the owner can recover from: an interrupted recording continues by itself when the pose comes
back within ``close_tolerance_m`` of where it stopped; :meth:`~TeachRecorder.undo` takes the
last recording back (kept in the file's ``undone`` list). Nothing is discarded: the session is
saved atomically (:mod:`mower_maps.safe_files`) on every mark, undo, fault and finish and every
``save_every_s`` while recording, reloadable with :func:`restore`; a cancelled or finished
session's file is renamed aside (``<name>.cancelled-<UTC>``, ``<name>.taught-<UTC>``), not
deleted.

ROS-free: numpy and shapely.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity

from mower_maps.draft_map import DraftMap
from mower_maps.safe_files import atomic_write_bytes, quarantine
from mower_node_kit.params import check_ranges, param

__all__ = [
    'AREA_KINDS',
    'KINDS',
    'Recording',
    'TeachError',
    'TeachParams',
    'TeachRecorder',
    'TeachResult',
    'outline',
    'restore',
    'snap_to_edge',
    'track_polygon',
]

#: What can be recorded.
KINDS = ('boundary', 'keepout', 'navigation', 'dock')
#: The kinds recorded as closed areas (the dock is one pose).
AREA_KINDS = ('boundary', 'keepout', 'navigation')
#: A keep-out with less than this share of its area inside the boundaries is a fault.
KEEPOUT_INSIDE_SHARE = 0.5
#: Edges shorter than this are not fitted again (too few poses to average).
MIN_FIT_EDGE_M = 0.4
#: Adjacent fitted edges turning less than this keep the simplified vertex (a shallow
#: intersection is ill-conditioned).
MIN_FIT_TURN_RAD = math.radians(10.0)
#: Short edges between two fitted ones, together shorter than this, are a cut corner.
MAX_CHAMFER_M = 0.3
#: A vertex between two edges goes when one line fits their poses with a root-mean-square
#: distance at most this many times that of two lines ...
MERGE_RMS_RATIO = 1.5
#: ... plus this (m): noise alone does not make a corner.
MERGE_RMS_M = 0.005
#: Rounds of fitting the edges and moving the vertices (the poses are assigned to the edges
#: anew in each round).
REFIT_ROUNDS = 3
FORMAT = 'mower-teach-recording'
VERSION = 1

# the states of a recording
RECORDING, CLOSED, OPEN, INTERRUPTED = 'recording', 'closed', 'open', 'interrupted'
STATUSES = (RECORDING, CLOSED, OPEN, INTERRUPTED)


class TeachError(ValueError):
    """A recording that gives no polygon, or a teach file that cannot be read; says why."""


@dataclass(frozen=True)
class TeachParams:
    """How poses become a draft map. Units are in the names."""

    decimate_m: float = param(0.05, 'a pose is recorded every this far along the track', 0.0, 5.0)
    close_tolerance_m: float = param(
        0.5, 'a recording closes when its end comes back this close to its start', 0.01, 10.0
    )
    min_loop_m: float = param(
        2.0, 'a recording closes by itself only after this much driving', 0.0, 1000.0
    )
    simplify_m: float = param(
        0.05, 'simplification tolerance: no vertex moves farther than this', 0.0, 1.0
    )
    edge_offset_m: float = param(
        0.11,
        "the wheel track's distance from the edge driven (half the cut width: deck edge on it)",
        0.0,
        2.0,
    )
    lost_pose_s: float = param(
        1.0, 'no pose for longer while recording: the recording is interrupted', 0.01, 60.0
    )
    save_every_s: float = param(5.0, 'the session is saved this often while recording', 0.1, 600.0)
    edge_snap_m: float = param(
        0.0, 'areas follow camera-seen lawn edge points this close (0: off)', 0.0, 2.0
    )

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range (ConfigError names the first)."""
        check_ranges(self)


@dataclass
class Recording:
    """One recording: a kind, its number among that kind, its poses (t, x, y, yaw) and state.

    ``span`` is the closed ring's first and last pose index (the poses outside it, an
    overshoot past the start, stay in ``poses``); ``note`` says why a recording is open or
    interrupted, or what is wrong with its polygon.
    """

    kind: str
    number: int
    poses: list[tuple[float, float, float, float]] = field(default_factory=list)
    status: str = RECORDING
    note: str = ''
    span: tuple[int, int] | None = None
    # auto-closing, not saved: travelled (m), farthest from the start (m), nearest approach
    _travelled: float = field(default=0.0, repr=False, compare=False)
    _near: tuple[float, int] | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """``boundary 1``, ``keepout 2``, ``dock``."""
        return 'dock' if self.kind == 'dock' else f'{self.kind} {self.number}'

    @property
    def xy(self) -> np.ndarray:
        """(N, 2) positions of the ring (the closed span) or of every pose."""
        pts = np.asarray([p[1:3] for p in self.poses], dtype=float).reshape(-1, 2)
        if self.span is not None:
            return pts[self.span[0] : self.span[1] + 1]
        return pts

    def gap_m(self) -> float:
        """Distance of the last pose from the first (m)."""
        if len(self.poses) < 2:
            return 0.0
        (_, x0, y0, _), (_, x1, y1, _) = self.poses[0], self.poses[-1]
        return math.hypot(x1 - x0, y1 - y0)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (poses rounded to 0.1 mm and 1 ms)."""
        return {
            'kind': self.kind,
            'number': self.number,
            'status': self.status,
            'note': self.note,
            'span': list(self.span) if self.span is not None else None,
            'poses': [[round(v, 4) for v in p] for p in self.poses],
        }

    @classmethod
    def from_json(cls, doc: Any) -> Recording:
        """The recording of :meth:`to_json`'s dict; TeachError for anything else."""
        if not isinstance(doc, dict) or doc.get('kind') not in KINDS:
            raise TeachError(f'not a recording: {str(doc)[:60]}')
        if doc.get('status') not in STATUSES or not isinstance(doc.get('number'), int):
            raise TeachError(f'{doc["kind"]}: bad status or number')
        poses = doc.get('poses')
        arr = np.asarray(poses, dtype=float) if isinstance(poses, list) else np.zeros((0, 3))
        if arr.size and (arr.ndim != 2 or arr.shape[1] != 4 or not np.isfinite(arr).all()):
            raise TeachError(f'{doc["kind"]} {doc["number"]}: poses are not finite (t, x, y, yaw)')
        span = doc.get('span')
        if span is not None and not (
            isinstance(span, list) and len(span) == 2 and 0 <= span[0] <= span[1] < len(arr)
        ):
            raise TeachError(f'{doc["kind"]} {doc["number"]}: bad span {span}')
        return cls(
            doc['kind'],
            doc['number'],
            [(float(a), float(b), float(c), float(d)) for a, b, c, d in arr.reshape(-1, 4)],
            doc['status'],
            str(doc.get('note', '')),
            None if span is None else (int(span[0]), int(span[1])),
        )


@dataclass(frozen=True)
class TeachResult:
    """What :meth:`TeachRecorder.finish` made: the draft map, and every fault found.

    ``draft`` is None when no boundary could be built; ``faults`` is empty when the draft
    passed every check; ``polygons`` holds every area built, by label (``keepout 2``).
    """

    draft: DraftMap | None
    faults: tuple[str, ...] = ()
    polygons: dict[str, Polygon] = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        """A draft that passed every check."""
        return self.draft is not None and not self.faults

    @property
    def message(self) -> str:
        """One line: what the draft holds, or the faults."""
        d = self.draft
        if d is None or self.faults:
            return 'not finished: ' + '; '.join(self.faults)
        parts = [f'{len(d.boundaries)} boundary(ies)', f'{len(d.keepouts)} keep-out(s)']
        if d.navigation:
            parts.append(f'{len(d.navigation)} navigation area(s)')
        parts.append('a dock' if d.dock is not None else 'no dock')
        return 'draft map ready: ' + ', '.join(parts)


class TeachRecorder:
    """A teach session: recordings, undo, faults and the draft map (see the module)."""

    def __init__(self, params: TeachParams | None = None, path: str | Path | None = None):
        """An empty session; saved to ``path`` (JSON) when given."""
        self.params = params or TeachParams()
        self.path = Path(path) if path else None
        self.recordings: list[Recording] = []
        self.undone: list[Recording] = []
        self.message = ''
        self.save_error = ''
        self._last_pose: tuple[float, float, float, float] | None = None
        self._last_save_t = -math.inf
        self._edge_points: list[np.ndarray] = []
        self._obstacles: list[Polygon] = []

    # -- the session -----------------------------------------------------------------------------
    @property
    def current(self) -> Recording | None:
        """The recording under way or interrupted (None between recordings)."""
        if self.recordings and self.recordings[-1].status in (RECORDING, INTERRUPTED):
            return self.recordings[-1]
        return None

    @property
    def recording(self) -> bool:
        """Poses are being recorded now."""
        return self.current is not None and self.current.status == RECORDING

    def summary(self) -> str:
        """One line: every recording and its state."""
        if not self.recordings:
            return 'nothing recorded yet'
        return ', '.join(f'{r.label} ({r.status}, {len(r.poses)} poses)' for r in self.recordings)

    def begin(self) -> str:
        """The session starts or continues (after an error, or restored from its file)."""
        if self.recordings:
            self.message = f'teach session continues: {self.summary()}'
        else:
            self.message = 'teaching: mark boundary, then drive the lawn edge with the deck edge'
        return self.message

    def mark(self, kind: str) -> tuple[bool, str]:
        """Start recording ``kind`` (ends the recording under way), or mark the dock here."""
        if kind not in KINDS:
            return False, f'unknown kind {kind!r} (one of {", ".join(KINDS)})'
        last = self._last_pose
        if kind == 'dock' and last is None:
            return False, 'no pose yet: the dock cannot be marked'
        said = self._end_current()
        number = 1 + sum(1 for r in self.recordings if r.kind == kind)
        rec = Recording(kind, number)
        self.recordings.append(rec)
        if kind == 'dock' and last is not None:
            rec.poses.append(last)
            rec.status = CLOSED
            _, x, y, yaw = last
            said.append(
                f'dock marked at ({x:.2f}, {y:.2f}) m, heading {math.degrees(yaw):.0f} deg'
            )
        else:
            said.append(f'recording {rec.label}: drive its edge back to where you are now')
            if last is not None:
                self._append(rec, last)
        return True, self._said(said)

    def add_pose(self, time_s: float, x_m: float, y_m: float, yaw_rad: float) -> None:
        """A pose estimate (map frame); non-finite ones are ignored (a gap, if it lasts)."""
        if not all(math.isfinite(v) for v in (time_s, x_m, y_m, yaw_rad)):
            return
        last = self._last_pose
        if last is not None and time_s <= last[0]:
            return  # the same pose again, or one from the past
        pose = (float(time_s), float(x_m), float(y_m), float(yaw_rad))
        if last is not None and self.recording and time_s - last[0] > self.params.lost_pose_s:
            self._lost(time_s - last[0], last[0])
        self._last_pose = pose
        rec = self.current
        if rec is None:
            return
        if rec.status == INTERRUPTED:
            self._try_continue(rec, pose)
        elif rec.status == RECORDING:
            self._append(rec, pose)
        if self.recording and time_s - self._last_save_t >= self.params.save_every_s:
            self.save(time_s)

    def check(self, now_s: float) -> None:
        """Interrupt the recording when no pose came for ``lost_pose_s`` (call every tick)."""
        last = self._last_pose
        if self.recording and last is not None and now_s - last[0] > self.params.lost_pose_s:
            self._lost(now_s - last[0], last[0])

    def interrupt(self, reason: str) -> str:
        """Stop recording (an emergency stop, a lost motor board); the poses so far are kept."""
        rec = self.current
        if rec is None or rec.status != RECORDING:
            return self.message
        rec.status, rec.note = INTERRUPTED, reason
        self.message = f'{reason} while recording {rec.label}: ' + self._continue_hint(rec)
        self.save()
        return self.message

    def undo(self) -> tuple[bool, str]:
        """Take the last recording back (kept in the file's ``undone`` list)."""
        if not self.recordings:
            return False, 'nothing to undo'
        rec = self.recordings.pop()
        self.undone.append(rec)
        return True, self._said([f'{rec.label} undone ({len(rec.poses)} poses kept in the file)'])

    def add_edge_points(self, xy: np.ndarray) -> None:
        """Lawn / not-lawn border points the camera saw (map frame, (N, 2)); see the module."""
        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts):
            self._edge_points.append(pts)

    def set_obstacles(self, polygons: Any) -> None:
        """The obstacles the camera found so far (map-frame polygons; replaces the last set)."""
        self._obstacles = [
            p
            for p in polygons
            if isinstance(p, Polygon) and p.is_valid and not p.is_empty and p.area > 0
        ]

    def finish(self) -> TeachResult:
        """End the recording under way and build the draft map; every fault found is listed.

        With no fault the session's file is renamed aside (``.taught-<UTC>``) and a new
        session begins; with faults everything stays as it is (saved) for the owner to undo
        or record again.
        """
        self._end_current()
        result = self.build()
        if result.ok:
            self.message = result.message
            self._close_session('taught')
        else:
            self.message = result.message
            self.save()
        return result

    def cancel(self) -> str:
        """End the session without a draft; its file is renamed aside (``.cancelled-<UTC>``)."""
        self._end_current()
        where = self._close_session('cancelled')
        self.message = 'teaching cancelled' + (
            f'; the recording is kept as {where}' if where else ''
        )
        return self.message

    # -- the draft -------------------------------------------------------------------------------
    def build(self) -> TeachResult:
        """The draft map of the recordings so far, and every fault (nothing is changed)."""
        faults: list[str] = []
        polys: dict[str, Polygon] = {}
        edges = np.vstack(self._edge_points) if self._edge_points else None
        for rec in self.recordings:
            if rec.kind == 'dock':
                continue
            if rec.status == OPEN:
                faults.append(rec.note)
            elif rec.status in (RECORDING, INTERRUPTED):
                faults.append(f'{rec.label} was interrupted ({rec.note}) and is not closed')
            else:
                try:
                    polys[rec.label] = track_polygon(
                        rec.xy, rec.kind, self.params, rec.label, edges
                    )
                except TeachError as exc:
                    faults.append(str(exc))
        by_kind = {k: [p for lab, p in polys.items() if lab.startswith(k)] for k in AREA_KINDS}
        if not any(r.kind == 'boundary' for r in self.recordings):
            faults.append('no boundary recorded: mark boundary and drive the lawn edge')
        faults += _keepouts_outside(polys, by_kind)
        docks = [r for r in self.recordings if r.kind == 'dock']
        dock = (
            (docks[-1].poses[0][1], docks[-1].poses[0][2], docks[-1].poses[0][3])
            if docks
            else None
        )
        warnings = [f'{len(docks)} docks marked: the last one is used'] if len(docks) > 1 else []
        if not by_kind['boundary']:
            return TeachResult(None, tuple(faults), polys)
        obstacles = _obstacles_on_lawn(self._obstacles, by_kind['boundary'], by_kind['keepout'])
        if obstacles:
            warnings.append(f'{len(obstacles)} obstacle(s) the camera found added: check them')
        draft = DraftMap(
            boundaries=tuple(by_kind['boundary']),
            keepouts=tuple(by_kind['keepout']),
            obstacles=tuple(obstacles),
            navigation=tuple(by_kind['navigation']),
            dock=dock,
            provenance='teach',
            warnings=tuple(warnings),
            name='taught lawn',
        )
        if not faults:
            _, checked = draft.check()
            faults += checked
        return TeachResult(draft, tuple(faults), polys)

    # -- the file --------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The session as a JSON-able dict."""
        return {
            'format': FORMAT,
            'version': VERSION,
            'recordings': [r.to_json() for r in self.recordings],
            'undone': [r.to_json() for r in self.undone],
        }

    def save(self, time_s: float | None = None) -> Path | None:
        """Write the session to its file atomically (when it has one); never raises.

        A failure is kept in :attr:`save_error` (and said in the next messages).
        """
        if time_s is not None:
            self._last_save_t = time_s
        elif self._last_pose is not None:
            self._last_save_t = self._last_pose[0]
        if self.path is None:
            return None
        data = json.dumps(self.to_json(), allow_nan=False, separators=(',', ':')).encode()
        try:
            atomic_write_bytes(self.path, data)
        except OSError as exc:
            self.save_error = f'cannot save the recording to {self.path}: {exc}'
            return None
        self.save_error = ''
        return self.path

    @classmethod
    def load(cls, path: str | Path, params: TeachParams | None = None) -> TeachRecorder:
        """The session saved at ``path``; TeachError naming the file for anything else."""
        try:
            doc = json.loads(Path(path).read_text(encoding='utf-8'))
        except (OSError, ValueError) as exc:
            raise TeachError(f'{path}: not a teach recording ({exc})') from None
        if not isinstance(doc, dict) or doc.get('format') != FORMAT:
            raise TeachError(f'{path}: not a teach recording (no "format": "{FORMAT}")')
        if doc.get('version') != VERSION:
            raise TeachError(f'{path}: teach recording version {doc.get("version")!r} unknown')
        rec = cls(params, path)
        try:
            rec.recordings = [Recording.from_json(r) for r in doc.get('recordings', [])]
            rec.undone = [Recording.from_json(r) for r in doc.get('undone', [])]
        except TeachError as exc:
            raise TeachError(f'{path}: {exc}') from None
        for r in rec.recordings:  # recording when saved: interrupted by the restart
            if r.status == RECORDING:
                r.status, r.note = INTERRUPTED, 'restarted'
        return rec

    # -- internals -------------------------------------------------------------------------------
    def _said(self, parts: list[str]) -> str:
        self.save()
        if self.save_error:
            parts.append(self.save_error)
        self.message = '; '.join(p for p in parts if p)
        return self.message

    def _append(self, rec: Recording, pose: tuple[float, float, float, float]) -> None:
        """Record a pose (decimated) and close the ring when it comes back to its start."""
        if rec.poses:
            d = math.hypot(pose[1] - rec.poses[-1][1], pose[2] - rec.poses[-1][2])
            if d < self.params.decimate_m:
                return
            rec._travelled += d
        rec.poses.append(pose)
        self._auto_close(rec)

    def _auto_close(self, rec: Recording) -> None:
        """Close at the nearest approach to the start once the track has come back to it."""
        p = self.params
        if rec.kind == 'dock' or rec._travelled < max(p.min_loop_m, 2 * p.close_tolerance_m):
            return
        d = rec.gap_m()
        i = len(rec.poses) - 1
        if d <= p.close_tolerance_m and (rec._near is None or d < rec._near[0]):
            rec._near = (d, i)
        if rec._near is not None and (
            d > p.close_tolerance_m or d > rec._near[0] + 2 * max(p.decimate_m, 0.02)
        ):
            self._close(rec, rec._near[1])
            self.message = f'{rec.label} closed ({rec._travelled:.1f} m): ' + (
                rec.note or 'mark the next one, or finish'
            )
            self.save()

    def _close(self, rec: Recording, end: int) -> None:
        """Close the ring between the pair of poses nearest each other at its two ends."""
        pts = np.asarray([q[1:3] for q in rec.poses[: end + 1]], dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        tol = self.params.close_tolerance_m
        head = np.flatnonzero(cum <= tol)
        tail = np.flatnonzero(cum >= cum[-1] - tol)
        d = np.hypot(*(pts[tail][None, :, :] - pts[head][:, None, :]).transpose(2, 0, 1))
        a, b = np.unravel_index(int(np.argmin(d)), d.shape)
        start, stop = int(head[a]), int(tail[b])
        if stop - start < 3:
            start, stop = 0, end
        rec.status, rec.span, rec.note = CLOSED, (start, stop), ''
        try:
            track_polygon(rec.xy, rec.kind, self.params, rec.label)
        except TeachError as exc:
            rec.note = f'{exc}'

    def _end_current(self) -> list[str]:
        """End the recording under way (marks and finish do); what is said about it."""
        rec = self.current
        if rec is None or rec.status != RECORDING:
            return []
        if rec.kind == 'dock':
            rec.status = CLOSED
            return []
        if len(rec.poses) >= 4 and rec.gap_m() <= self.params.close_tolerance_m:
            self._close(rec, len(rec.poses) - 1)
            return [f'{rec.label} closed' + (f' but {rec.note}' if rec.note else '')]
        rec.status = OPEN
        rec.note = f'{rec.label} not closed: ends {rec.gap_m():.2f} m from its start'
        return [rec.note + ' (undo it, or record it again)']

    def _lost(self, gap_s: float, since_s: float) -> None:
        self.interrupt(f'pose lost for {gap_s:.1f} s (since t = {since_s:.1f} s)')

    def _continue_hint(self, rec: Recording) -> str:
        where = ''
        if rec.poses:
            _, x, y, _ = rec.poses[-1]
            where = f' within {self.params.close_tolerance_m:.2f} m of ({x:.2f}, {y:.2f})'
        kept = f'{len(rec.poses)} poses kept' + (f' in {self.path}' if self.path else '')
        return f'{kept}; drive back{where} and recording continues, or undo it'

    def _try_continue(self, rec: Recording, pose: tuple[float, float, float, float]) -> None:
        """An interrupted recording continues once the pose is back where it stopped."""
        if rec.poses:
            _, x, y, _ = rec.poses[-1]
            if math.hypot(pose[1] - x, pose[2] - y) > self.params.close_tolerance_m:
                return
        rec.status, rec.note = RECORDING, ''
        self.message = f'{rec.label} continues'
        self._append(rec, pose)
        self.save()

    def _close_session(self, tag: str) -> Path | None:
        """Rename the session's file aside (never deleted) and start a new, empty session."""
        where = None
        if self.path is not None and self.save() is not None:
            try:
                where = quarantine(self.path, tag)
            except OSError as exc:
                self.save_error = f'cannot keep {self.path} aside: {exc}'
        self.recordings, self.undone = [], []
        self._edge_points, self._obstacles = [], []
        return where


def restore(
    path: str | Path | None, params: TeachParams | None = None
) -> tuple[TeachRecorder, str]:
    """The session saved at ``path`` (or a new one) and the line to log; never raises.

    A file that cannot be read is renamed aside (``<name>.damaged-<UTC>``), never deleted.
    """
    if not path or not Path(path).exists():
        return TeachRecorder(params, path), ''
    try:
        rec = TeachRecorder.load(path, params)
    except TeachError as exc:
        try:
            where = f'kept aside as {quarantine(path)}'
        except OSError as err:
            where = f'could not be kept aside ({err})'
        return TeachRecorder(params, path), f'{exc}; {where}; a new teach session starts'
    return rec, f'teach session restored from {path}: {rec.summary()}'


# -- polygons ------------------------------------------------------------------------------------


def track_polygon(
    xy: np.ndarray,
    kind: str,
    params: TeachParams,
    label: str = 'recording',
    edge_points: np.ndarray | None = None,
) -> Polygon:
    """The area a closed wheel track stands for (see the module); TeachError when it has none."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) < 3:
        raise TeachError(f'{label} has too few poses ({len(xy)}) for an area')
    poly = outline(xy, params.simplify_m, label)
    offset = params.edge_offset_m if kind != 'keepout' else -params.edge_offset_m
    area = poly.buffer(offset, join_style='mitre', mitre_limit=10.0) if offset else poly
    if isinstance(area, MultiPolygon):
        area = max(area.geoms, key=lambda g: g.area)
    if area.is_empty or area.area <= 0:
        raise TeachError(f'{label} is no area after the {params.edge_offset_m:.2f} m edge offset')
    if edge_points is not None and params.edge_snap_m > 0:
        area = snap_to_edge(area, edge_points, params.edge_snap_m, params.simplify_m)
    return orient(Polygon(area.exterior), 1.0)


def outline(xy: np.ndarray, simplify_m: float, label: str = 'recording') -> Polygon:
    """The polygon of a closed ring of noisy points (see the module).

    Simplified with ``simplify_m``, straight runs merged, edges fitted; TeachError when the
    ring crosses itself or is no area.
    """
    ring = LineString(np.vstack([xy, xy[:1]]))
    simple = shapely.simplify(ring, simplify_m, preserve_topology=False)
    coords = np.asarray(simple.coords)[:-1]
    if len(coords) < 3:
        raise TeachError(f'{label} is no area: its track is a line')
    poly = Polygon(coords)
    if not poly.is_valid:
        raise TeachError(f'{label} crosses itself{_where(poly)}: undo it and drive it again')
    coords = _merge_straight(coords, xy)
    fitted = Polygon(_refit(coords, xy))
    # the fit moved vertices past each other: the simplified ring stays
    return fitted if fitted.is_valid else Polygon(coords)


def _where(poly: Polygon) -> str:
    """`` at (x, y) m`` from shapely's explanation of an invalid polygon."""
    found = re.search(r'\[(-?[\d.e+-]+) (-?[\d.e+-]+)\]', explain_validity(poly))
    if not found:
        return ''
    return f' at ({float(found.group(1)):.2f}, {float(found.group(2)):.2f}) m'


def _refit(coords: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The simplified ring's vertices, each edge fitted again to the track poses beside it.

    Every track pose belongs to its nearest edge; an edge's line is the total least-squares fit
    to its poses away from its ends (edges shorter than :data:`MIN_FIT_EDGE_M` are not
    fitted). Between two fitted edges the vertices become the lines' intersection (a corner
    the decimated poses cut, or a chamfer of short edges shorter than
    :data:`MAX_CHAMFER_M`), or, where the lines turn less than :data:`MIN_FIT_TURN_RAD`, the
    vertex moves onto the mean of the lines; other vertices stay.
    """
    for _ in range(REFIT_ROUNDS):
        n = len(coords)
        fitted = [(k, line) for k, line in enumerate(_fit_lines(coords, xy)) if line is not None]
        if len(fitted) < 2:
            return coords
        length = np.hypot(*(np.roll(coords, -1, axis=0) - coords).T)
        out: list[np.ndarray] = []
        for i, (k, line) in enumerate(fitted):
            m, following = fitted[(i + 1) % len(fitted)]
            between = [(k + 1 + j) % n for j in range((m - k - 1) % n + 1)]
            gap = float(sum(length[v] for v in between[:-1]))
            out.extend(_corner(line, following, coords[between], gap))
        if len(out) < 3:
            return coords
        coords = np.asarray(out)
    return coords


def _merge_straight(coords: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Drop the vertices that split a straight run of the track in two.

    Douglas-Peucker keeps a vertex wherever the track's noise wanders farther than its
    tolerance from the chord; such a vertex splits a straight edge, and each half is fitted on
    fewer poses. A vertex goes when one line fits the poses of its two edges about as well as
    two lines do (root-mean-square within :data:`MERGE_RMS_RATIO` times, plus
    :data:`MERGE_RMS_M`): the straightest first, one at a time.
    """
    coords = np.asarray(coords, dtype=float)
    while len(coords) > 3:
        nearest = _nearest_edge(coords, xy)
        best, lowest = -1, math.inf
        for v in range(len(coords)):
            one, two = nearest == (v - 1) % len(coords), nearest == v
            if one.sum() < 5 or two.sum() < 5:
                continue
            merged = _rms(xy[one | two])
            split = math.sqrt(
                (_rms(xy[one]) ** 2 * one.sum() + _rms(xy[two]) ** 2 * two.sum())
                / (one.sum() + two.sum())
            )
            excess = merged - MERGE_RMS_RATIO * split
            if excess <= MERGE_RMS_M and merged < lowest:
                best, lowest = v, merged
        if best < 0:
            break
        coords = np.delete(coords, best, axis=0)
    return coords


def _rms(pts: np.ndarray) -> float:
    """Root-mean-square distance of points from their total least-squares line."""
    centre = pts.mean(axis=0)
    return float(np.linalg.svd(pts - centre, compute_uv=False)[-1] / math.sqrt(len(pts)))


def _nearest_edge(coords: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Index of the ring edge (``coords[k]`` to ``coords[k + 1]``) nearest each point."""
    return _edge_distances(coords, xy)[1].argmin(axis=1)


def _edge_distances(coords: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t, d): per point and edge, where along the edge (0..1) and how far from it."""
    ab = np.roll(coords, -1, axis=0) - coords
    rel = xy[:, None, :] - coords[None, :, :]
    t = np.clip((rel * ab[None]).sum(-1) / np.maximum((ab**2).sum(-1), 1e-12)[None], 0.0, 1.0)
    return t, np.hypot(*(rel - t[..., None] * ab[None]).transpose(2, 0, 1))


def _fit_lines(coords: np.ndarray, xy: np.ndarray) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Per edge of the ring ``coords``: (a point, the unit direction) of its fitted line."""
    ab = np.roll(coords, -1, axis=0) - coords
    length = np.hypot(*ab.T)
    t, d = _edge_distances(coords, xy)
    nearest = np.argmin(d, axis=1)
    lines: list[tuple[np.ndarray, np.ndarray] | None] = []
    for k in range(len(coords)):
        margin = min(0.15, 0.25 * length[k]) / max(length[k], 1e-12)
        sel = (nearest == k) & (t[:, k] > margin) & (t[:, k] < 1 - margin)
        if length[k] < MIN_FIT_EDGE_M or sel.sum() < 5:
            lines.append(None)
            continue
        pts = xy[sel]
        centre = pts.mean(axis=0)
        direction = np.linalg.svd(pts - centre, full_matrices=False)[2][0]
        lines.append((centre, direction * (1.0 if direction @ ab[k] >= 0 else -1.0)))
    return lines


def _corner(
    one: tuple[np.ndarray, np.ndarray],
    two: tuple[np.ndarray, np.ndarray],
    vertices: np.ndarray,
    gap_m: float,
) -> list[np.ndarray]:
    """The vertices between two fitted lines (see :func:`_refit`)."""
    (c1, u1), (c2, u2) = one, two
    if gap_m > MAX_CHAMFER_M or u1 @ u2 < -0.9:  # far apart, or a spike: left alone
        return list(vertices)
    cross = u1[0] * u2[1] - u1[1] * u2[0]
    if abs(cross) >= math.sin(MIN_FIT_TURN_RAD):
        w = c2 - c1
        p = c1 + u1 * (w[0] * u2[1] - w[1] * u2[0]) / cross
        # a shallow turn's corner may lie far along the bend from the simplified vertex
        if np.hypot(*(p - vertices.mean(axis=0))) <= (gap_m + MAX_CHAMFER_M) / abs(cross):
            return [p]
        return list(vertices)
    v = vertices.mean(axis=0)  # (almost) straight on: onto the mean of the two lines
    return [(c1 + u1 * ((v - c1) @ u1) + c2 + u2 * ((v - c2) @ u2)) / 2]


def snap_to_edge(
    area: Polygon, edge_xy: np.ndarray, max_m: float, simplify_m: float = 0.05, step_m: float = 0.1
) -> Polygon:
    """``area`` with its outline moved onto seen edge points within ``max_m`` of it.

    The outline is sampled every ``step_m`` (its vertices kept); a sample with at least three
    edge points within ``max_m`` of it and within ``step_m`` of its normal moves along the
    normal by the median of their offsets; the rest stay. The result
    is simplified with ``simplify_m``; where that would cross itself, ``area`` is returned.
    """
    edge_xy = np.asarray(edge_xy, dtype=float).reshape(-1, 2)
    if not len(edge_xy):
        return area
    ring = np.asarray(shapely.segmentize(orient(area, 1.0).exterior, step_m).coords)[:-1]
    tangent = np.roll(ring, -1, axis=0) - np.roll(ring, 1, axis=0)
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-12)[:, None]
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)  # outward on a CCW ring
    tree = shapely.STRtree(shapely.points(edge_xy))
    i, j = tree.query(shapely.points(ring), predicate='dwithin', distance=max_m)
    moved = ring.copy()
    rel = edge_xy[j] - ring[i]
    across = (rel * normal[i]).sum(axis=1)
    along = (rel * tangent[i]).sum(axis=1)
    beside = np.abs(along) <= step_m  # on the sample's normal, not the next edge's
    i, across = i[beside], across[beside]
    for k in np.unique(i):
        mine = across[i == k]
        if len(mine) >= 3:
            moved[k] = ring[k] + normal[k] * float(np.median(mine))
    # corners are not moved on their own: the fitted edges through the moved samples meet there
    d_in = ring - np.roll(ring, 1, axis=0)
    d_out = np.roll(ring, -1, axis=0) - ring
    sin_turn = np.abs(d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0]) / np.maximum(
        np.hypot(*d_in.T) * np.hypot(*d_out.T), 1e-12
    )
    kept = moved[(sin_turn < math.sin(MIN_FIT_TURN_RAD)) | (moved == ring).all(axis=1)]
    try:
        snapped = outline(kept, simplify_m)
    except TeachError:
        return area
    return snapped if snapped.is_valid and not snapped.is_empty else area


#: Obstacles the camera found smaller than this on the lawn (m²) are left out of a taught map.
MIN_OBSTACLE_M2 = 0.01


def _obstacles_on_lawn(
    found: list[Polygon], boundaries: list[Polygon], keepouts: list[Polygon]
) -> list[Polygon]:
    """The camera's obstacles on the taught lawn: clipped to it, outside every keep-out."""
    if not found:
        return []
    lawn = shapely.difference(shapely.union_all(boundaries), shapely.union_all(keepouts))
    out = []  # overlapping outlines (one object seen in pieces) are one obstacle
    for part in _polygons(shapely.intersection(shapely.union_all(found), lawn)):
        if part.area >= MIN_OBSTACLE_M2:
            out.append(orient(shapely.set_precision(part, 1e-3), 1.0))
    return [p for p in out if p.is_valid and not p.is_empty]


def _polygons(geom: Any) -> list[Polygon]:
    """The polygons of a geometry (of a collection's parts too)."""
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    return [p for g in getattr(geom, 'geoms', []) for p in _polygons(g)]


def _keepouts_outside(polys: dict[str, Polygon], by_kind: dict[str, list[Polygon]]) -> list[str]:
    """A fault for every keep-out less than half inside the boundaries and navigation areas."""
    lawn = shapely.union_all(by_kind['boundary'] + by_kind['navigation'])
    out = []
    for label, poly in polys.items():
        if not label.startswith('keepout') or poly.area <= 0:
            continue
        share = poly.intersection(lawn).area / poly.area if not lawn.is_empty else 0.0
        if share < KEEPOUT_INSIDE_SHARE:
            out.append(
                f'{label} lies outside the boundary ({100 * share:.0f} % of it inside): '
                'undo it, or record the boundary around it'
            )
    return out
