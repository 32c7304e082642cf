"""The mission: an explicit state machine over the mowing job, independent of transport.

States are classes with a name, ``enter``, ``exit`` and ``tick`` (as OpenMower's behaviours):
IDLE, UNDOCKING, MOWING, PAUSED, RETURNING, DOCKING, CHARGING, TEACHING, ERROR. The mission
decides which path the follower drives (the rest of the coverage plan, a transit to the dock,
the dock approach) and whether the blade should run; the safety supervisor still decides alone
whether anything moves.

- start / pause / resume / dock are requests that return (accepted, message);
- low battery or rain while mowing: RETURNING, DOCKING, CHARGING; when charged and dry it
  undocks and resumes the same plan where it stopped, found from the coverage layer (the first
  point of the plan that is not mowed yet) when one is given, else from the stored progress;
  a point the mower's centre has already passed while mowing (``resume_tried_m``,
  :class:`TriedTrack`) is not resumed at again, even where the coverage layer still calls it
  unmowed (a corner the follower cut: back_garden's, at the robot's 10 Hz, drew the mower back
  round the mowed headland after every replan); while mowing, the plan is left where it runs
  ``resume_skip_m`` over lawn with nothing to mow (:meth:`Mission.stretch_end`);
- an obstacle stop that lasts ``blocked_replan_s`` asks the planner for a new plan, which
  :meth:`Mission.set_plan` accepts at any time; a stretch still blocked after ``max_replans``
  is skipped: the plan within ``skip_radius_m`` of it is left unmowed (:attr:`Mission.skipped`,
  kept across new plans until the next run) and mowing goes on from the next unmowed point;
  after ``max_skips`` skips in one run, or with ``skip_radius_m`` 0, ERROR;
- a latched safety stop, a lost motor board or a failed docking: ERROR, left by ``resume``
  (back to what it was doing) or ``start`` once the cause is gone;
- teach mode (:data:`TEACH_REQUESTS`): ``teach/start`` from IDLE or CHARGING enters TEACHING:
  the follower stands by and the blade stays off while the owner drives by teleop (the safety
  supervisor still filters every command); every tick's pose goes to the
  :class:`~mower_maps.teach.TeachRecorder` (:attr:`Mission.teach`), and ``teach/boundary``,
  ``teach/keepout``, ``teach/navigation``, ``teach/dock``, ``teach/undo`` go to it too.
  ``teach/finish`` builds the draft map (:attr:`Mission.teach_result`) and returns to IDLE, or
  stays in TEACHING with the faults; ``teach/cancel`` returns to IDLE. A safety latch or a
  lost board goes to ERROR with the recording interrupted and kept; ``resume`` (or
  ``teach/start``) goes back to TEACHING, where the recording continues.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely

from mower_coverage.route import KINDS
from mower_coverage.transit import TransitPlanner, path_length
from mower_maps.dock import approach_point
from mower_maps.geometry import cumulative_length
from mower_maps.teach import TeachRecorder, TeachResult
from mower_node_kit.params import ConfigError, check_ranges, param


@dataclass(frozen=True)
class MissionParams:
    """Settings of the mission. Units are in the names."""

    return_battery_pct: float = param(25.0, 'return to the dock below this charge', 0.0, 100.0)
    resume_battery_pct: float = param(
        90.0, 'leave the dock again at or above this charge', 0.0, 100.0
    )
    dry_wait_s: float = param(
        60.0, 'rain must have stopped this long before mowing resumes', 0.0, 86400.0
    )
    undock_distance_m: float = param(
        0.6, "distance of the dock's approach point from the dock", 0.05, 10.0
    )
    resume_overlap_m: float = param(
        0.3, 'mowing restarts this far before the first unmowed point', 0.0, 10.0
    )
    resume_sample_m: float = param(
        0.1, "spacing of the plan's points checked against the coverage layer", 0.01, 10.0
    )
    resume_skip_m: float = param(
        1.0,
        'this much of the plan with nothing to mow (mowed, driven over) is not followed: the'
        ' mower goes to the next unmowed point (0: the plan is followed to its end)',
        0.0,
        1000.0,
    )
    resume_swath_m: float = param(
        0.08,
        'a stretch counts as mowed only where the coverage layer shows it mowed this far to'
        " either side too (inside the deck's half width; 0: its line only)",
        0.0,
        1.0,
    )
    resume_skip_track_m: float = param(
        0.02,
        "a stretch is left only where the mower's centre drove its very line, to within this"
        " (the stripes' overlap, cut_width_m - stripe_spacing_m, or less: a line driven further"
        ' off leaves a sliver the planner put the stretch there to cut)',
        0.0,
        1.0,
    )
    resume_tried_m: float = param(
        0.1,
        "a plan point the mower's centre passed this close while mowing is never resumed at again"
        ' (0: off)',
        0.0,
        1.0,
    )
    blocked_replan_s: float = param(
        2.0, 'an obstacle stop lasting this long asks the planner for a new plan', 0.0, 600.0
    )
    max_replans: int = param(
        3, 'replans per blockage before the blocked stretch is skipped', 0, 100
    )
    skip_radius_m: float = param(
        0.6,
        'a stretch still blocked after max_replans: the plan this close is left unmowed'
        ' (0: ERROR instead)',
        0.0,
        10.0,
    )
    max_skips: int = param(
        30, 'blocked stretches skipped in one run before giving up (ERROR)', 0, 10000
    )
    backout_m: float = param(
        0.5, 'before mowing on past a skipped stretch, back this far along the track', 0.0, 5.0
    )
    link_lost_error_s: float = param(2.0, 'motor board lost for this long: ERROR', 0.0, 600.0)
    manoeuvre_timeout_s: float = param(
        60.0, 'undocking or docking taking longer: ERROR', 1.0, 3600.0
    )
    contact_timeout_s: float = param(
        3.0, 'on the dock without charging for this long: ERROR', 0.0, 600.0
    )

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range; return below resume."""
        check_ranges(self)
        if self.return_battery_pct >= self.resume_battery_pct:
            raise ConfigError(
                'return_battery_pct',
                self.return_battery_pct,
                f'must be below resume_battery_pct ({self.resume_battery_pct}):'
                ' the mower would leave the dock only to return at once',
            )


@dataclass(frozen=True)
class MissionInputs:
    """What the mission sees on each tick."""

    time_s: float
    pose: tuple[float, float, float]  # x, y (m), yaw (rad) in the map frame
    battery_pct: float = 100.0
    charging: bool = False
    raining: bool = False
    safety_reasons: tuple[str, ...] = ()  # from the supervisor, latched ones included
    safety_latched: tuple[str, ...] = ()
    board_connected: bool = True
    follower_path_id: int = -1  # which of the mission's paths the two below are about
    follower_done: bool = False  # the follower finished that path
    follower_progress_m: float = 0.0  # arc length reached on that path
    mowed_share: float = math.nan  # of the lawn, from the coverage layer (0..1)
    pose_time_s: float = math.nan  # when ``pose`` was estimated (NaN: at ``time_s``)


@dataclass(frozen=True)
class MissionOutput:
    """What the mission wants now."""

    state: str
    path: np.ndarray | None  # (N, 2) to follow now; None: stand still
    path_id: int  # changes whenever a new path is to be followed
    reverse: bool  # drive the path backwards
    blade: bool
    replan: bool  # ask the planner for a new plan (once per request)
    message: str


class State:
    """A mission state: a name, and what happens on entry, on exit and on every tick."""

    name = 'STATE'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Called when the state becomes active."""

    def exit(self, m: Mission, inp: MissionInputs) -> None:
        """Called when the state is left."""

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Called every tick; returns the name of the next state, or None to stay."""
        return None

    def blocked_s(self, inp: MissionInputs) -> float:
        """How long the safety stop has held the robot for an obstacle (0 when it does not).

        Keeps ``blocked_since`` (None while not blocked); a state restarts the count by
        setting it to the time now.
        """
        if 'obstacle' not in inp.safety_reasons:
            self.blocked_since: float | None = None
            return 0.0
        if self.blocked_since is None:
            self.blocked_since = inp.time_s
        return inp.time_s - self.blocked_since


class Idle(State):
    """Waiting for ``start``; motors and blade off."""

    name = 'IDLE'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Stand still."""
        m.drive(None)


class Undocking(State):
    """Leaving the dock along its axis to the approach point.

    An obstacle stop that lasts ``blocked_replan_s`` hands over to mowing, whose replans go
    around what the camera found (the dock's axis is one straight line with no way around).
    Random garden 9 (2026-12-05) ended in ERROR here: two phantom obstacle cells in front of the
    dock stopped the undock 0.26 m out, under the mower's front where the camera cannot see
    them again, until ``manoeuvre_timeout_s``. Other stops (lift, tilt, the fence) still end in
    ERROR after ``manoeuvre_timeout_s``.
    """

    name = 'UNDOCKING'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Drive from the dock to the approach point."""
        self.since = inp.time_s
        self.blocked_since: float | None = None
        a, reverse = m.dock_line()
        m.drive(
            np.vstack([np.asarray(inp.pose[:2]), a]) if a is not None else None,
            reverse=not reverse,
        )

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Mow once off the dock, or once an obstacle has blocked the way off long enough."""
        if m.dock_xy is None or inp.follower_done:
            return 'MOWING'
        if self.blocked_s(inp) > m.params.blocked_replan_s:
            m.message = 'an obstacle blocks the way off the dock: mowing plans around it'
            m.blade_held_near_dock = True  # the blade starts undock_distance_m off the dock
            return 'MOWING'
        if inp.time_s - self.since > m.params.manoeuvre_timeout_s:
            m.fail('undocking took too long')
            return 'ERROR'
        return None


class Mowing(State):
    """Following the coverage plan, blade on, from where mowing stopped.

    With a coverage layer, the follower gets the plan from the first point still to mow up to
    its next ``resume_skip_m`` with nothing to mow (:meth:`Mission.stretch_end`); there the
    mower goes straight to the next point still to mow, until none is left.

    A stretch that stays blocked is skipped (:meth:`Mission.skip_blocked`): the mower first
    backs ``backout_m`` along the track it came by, blade off (wedged between an obstacle and
    the edge, no forward path is free), then mows on from the next unmowed point.
    """

    name = 'MOWING'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Transit to the resume point, then the rest of the plan."""
        self.blocked_since: float | None = None
        self.backing_since: float | None = None  # backing out of a skipped stretch
        s0 = m.resume_point()
        self.end = m.stretch_end(s0)  # where the plan runs over mowed lawn for a while
        rest, self.offset = m.plan_from(s0, np.asarray(inp.pose[:2]), self.end)
        self.s0 = m.progress_m = s0
        m.drive(rest, blade=True)

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Track progress; go home on low battery, rain or completion; replan when blocked."""
        p = m.params
        m.note_track(inp.pose)
        if self.backing_since is not None:
            return self._backing(m, inp)
        m.progress_m = max(m.progress_m, self.s0 + max(0.0, inp.follower_progress_m - self.offset))
        if inp.follower_done:  # the plan's end, or a stretch's: on to the next unmowed point
            if self.end >= m.plan_length():
                return m.finish_mowing()
            # what the follower finished counts as driven over, even where the coverage layer
            # and the track disagree (a follower done short of a corner by the lawn's edge
            # would otherwise be handed the same stretch again at every tick)
            m.tried.mark(m.point_at(np.arange(self.s0, self.end, TRACK_STEP_M)))
            return self._mow_on(m, inp)
        if inp.battery_pct < p.return_battery_pct:
            m.message = f'battery {inp.battery_pct:.0f}%: returning to charge'
            return 'RETURNING'
        if inp.raining:
            m.message = 'rain: returning to the dock'
            return 'RETURNING'
        if 'obstacle' in inp.safety_reasons:
            if self.blocked_s(inp) > p.blocked_replan_s:
                if m.replans_for_block >= p.max_replans:
                    if not m.skip_blocked():
                        return 'ERROR'
                    return self._back_out(m, inp)
                m.request_replan()
                self.blocked_since = inp.time_s
        else:
            self.blocked_since = None
            if m.progress_m > m.replan_progress_m + 1.0:  # got past the blockage
                m.replans_for_block = 0
        return None

    def _back_out(self, m: Mission, inp: MissionInputs) -> str | None:
        """Back along the track (when there is one to back along), else mow on at once."""
        m.replans_for_block = 0
        back = m.track_back(inp.pose)
        if back is None:
            return self._mow_on(m, inp)
        self.backing_since, self.blocked_since = inp.time_s, None
        m.drive(back, reverse=True, blade=False)
        return None

    def _backing(self, m: Mission, inp: MissionInputs) -> str | None:
        """Backed out (or blocked behind too, or too long at it): mow on."""
        p = m.params
        stuck = self.blocked_s(inp) > p.blocked_replan_s
        late = inp.time_s - (self.backing_since or inp.time_s) > p.manoeuvre_timeout_s
        if inp.follower_done or stuck or late:
            return self._mow_on(m, inp)
        return None

    def _mow_on(self, m: Mission, inp: MissionInputs) -> str | None:
        """From the next unmowed point outside the skipped stretches (or home: nothing left)."""
        if m.resume_point() >= m.plan_length():
            return m.finish_mowing()
        self.enter(m, inp)
        return None


class Discovering(State):
    """Exploring the lawn from the dock with no map, blade off (``Mission.explore`` decides).

    Every tick asks ``m.explore(pose, time_s, follower_done)`` (a
    :class:`mower_mapping.discovery.DiscoveryDriver`): a new step's path goes to the follower;
    a finished step ends it: back on the dock with a draft to make (IDLE), or no lawn seen
    from the dock (ERROR, with the explorer's message; ``discover`` again starts over).
    """

    name = 'DISCOVERING'

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Follow the explorer's steps; IDLE when it is done, ERROR when it found no lawn.

        Rain sends the explorer home (``go_home``): discovery ends on the dock with what it
        found so far. A low battery sends it home to charge (CHARGING, as when mowing); once
        charged the discovery goes on where it was (:meth:`Charging.tick`, the explorer's
        ``resume``), with everything found so far.
        """
        p = m.params
        if inp.battery_pct < p.return_battery_pct:
            _go_home(
                m,
                f'battery {inp.battery_pct:.0f}%: returning to charge; discovery goes on after',
                recharge=True,
            )
        elif inp.raining:
            _go_home(m, 'rain: discovery stopped, returning to the dock')
        step = m.explore(inp.pose, inp.time_s, inp.follower_done)
        if step is None:
            return None
        m.message = step.message
        if step.finished and step.phase == 'recharge':
            m.discovering_after_charge = True
            m.message = 'charging: the discovery goes on when charged'
            return 'CHARGING'
        if step.finished:
            if step.phase == 'done':
                why = '' if step.message in ('', 'discovery complete') else f'{step.message}; '
                m.message = f'{why}discovery complete: the draft map awaits the owner'
                return 'IDLE'
            m.fail(step.message)
            return 'ERROR'
        m.drive(step.path, reverse=step.reverse, blade=False)
        return None


def _go_home(m: Mission, reason: str, recharge: bool = False) -> None:
    """Ask the explorer (when it can be asked) to go home: to end, or to charge and go on."""
    go_home = getattr(m.explore, 'go_home', None)
    if go_home is not None:
        go_home(reason, recharge)


class Paused(State):
    """Stopped by the operator; ``resume`` goes back to what it was doing."""

    name = 'PAUSED'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Stand still, blade off."""
        m.drive(None)


class Returning(State):
    """Driving to the dock's approach point; around what blocks the way, or ERROR.

    An obstacle stop lasting ``blocked_replan_s`` asks for a new plan, as while mowing: the
    plan's region has the obstacles seen now cut out of it, and the way home is planned again
    inside it from where the mower stands. Still blocked after ``max_replans`` within a metre
    of the first: ERROR, with where. Before, a return stopped by an obstacle waited forever
    (large_lawn's discovered map: a phantom obstacle by the edge, found after the last replan,
    held the mower on its way home for hours).
    """

    name = 'RETURNING'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Transit to the approach point."""
        self.blocked_since: float | None = None
        self.replans = 0  # asked for by this blockage
        self.blocked_at: np.ndarray = np.full(2, np.inf)  # where this blockage began
        self.drive_home(m, inp)

    def drive_home(self, m: Mission, inp: MissionInputs) -> None:
        """(Again) the way from here to the approach point, inside the current region."""
        a, _ = m.dock_line()
        if a is None:
            m.drive(None)
            return
        m.drive(m.transit(np.asarray(inp.pose[:2]), a))

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Dock when there; replan when blocked; ERROR when that does not help."""
        if m.dock_xy is None:
            return 'IDLE'
        if m.path is None:
            m.fail('no way back to the dock')
            return 'ERROR'
        if inp.follower_done:
            return 'DOCKING'
        here = np.asarray(inp.pose[:2], dtype=float)
        if 'obstacle' not in inp.safety_reasons:
            self.blocked_since = None
            if float(np.hypot(*(here - self.blocked_at))) > 1.0:  # got past it
                self.replans = 0
            return None
        if self.blocked_s(inp) > m.params.blocked_replan_s:
            if self.replans >= m.params.max_replans:
                m.fail(
                    f'the way back to the dock stays blocked at ({here[0]:.1f}, {here[1]:.1f}) m'
                    f' after {self.replans} replans: clear it or drive the mower home'
                )
                return 'ERROR'
            if self.replans == 0:
                self.blocked_at = here
            self.replans += 1
            m.request_replan()
            self.blocked_since = inp.time_s
        return None


class Docking(State):
    """The last straight piece onto the dock, slowly."""

    name = 'DOCKING'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """From the approach point to the dock."""
        self.since = inp.time_s
        self.arrived: float | None = None
        _, reverse = m.dock_line()
        m.drive(np.vstack([np.asarray(inp.pose[:2]), m.dock_xy]), reverse=reverse)

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Charging contacts closed: done."""
        if inp.charging:
            return 'IDLE' if m.complete or m.hold else 'CHARGING'
        if inp.follower_done:
            if self.arrived is None:
                self.arrived = inp.time_s
            elif inp.time_s - self.arrived > m.params.contact_timeout_s:
                m.fail('on the dock but not charging: check the dock contacts')
                return 'ERROR'
        if inp.time_s - self.since > m.params.manoeuvre_timeout_s:
            m.fail('docking took too long')
            return 'ERROR'
        return None


class Charging(State):
    """On the dock until charged and dry, then back to mowing."""

    name = 'CHARGING'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Stand still."""
        m.drive(None)
        self.dry_since = None if inp.raining else inp.time_s

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Leave when charged, dry for long enough, and not held by the operator."""
        if inp.raining:
            self.dry_since = None
        elif self.dry_since is None:
            self.dry_since = inp.time_s
        dry = self.dry_since is not None and (
            inp.time_s - self.dry_since >= m.params.dry_wait_s or not m.rained
        )
        if inp.battery_pct >= m.params.resume_battery_pct and dry and not m.hold:
            m.rained = False
            if m.discovering_after_charge:  # a discovery sent home to charge goes on
                m.discovering_after_charge = False
                resume = getattr(m.explore, 'resume', None)
                if resume is not None and resume():
                    m.message = 'charged: the discovery goes on'
                    return 'DISCOVERING'
            return 'UNDOCKING'
        if inp.raining:
            m.rained = True
        return None


class Teaching(State):
    """The owner drives the mower by teleop; its poses are recorded. Blade off, no path."""

    name = 'TEACHING'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Stand by for teleop; the session starts or continues."""
        m.drive(None)
        m.message = m.teach.begin()

    def tick(self, m: Mission, inp: MissionInputs) -> str | None:
        """Hand the recorder this tick's pose; a pose gap interrupts the recording."""
        t = inp.pose_time_s if math.isfinite(inp.pose_time_s) else inp.time_s
        m.teach.add_pose(t, *inp.pose)
        m.teach.check(inp.time_s)
        m.message = m.teach.message
        return None

    def exit(self, m: Mission, inp: MissionInputs) -> None:
        """Left for ERROR while recording: the recording is interrupted and kept."""
        if m.teach.recording:
            m.message = m.teach.interrupt(m.message or 'teaching stopped')


class Error(State):
    """Something needs a person: stand still until ``resume`` or ``start``."""

    name = 'ERROR'

    def enter(self, m: Mission, inp: MissionInputs) -> None:
        """Stand still."""
        m.drive(None)


STATES: tuple[type[State], ...] = (
    Idle,
    Undocking,
    Mowing,
    Discovering,
    Paused,
    Returning,
    Docking,
    Charging,
    Teaching,
    Error,
)

#: The teach-mode requests (mission_node serves each as a std_srvs/Trigger of the same name).
TEACH_REQUESTS = (
    'teach/start',
    'teach/boundary',
    'teach/keepout',
    'teach/navigation',
    'teach/dock',
    'teach/undo',
    'teach/finish',
    'teach/cancel',
)


#: the track keeps a point each time the mower has moved this far (m)
TRACK_STEP_M = 0.02


class TriedTrack:
    """Where the mower's centre went while mowing: its track, as polylines.

    Noted by :meth:`Mission.tick` while MOWING with the blade commanded on (also where a
    blade-off area keeps it off, where a second visit would not mow either), not while it is
    held off near the dock after an undock.

    The coverage layer can call a point of the plan unmowed that the mower has driven over: the
    follower cut a corner of the plan by a few centimetres, or the layer rounded it away. Resumed
    at (after every replan), such a point drew the mower back to it and along everything mowed
    after it in the plan: back_garden at the robot's 10 Hz drove round its mowed headland seven
    times in 30 minutes. :meth:`Mission.resume_point` skips unmowed points near this track, and
    :meth:`Mission.stretch_end` leaves stretches whose very line it drove. Distances are
    shapely's (``dwithin`` on the prepared track), exact to the track's points: a grid of cells
    would be exact only to its cells, and 5 cm cells could not tell a stripe from a headland
    4 cm beside it. Memory: 16 bytes a point, one per ``TRACK_STEP_M`` driven (a 2,000 m² lawn,
    about 10 km, 8 MB).
    """

    def __init__(self) -> None:
        """An empty track."""
        self._xy = np.zeros((256, 2))  # the points, in the order driven
        self._piece = np.zeros(256, dtype=np.int64)  # which polyline each point is of
        self.size = 0  # points kept
        self._pieces = 0
        self._last: np.ndarray | None = None  # the pose last noted (None: track broken)
        self._geom: Any = None  # the track as one prepared geometry (None: to build)

    def _add(self, pts: np.ndarray, new_piece: bool) -> None:
        n = len(pts)
        if self.size + n > len(self._xy):
            cap = max(2 * len(self._xy), self.size + n)
            self._xy = np.resize(self._xy, (cap, 2))
            self._piece = np.resize(self._piece, cap)
        if new_piece:
            self._pieces += 1
        self._xy[self.size : self.size + n] = pts
        self._piece[self.size : self.size + n] = self._pieces
        self.size += n
        self._geom = None

    def note(self, pose: Any) -> None:
        """The mower is at ``pose``, mowing (None, or a pose not finite: not; breaks the track)."""
        xy = None if pose is None else np.asarray(pose[:2], dtype=float)
        if xy is None or not np.isfinite(xy).all():
            self._last = None
            return
        if self._last is None or float(np.hypot(*(xy - self._last))) > 1.0:
            self._add(xy[None], new_piece=True)  # a new start, a relocalisation: no line
        elif float(np.hypot(*(xy - self._xy[self.size - 1]))) >= TRACK_STEP_M:
            self._add(xy[None], new_piece=False)
        self._last = xy

    def mark(self, pts: np.ndarray) -> None:
        """Count the (N, 2) points, a polyline, as driven over."""
        pts = np.asarray(pts, dtype=float).reshape(-1, 2)
        if len(pts):
            self._add(pts, new_piece=True)
            self._last = None

    def near(self, pts: np.ndarray, radius_m: float) -> np.ndarray:
        """(N,) bool: which of the (N, 2) points lie within ``radius_m`` of the track."""
        pts = np.asarray(pts, dtype=float).reshape(-1, 2)
        if not self.size or not len(pts) or radius_m <= 0.0:
            return np.zeros(len(pts), dtype=bool)
        if self._geom is None:
            xy, piece = self._xy[: self.size], self._piece[: self.size]
            cuts = np.flatnonzero(np.diff(piece)) + 1
            lines = [
                shapely.linestrings(np.vstack([part, part[-1:]]) if len(part) == 1 else part)
                for part in np.split(xy, cuts)
            ]
            self._geom = shapely.multilinestrings(lines)
            shapely.prepare(self._geom)
        return np.asarray(shapely.dwithin(self._geom, shapely.points(pts), radius_m), dtype=bool)


@dataclass
class Mission:
    """The mission state machine; :meth:`tick` it at the control rate."""

    params: MissionParams = field(default_factory=MissionParams)
    dock_pose: tuple[float, float, float] | None = None  # x, y, heading of the docked mower
    region: object = None  # shapely Polygon where the robot's centre may go (for transits)
    mowed: Callable[[np.ndarray], np.ndarray] | None = None  # (N, 2) -> (N,) bool mowed
    # discovery (DISCOVERING): called (pose, time_s, follower_done) -> a new explorer step or
    # None, and reset() for a new discovery; a mower_mapping.discovery.DiscoveryDriver
    explore: Any = None
    progress_m: float = 0.0  # arc length of the plan mowed so far (persisted by the caller)
    complete: bool = False
    hold: bool = False  # the operator sent it to the dock: do not leave until told
    rained: bool = False
    discovering_after_charge: bool = False  # a discovery sent home to charge goes on after
    message: str = ''
    teach: TeachRecorder = field(default_factory=TeachRecorder)  # teach mode's recordings
    # where the blade stays off whatever the plan says: the map's navigation areas (and the
    # zones not being mowed), LawnMap.blade_off_area(); None or empty: nowhere
    blade_off: Any = None

    def __post_init__(self) -> None:
        """Start in IDLE."""
        self.states = {cls.name: cls() for cls in STATES}
        self.state: State = self.states['IDLE']
        self.previous = 'IDLE'
        self.plan_points: np.ndarray | None = None
        self.plan_kinds: np.ndarray | None = None
        self._plan_cum: np.ndarray | None = None
        self.path: np.ndarray | None = None
        self.path_id = 0
        self.reverse = False
        self.blade = False
        self.blade_held_near_dock = False  # an undock handed over to mowing (Undocking)
        self.replans_for_block = 0
        self.replan_progress_m = -math.inf  # progress when the last replan was asked for
        self.replans = 0
        self._replan_pending = False
        self._pending: str | None = None
        self._transit = TransitPlanner(self.region) if self.region is not None else None
        # the map's region, which decides the dock's approach side (:meth:`dock_line`); a
        # replan's region (found obstacles cut out of it) never does
        self.dock_region = self.region
        self._last: MissionInputs | None = None
        self._link_lost_since: float | None = None
        self.teach_result: TeachResult | None = None  # the last teach/finish's draft and faults
        # stretches of the plan left unmowed because they stayed blocked: (x, y, radius) discs;
        # they outlive new plans (a replan) and are cleared when a new run starts
        self.skipped: list[tuple[float, float, float]] = []
        self.skips = 0  # skips in this run (a stretch blocked again and grown counts again)
        self._track: list[np.ndarray] = []  # the last few metres driven while mowing
        self.tried = TriedTrack()  # where the mower's centre went while mowing, in this run

    # -- what the owner tells it ---------------------------------------------------------------
    def set_plan(
        self, points: np.ndarray, kinds: np.ndarray | None = None, region: object = None
    ) -> None:
        """A (new) coverage plan; while mowing, mowing continues on it from the first gap."""
        pts = np.asarray(points, dtype=float)
        self.plan_points = pts
        self.plan_kinds = None if kinds is None else np.asarray(kinds)
        self._plan_cum = cumulative_length(pts)
        if region is not None:  # a replan's region: the last one's planner is reused
            self._set_region(region)
        if self.state.name == 'MOWING' and self._last is not None:
            self.progress_m = 0.0  # arc lengths of the old plan mean nothing on the new one
            self._switch('MOWING', self._last)
        elif isinstance(self.state, Returning) and self._last is not None and region is not None:
            self.state.drive_home(self, self._last)  # the way home, around what was found

    def set_map(
        self, dock_pose: tuple[float, float, float] | None, region: object, blade_off: Any
    ) -> None:
        """The owner's new map: the dock, where transits may go, where the blade stays off.

        The plan stays until the planner's next one (made on the same map) arrives.
        """
        self.dock_pose, self.blade_off = dock_pose, blade_off
        if region is not None:
            self._set_region(region)
            self.dock_region = region

    def _set_region(self, region: object) -> None:
        old = self._transit
        self.region = region
        self._transit = TransitPlanner(region) if old is None else old.updated(region)

    def request(self, command: str) -> tuple[bool, str]:
        """An operator request: 'start', 'discover', 'pause', 'resume' or 'dock'.

        Or one of :data:`TEACH_REQUESTS`. Returns (accepted, message).
        """
        if command in TEACH_REQUESTS:
            return self._teach_request(command.removeprefix('teach/'))
        handle = {
            'start': self._request_start,
            'discover': self._request_discover,
            'pause': self._request_pause,
            'resume': self._request_resume,
            'dock': self._request_dock,
        }.get(command)
        if handle is None:
            return False, f'unknown request {command!r}'
        return handle(self.state.name)

    def _latched(self, name: str) -> str:
        """Why ERROR cannot be left now ('' when it can, or when not in ERROR)."""
        latched = self._last.safety_latched if self._last is not None else ()
        if name == 'ERROR' and latched:
            return f'reset the safety stop first: {", ".join(latched)}'
        return ''

    def _request_start(self, name: str) -> tuple[bool, str]:
        if self.plan_points is None or len(self.plan_points) < 2:
            return False, 'no coverage plan yet'
        if name not in ('IDLE', 'CHARGING', 'ERROR', 'PAUSED'):
            return False, f'already {name}'
        if self._latched(name):
            return False, self._latched(name)
        if name == 'IDLE' and self.complete:
            self.complete, self.progress_m = False, 0.0  # a new run of the same plan
            self.skipped, self.skips = [], 0
            self.tried = TriedTrack()
        self.hold = False
        self.discovering_after_charge = False  # mowing instead: the discovery is over
        self._pending = 'START'  # undock first when on the dock, decided on the next tick
        return True, 'starting'

    def _request_discover(self, name: str) -> tuple[bool, str]:
        if self.explore is None:
            return False, 'no explorer: discovery needs the camera in the loop'
        if name not in ('IDLE', 'CHARGING', 'ERROR'):
            return False, f'already {name}'
        if self._latched(name):
            return False, self._latched(name)
        self.hold = False
        self.discovering_after_charge = False
        self.explore.reset()  # a new discovery starts over
        self._pending = 'DISCOVERING'
        return True, 'discovering the lawn'

    def _request_pause(self, name: str) -> tuple[bool, str]:
        if name not in ('UNDOCKING', 'MOWING', 'DISCOVERING', 'RETURNING', 'DOCKING'):
            return False, f'nothing to pause in {name}'
        self._pending = 'PAUSED'
        return True, 'pausing'

    def _request_resume(self, name: str) -> tuple[bool, str]:
        if name not in ('PAUSED', 'ERROR'):
            return False, f'nothing to resume in {name}'
        if self._latched(name):
            return False, self._latched(name)
        target = self.previous if self.previous not in ('PAUSED', 'ERROR', 'IDLE') else 'MOWING'
        if target in ('UNDOCKING', 'DOCKING'):
            target = 'MOWING' if target == 'UNDOCKING' else 'RETURNING'
        self._pending = target
        return True, f'resuming {target}'

    def _request_dock(self, name: str) -> tuple[bool, str]:
        if name == 'TEACHING':
            return False, 'teaching: finish or cancel it first'
        if name in ('RETURNING', 'DOCKING', 'CHARGING'):
            self.hold = True
            return True, f'already {name}'
        if self.dock_xy is None:
            return False, 'the map has no dock'
        self.hold = True
        self._pending = 'RETURNING'
        return True, 'returning to the dock'

    def _teach_request(self, what: str) -> tuple[bool, str]:
        """A teach-mode request (see the module)."""
        name = self.state.name
        if what == 'start':
            if name == 'TEACHING':
                return False, 'already TEACHING'
            if self._latched(name):
                return False, self._latched(name)
            if name not in ('IDLE', 'CHARGING', 'ERROR'):
                return False, f'cannot teach while {name}: dock or wait until IDLE'
            self._pending = 'TEACHING'
            return True, 'teaching: drive with teleop; the blade stays off'
        if name != 'TEACHING':
            return False, f'not teaching ({name}): call teach/start first'
        if what == 'undo':
            return self.teach.undo()
        if what == 'finish':
            self.teach_result = result = self.teach.finish()
            if result.ok:
                self._pending = 'IDLE'
            return result.ok, result.message
        if what == 'cancel':
            self._pending = 'IDLE'
            return True, self.teach.cancel()
        return self.teach.mark(what)

    def tick(self, inp: MissionInputs) -> MissionOutput:
        """Advance the state machine with this tick's inputs."""
        self._last = inp
        if self._pending is not None:
            target, self._pending = self._pending, None
            if target == 'START':
                target = 'UNDOCKING' if self._on_dock() else 'MOWING'
            self._switch(target, inp)
        if inp.follower_path_id != self.path_id:  # about an older path: not news
            inp = replace(inp, follower_done=False, follower_progress_m=0.0)
        nxt = self._safety_check(inp)
        if nxt is None:
            nxt = self.state.tick(self, inp)
        if nxt is not None and nxt != self.state.name:
            self._switch(nxt, inp)
        replan, self._replan_pending = self._replan_pending, False
        commanded = self.blade and self.state.name == 'MOWING'
        blade = commanded and not self._blade_off(inp.pose)
        # driven over with the blade on, or where a blade-off area keeps it off for good: not
        # resumed at again; the blade held off near the dock after an undock does not count
        self.tried.note(inp.pose if commanded and not self.blade_held_near_dock else None)
        return MissionOutput(
            self.state.name, self.path, self.path_id, self.reverse, blade, replan, self.message
        )

    def _blade_off(self, pose: tuple[float, float, float]) -> bool:
        """Whether the robot's centre is over :attr:`blade_off` (a path, a patio).

        Also while an undock handed over to mowing (:class:`Undocking`) has not yet taken the
        mower ``undock_distance_m`` from the dock, where an undock ends with the blade off.
        """
        if self.blade_held_near_dock:
            dock = self.dock_xy
            near = (
                dock is not None
                and float(np.hypot(pose[0] - dock[0], pose[1] - dock[1]))
                < self.params.undock_distance_m - 1e-6
            )
            if near:
                return True
            self.blade_held_near_dock = False
        area = self.blade_off
        if area is None or area.is_empty:
            return False
        return bool(shapely.contains_xy(area, pose[0], pose[1]))

    # -- used by the states ----------------------------------------------------------------------
    @property
    def dock_xy(self) -> np.ndarray | None:
        """Where the docked mower's base_link is."""
        return None if self.dock_pose is None else np.asarray(self.dock_pose[:2], dtype=float)

    def dock_line(self) -> tuple[np.ndarray | None, bool]:
        """(approach point, reverse onto the dock).

        The approach point lies on the dock's axis, ``undock_distance_m`` away, on whichever
        side is inside the region: behind the docked mower (it drives onto the dock forwards)
        or in front of it (it reverses onto the dock). The same choice as the dock rule of the
        map check, the planner and the geofence (``mower_maps.dock.approach_point``), made on
        the map's region (:attr:`dock_region`): obstacles found while mowing are cut out of a
        replan's region, and one found near the approach point must not turn the mower round to
        leave the dock off the lawn, into the geofence (random garden 0, after a recharge).
        """
        if self.dock_pose is None:
            return None, False
        x, y, h = self.dock_pose
        return approach_point(x, y, h, self.params.undock_distance_m, self.dock_region)

    def drive(self, path: np.ndarray | None, reverse: bool = False, blade: bool = False) -> None:
        """Hand the follower a new path (None: stop)."""
        self.path = path
        self.reverse = reverse
        self.blade = blade
        self.path_id += 1

    def transit(self, start: np.ndarray, goal: np.ndarray) -> np.ndarray | None:
        """A path inside the region (a straight line when there is no region)."""
        if self._transit is None:
            return np.vstack([start, goal])
        return self._transit.plan(start, goal)

    def resume_point(self) -> float:
        """Arc length on the plan to restart from: before the first unmowed point.

        With a coverage layer: the first point of a mowing stretch that is unmowed, outside
        the skipped stretches and not within ``resume_tried_m`` of where the mower has already
        driven while mowing (:attr:`tried`), less ``resume_overlap_m``.
        """
        p = self.params
        if self.plan_points is None:
            return 0.0
        total = float(self._plan_cum[-1])
        if self.mowed is None and not self.skipped:
            return max(0.0, min(total, self.progress_m - p.resume_overlap_m))
        s = np.arange(0.0, total, p.resume_sample_m)
        pts = self.point_at(s)
        free = ~self._in_skipped(pts)
        if self.mowed is None:  # from the stored progress, past any skipped stretch
            later = free & (s >= self.progress_m - p.resume_overlap_m)
            return float(s[int(np.argmax(later))]) if later.any() else total
        todo = self._todo(s, pts, free)
        if not todo.any():
            return total
        start = max(0.0, float(s[int(np.argmax(todo))]) - p.resume_overlap_m)
        if self._in_skipped(self.point_at(np.array([start])))[0]:  # no overlap into a skip
            start = float(s[int(np.argmax(todo))])
        return start

    def _todo(
        self,
        s: np.ndarray,
        pts: np.ndarray,
        free: np.ndarray,
        swath_m: float = 0.0,
        line_m: float | None = None,
    ) -> np.ndarray:
        """(N,) bool: which plan samples (arc lengths ``s``, points ``pts``) are still to mow.

        Of a mowing stretch's points outside the skipped stretches (``free``): with ``line_m``
        None, those the coverage layer calls unmowed (or, with ``swath_m``, a point that far to
        either side of the plan) and not within ``resume_tried_m`` of :attr:`tried`; with
        ``line_m``, all but those the layer calls mowed that the mower's centre also passed
        within ``line_m`` (0: none).
        """
        p, cum, mowed = self.params, self._plan_cum, self.mowed
        if cum is None or mowed is None:  # no plan, or no coverage layer: nothing known
            return np.zeros(len(s), dtype=bool)
        mowing = np.ones(len(s), dtype=bool)
        if self.plan_kinds is not None and len(self.plan_kinds):
            k = np.clip(np.searchsorted(cum, s, side='right') - 1, 0, len(self.plan_kinds) - 1)
            mowing = self.plan_kinds[k] != KINDS.index('transit')
        unmowed = ~np.asarray(mowed(pts), dtype=bool)
        if swath_m > 0.0:  # the plan's direction, then its left and right
            ahead = self.point_at(s + 0.05) - self.point_at(np.maximum(s - 0.05, 0.0))
            norm = np.maximum(np.hypot(ahead[:, 0], ahead[:, 1]), 1e-9)
            side = np.c_[-ahead[:, 1], ahead[:, 0]] / norm[:, None] * swath_m
            unmowed |= ~np.asarray(mowed(pts + side), dtype=bool)
            unmowed |= ~np.asarray(mowed(pts - side), dtype=bool)
        todo = mowing & free
        if line_m is not None:  # mowed, and its very line driven: nothing to mow
            done = todo & ~unmowed
            if done.any():
                done[done] = self.tried.near(pts[done], line_m)
            return todo & ~done
        todo &= unmowed
        if todo.any() and p.resume_tried_m > 0.0:  # unmowed, but driven over: not again
            todo[todo] = ~self.tried.near(pts[todo], p.resume_tried_m)
        return todo

    def stretch_end(self, s0: float) -> float:
        """Where to leave the plan after ``s0`` (arc length; the plan's length: nowhere).

        The start of its next ``resume_skip_m`` or more with nothing to mow (mowed, also
        ``resume_swath_m`` to either side, and its line driven within ``resume_skip_track_m``;
        skipped; transit), from where the mower goes straight to the next unmowed point instead
        of following the plan over mowed lawn.
        The plan's length where there is none, without a coverage layer, or with
        ``resume_skip_m`` 0. Its line alone mowed left slivers beside it uncut (back_garden at
        2 Hz: a 4 m strip by the headland, 96.90 % mowed); so did the layer alone, or a track
        passed 5 cm off the line: a stripe the planner put 4 cm inside a headland's deck to cut
        the sliver between them was left (the small lawn, 98.94 % mowed after an e-stop).

        Followed to its end, a plan made again after an obstacle (back_garden at the robot's
        10 Hz: one every 30 s) drove the mower round its mowed headland to each next gap.
        """
        p = self.params
        total = self.plan_length()
        if self.mowed is None or p.resume_skip_m <= 0.0 or s0 >= total:
            return total
        s = np.arange(s0, total, p.resume_sample_m)
        pts = self.point_at(s)
        todo = self._todo(s, pts, ~self._in_skipped(pts), p.resume_swath_m, p.resume_skip_track_m)
        if not todo.any():
            return total
        k0 = int(np.argmax(todo))
        idle = np.r_[False, ~todo[k0:], False].astype(np.int8)
        edges = np.diff(idle)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = np.flatnonzero((ends - starts) * p.resume_sample_m >= p.resume_skip_m)
        return float(s[k0 + starts[long[0]]]) if len(long) else total

    def plan_length(self) -> float:
        """Length of the plan (m; 0 without one)."""
        return 0.0 if self._plan_cum is None else float(self._plan_cum[-1])

    def _in_skipped(self, pts: np.ndarray) -> np.ndarray:
        """(N,) bool: which of the points lie in a skipped stretch."""
        inside = np.zeros(len(pts), dtype=bool)
        for x, y, r in self.skipped:
            inside |= np.hypot(pts[:, 0] - x, pts[:, 1] - y) <= r
        return inside

    def skip_blocked(self) -> bool:
        """Leave the stretch ahead unmowed (:attr:`skipped`); False (with why) to give up.

        The stretch is the plan within ``skip_radius_m`` of its point ``skip_radius_m`` / 2
        ahead of the progress (the obstacle stop looks a few tenths of a metre ahead). Blocked
        again inside a skipped stretch, that stretch grows by ``skip_radius_m`` instead.
        """
        p = self.params
        if p.skip_radius_m <= 0.0 or self.skips >= p.max_skips:
            why = f'; {self.skip_summary()}' if self.skipped else ''
            self.fail(f'the path stays blocked after replanning{why}')
            return False
        self.skips += 1
        ahead = min(self.plan_length(), self.progress_m + 0.5 * p.skip_radius_m)
        x, y = (float(v) for v in self.point_at(np.array([ahead]))[0])
        for i, (sx, sy, r) in enumerate(self.skipped):
            if math.hypot(x - sx, y - sy) <= r:
                self.skipped[i] = (sx, sy, r + p.skip_radius_m)
                break
        else:
            self.skipped.append((x, y, p.skip_radius_m))
        self.message = (
            f'blocked at ({x:.1f}, {y:.1f}) m after {self.replans_for_block} replans:'
            ' skipped, mowing on'
        )
        return True

    def note_track(self, pose: tuple[float, float, float]) -> None:
        """Remember where the mower drove (every 5 cm; the last ``backout_m`` and a bit)."""
        xy = np.asarray(pose[:2], dtype=float)
        if self._track and float(np.hypot(*(xy - self._track[-1]))) < 0.05:
            return
        self._track.append(xy)
        keep = int(self.params.backout_m / 0.05) + 3
        del self._track[:-keep]

    def track_back(self, pose: tuple[float, float, float]) -> np.ndarray | None:
        """The path back along the track, ``backout_m`` long at most (None: no track)."""
        want = self.params.backout_m
        here = np.asarray(pose[:2], dtype=float)
        pts, length = [here], 0.0
        for xy in reversed(self._track):
            step = float(np.hypot(*(xy - pts[-1])))
            if step < 1e-6:
                continue
            if length + step >= want:
                pts.append(pts[-1] + (xy - pts[-1]) * ((want - length) / step))
                length = want
                break
            pts.append(xy)
            length += step
        return np.array(pts) if want > 0.0 and length >= 0.1 else None

    def finish_mowing(self) -> str:
        """The run is complete (naming any skipped stretches); the next state, RETURNING."""
        self.complete = True
        self.message = (
            f'mowing complete; {self.skip_summary()}' if self.skipped else 'mowing complete'
        )
        return 'RETURNING'

    def skip_summary(self) -> str:
        """Where mowing was skipped, in words ('nothing skipped' when nowhere)."""
        if not self.skipped:
            return 'nothing skipped'
        where = ', '.join(f'({x:.1f}, {y:.1f})' for x, y, _ in self.skipped[:5])
        more = f' and {len(self.skipped) - 5} more' if len(self.skipped) > 5 else ''
        return f'{len(self.skipped)} blocked stretch(es) left unmowed at {where}{more} m'

    def point_at(self, s: np.ndarray) -> np.ndarray:
        """Points of the plan at arc lengths ``s``."""
        pts, cum = self.plan_points, self._plan_cum
        i = np.clip(np.searchsorted(cum, s, side='right') - 1, 0, len(pts) - 2)
        seg = np.maximum(cum[i + 1] - cum[i], 1e-12)
        t = np.clip((s - cum[i]) / seg, 0.0, 1.0)
        return pts[i] + (pts[i + 1] - pts[i]) * t[:, None]

    def plan_from(
        self, s0: float, here: np.ndarray, s1: float = math.inf
    ) -> tuple[np.ndarray | None, float]:
        """(path: transit to the plan at s0, then the plan to s1; the transit's length)."""
        pts, cum = self.plan_points, self._plan_cum
        if pts is None or cum is None:
            return None, 0.0
        start = self.point_at(np.array([s0]))[0]
        if s1 >= float(cum[-1]):
            rest = np.vstack([start, pts[np.searchsorted(cum, s0, side='right') :]])
        else:
            inner = pts[np.searchsorted(cum, s0, side='right') : np.searchsorted(cum, s1)]
            rest = np.vstack([start, inner, self.point_at(np.array([max(s0, s1)]))])
        if np.hypot(*(here - start)) < 0.05:
            return rest, 0.0
        lead = self.transit(here, start)
        if lead is None:
            return rest, 0.0
        return np.vstack([lead[:-1], rest]), path_length(lead)

    def request_replan(self) -> None:
        """Ask the owner for a new plan (seen once in the next output)."""
        self._replan_pending = True
        if self.progress_m > self.replan_progress_m + 1.0:
            self.replans_for_block = 0
        self.replan_progress_m = self.progress_m
        self.replans_for_block += 1
        self.replans += 1
        self.message = 'path blocked by an obstacle: replanning'

    def fail(self, why: str) -> None:
        """Record why the mission goes to ERROR."""
        self.message = why

    # -- internals ---------------------------------------------------------------------------
    def _safety_check(self, inp: MissionInputs) -> str | None:
        name = self.state.name
        if inp.board_connected:
            self._link_lost_since = None
        elif self._link_lost_since is None:
            self._link_lost_since = inp.time_s
        if name in ('ERROR', 'IDLE'):
            return None
        if inp.safety_latched:
            self.fail(f'safety stop: {", ".join(inp.safety_latched)}')
            return 'ERROR'
        if (
            self._link_lost_since is not None
            and inp.time_s - self._link_lost_since > self.params.link_lost_error_s
        ):
            self.fail('motor board lost')
            return 'ERROR'
        return None

    def _on_dock(self) -> bool:
        if self.dock_xy is None or self._last is None:
            return False
        return bool(np.hypot(*(np.asarray(self._last.pose[:2]) - self.dock_xy)) < 0.15)

    def _switch(self, target: str, inp: MissionInputs) -> None:
        old = self.state
        old.exit(self, inp)
        if old.name != target:
            self.previous = old.name
        self.state = self.states[target]
        self.state.enter(self, inp)
