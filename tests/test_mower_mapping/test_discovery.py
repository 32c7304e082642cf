"""The discovery explorer on grids made in the test: frontiers, clearance, termination, faults."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mower_mapping.discovery import (
    DiscoveryDriver,
    Explorer,
    ExplorerParams,
    line_clear,
    with_obstacles,
    work_grid,
)

RES = 0.05
ORIGIN = np.zeros(2)
LAWN, OTHER, OBST, UNKNOWN = 0, 1, 2, 255


def world(rows: int = 160, cols: int = 240) -> np.ndarray:
    """An 8 x 12 m lawn with a border of other ground and a 1 x 1.5 m bed in it."""
    truth = np.full((rows, cols), OTHER, np.uint8)
    truth[10:-10, 10:-10] = LAWN
    truth[70:90, 120:150] = OTHER  # the bed
    return truth


def reveal(known: np.ndarray, truth: np.ndarray, pose: tuple, reach_m: float = 2.5) -> None:
    """A camera that sees the truth ahead of the pose (a 120 degree wedge, up to reach_m)."""
    rows, cols = np.mgrid[0 : truth.shape[0], 0 : truth.shape[1]]
    x, y = (cols + 0.5) * RES - pose[0], (rows + 0.5) * RES - pose[1]
    d = np.hypot(x, y)
    ang = np.abs((np.arctan2(y, x) - pose[2] + np.pi) % (2 * np.pi) - np.pi)
    see = (d <= reach_m) & ((ang <= np.radians(60)) | (d <= 0.6))
    known[see] = truth[see]


def drive(
    ex: Explorer,
    truth: np.ndarray,
    dock: tuple,
    max_steps: int = 400,
    known: np.ndarray | None = None,
    t0: float = 0.0,
):
    """Follow the explorer's paths kinematically; the poses driven through and the last step.

    From ``dock`` (a pose), with what is ``known`` so far (default: nothing), clock from ``t0``.
    """
    known = np.full(truth.shape, UNKNOWN, np.uint8) if known is None else known
    pose = dock
    poses = [dock[:2]]
    step = None
    for k in range(max_steps):
        reveal(known, truth, pose)
        step = ex.next_step(known, ORIGIN, RES, pose, t0 + float(k))
        if step.finished or step.path is None:
            if step.finished:
                break
            continue
        for a, b in zip(step.path[:-1], step.path[1:], strict=True):
            n = max(2, int(np.hypot(*(b - a)) / 0.25) + 1)
            heading = float(np.arctan2(*(b - a)[::-1])) if np.hypot(*(b - a)) > 0 else pose[2]
            if step.reverse:
                heading += np.pi
            for t in np.linspace(0, 1, n)[1:]:
                pose = (*(a + (b - a) * t), heading)
                poses.append(pose[:2])
                ex.drove(np.asarray(pose[:2]))
                reveal(known, truth, pose)
    return np.asarray(poses), step, known


def clearance_to_other(truth: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Distance (m) from each point to the nearest cell that is not lawn."""
    other = np.argwhere(truth != LAWN)
    centres = (other[:, ::-1] + 0.5) * RES
    return np.array([np.hypot(*(centres - p).T).min() for p in xy])


def test_work_grid_safe_cells_keep_the_clearance():
    truth = world()
    p = ExplorerParams()
    wg = work_grid(truth, ORIGIN, RES, p)
    assert wg.safe.any()
    cells = np.argwhere(wg.safe)
    xy = wg.centre(cells)
    # every safe cell's centre is at least the clearance (less half a working cell) from other
    d = clearance_to_other(truth, xy[:: max(1, len(xy) // 400)])
    assert d.min() >= p.clearance_m - wg.res / 2


def test_unknown_cells_are_not_safe():
    cm = np.full((100, 100), UNKNOWN, np.uint8)
    cm[:, :50] = LAWN
    wg = work_grid(cm, ORIGIN, RES, ExplorerParams())
    assert not wg.safe[:, 25:].any()
    assert wg.safe[20:80, 5:20].all()


def test_frontier_is_unknown_next_to_lawn_and_the_nearest_is_chosen():
    cm = np.full((200, 300), OTHER, np.uint8)
    cm[10:190, 10:290] = LAWN
    cm[60:140, 200:290] = UNKNOWN  # not seen yet, 10 m east
    cm[60:140, 12:20] = UNKNOWN  # a small unknown strip near the west edge: nearer
    ex = Explorer(ExplorerParams(), dock=(5.0, 5.0, 0.0))
    step = ex.next_step(cm, ORIGIN, RES, (5.0, 5.0, 0.0), 0.0)
    assert step.phase == 'start'
    step = ex.next_step(cm, ORIGIN, RES, tuple(step.path[-1]) + (0.0,), 1.0)
    assert step.phase == 'explore'
    goal = step.path[-1]
    wg = work_grid(cm, ORIGIN, RES, ex.params)
    front = ex.frontier(wg)
    assert front.any()
    # the goal looks at the west strip (nearer) from within the camera's view
    d_west = np.hypot(goal[0] - 0.8, goal[1] - 5.0)
    assert goal[0] < 5.0 and d_west <= ex.params.view_max_m + 0.6


def test_the_unseen_rim_of_a_hole_in_the_lawn_is_looked_at():
    # all lawn is known but the cells just south of a 0.7 m tree (no pass showed them), and a
    # strip at the outer edge, next to the border of other ground (not a hole: left alone)
    cm = np.full((160, 240), OTHER, np.uint8)
    cm[10:-10, 10:-10] = LAWN
    rows, cols = np.mgrid[0:160, 0:240]
    x, y = (cols + 0.5) * RES, (rows + 0.5) * RES
    d = np.hypot(x - 6.0, y - 4.0)
    cm[d <= 0.35] = OBST
    tail = (d > 0.35) & (d <= 0.65) & (y < 3.9)
    cm[tail] = UNKNOWN
    cm[10:12, 60:80] = UNKNOWN
    steps = {}
    for look in (True, False):
        ex = Explorer(ExplorerParams(look_at_holes=look), dock=(2.0, 2.0, 0.0))
        step = ex.next_step(cm, ORIGIN, RES, (2.0, 2.0, 0.0), 0.0)
        assert step.phase == 'start'
        steps[look] = ex.next_step(cm, ORIGIN, RES, (*step.path[-1], 0.0), 1.0)
        front = ex.frontier(work_grid(cm, ORIGIN, RES, ex.params))
        fxy = work_grid(cm, ORIGIN, RES, ex.params).centre(np.argwhere(front))
        if look:  # the tail's cells, and nothing at the outer edge
            assert len(fxy) >= 3 and (np.hypot(fxy[:, 0] - 6.0, fxy[:, 1] - 4.0) < 0.8).all()
        else:
            assert not front.any()
    assert steps[False].phase == 'edge'  # nothing to look at: the edge tour
    step = steps[True]
    assert step.phase == 'explore'
    goal, before = step.path[-1], step.path[-2]
    tail_xy = np.column_stack([x[tail], y[tail]])
    gap = np.hypot(*(tail_xy - goal).T).min()
    p = ExplorerParams()
    assert p.view_min_m - 0.15 <= gap <= p.view_max_m + 0.15
    # the path ends turned towards the tail
    heading = goal - before
    to_tail = tail_xy.mean(axis=0) - goal
    cos = heading @ to_tail / (np.hypot(*heading) * np.hypot(*to_tail))
    assert cos > np.cos(np.radians(45))


def test_exploration_stays_on_the_lawn_terminates_and_goes_home():
    truth = world()
    dock = (1.0, 4.0, 0.0)
    ex = Explorer(ExplorerParams(), dock=dock)
    poses, step, known = drive(ex, truth, dock)
    assert step is not None and step.phase == 'done'
    # leaving the dock and docking are within the dock's reach; everything else keeps clear
    away = np.hypot(*(poses - np.asarray(dock[:2])).T) > ex.params.start_reach_m
    d = clearance_to_other(truth, poses[away][::3])
    assert d.min() >= ex.params.clearance_m - 0.08
    # the lawn was seen: nearly every lawn cell is known lawn
    lawn = truth == LAWN
    assert (known[lawn] == LAWN).mean() > 0.97
    # it ended on the dock
    assert np.hypot(*(poses[-1] - np.asarray(dock[:2]))) < 0.05
    assert ex.tours >= 1


def test_no_lawn_from_the_dock_is_a_clear_recoverable_fault():
    cm = np.full((100, 100), OTHER, np.uint8)
    ex = Explorer(ExplorerParams(settle_s=2.0), dock=(2.5, 2.5, 0.0))
    assert ex.next_step(cm, ORIGIN, RES, (2.5, 2.5, 0.0), 0.0).phase == 'start'
    step = ex.next_step(cm, ORIGIN, RES, (2.5, 2.5, 0.0), 3.0)
    assert step.phase == 'no_lawn' and step.finished and step.path is None
    assert 'no lawn seen from the dock' in step.message
    # stays there until reset; after a reset it starts again
    assert ex.next_step(cm, ORIGIN, RES, (2.5, 2.5, 0.0), 4.0).phase == 'no_lawn'
    ex.reset()
    cm[:, :] = LAWN
    step = ex.next_step(cm, ORIGIN, RES, (2.5, 2.5, 0.0), 5.0)
    assert step.phase == 'start' and step.path is not None


def test_time_limit_sends_it_home():
    truth = world()
    ex = Explorer(ExplorerParams(time_limit_s=0.5), dock=(1.0, 4.0, 0.0))
    known = np.full(truth.shape, UNKNOWN, np.uint8)
    reveal(known, truth, (1.0, 4.0, 0.0))
    first = ex.next_step(known, ORIGIN, RES, (1.0, 4.0, 0.0), 0.0)
    assert first.phase == 'start'
    step = ex.next_step(known, ORIGIN, RES, (*first.path[-1], 0.0), 10.0)
    assert step.phase in ('home', 'dock') and 'time limit' in ex.message


def test_line_clear_and_params_are_checked():
    safe = np.ones((10, 10), bool)
    safe[5, :] = False
    assert line_clear(safe, (0, 0), (4, 9))
    assert not line_clear(safe, (0, 0), (9, 9))
    with pytest.raises(ValueError, match='view_min_m'):
        ExplorerParams(view_min_m=3.0, view_max_m=2.0)


def test_driver_asks_again_only_when_the_path_is_done_or_no_longer_safe():
    cm = np.full((160, 240), OTHER, np.uint8)
    cm[10:-10, 10:-10] = LAWN
    cm[60:100, 150:230] = UNKNOWN
    state = {'cm': cm}
    driver = DiscoveryDriver(
        Explorer(ExplorerParams(), dock=(1.0, 4.0, 0.0)),
        lambda: (state['cm'], ORIGIN, RES),
        check_s=0.5,
    )
    first = driver((1.0, 4.0, 0.0), 0.0, True)
    assert first is not None and first.phase == 'start'
    step = driver((*first.path[-1], 0.0), 1.0, True)
    assert step is not None and step.phase == 'explore' and len(step.path) > 2
    assert driver((*step.path[0], 0.0), 1.2, False) is None  # within check_s
    assert driver((*step.path[0], 0.0), 2.0, False) is None  # following, still safe
    # other ground appears across the rest of the path: a new step at the next check
    mid = step.path[len(step.path) // 2]
    c, r = int(mid[0] / RES), int(mid[1] / RES)
    changed = cm.copy()
    changed[max(0, r - 15) : r + 15, max(0, c - 15) : c + 15] = OTHER
    state['cm'] = changed
    again = driver((*step.path[0], 0.0), 3.0, False)
    assert again is not None
    assert again.path is None or not np.allclose(again.path[-1], step.path[-1])


def test_no_way_home_is_a_fault_not_a_straight_line_to_the_dock():
    cm = np.full((100, 200), OTHER, np.uint8)
    cm[10:-10, 10:90] = LAWN  # west lawn, the dock's
    cm[10:-10, 110:-10] = LAWN  # east lawn, no way between them
    ex = Explorer(ExplorerParams(), dock=(1.0, 2.5, 0.0))
    first = ex.next_step(cm, ORIGIN, RES, (1.0, 2.5, 0.0), 0.0)
    assert first.phase == 'start'
    ex.phase = 'home'  # somehow on the east lawn, sent home
    step = ex.next_step(cm, ORIGIN, RES, (8.0, 2.5, 0.0), 1.0)
    assert step.phase == 'stuck' and step.finished and step.path is None
    assert 'no safe way back to the dock' in step.message
    # near the entry, the last leg is straight onto the dock, in reverse
    ex.reset()
    first = ex.next_step(cm, ORIGIN, RES, (1.0, 2.5, 0.0), 0.0)
    ex.phase = 'home'
    step = ex.next_step(cm, ORIGIN, RES, (*first.path[-1], 0.0), 1.0)
    assert step.phase == 'dock' and step.reverse
    assert np.allclose(step.path[-1], (1.0, 2.5))


def _full_grid_answer(ex: Explorer, cm: np.ndarray, path: np.ndarray) -> bool:
    """What path_still_safe answered before it looked at a window: the whole grid reduced."""
    wg = work_grid(cm, ORIGIN, RES, ex.params, ex.driven)
    return all(
        line_clear(wg.safe, wg.cell(a), wg.cell(b))
        for a, b in zip(path[1:-1], path[2:], strict=False)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_points=st.integers(2, 6),
    relaxed=st.booleans(),
)
def test_windowed_path_check_gives_the_whole_grids_answer(
    seed: int, n_points: int, relaxed: bool
) -> None:
    """The window around the path decides like the whole grid, near edges and out of it too."""
    rng = np.random.default_rng(seed)
    cm = np.full((120, 160), LAWN, np.uint8)
    for _ in range(rng.integers(0, 12)):  # beds, obstacles and unknown patches
        r, c = rng.integers(0, 120), rng.integers(0, 160)
        h, w = rng.integers(1, 25, size=2)
        cm[r : r + h, c : c + w] = rng.choice([OTHER, OBST, UNKNOWN])
    ex = Explorer(ExplorerParams(), (1.0, 1.0, 0.0))
    ex.next_step(cm, ORIGIN, RES, (4.0, 3.0, 0.0), 0.0)  # sizes the driven cells
    ex.driven[rng.random(ex.driven.shape) < 0.05] = True
    ex.relaxed = relaxed
    # points mostly inside the 8 x 6 m grid, some just outside it
    path = np.column_stack([rng.uniform(-0.3, 8.3, n_points), rng.uniform(-0.3, 6.3, n_points)])
    p = ex.params
    if relaxed:
        ex_full = Explorer(replace(p, margin_m=0.0), ex.dock)
        ex_full.driven = ex.driven
        expected = _full_grid_answer(ex_full, cm, path)
    else:
        expected = _full_grid_answer(ex, cm, path)
    assert ex.path_still_safe(cm, ORIGIN, RES, path) == expected


def test_go_home_ends_the_exploration_on_the_dock_with_its_reason():
    truth = world()
    dock = (1.0, 4.0, 0.0)
    ex = Explorer(ExplorerParams(), dock=dock)
    driven, step, known = drive(ex, truth, dock, max_steps=4)  # left the dock, a few goals
    assert not step.finished and ex.goals >= 1
    ex.go_home('rain: discovery stopped, returning to the dock')
    poses, step, known = drive_on(ex, truth, known, (*driven[-1], 0.0))
    assert (
        step.phase == 'done' and step.message == 'rain: discovery stopped, returning to the dock'
    )
    assert np.hypot(*(poses[-1] - np.asarray(dock[:2]))) < 0.05
    assert ex.tours == 0
    # on the dock still, nothing explored: no lawn (a fault the owner can leave)
    fresh = Explorer(ExplorerParams(), dock=dock)
    fresh.go_home('battery 20%')
    assert fresh.phase == 'no_lawn' and 'before leaving the dock' in fresh.message


@pytest.mark.parametrize('steps', [4, 48])  # while exploring, and on the edge tour
def test_a_low_battery_charges_on_the_dock_and_the_exploration_goes_on_after(steps):
    truth = world()
    dock = (1.0, 4.0, 0.0)
    ex = Explorer(ExplorerParams(), dock=dock)
    driven, step, known = drive(ex, truth, dock, max_steps=steps)
    assert not step.finished
    phase_before, goals_before = ex.phase, ex.goals
    ex.go_home('battery 24%', recharge=True)
    poses, step, known = drive_on(ex, truth, known, (*driven[-1], 0.0))
    assert step.phase == 'recharge' and step.finished  # on the dock to charge, not done
    assert np.hypot(*(poses[-1] - np.asarray(dock[:2]))) < 0.05
    assert ex.resume() and not ex.resume()  # once, and only from 'recharge'
    poses2, step, known = drive(ex, truth, dock, known=known, t0=1000.0)
    assert step.phase == 'done' and ex.recharges == 1
    assert ex.goals >= goals_before  # what it had tried is kept
    assert (known[truth == LAWN] == LAWN).mean() > 0.97  # the lawn was found after all
    assert np.hypot(*(poses2[-1] - np.asarray(dock[:2]))) < 0.05
    assert phase_before == ('edge' if steps == 48 else 'explore')
    if phase_before == 'edge':
        assert ex.tours == 1  # the tour it left was finished, not begun again


def test_the_time_on_the_dock_does_not_count_against_the_limit():
    truth = world()
    dock = (1.0, 4.0, 0.0)
    ex = Explorer(ExplorerParams(time_limit_s=600.0), dock=dock)
    driven, step, known = drive(ex, truth, dock, max_steps=4)  # times 0..3 s
    ex.go_home('battery 24%', recharge=True)
    pose = (*driven[-1], 0.0)
    for t in range(4, 200):  # home and onto the dock
        reveal(known, truth, pose)
        step = ex.next_step(known, ORIGIN, RES, pose, float(t))
        if step.finished:
            break
        if step.path is not None:
            pose = (*step.path[-1], pose[2])
    assert step.phase == 'recharge'
    docked_at = ex.paused_s
    ex.resume()
    step = ex.next_step(known, ORIGIN, RES, (*dock[:2], 0.0), docked_at + 5000.0)  # 83 min later
    assert step.phase == 'start' and step.path is not None  # leaving the dock, not 'time limit'
    assert ex.start_time_s == pytest.approx(docked_at + 5000.0 - docked_at)


def drive_on(ex: Explorer, truth: np.ndarray, known: np.ndarray, pose: tuple):
    """Go on driving from ``pose`` with what is known so far (as :func:`drive` does)."""
    poses = [pose[:2]]
    step = None
    for k in range(400):
        reveal(known, truth, pose)
        step = ex.next_step(known, ORIGIN, RES, pose, 100.0 + k)
        if step.finished:
            break
        if step.path is None:
            continue
        pose = (*step.path[-1], pose[2])
        poses.append(pose[:2])
        ex.drove(np.asarray(pose[:2]))
    return np.asarray(poses), step, known


def test_the_explorer_plans_around_what_the_obstacle_layer_holds_not_the_class_map_alone():
    """A post the safety stop halts for, not (yet) an obstacle in the class map.

    Random garden 1: the explorer's path ran past a 6 cm post whose obstacle-layer cells the
    class map did not show, the safety stop held the mower before it, and discovery stood
    there until its time limit. Burnt into the explorer's map, the path is no longer safe and
    the next one keeps clear of it.
    """
    cm = np.full((120, 160), LAWN, np.uint8)
    post = shapely.Point(4.0, 3.0).buffer(0.13)  # a 6 cm post, the margin and the foot spread
    burnt = with_obstacles(cm, ORIGIN, RES, [post])
    assert (cm == LAWN).all()  # the class map itself is untouched
    inside = burnt == OBST
    rows, cols = np.nonzero(inside)
    centres = np.column_stack([(cols + 0.5) * RES, (rows + 0.5) * RES])
    assert shapely.contains_xy(post, centres[:, 0], centres[:, 1]).all()
    assert abs(inside.sum() * RES * RES - post.area) < 0.02  # the disc's area, to a cell's rim
    assert with_obstacles(cm, ORIGIN, RES, []) is cm
    # an outline partly off the grid is cut at its edge
    edge = with_obstacles(cm, ORIGIN, RES, [shapely.box(-1.0, -1.0, 0.2, 0.2)])
    assert (edge == OBST).sum() == 16
    ex = Explorer(ExplorerParams(), (1.0, 3.0, 0.0))
    path = np.array([[1.0, 3.0], [3.0, 3.0], [5.0, 3.0], [7.0, 3.0]])
    assert ex.path_still_safe(cm, ORIGIN, RES, path)
    assert not ex.path_still_safe(burnt, ORIGIN, RES, path)
    step = ex.next_step(burnt, ORIGIN, RES, (1.0, 3.0, 0.0), 0.0, interrupted=True)
    if step.path is not None:
        pts = shapely.points(step.path)
        assert shapely.distance(post, pts).min() >= ex.params.clearance_m - RES
