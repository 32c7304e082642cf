"""Discovery: exploring the lawn from the dock with no map, by the semantic grid alone.

:class:`Explorer` is the decision (ROS-free): given the semantic grid's class map and the pose,
it says where to drive next. The mission's discovery (``mower discover``, the simulator's
discovery run) feeds its paths to the path follower with the blade off, and asks again when a
path is done or no longer safe (:meth:`Explorer.path_still_safe`).

Rules, on a working grid of ``plan_res_m`` (the class map reduced: a cell is *blocked* when any
of its cells is other ground or an obstacle, *lawn* when all are lawn or were driven over):

- **Safe cells**: lawn (or driven over) cells at least ``footprint_radius_m + margin_m`` from
  every blocked cell and ``unknown_clearance_m`` from every unknown one. The mower only drives
  through safe cells (8-connected Dijkstra, then line-of-sight shortening), so its centre never
  comes nearer to anything that is not lawn than that clearance: it never leaves the lawn.
- **Frontier**: unknown cells next to lawn, away from blocked cells, and (``look_at_holes``)
  those next to lawn on the rim of a hole in the lawn (a tree, a bed: cells behind a trunk that
  no pass showed). The next goal (phase
  ``explore``) is the nearest safe cell (by path length) that sees a frontier cell not yet
  given up, between ``view_min_m`` and ``view_max_m`` from it; the path ends turned towards
  the frontier. A frontier cell still unknown after a goal that looked at it was reached is
  given up (``tries`` goals at most), so exploration ends.
- **Edge following** (phase ``edge``): when no frontier is left, the mower drives around the
  outline of every safe region (the outer edge and every hole: beds, obstacles). Safe cells on
  that outline are exactly the clearance from the lawn / not-lawn border, so the border stays
  at that lateral offset and the camera sees it closely: this is what makes the boundary
  accurate. Tours repeat (then exploration again) while they add lawn, ``max_tours`` at most.
- **Home** (phase ``home``): back to the first safe point, then straight onto the dock in
  reverse (the dock faces into the lawn). Also when ``time_limit_s`` passes.
- **No lawn**: when the first ``settle_s`` after the start give no safe cell near the dock, the
  outcome is ``no_lawn`` ('no lawn seen from the dock'); :meth:`Explorer.reset` starts over.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from mower_mapping.obstacles import cells_inside

__all__ = [
    'PHASES',
    'DiscoveryDriver',
    'ExplorerParams',
    'ExploreStep',
    'Explorer',
    'WorkGrid',
    'enclosed',
    'work_grid',
]

LAWN, OTHER, OBSTACLE = 0, 1, 2
UNKNOWN = 255
#: What the explorer is doing.
#: An edge tour is taken up again at most this often after its path was cut short.
MAX_RESUMES = 40
PHASES = ('start', 'explore', 'edge', 'home', 'dock', 'recharge', 'done', 'no_lawn', 'stuck')
#: Finished phases: done, no lawn seen from the dock, no way back to the dock, and on the dock
#: to charge (``recharge``: :meth:`Explorer.resume` goes on from there).
FINISHED = ('done', 'no_lawn', 'stuck', 'recharge')
#: The last leg onto the dock starts only this near the first safe point (m).
ENTRY_REACH_M = 0.5
#: Paths home tried (each cut short when no longer safe) before giving up.
MAX_HOME_TRIES = 10


@dataclass(frozen=True)
class ExplorerParams:
    """How the explorer works. Units are in the names."""

    footprint_radius_m: float = 0.2  # the robot is a disc of this radius
    margin_m: float = 0.12  # kept beyond the footprint from anything not lawn
    unknown_clearance_m: float = 0.1  # kept from cells never seen
    plan_res_m: float = 0.1  # working grid of the paths
    view_min_m: float = 0.5  # the camera's near blind zone, ahead of base_link
    view_max_m: float = 2.0  # a frontier is looked at from no farther than this
    look_step_m: float = 0.15  # the path's last step, towards the frontier (turns the camera)
    tries: int = 2  # goals that looked at a frontier cell before it is given up
    min_frontier_cells: int = 3  # smaller frontier clusters are ignored (noise)
    # unknown cells on the rim of a hole in the lawn (enclosed by lawn: a tree, a bed) are
    # frontier too, though near blocked cells: a goal looks at them (large_lawn: the cells behind
    # a 0.7 m tree that no pass showed made its keep-out reach 0.65 m past the trunk)
    look_at_holes: bool = True
    max_tours: int = 3  # edge tours at most
    tour_gain_share: float = 0.01  # a tour that adds less known lawn than this share ends it
    min_tour_m: float = 1.0  # outlines shorter than this are not toured
    settle_s: float = 3.0  # frames to wait for at the dock before judging 'no lawn'
    start_reach_m: float = 2.5  # the first safe cell must be this near the dock
    undock_m: float = 0.6  # the dock's approach point, ahead of the dock
    time_limit_s: float = 7200.0  # then home, whatever is left

    def __post_init__(self) -> None:
        """Check ranges."""
        for name in ('footprint_radius_m', 'plan_res_m', 'view_max_m', 'start_reach_m'):
            if not getattr(self, name) > 0:
                raise ValueError(f'ExplorerParams.{name} must be > 0, not {getattr(self, name)}')
        if not 0 <= self.view_min_m < self.view_max_m:
            raise ValueError('ExplorerParams: need 0 <= view_min_m < view_max_m')
        if self.tries < 1 or self.max_tours < 0:
            raise ValueError('ExplorerParams: tries >= 1 and max_tours >= 0')

    @property
    def clearance_m(self) -> float:
        """Distance kept from anything that is not lawn (the edge-following offset)."""
        return self.footprint_radius_m + self.margin_m


@dataclass(frozen=True)
class ExploreStep:
    """What the explorer asks for: a path to follow (None: stand still), and why."""

    phase: str
    path: np.ndarray | None  # (N, 2) map x, y
    reverse: bool = False
    message: str = ''

    @property
    def finished(self) -> bool:
        """Nothing more to do (done, no lawn found, or no way back to the dock)."""
        return self.phase in FINISHED


@dataclass
class WorkGrid:
    """The class map reduced to the working grid, with its safe cells."""

    lawn: np.ndarray  # bool (rows, cols): seen as lawn, or driven over
    seen_lawn: np.ndarray  # seen as lawn
    blocked: np.ndarray
    unknown: np.ndarray
    safe: np.ndarray
    dist_blocked_m: np.ndarray
    origin: np.ndarray  # lower-left corner of cell (0, 0)
    res: float

    def cell(self, xy: np.ndarray) -> tuple[int, int]:
        """(row, col) of a map point, clipped into the grid."""
        c = int(np.clip((xy[0] - self.origin[0]) // self.res, 0, self.lawn.shape[1] - 1))
        r = int(np.clip((xy[1] - self.origin[1]) // self.res, 0, self.lawn.shape[0] - 1))
        return r, c

    def centre(self, rc: np.ndarray) -> np.ndarray:
        """Map x, y of cell centres ``(N, 2)`` of (row, col)."""
        rc = np.atleast_2d(rc)
        return np.column_stack(
            [
                self.origin[0] + (rc[:, 1] + 0.5) * self.res,
                self.origin[1] + (rc[:, 0] + 0.5) * self.res,
            ]
        )


def with_obstacles(
    class_map: np.ndarray, origin: np.ndarray, res: float, obstacles: list
) -> np.ndarray:
    """``class_map`` with every cell whose centre lies in one of ``obstacles`` an obstacle.

    ``obstacles`` are mapping's outlines (map/obstacles: the obstacle layer, buffered by its
    margin). The explorer plans on the result: the safety stop halts for the obstacle layer,
    which holds more than the class map's obstacles (mapping's ``obstacle_floor`` and
    ``foot_spread_m``), and a path the class map alone calls safe may be one the mower never
    drives: on random garden 1 discovery stood before a 6 cm post until its time limit.
    """
    if not obstacles:
        return class_map
    out = class_map.copy()
    out[cells_inside(out.shape, origin, res, obstacles)] = OBSTACLE
    return out


def work_grid(
    class_map: np.ndarray,
    origin: np.ndarray,
    res: float,
    params: ExplorerParams,
    driven: np.ndarray | None = None,
) -> WorkGrid:
    """Reduce ``class_map`` (semantic grid classes, 255 unknown) to the working grid.

    ``driven`` (working-grid shape) marks cells the mower has driven over: lawn, seen or not.
    """
    f = max(1, int(round(params.plan_res_m / res)))
    rows, cols = class_map.shape[0] // f, class_map.shape[1] // f
    cm = class_map[: rows * f, : cols * f].reshape(rows, f, cols, f)
    blocked = ((cm == OTHER) | (cm == OBSTACLE)).any(axis=(1, 3))
    seen_lawn = (cm == LAWN).all(axis=(1, 3))
    lawn = seen_lawn | (driven & ~blocked) if driven is not None else seen_lawn
    unknown = ~lawn & ~blocked
    wres = res * f
    dist_blocked = ndimage.distance_transform_edt(~blocked) * wres if blocked.any() else None
    if dist_blocked is None:
        dist_blocked = np.full(blocked.shape, np.inf)
    dist_unknown = ndimage.distance_transform_edt(~unknown) * wres if unknown.any() else None
    safe = lawn & (dist_blocked > params.clearance_m)
    if dist_unknown is not None:
        safe &= dist_unknown > params.unknown_clearance_m
    return WorkGrid(
        lawn, seen_lawn, blocked, unknown, safe, dist_blocked, np.asarray(origin, float), wres
    )


def enclosed(mask: np.ndarray) -> np.ndarray:
    """The cells of ``mask`` in parts (8-connected) that do not touch the grid's border."""
    lab, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros(mask.shape, bool)
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    inside = np.ones(n + 1, bool)
    inside[edge] = False
    inside[0] = False
    return inside[lab]


def _graph(safe: np.ndarray, res: float) -> csr_matrix:
    """8-connected graph of the safe cells (edge weights in metres)."""
    rows, cols = safe.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    src, dst, w = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        c0, c1 = max(0, -dc), cols - max(0, dc)  # columns of a whose neighbour is in the grid
        a, ia = safe[: rows - dr, c0:c1], idx[: rows - dr, c0:c1]
        b, ib = safe[dr:, c0 + dc : c1 + dc], idx[dr:, c0 + dc : c1 + dc]
        both = a & b
        src.append(ia[both])
        dst.append(ib[both])
        w.append(np.full(int(both.sum()), res * math.hypot(dr, dc)))
    s, d, ww = np.concatenate(src), np.concatenate(dst), np.concatenate(w)
    n = rows * cols
    return csr_matrix(
        (np.concatenate([ww, ww]), (np.concatenate([s, d]), np.concatenate([d, s]))), (n, n)
    )


def line_clear(safe: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether every working cell on the segment between cells ``a`` and ``b`` is safe."""
    steps = int(max(abs(b[0] - a[0]), abs(b[1] - a[1])))
    if steps <= 1:  # neighbours (a diagonal step of the 8-connected search too)
        return bool(safe[a] and safe[b])
    n = steps * 2 + 1
    r = np.rint(np.linspace(a[0], b[0], n)).astype(int)
    c = np.rint(np.linspace(a[1], b[1], n)).astype(int)
    return bool(safe[r, c].all())


def shorten(safe: np.ndarray, cells: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop the cells a straight safe segment can skip (greedy line of sight)."""
    if len(cells) <= 2:
        return cells
    out = [cells[0]]
    i = 0
    while i < len(cells) - 1:
        j = len(cells) - 1
        while j > i + 1 and not line_clear(safe, cells[i], cells[j]):
            j -= 1
        out.append(cells[j])
        i = j
    return out


@dataclass
class Explorer:
    """Frontier exploration, edge tours and the way home, one path at a time.

    Call :meth:`next_step` with the class map whenever the current path is done (or not safe
    any more): it returns an :class:`ExploreStep`. ``dock`` is the docked pose (x, y, heading).
    """

    params: ExplorerParams = field(default_factory=ExplorerParams)
    dock: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        """Start at the dock."""
        self.reset()

    def reset(self) -> None:
        """Start over (after a fault, or for another discovery)."""
        self.phase = 'start'
        self.start_time_s: float | None = None
        self.entry: np.ndarray | None = None  # the first safe point: the way back to the dock
        self.tries: np.ndarray | None = None  # per working cell: goals that looked at it
        self.driven: np.ndarray | None = None
        self._frame: tuple | None = None  # the working grid's origin, cell size and shape
        self.tours = 0
        self.tour_lawn = 0
        self.tour_queue: list[tuple[np.ndarray, bool]] = []  # (points, closed loop)
        self.tour_current: np.ndarray | None = None  # the edge being followed
        self.resumes = 0  # edge paths taken up again after they were cut short
        self.goal: np.ndarray | None = None
        self.goal_cells: tuple[np.ndarray, np.ndarray] | None = (
            None  # frontier cells the current goal looks at
        )
        self.message = ''
        self.goals = 0
        self.home_tries = 0
        self.relaxed = False  # the current path keeps only the footprint, not the margin
        self.recharge = False  # the way home ends in 'recharge' (to go on), not 'done'
        self.paused_s: float | None = None  # when it docked to charge (its clock)
        self.resumed = False  # resumed after charging: the time limit skips the charging
        self.recharges = 0

    # -- the decision --------------------------------------------------------------------------
    def next_step(
        self,
        class_map: np.ndarray,
        origin: np.ndarray,
        res: float,
        pose: tuple[float, float, float],
        time_s: float,
        interrupted: bool = False,
    ) -> ExploreStep:
        """The next path from ``pose`` (x, y, yaw) given the grid at ``time_s``.

        ``interrupted``: the last path was given up before its end (no longer safe); an edge
        being followed is then taken up again where the mower is.
        """
        p = self.params
        started_s = self._clock(time_s)
        wg = self._grid(class_map, origin, res, pose)
        here = np.asarray(pose[:2], float)
        if self.phase in FINISHED:
            return ExploreStep(self.phase, None, message=self.message)
        self._last_step_over(wg, here, interrupted)
        if self.phase == 'start':
            step = self._start(wg, here, time_s)
            if step is not None:
                return step
        if self.phase not in ('home', 'dock') and time_s - started_s > p.time_limit_s:
            self.message = f'time limit {p.time_limit_s:.0f} s: returning to the dock'
            self.phase = 'home'
        if self.phase == 'explore':
            step = self._explore(wg, here)
            if step is not None:
                return step
            self._begin_tour(wg, here)
        if self.phase == 'edge':
            step = self._tour(wg, here)
            if step is not None:
                return step
        home = self._home_point(wg)
        at_entry = home is not None and np.hypot(*(here - home)) <= ENTRY_REACH_M
        if self.phase == 'dock' and not at_entry:  # the way home was cut short: again
            self.phase = 'home'
        if self.phase == 'home' and not at_entry:
            self.home_tries += 1
            path = self.plan(wg, here, home)
            self.relaxed = False
            if path is None:  # the way it came may have narrowed: without the margin, then
                self.relaxed = True
                loose = replace(self.params, margin_m=0.0)
                path = self.plan(work_grid(class_map, origin, res, loose, self.driven), here, home)
            if path is not None and len(path) >= 2 and self.home_tries <= MAX_HOME_TRIES:
                self.phase = 'dock'
                return ExploreStep('home', path, message='returning to the dock')
            self.phase = 'stuck'
            self.message = (
                f'no safe way back to the dock from ({here[0]:.1f}, {here[1]:.1f}): '
                'drive it back by hand; the map found so far is kept'
            )
            return ExploreStep('stuck', None, message=self.message)
        if self.phase in ('home', 'dock'):  # at the entry: straight onto the dock
            if self.recharge:  # to charge, then go on (resume)
                self.phase, self.paused_s = 'recharge', time_s
            else:
                self.phase = 'done'
                self.message = self.message or 'discovery complete'
            path = np.vstack([here, np.asarray(self.dock[:2], float)])
            return ExploreStep('dock', path, reverse=True, message='onto the dock')
        return ExploreStep(self.phase, None, message=self.message)

    def _clock(self, time_s: float) -> float:
        """The time limit's start: the first call; after charging, moved on by the time docked."""
        start = time_s if self.start_time_s is None else self.start_time_s
        if self.resumed and self.paused_s is not None:
            start += max(0.0, time_s - self.paused_s)
            self.resumed, self.paused_s = False, None
        self.start_time_s = start
        return start

    def _last_step_over(self, wg: WorkGrid, here: np.ndarray, interrupted: bool) -> None:
        """The last path is over: count its goal's looks; keep the rest of an edge left."""
        if self.goal_cells is not None:  # the last goal was reached: count its looks
            self.tries[self.goal_cells] += 1
            self.goal_cells = None
        if self.tour_current is not None:
            # an edge cut short, or left to charge: its rest is followed first (after charging)
            if (interrupted and self.phase == 'edge') or (self.recharge and self.phase == 'home'):
                self._resume_tour(wg, here)
            self.tour_current = None

    def go_home(self, reason: str, recharge: bool = False) -> None:
        """Stop exploring now (rain; a low battery with ``recharge``): home to the dock.

        The next :meth:`next_step` plans the way home. Without ``recharge`` the finished phase
        is ``done`` with ``reason`` as the message, so the lawn found so far becomes the draft.
        With it the finished phase is ``recharge``: the mower charges on the dock and
        :meth:`resume` goes on exploring with everything found and driven so far.
        """
        if self.phase in FINISHED or self.phase in ('home', 'dock'):
            return
        if self.phase == 'start':  # still on the dock: nothing explored, nothing to go home from
            self.phase, self.message = 'no_lawn', f'{reason} before leaving the dock'
            return
        self.phase, self.message, self.recharge = 'home', reason, recharge
        self.goal_cells = None
        if not recharge:  # to charge, the edge tour is kept for after (next_step, _begin_tour)
            self.tour_queue, self.tour_current = [], None

    def resume(self) -> bool:
        """Charged: leave the dock again and go on exploring (after ``recharge`` only).

        What was seen, driven and tried is kept; the time on the dock does not count against
        ``time_limit_s``. False (nothing changed) when the explorer is not charging.
        """
        if self.phase != 'recharge':
            return False
        self.phase, self.message, self.recharge = 'start', '', False
        self.resumed, self.home_tries, self.relaxed = True, 0, False
        self.recharges += 1
        return True

    def _home_point(self, wg: WorkGrid) -> np.ndarray | None:
        """Where the way home ends: the first safe point, or the safe point nearest to it.

        (The dock, seen once the mower has left it, may take the first safe point's clearance.)
        """
        if self.entry is None:
            return None
        if wg.safe[wg.cell(self.entry)]:
            return self.entry
        rc = self._nearest_safe(wg, self.entry, self.params.start_reach_m)
        return None if rc is None else wg.centre(np.array(rc))[0]

    def path_still_safe(
        self, class_map: np.ndarray, origin: np.ndarray, res: float, path: np.ndarray
    ) -> bool:
        """Whether every point of ``path`` (after its first) is still a safe cell.

        Called twice a second while a path is followed, so only the window of the grid around
        the path is reduced (padded by the clearances: every cell that decides whether a path
        cell is safe lies inside it); the answer is the one the whole grid gives.
        """
        p = replace(self.params, margin_m=0.0) if self.relaxed else self.params
        pts = np.asarray(path, float)[1:]
        if len(pts) < 2:
            return True
        f = max(1, int(round(p.plan_res_m / res)))
        wres = res * f
        rows, cols = class_map.shape[0] // f, class_map.shape[1] // f
        cells = np.floor((pts - np.asarray(origin, float)) / wres).astype(int)
        pad = int(math.ceil(max(p.clearance_m, p.unknown_clearance_m) / wres)) + 2
        # even offsets: line_clear rounds half cells to even, so the window's cells match
        c0, r0 = np.clip(cells.min(axis=0) - pad, 0, [cols, rows]) // 2 * 2
        c1, r1 = np.clip(cells.max(axis=0) + pad + 1, 0, [cols, rows])
        if r1 <= r0 or c1 <= c0:
            return False
        sub = class_map[r0 * f : r1 * f, c0 * f : c1 * f]
        sub_origin = np.asarray(origin, float) + np.array([c0, r0]) * wres
        driven = None
        if self.driven is not None and self.driven.shape == (rows, cols):
            driven = self.driven[r0:r1, c0:c1]
        wg = work_grid(sub, sub_origin, res, p, driven)
        for a, b in zip(pts[:-1], pts[1:], strict=False):
            if not line_clear(wg.safe, wg.cell(a), wg.cell(b)):
                return False
        return True

    # -- phases --------------------------------------------------------------------------------
    def _grid(
        self, class_map: np.ndarray, origin: np.ndarray, res: float, pose: tuple
    ) -> WorkGrid:
        f = max(1, int(round(self.params.plan_res_m / res)))
        shape = (class_map.shape[0] // f, class_map.shape[1] // f)
        if self.driven is None or self.driven.shape != shape:
            self.driven = np.zeros(shape, bool)
            self.tries = np.zeros(shape, np.int16)
        wg = work_grid(class_map, origin, res, self.params, self.driven)
        self.mark_driven(wg, np.asarray(pose[:2], float))
        return wg

    def mark_driven(self, wg: WorkGrid, xy: np.ndarray) -> None:
        """Cells under the footprint at ``xy`` are lawn the mower stands on."""
        self._frame = (wg.origin, wg.res, self.driven.shape)
        self.drove(xy)

    def drove(self, xy: np.ndarray) -> None:
        """The mower is at ``xy``: the cells under its footprint are lawn it stands on.

        Call it as the mower drives (a few times a second); before the first
        :meth:`next_step` it does nothing (the working grid is not known yet).
        """
        if self._frame is None:
            return
        origin, res, (rows, cols) = self._frame
        c = int((xy[0] - origin[0]) // res)
        r = int((xy[1] - origin[1]) // res)
        k = int(self.params.footprint_radius_m / res)
        self.driven[max(0, r - k) : max(0, r + k + 1), max(0, c - k) : max(0, c + k + 1)] = True

    def _start(self, wg: WorkGrid, here: np.ndarray, time_s: float) -> ExploreStep | None:
        p = self.params
        rc = self._nearest_safe(wg, here, p.start_reach_m, wg.safe & wg.seen_lawn)
        if rc is None:
            if time_s - self.start_time_s < p.settle_s:
                return ExploreStep('start', None, message='looking from the dock')
            self.phase = 'no_lawn'
            self.message = (
                f'no lawn seen from the dock: no lawn cell {p.clearance_m:.2f} m clear of '
                f'anything else within {p.start_reach_m:g} m; move the dock or check the camera'
            )
            return ExploreStep('no_lawn', None, message=self.message)
        self.entry = wg.centre(np.array(rc))[0]
        self.phase = 'explore'
        return ExploreStep('start', np.vstack([here, self.entry]), message='leaving the dock')

    def _explore(self, wg: WorkGrid, here: np.ndarray) -> ExploreStep | None:
        p = self.params
        frontier = self.frontier(wg)
        if not frontier.any():
            return None
        d_front = ndimage.distance_transform_edt(~frontier) * wg.res
        cand = wg.safe & (d_front <= p.view_max_m) & (d_front >= p.view_min_m)
        start = self._start_cell(wg, here)
        if start is None or not cand.any():
            return None
        dist, pred = self._dijkstra(wg, start)
        reach = cand & np.isfinite(dist)
        if not reach.any():
            return None
        goal = np.unravel_index(int(np.argmin(np.where(reach, dist, np.inf))), dist.shape)
        cells = self._backtrack(pred, start, goal, wg.safe.shape)
        pts = wg.centre(np.array(shorten(wg.safe, cells)))
        # look at the nearest frontier cell from the goal, and count that look
        near = np.argwhere(frontier)
        g = np.array(goal)
        dd = np.hypot(*(near - g).T) * wg.res
        target = near[int(np.argmin(dd))]
        looked = near[dd <= p.view_max_m + wg.res]
        self.goal_cells = (looked[:, 0], looked[:, 1])
        gxy, txy = wg.centre(g)[0], wg.centre(target)[0]
        direction = (txy - gxy) / max(float(np.hypot(*(txy - gxy))), 1e-9)
        look = gxy + direction * p.look_step_m
        if wg.safe[wg.cell(look)]:
            pts = np.vstack([pts, look])
        path = np.vstack([here, pts]) if np.hypot(*(pts[0] - here)) > 1e-6 else pts
        if len(path) < 2:  # at the goal already: turn to it
            path = np.vstack([here, look])
        self.goals += 1
        self.goal = gxy
        return ExploreStep('explore', path, message=f'frontier goal {self.goals}')

    def frontier(self, wg: WorkGrid) -> np.ndarray:
        """Unknown cells next to lawn, away from blocked cells or on a hole's rim, not given up."""
        p = self.params
        near_lawn = ndimage.binary_dilation(wg.lawn, structure=np.ones((3, 3), bool))
        f = wg.unknown & near_lawn & (wg.dist_blocked_m > p.clearance_m)
        if p.look_at_holes:
            f |= wg.unknown & near_lawn & enclosed(~wg.lawn)
        f &= self.tries < p.tries
        if p.min_frontier_cells > 1 and f.any():
            lab, n = ndimage.label(f, structure=np.ones((3, 3), bool))
            sizes = np.bincount(lab.ravel(), minlength=n + 1)
            f &= sizes[lab] >= p.min_frontier_cells
        return f

    def _resume_tour(self, wg: WorkGrid, here: np.ndarray) -> None:
        """An edge path cut short (no longer safe): its safe rest goes first in the queue."""
        ring, self.tour_current = self.tour_current, None
        self.resumes += 1
        if self.resumes > MAX_RESUMES:  # the edge keeps changing under it: leave it
            return
        k = int(np.argmin(np.hypot(*(ring - here).T)))
        rest = ring[k:]
        # the pieces of the rest that are safe now, in order (each point and each segment)
        pieces, run = [], []
        for q in rest:
            if wg.safe[wg.cell(q)] and (
                not run or line_clear(wg.safe, wg.cell(run[-1]), wg.cell(q))
            ):
                run.append(q)
                continue
            pieces.append(run)
            run = [q] if wg.safe[wg.cell(q)] else []
        pieces.append(run)
        keep = [
            (np.asarray(r), False)
            for r in pieces
            if len(r) >= 2 and np.hypot(*np.diff(np.asarray(r), axis=0).T).sum() > 0.5
        ]
        self.tour_queue[:0] = keep

    def _begin_tour(self, wg: WorkGrid, here: np.ndarray) -> None:
        p = self.params
        if self.tour_queue:  # the rest of a tour left to charge: that first
            self.phase = 'edge'
            return
        lawn_now = int(wg.lawn.sum())
        gain = (lawn_now - self.tour_lawn) / max(lawn_now, 1)
        if self.tours >= p.max_tours or (self.tours > 0 and gain < p.tour_gain_share):
            self.phase = 'home'
            return
        self.tours += 1
        self.resumes = 0
        self.tour_lawn = lawn_now
        self.tour_queue = [(loop, True) for loop in self.outlines(wg, here)]
        self.phase = 'edge'

    def outlines(self, wg: WorkGrid, here: np.ndarray) -> list[np.ndarray]:
        """Loops around the safe region the mower is in (outer edge first, then holes)."""
        p = self.params
        start = self._start_cell(wg, here)
        if start is None:
            return []
        lab, _ = ndimage.label(wg.safe)
        region = (lab == lab[start]).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
        loops = []
        for cnt in sorted(contours, key=lambda c: -cv2.arcLength(c, True)):
            if cv2.arcLength(cnt, True) * wg.res < p.min_tour_m:
                continue
            approx = cv2.approxPolyDP(cnt, 1.0, True)[:, 0, :]  # (col, row), within a cell
            rc = approx[:, ::-1]
            rc = rc[[bool(region[r, c]) for r, c in rc]]
            if len(rc) >= 3:
                loops.append(wg.centre(rc))
        return loops

    def _tour(self, wg: WorkGrid, here: np.ndarray) -> ExploreStep | None:
        while self.tour_queue:
            loop, closed = self.tour_queue.pop(0)
            ring = loop
            if closed:  # from the point nearest to the mower, all the way round
                k = int(np.argmin(np.hypot(*(loop - here).T)))
                ring = np.vstack([loop[k:], loop[: k + 1]])
            lead = self.plan(wg, here, ring[0])
            if lead is None:
                continue
            path = np.vstack([lead[:-1], ring]) if len(lead) > 1 else ring
            if len(path) >= 2:
                self.tour_current = ring
                return ExploreStep('edge', path, message=f'following the edge (tour {self.tours})')
        self.phase = 'explore'
        step = self._explore(wg, here)
        if step is not None:
            return step
        self._begin_tour(wg, here)
        if self.phase == 'edge':
            return self._tour(wg, here)
        return None

    # -- paths ---------------------------------------------------------------------------------
    def plan(self, wg: WorkGrid, here: np.ndarray, goal: np.ndarray | None) -> np.ndarray | None:
        """A safe path from ``here`` to ``goal`` (None when there is none)."""
        if goal is None:
            return None
        start = self._start_cell(wg, here)
        g = wg.cell(goal)
        if start is None:
            return None
        if not wg.safe[g]:
            near = self._nearest_safe(wg, goal, 1.0)
            if near is None:
                return None
            g = near
        dist, pred = self._dijkstra(wg, start)
        if not np.isfinite(dist[g]):
            return None
        cells = shorten(wg.safe, self._backtrack(pred, start, g, wg.safe.shape))
        pts = wg.centre(np.array(cells))
        return np.vstack([here, pts]) if np.hypot(*(pts[0] - here)) > 1e-6 else pts

    def _start_cell(self, wg: WorkGrid, here: np.ndarray) -> tuple[int, int] | None:
        rc = wg.cell(here)
        if wg.safe[rc]:
            return rc
        return self._nearest_safe(wg, here, self.params.start_reach_m)

    def _nearest_safe(
        self, wg: WorkGrid, xy: np.ndarray, reach_m: float, safe: np.ndarray | None = None
    ) -> tuple[int, int] | None:
        """The nearest safe cell within ``reach_m``, by a straight line over no blocked cell."""
        r0, c0 = wg.cell(xy)
        k = int(math.ceil(reach_m / wg.res))
        safe = wg.safe if safe is None else safe
        win = safe[max(0, r0 - k) : r0 + k + 1, max(0, c0 - k) : c0 + k + 1]
        cells = np.argwhere(win) + [max(0, r0 - k), max(0, c0 - k)]
        if not len(cells):
            return None
        d = np.hypot(cells[:, 0] - r0, cells[:, 1] - c0)
        free = ~wg.blocked
        free[r0, c0] = True  # from a blocked cell too (the dock, seen as an obstacle)
        for i in np.argsort(d):
            if d[i] * wg.res > reach_m:
                break
            rc = (int(cells[i, 0]), int(cells[i, 1]))
            if line_clear(free, (r0, c0), rc):
                return rc
        return None

    def _dijkstra(self, wg: WorkGrid, start: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        g = _graph(wg.safe, wg.res)
        i0 = start[0] * wg.safe.shape[1] + start[1]
        dist, pred = dijkstra(g, indices=i0, return_predecessors=True)
        return dist.reshape(wg.safe.shape), pred

    @staticmethod
    def _backtrack(
        pred: np.ndarray, start: tuple[int, int], goal: tuple[int, int], shape: tuple[int, int]
    ) -> list[tuple[int, int]]:
        i0 = start[0] * shape[1] + start[1]
        i = int(goal[0]) * shape[1] + int(goal[1])
        out = [i]
        while i != i0 and i >= 0:
            i = int(pred[i])
            out.append(i)
        return [(j // shape[1], j % shape[1]) for j in reversed(out) if j >= 0]


@dataclass
class DiscoveryDriver:
    """When to ask the :class:`Explorer` again: the mission's DISCOVERING state calls it.

    ``grid`` returns the semantic grid's (class map, origin, cell size) now. Called every
    control tick with the pose, the time and whether the follower is done with the current
    path; at most every ``check_s`` it records where the mower drove and returns a new
    :class:`ExploreStep` when the path is done or no longer safe (else None: keep going).
    The robot's mapping node and the simulator's discovery run both use it.
    """

    explorer: Explorer
    grid: Callable[[], tuple[np.ndarray, np.ndarray, float]]
    check_s: float = 0.5
    last: ExploreStep | None = None
    _next_s: float = -math.inf
    _path: np.ndarray | None = None

    def __call__(
        self, pose: tuple[float, float, float], time_s: float, follower_done: bool
    ) -> ExploreStep | None:
        """A new step to follow, or None to keep following the current one."""
        if time_s < self._next_s:
            return None
        self._next_s = time_s + self.check_s
        ex = self.explorer
        ex.drove(np.asarray(pose[:2], float))
        if self.last is not None and self.last.finished:
            return self.last if follower_done else None
        cm, origin, res = self.grid()
        stale = self._path is not None and not ex.path_still_safe(cm, origin, res, self._path)
        if self.last is not None and not follower_done and not stale:
            return None
        step = ex.next_step(cm, origin, res, pose, time_s, interrupted=stale)
        self.last = step
        # a two-point path starts where the mower is: its first segment is not checked again
        self._path = step.path if step.path is not None and len(step.path) > 2 else None
        return step

    def go_home(self, reason: str, recharge: bool = False) -> None:
        """Stop exploring and go home now (:meth:`Explorer.go_home`); asked on the next call."""
        if self.explorer.phase in FINISHED or self.explorer.phase in ('home', 'dock'):
            return
        self.explorer.go_home(reason, recharge)
        self.last, self._path, self._next_s = None, None, -math.inf

    def resume(self) -> bool:
        """Charged: go on exploring (:meth:`Explorer.resume`); asked on the next call."""
        if not self.explorer.resume():
            return False
        self.last, self._path, self._next_s = None, None, -math.inf
        return True

    def reset(self) -> None:
        """Start over (the explorer too)."""
        self.explorer.reset()
        self.last, self._path, self._next_s = None, None, -math.inf
