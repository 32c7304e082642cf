"""``mower bench``: benchmarks that print medians and ratios (never run by the tests)."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mower_cli.arg_types import POSITIVE, integer
from mower_cli.bench_app import add_app_bench

PLAN_GOAL_S = 0.2  # planning time goal for the 2,000 m² lawn on one core
AS_IS_FIELD = 'ee_field_130.wkt'  # 1.96 ha with holes
FIELD_FILES = ('ee_field_130.wkt', 'test.json', 'test_2_cell.json', 'test1.xml', 'test_ring.json')


def _maps(args: argparse.Namespace) -> list[tuple[str, object]]:
    from mower_maps import load_map
    from mower_maps.importers import load_field

    out = [(Path(m).stem, load_map(m)) for m in sorted(args.maps)]
    data = Path(args.fields) if args.fields else None
    if data is not None and data.is_dir():
        for name in FIELD_FILES:
            if (data / name).exists():
                out.append(
                    (
                        f'f2c:{name}@{args.field_area:.0f}m²',
                        load_field(data / name, args.field_area),
                    )
                )
        if (data / AS_IS_FIELD).exists():  # one real field at full size, as a scale test
            out.append((f'f2c:{AS_IS_FIELD} as-is', load_field(data / AS_IS_FIELD)))
    elif data is not None:
        print(f'note: {data} not found; the Fields2Cover fields are skipped', file=sys.stderr)
    return out


def _pin_to_one_core() -> str:
    """Run on one core, as the goals are stated (Linux); say which, or why not."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return str(cpu)
    except (AttributeError, OSError):
        return 'not pinned (no sched_setaffinity here)'


def bench_plan(args: argparse.Namespace) -> int:
    """Plan every map ``repeat`` times; print quality figures and the median time."""
    from mower_coverage import CoveragePlanner, PlannerParams, PlanningError
    from mower_coverage.metrics import evaluate
    from mower_coverage.planner import params_for_map

    cpu = _pin_to_one_core()
    print(
        f'coverage planner: {args.repeat} runs per map, median planning time, pinned to CPU {cpu}'
    )
    header = (
        f'{"map":34} {"area m²":>8} {"violations":>10} {"reach %":>8} {"cover %":>8} '
        f'{"cut off m²":>10} {"len/bound":>9} {"turns":>6} {"median s":>9} {"max s":>8}'
    )
    print(header)
    print('-' * len(header))
    worst_reach, total_viol, fails = 100.0, 0, 0
    for name, lawn in _maps(args):
        params = params_for_map(PlannerParams(), lawn)
        times = []
        try:
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                plan = CoveragePlanner(params).plan(lawn)
                times.append(time.perf_counter() - t0)
        except PlanningError as exc:
            print(f'{name:34} planning failed: {exc}')
            fails += 1
            continue
        m = evaluate(plan.area, plan.path, params.cut_width_m)
        worst_reach = min(worst_reach, m.coverage_reachable_pct)
        total_viol += m.violations
        med = statistics.median(times)
        print(
            f'{name:34} {m.mowable_m2:8.0f} {m.violations:10d} '
            f'{m.coverage_reachable_pct:8.3f} {m.coverage_pct:8.2f} {m.unreachable_m2:10.1f} '
            f'{m.length_ratio:9.3f} '
            f'{m.turns:6d} {med:9.4f} {max(times):8.4f}'
        )
        if name == 'large_lawn':
            print(
                f'{"":34} large lawn: median {med:.4f} s = {med / PLAN_GOAL_S:.2f} x the '
                f'{PLAN_GOAL_S} s goal'
            )
    print(
        f'summary: violations {total_viol}, worst reachable coverage {worst_reach:.3f}% '
        f'(goal >= 99.5), planning failures {fails}'
    )
    return 0 if total_viol == 0 and worst_reach >= 99.5 and fails == 0 else 1


SIM_FPS_GOAL = 100.0  # camera frames/s at 320x240 on one core
SIM_RT_GOAL = 50.0  # physics real-time factor with the camera at 10 Hz


def bench_sim(args: argparse.Namespace) -> int:
    """Simulator throughput: physics steps/s, camera frames/s, real-time factors (medians)."""
    os.environ.setdefault('MUJOCO_GL', 'egl')
    from mower_maps import load_map
    from mower_sim.sim import LawnSim

    cpu = _pin_to_one_core()
    lawn = load_map(args.map)
    sim = LawnSim(lawn, seed=0)
    sim.command(0.4, 0.2, True)
    sim.run(1.0)
    r = sim._renderer
    steps, phys, rgb, full, rt10 = 2500, [], [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        sim.step(steps)
        phys.append(steps / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(50):
            r.update_scene(sim.data, camera='front')
            r.render()
        rgb.append(50 / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(50):
            sim.camera()
        full.append(50 / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(10):  # one simulated second: 10 frames with labels
            sim.step(int(round(0.1 / sim.model.opt.timestep)))
            sim.camera()
        rt10.append(1.0 / (time.perf_counter() - t0))
    dt = sim.model.opt.timestep
    med = statistics.median
    print(
        f'simulator on {lawn.name}: {args.repeat} repeats, medians, pinned to CPU {cpu}, '
        f'timestep {dt * 1000:.0f} ms, camera 320x240'
    )
    print(f'  physics: {med(phys):,.0f} steps/s = {med(phys) * dt:.0f}x real time (no camera)')
    print(
        f'  camera RGB: {med(rgb):.0f} frames/s = {med(rgb) / SIM_FPS_GOAL:.2f}x the '
        f'{SIM_FPS_GOAL:.0f} frames/s goal'
    )
    print(f'  camera RGB + labels + noise: {med(full):.0f} frames/s')
    print(
        f'  physics with RGB + labels at 10 Hz: {med(rt10):.1f}x real time = '
        f'{med(rt10) / SIM_RT_GOAL:.2f}x the {SIM_RT_GOAL:.0f}x goal (bounded by rendering: '
        f'10 frames per simulated second cost 10 / fps seconds)'
    )
    sim.close()
    return 0


FUSE_GOAL_MS = 2.0  # project and fuse one 320x240 label image, one core


def bench_map(args: argparse.Namespace) -> int:
    """Time to project and fuse one 320x240 label image into the semantic grid (median)."""
    os.environ.setdefault('MUJOCO_GL', 'egl')
    import math

    from mower_mapping.mapper import PARAMETERS as MAPPING
    from mower_mapping.semantic_grid import SemanticGrid
    from mower_maps import load_map
    from mower_perception.camera_model import CameraModel, Mounting, ground_lut
    from mower_sim.sim import LawnSim

    cpu = _pin_to_one_core()
    lawn = load_map(args.map)
    sim = LawnSim(lawn, seed=0)
    m = sim.mower
    cam = CameraModel.from_fov(
        m.image_width,
        m.image_height,
        m.camera_fovy_deg,
        Mounting(m.camera_x_m, 0.0, m.camera_z_m, 0.0, math.radians(m.camera_pitch_deg), 0.0),
    )
    lut = ground_lut(cam, stride=MAPPING['lut_stride'][0], max_range_m=4.5)
    minx, miny, maxx, maxy = lawn.boundary.bounds
    frames = []
    for k in range(20):  # real label images from around the lawn
        sim.set_pose(minx + 1 + (maxx - minx - 2) * k / 20, (miny + maxy) / 2, k * 0.7)
        frames.append(sim.camera())
    grid = SemanticGrid((minx - 2, miny - 2), maxx - minx + 4, maxy - miny + 4)
    times = []
    for _ in range(args.repeat):
        for f in frames:
            t0 = time.perf_counter()
            grid.fuse(f.labels, lut, f.pose, 0.005, 0.01)
            times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    print(
        f'mapping on {lawn.name}: project + fuse one 320x240 label image ({len(lut.xy)} '
        f'ground samples, 5 cm grid), {len(times)} fusions, pinned to CPU {cpu}'
    )
    print(
        f'  median {med:.3f} ms, p99 {float(np.percentile(times, 99)):.3f} ms = '
        f'{med / FUSE_GOAL_MS:.2f}x the {FUSE_GOAL_MS} ms goal'
    )
    sim.close()
    return 0


def bench_control(args: argparse.Namespace) -> int:
    """A whole mission on the demo lawn, closed loop: cross-track on stripes, step times."""
    os.environ.setdefault('MUJOCO_GL', 'egl')
    import math

    from mower_control.follower import PathFollower
    from mower_coverage import CoveragePlanner, PlannerParams, params_for_map
    from mower_coverage.route import KINDS
    from mower_maps import load_map
    from mower_offline.closed_loop import ClosedLoop, LoopConfig
    from mower_sim.sim import LawnSim

    cpu = _pin_to_one_core()
    lawn = load_map(args.map)
    plan = CoveragePlanner(params_for_map(PlannerParams(), lawn)).plan(lawn)
    pts, kinds = plan.path.points, plan.path.kinds
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    sim = LawnSim(lawn, seed=0, render=False)
    loop = ClosedLoop(
        sim, LoopConfig(pose_noise_m=args.pose_noise), pts, kinds, plan.area.drive_region
    )
    loop.record = False
    step_times: list[float] = []
    real_step = PathFollower.step

    def timed_step(self, *a, **kw):
        t0 = time.perf_counter()
        out = real_step(self, *a, **kw)
        step_times.append(time.perf_counter() - t0)
        return out

    PathFollower.step = timed_step
    cross: list[float] = []
    states: list[str] = []
    loop.mission.request('start')
    t_wall = time.perf_counter()
    tick_times = []
    try:
        while sim.time_s < args.limit_s:
            t0 = time.perf_counter()
            tick = loop.step()
            tick_times.append(time.perf_counter() - t0)
            if not states or states[-1] != tick.mission.state:
                states.append(tick.mission.state)
            if tick.mission.state == 'IDLE' and len(states) > 2:
                break
            s = loop.mission.progress_m
            i = int(np.clip(np.searchsorted(cum, s, side='right') - 1, 0, len(kinds) - 1))
            if (
                tick.mission.state == 'MOWING'
                and tick.follower.mode == 'following'
                and kinds[i] == KINDS.index('stripe')
                and cum[i] + 0.05 < s < cum[i + 1] - 0.05
            ):
                a, b = pts[i], pts[i + 1]
                d = (b - a) / np.hypot(*(b - a))
                x, y, _ = sim.pose
                cross.append(float(d[0] * (y - a[1]) - d[1] * (x - a[0])))
    finally:
        PathFollower.step = real_step
    wall = time.perf_counter() - t_wall
    c = np.abs(np.asarray(cross))
    rms = math.sqrt(float(np.mean(c**2))) if len(c) else math.nan
    ev = sim.events
    print(
        f'control on {lawn.name}: a whole mission closed loop (mission -> follower -> safety '
        f'-> motor driver -> simulated board -> MuJoCo), {args.pose_noise * 100:.1f} cm pose '
        f'noise, pinned to CPU {cpu}'
    )
    print(
        f'  states: {" -> ".join(states)}; {sim.time_s:.0f} s simulated in {wall:.1f} s '
        f'({sim.time_s / wall:.0f}x real time without the camera)'
    )
    print(
        f'  mowed {sim.mowed_area_m2(lawn.mowable_area()):.1f} of '
        f'{lawn.mowable_area().area:.1f} m² mowable; collisions {ev.collisions}, boundary '
        f'exits {ev.boundary_exits}, keep-out entries {ev.keepout_entries}'
    )
    print(
        f'  cross-track on stripes (true pose, {len(c)} samples at 50 Hz): RMS '
        f'{rms * 100:.2f} cm = {rms / 0.03:.2f}x the 3 cm goal; p95 '
        f'{float(np.percentile(c, 95)) * 100:.2f} cm, max {float(c.max()) * 100:.2f} cm'
    )
    print(
        f'  controller step (regulated pure pursuit): median '
        f'{statistics.median(step_times) * 1e6:.0f} us, p99 '
        f'{float(np.percentile(step_times, 99)) * 1e6:.0f} us over {len(step_times)} steps'
    )
    print(
        f'  whole control tick incl. safety, mission, driver and 5 physics steps: median '
        f'{statistics.median(tick_times) * 1e3:.3f} ms'
    )
    _reaction_times(lawn, plan)
    return 0


def _reaction_times(lawn, plan) -> None:
    """Simulated time from each safety event to the blade stopping (the 100 ms goal)."""
    import math

    from mower_coverage.route import KINDS
    from mower_offline.closed_loop import ClosedLoop, LoopConfig
    from mower_sim.sim import LawnSim

    pts, kinds = plan.path.points, plan.path.kinds
    i = int(np.flatnonzero(kinds == KINDS.index('stripe'))[3])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    heading = math.atan2(*(pts[i + 1] - pts[i])[::-1])
    results = {}
    for event in ('emergency stop', 'tilt', 'lift', 'command silence'):
        sim = LawnSim(lawn, seed=1, render=False)
        sim.set_pose(float(pts[i, 0]), float(pts[i, 1]), heading)
        loop = ClosedLoop(sim, LoopConfig(), pts, kinds, plan.area.drive_region)
        loop.mission.progress_m = float(cum[i]) + 0.3
        loop.mission.request('start')
        loop.run(3.0)
        t0 = sim.time_s
        if event == 'emergency stop':
            loop.safety.emergency_stop(True, t0)
        elif event == 'tilt':
            sim.push(torque_nm=(25.0 * math.cos(heading), 25.0 * math.sin(heading), 0.0))
            while sim.tilt_rad <= loop.cfg.safety.tilt_limit_rad:
                loop.step()
            t0 = sim.time_s
        elif event == 'lift':
            sim.push(force_n=(0.0, 0.0, 125.0))
        else:
            loop.commands_enabled = False
        t_blade = t_wheels = None
        while sim.time_s < t0 + 3.0 and (t_blade is None or t_wheels is None):
            tick = loop.step()
            if t_blade is None and not sim.blade_on:
                t_blade = sim.time_s - t0
            if t_wheels is None and tick.safety.v_mps == 0.0 and tick.safety.w_radps == 0.0:
                t_wheels = sim.time_s - t0
        results[event] = (t_blade, t_wheels)
    print(
        '  safety reactions in simulated time (event -> blade off at the motor, wheels '
        'commanded to zero):'
    )
    for event, (tb, tw) in results.items():
        blade = f'blade {tb * 1000:.0f} ms' if tb is not None else 'blade stays on'
        print(f'    {event:16s} {blade:>18s}, wheels {tw * 1000:.0f} ms')


REPLAY_GOAL = 10.0  # times faster than bag time


def bench_replay(args: argparse.Namespace) -> int:
    """Replay speed on a simulated 320x240 10 Hz camera bag (recorded first by ``mower sim``)."""
    import tempfile

    from mower_maps import load_map
    from mower_offline.replay import Replay, ReplayConfig
    from mower_offline.run import DEMO_HIDDEN, MowingRun, RunConfig

    tmp = Path(tempfile.mkdtemp(prefix='mower-bench-replay-'))
    lawn = load_map(args.map)
    t0 = time.perf_counter()
    run = MowingRun(
        lawn,
        tmp / 'sim',
        RunConfig(
            hidden=DEMO_HIDDEN if lawn.name == 'demo lawn' else (),
            camera_hz=10.0,
            bag_camera_hz=10.0,
            limit_s=args.bag_s,
        ),
    )
    res = run.run(progress=False)
    bag = res.summary['bag']
    frames = res.summary['bag_counts'].get('/camera/image_raw/compressed', 0)
    print(
        f'recorded {args.bag_s:.0f} s of {lawn.name} with a 320x240 camera at 10 Hz '
        f'({frames} frames) in {time.perf_counter() - t0:.1f} s'
    )
    speeds, seg = [], []
    for i in range(args.repeat):
        s = Replay(bag, tmp / f'replay{i}', ReplayConfig()).run(progress=False)
        speeds.append(s['replay_speed'])
        seg.append(s['segmentation_ms_mean'])
    med = statistics.median(speeds)
    print(
        f'replay (segmentation on its own thread, mapping, coverage, output bag and video), '
        f'{args.repeat} runs: median {med:.1f}x bag time = {med / REPLAY_GOAL:.2f}x the '
        f'{REPLAY_GOAL:.0f}x goal; segmentation {statistics.median(seg):.2f} ms per frame'
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


TRANSIT_BUILD_GOAL_S = 1.0  # transit planner build for a lawn with 500 obstacles


def _obstacle_field(n: int, seed: int = 0, size_m: float = 30.0):
    """A square lawn with ``n`` small obstacles (0.2-0.5 m boxes and octagons).

    As the mission gets it: the free area eroded by half the default 0.4 m body (its largest
    part).
    """
    import shapely

    from mower_coverage.area import erode
    from mower_coverage.geometry import polygons_of

    rng = np.random.default_rng(seed)
    obstacles = []
    for _ in range(n):
        x, y = rng.uniform(1.0, size_m - 1.0, 2)
        s = float(rng.uniform(0.2, 0.5))
        if rng.random() < 0.5:
            obstacles.append(shapely.Point(x, y).buffer(s / 2, quad_segs=2))
        else:
            obstacles.append(
                shapely.affinity.rotate(
                    shapely.box(x - s / 2, y - s / 2, x + s / 2, y + s / 2), rng.uniform(0, 90)
                )
            )
    free = shapely.box(0, 0, size_m, size_m).difference(shapely.union_all(obstacles))
    return max(polygons_of(erode(free, 0.2 + 1e-4)), key=lambda p: p.area)


def bench_transit(args: argparse.Namespace) -> int:
    """Transit planner on lawns with many obstacles: build and query times (medians)."""
    import shapely

    from mower_coverage import transit
    from mower_coverage.transit import TransitPlanner, path_length

    cpu = _pin_to_one_core()
    size = 30.0
    print(
        f'transit planner: {size:.0f} x {size:.0f} m lawn with N obstacles of 0.2-0.5 m, '
        f'{args.repeat} builds per N (cold cache) and {args.queries} queries after each '
        f'(two diagonals, the rest random), pinned to CPU {cpu}'
    )
    header = (
        f'{"obstacles":>9} {"holes":>6} {"nodes":>6} {"build s":>8} {"/ goal":>7} '
        f'{"same region s":>13} {"query s":>8} {"max query s":>11} {"path / line":>11}'
    )
    print(header)
    print('-' * len(header))
    worst = 0.0
    for n in args.obstacles:
        region = _obstacle_field(n, seed=args.seed, size_m=size)
        builds, again, queries, stretch = [], [], [], []
        for r in range(args.repeat):
            transit.clear_cache()
            t0 = time.perf_counter()
            tp = TransitPlanner(region)
            builds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            TransitPlanner(shapely.from_wkb(shapely.to_wkb(region)))  # equal, not the same
            again.append(time.perf_counter() - t0)
            rng = np.random.default_rng(r)
            ends = [
                np.array([[0.5, 0.5], [size - 0.5, size - 0.5]]),
                np.array([[0.5, size - 0.5], [size - 0.5, 0.5]]),
            ]
            ends += [rng.uniform(0.5, size - 0.5, (2, 2)) for _ in range(args.queries - 2)]
            for a, b in ends[: args.queries]:
                t0 = time.perf_counter()
                path = tp.plan(a, b)
                queries.append(time.perf_counter() - t0)
                if path is not None:
                    stretch.append(path_length(path) / max(float(np.hypot(*(b - a))), 1e-9))
        med = statistics.median(builds)
        if n == max(args.obstacles):
            worst = med
        print(
            f'{n:9d} {len(region.interiors):6d} {len(tp.vertices):6d} {med:8.3f} '
            f'{med / TRANSIT_BUILD_GOAL_S:6.2f}x {statistics.median(again):13.4f} '
            f'{statistics.median(queries):8.3f} {max(queries):11.3f} '
            f'{statistics.median(stretch) if stretch else math.nan:11.4f}'
        )
    print(
        f'{max(args.obstacles)} obstacles: build {worst:.3f} s = '
        f'{worst / TRANSIT_BUILD_GOAL_S:.2f}x the {TRANSIT_BUILD_GOAL_S:.0f} s goal '
        f'(before: every node pair tested when built, 134 s in issue 16)'
    )
    # a replan: one obstacle more (the same draws, one further), after the two diagonals
    n = max(args.obstacles)
    after = _obstacle_field(n + 1, seed=args.seed, size_m=size)
    full, update = [], []
    for _ in range(args.repeat):
        transit.clear_cache()
        t0 = time.perf_counter()
        TransitPlanner(after)
        full.append(time.perf_counter() - t0)
        transit.clear_cache()
        tp = TransitPlanner(_obstacle_field(n, seed=args.seed, size_m=size))
        for a, b in ends[:2]:
            tp.plan(a, b)
        t0 = time.perf_counter()
        st = tp.updated(after).stats
        update.append(time.perf_counter() - t0)
    upd, reb = statistics.median(update), statistics.median(full)
    print(
        f'replan, one obstacle added to {n}: update {upd:.3f} s vs full rebuild {reb:.3f} s '
        f'= {upd / reb:.2f}x; {st.rings_simplified} of {st.rings} rings simplified, '
        f'{st.parts_inscribed} of {st.parts} discs, {st.known_kept} of '
        f'{st.known_kept + st.known_dropped} tested node pairs kept'
    )
    return 0


LARGE_START_GOAL_S = 10.0  # process start to the first simulated second, 3 ha lawn
LARGE_MEMORY_GOAL_GB = 2.0  # peak resident memory of that run (10^9 bytes)
LARGE_BEFORE_S, LARGE_BEFORE_GB = 63.0, 11.8  # issue 16's figures before the fix


def _large_lawn(args: argparse.Namespace):
    """The lawn of ``bench large``: a field file as it is (when given and present), else 3 ha."""
    from mower_sim.scenario import large_lawn

    if args.field:
        path = Path(args.field)
        if path.exists():
            from mower_maps.importers import load_field

            return load_field(path), f'{path.name}, as it is'
        print(f'note: {path} not found; a generated 3 ha lawn instead', file=sys.stderr)
    return large_lawn(30000.0), 'generated'


def _timed_child(cmd: list[str], log: Path) -> tuple[int, float, float, float]:
    """Run ``cmd``: its exit code, wall seconds, CPU seconds and peak resident memory (GB).

    The CPU time and the memory are the child's own (``os.wait4``), not the largest child's.
    """
    import subprocess

    t0 = time.perf_counter()
    with log.open('wb') as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, time.perf_counter() - t0, cpu, usage.ru_maxrss * 1024 / 1e9


def bench_large(args: argparse.Namespace) -> int:
    """``mower sim`` on a 3 ha lawn: time to the first simulated second, peak memory."""
    import json
    import tempfile

    from mower_maps import map_to_geojson

    lawn, what = _large_lawn(args)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else math.nan
    print(
        f'large lawn: {lawn.name!r} ({what}), {lawn.boundary.area / 10000:.2f} ha, '
        f'`mower sim --limit-s {args.limit_s:g} --json` in a subprocess, {args.repeat} runs, '
        f'medians, {cpus} CPUs, load average {load:.1f}'
    )
    starts, peaks, walls = [], [], []
    with tempfile.TemporaryDirectory(prefix='mower-bench-large-') as tmp:
        map_path = Path(tmp) / 'lawn.geojson'
        map_path.write_text(json.dumps(map_to_geojson(lawn)))
        for k in range(args.repeat):
            out = Path(tmp) / f'run{k}'
            cmd = [sys.executable, '-m', 'mower_cli.main', 'sim', str(map_path)]
            cmd += ['--limit-s', f'{args.limit_s:g}', '--json', '--out', str(out)]
            if args.no_bag:
                cmd.append('--no-bag')
            log = Path(tmp) / f'run{k}.log'
            code, wall, cpu, peak = _timed_child(cmd, log)
            try:  # a run stopped by the limit exits 1 (not back on the dock): its summary counts
                summary = json.loads((out / 'report.json').read_text())
                start = float(summary['first_second_wall_s'])
            except (OSError, ValueError, KeyError, TypeError):
                tail = log.read_text(errors='replace')[-2000:]
                print(f'run {k + 1} failed (exit {code}):\n{tail}', file=sys.stderr)
                return 1
            starts.append(start)
            peaks.append(peak)
            walls.append(wall)
            print(
                f'  run {k + 1}: first simulated second after {start:.2f} s, peak {peak:.2f} GB, '
                f'{wall:.1f} s ({cpu:.1f} s of CPU) in all, with the report'
            )
    med = statistics.median
    print(
        f'start (process start to the first simulated second): {med(starts):.2f} s = '
        f'{med(starts) / LARGE_START_GOAL_S:.2f}x the {LARGE_START_GOAL_S:.0f} s goal '
        f'(before: {LARGE_BEFORE_S:.0f} s in issue 16)'
    )
    print(
        f"peak memory (the run's own maximum resident set): {med(peaks):.2f} GB = "
        f'{med(peaks) / LARGE_MEMORY_GOAL_GB:.2f}x the {LARGE_MEMORY_GOAL_GB:.0f} GB goal '
        f'(before: {LARGE_BEFORE_GB} GB in issue 16)'
    )
    print(f'whole run, {args.limit_s:g} s simulated and the report: {med(walls):.1f} s')
    return 0


def add_bench_parser(sub) -> None:
    """Register ``mower bench``."""
    p = sub.add_parser('bench', help='benchmarks (medians and ratios)')
    bench_sub = p.add_subparsers(dest='bench_command', required=True)
    b = bench_sub.add_parser('plan', help='coverage planner on every map')
    b.add_argument('maps', nargs='*', default=None, help='lawn maps (default: maps/*.geojson)')
    b.add_argument('--repeat', type=int, default=5, help='runs per map (default 5)')
    b.add_argument(
        '--fields', default=None, help='folder of Fields2Cover fields to import and plan too'
    )
    b.add_argument(
        '--field-area',
        type=float,
        default=2000.0,
        help='scale imported fields to this area in m² (default 2000)',
    )
    b.set_defaults(func=_bench_plan_entry)
    b = bench_sub.add_parser('map', help='semantic grid: project and fuse time')
    b.add_argument('--map', default='maps/demo_lawn.geojson', help='lawn map (default demo)')
    b.add_argument('--repeat', type=int, default=20, help='passes over 20 frames')
    b.set_defaults(func=bench_map)
    b = bench_sub.add_parser('control', help='path following and safety, closed loop')
    b.add_argument('--map', default='maps/demo_lawn.geojson', help='lawn map (default demo)')
    b.add_argument(
        '--pose-noise',
        type=float,
        default=0.0,
        help='white noise on the pose the controller sees (m, default 0)',
    )
    b.add_argument(
        '--limit-s', type=float, default=6000.0, help='simulated time limit (s, default 6000)'
    )
    b.set_defaults(func=bench_control)
    b = bench_sub.add_parser('replay', help='bag replay speed on a simulated camera bag')
    b.add_argument('--map', default='maps/demo_lawn.geojson', help='lawn map (default demo)')
    b.add_argument('--bag-s', type=float, default=60.0, help='simulated seconds to record')
    b.add_argument('--repeat', type=int, default=3, help='replays (default 3)')
    b.set_defaults(func=bench_replay)
    b = bench_sub.add_parser('transit', help='transit planner with many obstacles')
    b.add_argument(
        '--obstacles',
        type=int,
        nargs='+',
        default=[50, 200, 500],
        help='obstacle counts (default 50 200 500)',
    )
    b.add_argument('--repeat', type=int, default=3, help='builds per count (default 3)')
    b.add_argument(
        '--queries', type=int, default=5, help='queries after each build (default 5, at least 2)'
    )
    b.add_argument('--seed', type=int, default=0, help='obstacle layout (default 0)')
    b.set_defaults(func=bench_transit)
    b = bench_sub.add_parser('large', help='mower sim on a 3 ha lawn: start time, peak memory')
    b.add_argument(
        '--field',
        default=None,
        help='a field file to run as it is (e.g. Fields2Cover test.json); '
        'default or when missing: a generated 3 ha lawn',
    )
    b.add_argument('--repeat', type=int, default=3, help='runs (default 3)')
    b.add_argument(
        '--limit-s', type=float, default=3.0, help='simulated seconds per run (default 3)'
    )
    b.add_argument('--no-bag', action='store_true', help='runs without the rosbag2 file')
    b.set_defaults(func=bench_large)
    b = bench_sub.add_parser('discover', help='discovery from the dock: IoU, Hausdorff, time')
    b.add_argument(
        '--maps',
        nargs='*',
        default=[
            'maps/demo_lawn.geojson',
            'maps/l_shaped_lawn.geojson',
            'maps/back_garden.geojson',
        ],
        help='lawn maps (default: demo_lawn, l_shaped_lawn, back_garden; large_lawn takes '
        'about 20-25 minutes)',
    )
    b.add_argument(
        '--gardens',
        type=integer(0, 1000),
        default=0,
        help='random gardens (seeds 0 to N-1, two hidden obstacles each) after the maps',
    )
    b.add_argument('--mow', action='store_true', help='then mow each discovered map and score it')
    b.add_argument(
        '--limit-s', type=POSITIVE, default=7200.0, help='simulated discovery limit (default 2 h)'
    )
    b.add_argument('--seed', type=int, default=0, help='pose-error and world seed (default 0)')
    b.set_defaults(func=bench_discover)
    b = bench_sub.add_parser('sim', help='simulator throughput')
    b.add_argument('--map', default='maps/demo_lawn.geojson', help='lawn map (default demo)')
    b.add_argument('--repeat', type=int, default=5, help='repeats (default 5)')
    b.set_defaults(func=bench_sim)
    add_app_bench(bench_sub)


def _bench_plan_entry(args: argparse.Namespace) -> int:
    if not args.maps:
        args.maps = [str(p) for p in sorted(Path('maps').glob('*.geojson'))]
    return bench_plan(args)


def bench_discover(args: argparse.Namespace) -> int:
    """Discovery on each map and random garden (pose-error model on): figures beside goals.

    Random gardens (:func:`mower_sim.scenario.random_garden`, seeds 0 to N-1) get two hidden
    obstacles each. With ``--mow`` the discovered map is then mowed in the same world and
    scored against the true map (goal: 98 % of the true reachable lawn, 0 keep-out entries,
    0 collisions).
    """
    import tempfile

    from mower_maps import load_map
    from mower_offline.discover_run import DiscoverConfig, discover_map, summary_line
    from mower_sim.scenario import random_garden, random_hidden

    mow_goals = (
        '; then mowing the discovered map: >= 98 % of the true reachable lawn, 0 keep-out '
        'entries, 0 collisions'
    )
    print(
        'discovery from the dock, simulator labels, pose-error model on (goals: IoU >= 0.97, '
        'Hausdorff <= 0.25 m, keep-outs found with IoU >= 0.8, 0 exits and keep-out entries'
        + (mow_goals if args.mow else '')
        + ')'
    )
    lawns: list[tuple[Any, tuple[Any, ...]]] = [(load_map(path), ()) for path in args.maps]
    for seed in range(args.gardens):
        garden = random_garden(seed)
        lawns.append((garden, random_hidden(garden, 2, seed)))
    failed, rates = 0, []
    for lawn, hidden in lawns:
        cfg = DiscoverConfig(seed=args.seed, hidden=hidden, limit_s=args.limit_s)
        with tempfile.TemporaryDirectory() as tmp:
            try:
                draft, result = discover_map(lawn, Path(tmp) / 'discover', cfg)
            except RuntimeError as exc:
                print(f'  {lawn.source or lawn.name}: {exc}')
                failed += 1
                continue
            score = result.score
            met = (  # the score's own goals, and nothing left the lawn
                all(score['goals_met'].values())
                and score['boundary_exits'] == 0
                and score['keepout_entries'] == 0
            )
            rates.append(score['time_per_100m2_s'])
            extra = f', {len(hidden)} hidden obstacle(s)' if hidden else ''
            print(f'  {summary_line(score)}{extra}')
            print(
                f'    IoU / 0.97 = {score["iou"] / 0.97:.3f}; against the lawn reachable with '
                f"the explorer's clearance: IoU {score.get('iou_reachable', math.nan):.3f}, "
                f'Hausdorff {score.get("hausdorff_reachable_m", math.nan):.2f} m'
            )
            if args.mow:
                mowed = _bench_mow_discovered(draft, lawn, hidden, args.seed, Path(tmp) / 'mow')
                met = met and mowed
            print(f'    goals {"met" if met else "NOT met"}')
        failed += not met
    if rates:
        print(f'time to discover: median {statistics.median(rates):.0f} s per 100 m² of lawn')
    print(f'goals met on {len(lawns) - failed} of {len(lawns)} lawn(s)')
    return 0


def _bench_mow_discovered(draft: Any, truth: Any, hidden: Any, seed: int, out: Path) -> bool:
    """Mow the discovered ``draft`` in the world of ``truth``; print the figures; goals met."""
    from mower_offline.run import MowingRun, RunConfig

    run = MowingRun(draft, out, RunConfig(seed=seed, hidden=hidden, record=False), world=truth)
    s = run.run(progress=False).summary
    print(
        f'    mowing the discovered map: {s["coverage_pct"]:.2f} % of the true reachable lawn, '
        f'{s["keepout_entries"]} keep-out entries, {s["collisions"]} collisions, '
        f'{s["boundary_exits"]} boundary exits, ended {s["final_state"]} '
        f'({s["sim_time_s"]:.0f} s simulated)'
    )
    return bool(
        s['coverage_pct'] >= 98.0
        and s['keepout_entries'] == 0
        and s['collisions'] == 0
        and s['final_state'] == 'IDLE'
    )
