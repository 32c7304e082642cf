"""A whole mowing run in simulation, closed loop, recorded as a rosbag2 file, with a report.

camera (MuJoCo) -> segmentation (the shipped int8 model, best available provider) -> semantic
grid and mowed layer -> coverage planning (replanned when the camera finds an obstacle the plan
runs into) -> mission -> path following -> safety supervisor -> motor driver (simulation
transport) -> simulated board -> MuJoCo, all in simulated time, with the parameters of
config/*.yaml: the same core components the ROS nodes wrap.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from mower_bringup import share_dir
from mower_control.driver import DriverParams
from mower_control.follower import FollowerParams
from mower_control.mission import MissionParams
from mower_control.parameters import build, node_yaml
from mower_control.safety import SafetyParams, SafetySupervisor, fence_region
from mower_coverage import CoveragePlanner, PlannerParams, PlanningError, params_for_map
from mower_coverage.area import erode
from mower_coverage.handoff import PlanHandoff, remaining
from mower_coverage.planner import Plan
from mower_coverage.replan import ReplanParams, ReplanPolicy
from mower_maps import LawnMap, MapError
from mower_maps.tiles import TiledRaster
from mower_offline.bag import BagRecorder, MessageSink, tee
from mower_offline.closed_loop import ClosedLoop, LoopConfig
from mower_offline.ground_truth import GroundTruth
from mower_offline.operated_run import SimOperator
from mower_offline.out_dir import StopRequest
from mower_offline.run_recorder import RunRecorder
from mower_offline.schedule import Every, Pacer
from mower_sim.sim import LawnSim
from mower_sim.world import HiddenObstacle, WorldConfig

CONFIG = share_dir() / 'config'  # mower_bringup's share, or the checkout's
DEMO_HIDDEN = (
    HiddenObstacle('rock', 7.5, 2.05, 0.4),
    HiddenObstacle('toy', 12.6, 7.3, 0.3),
    HiddenObstacle('pet', 3.2, 2.5, 0.45),
)


_LOADED_S = time.perf_counter()


def process_uptime_s() -> float:
    """Wall seconds since this process started (Linux; elsewhere since this module loaded)."""
    try:
        stat = Path('/proc/self/stat').read_text().rsplit(')', 1)[1].split()
        started = int(stat[19]) / os.sysconf('SC_CLK_TCK')  # field 22: starttime, in ticks
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _LOADED_S


class RunError(RuntimeError):
    """A run that cannot be done (the mission refuses to start); says why in one line."""


@dataclass
class RunConfig:
    """How a run is done. Units are in the names."""

    seed: int = 0
    hidden: tuple[HiddenObstacle, ...] = ()
    camera_hz: float = 2.0  # perception rate in the loop
    perception: str = 'model'  # 'model' or 'truth' (the simulator's labels)
    limit_s: float = 4 * 3600.0  # simulated time limit
    obstacle_check_s: float = 1.0  # how often detected obstacles are compared with the plan
    record: bool = True
    bag_camera_hz: float = 1.0  # compressed images, labels, their overlay in the bag
    bag_state_hz: float = 10.0  # odom, tf, cmd_vel
    bag_grid_s: float = 10.0  # grids
    config_dir: Path = CONFIG


def _planner_params(config_dir: Path) -> PlannerParams:
    values = node_yaml(config_dir / 'coverage.yaml', 'coverage_node')
    return PlannerParams(
        **{f.name: values[f.name] for f in fields(PlannerParams) if f.name in values}
    )


def loop_config(cfg: RunConfig) -> LoopConfig:
    """The loop's components with the parameters of config/*.yaml."""
    d = cfg.config_dir
    seg = node_yaml(d / 'segmentation.yaml', 'segmentation_node')
    controller = node_yaml(d / 'controller.yaml', 'controller_node')
    safety = node_yaml(d / 'safety.yaml', 'safety_node')
    return LoopConfig(
        camera_hz=cfg.camera_hz,
        perception=cfg.perception,
        providers=tuple(seg.get('execution_providers', ('cpu',))),
        follower=build(FollowerParams, controller),
        safety=build(SafetyParams, safety),
        mission=build(MissionParams, node_yaml(d / 'mission.yaml', 'mission_node')),
        driver=build(DriverParams, node_yaml(d / 'motor_driver.yaml', 'motor_driver_node')),
        mapping=node_yaml(d / 'mapping.yaml', 'mapping_node'),
        slow_threshold=int(controller['obstacle_threshold']),
        stop_threshold=int(safety['obstacle_threshold']),
    )


@dataclass
class RunResult:
    """What a run produced."""

    summary: dict[str, Any]
    out_dir: Path
    trajectory: np.ndarray  # (N, 2) true positions, sampled
    replan_xy: list[tuple[float, float]] = field(default_factory=list)
    found: list[Any] = field(default_factory=list)


class MowingRun:
    """The whole stack on one lawn in the MuJoCo world."""

    def __init__(
        self,
        lawn: LawnMap,
        out_dir: str | Path,
        config: RunConfig | None = None,
        world: LawnMap | None = None,
    ) -> None:
        """Plan, build the world and wire the loop.

        ``world`` is the map the simulated world is built from and the run is scored against
        (default: ``lawn``); the stack plans, fences and replans on ``lawn`` alone (a run on a
        discovered map, scored against the true one).
        """
        self.lawn = lawn
        world = lawn if world is None else world
        self.cfg = cfg = config or RunConfig()
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.base_params = _planner_params(cfg.config_dir)  # before a map's own settings
        self.planner_params = params_for_map(self.base_params, lawn)
        self.planner = CoveragePlanner(self.planner_params)
        self.plan: Plan = self.planner.plan(lawn)
        self.sim = LawnSim(world, WorldConfig(hidden=cfg.hidden), seed=cfg.seed)
        lc = loop_config(cfg)
        self.mapping = lc.mapping
        self.loop = ClosedLoop(
            self.sim, lc, *PlanHandoff.from_plan(self.plan).mission_args(), seed=cfg.seed
        )
        self.loop.record = False
        if world is not lawn:  # the geofence of the map the stack has, not of the world
            self.loop.safety = SafetySupervisor(lc.safety, fence_region(lawn))
            self.loop.mission.blade_off = lawn.blade_off_area()
        # the map the stack has, as mapping_node gets it (map_file, map/lawn): its flat
        # keep-outs explain the obstacle cells on them
        self.loop.mapper.set_lawn(lawn)
        self.layer = self.loop.mapper.coverage  # the mowed layer, kept by the mapping core
        self.loop.mission.mowed = self._mowed_lookup
        coverage_node = node_yaml(cfg.config_dir / 'coverage.yaml', 'coverage_node')
        self.policy = ReplanPolicy(
            lawn, self.planner_params.clearance_m, build(ReplanParams, coverage_node)
        )
        self.replans = 0
        self.replan_xy: list[tuple[float, float]] = []
        self.zone = 0  # the zone the plan covers (0: the whole lawn)
        self.truth = GroundTruth(
            self.sim,
            world,
            self.planner,
            cfg.hidden,
            self.mapping['obstacle_margin_m'],
            self.mapping['cut_width_m'],
        )
        self.truth_reachable = self.truth.reachable  # the area the coverage figure counts

    # -- ground truth (the simulator's: GroundTruth) --------------------------------------------
    @property
    def passes(self) -> TiledRaster:
        """Passes of the deck per 2 cm cell of the simulator's raster (GroundTruth.passes)."""
        return self.truth.passes

    def coverage_pct(self) -> float:
        """Share of the reachable mowable area mowed (simulator ground truth), percent."""
        return self.truth.coverage_pct()

    # -- mapping and replanning ----------------------------------------------------------------
    def _mowed_lookup(self, xy: np.ndarray) -> np.ndarray:
        """Mowed where the mission asks, read as the mission on the robot reads map/coverage."""
        return self.loop.mapper.published_coverage()(xy)

    def detected(self) -> list[Any]:
        """Obstacles in the semantic grid, as buffered polygons (what map/obstacles carries)."""
        return self.loop.mapper.obstacles() if self.loop.grid is not None else []

    @property
    def obstacles(self) -> list[Any]:
        """The detected obstacles the current plan goes around."""
        return list(self.policy.obstacles)

    def _check_obstacles(self, force: bool) -> None:
        """Replan when the replanning policy says so (coverage_node asks it the same way)."""
        m = self.loop.mission
        rest = None if m.plan_points is None else remaining(m.plan_points, m.progress_m)
        if self.policy.update(self.detected(), rest, force).replan:
            self._replan()

    def _plan_now(self) -> Plan:
        """Plan the policy's lawn with its mowing settings (a zone's own, or the map's)."""
        lawn = self.policy.lawn_for_planning()
        return CoveragePlanner(params_for_map(self.base_params, lawn)).plan(lawn)

    def _replan(self) -> None:
        self.plan = self._plan_now()
        self.replans += 1
        self.replan_xy.append(self.sim.pose[:2])
        self.loop.mission.set_plan(*PlanHandoff.from_plan(self.plan).mission_args())

    def set_map(self, lawn: LawnMap) -> tuple[bool, str]:
        """The owner saved a new map: plan on it, fence and drive by it from now on.

        The simulated world does not change (a new keep-out is the owner's wish, not a new
        flower bed): the run is still scored against the world's map. While mowing, mowing
        goes on along the new plan from its first unmowed point. A map the planner cannot
        plan is refused and nothing changes.
        """
        zone = self.zone if 0 < self.zone <= len(lawn.zones) else 0
        planning = lawn.zone_map(zone)
        before = self.policy.lawn
        self.policy.lawn = planning
        try:
            plan = self._plan_now()
        except PlanningError as exc:
            self.policy.lawn = before
            return False, f'the new map cannot be mowed: {exc}'
        self.lawn, self.zone, self.plan = lawn, zone, plan
        self.loop.safety.set_fence(fence_region(lawn))
        m = self.loop.mission  # as mission_node's use_map: the map's region decides the dock side
        m.set_map(m.dock_pose, erode(lawn.drivable_area(), plan.params.clearance_m), None)
        m.blade_off = planning.blade_off_area()
        self.replans += 1
        self.replan_xy.append(self.sim.pose[:2])
        self.loop.mission.set_plan(*PlanHandoff.from_plan(plan).mission_args())
        return True, f'the new map is in use: {plan.path.length_m:.0f} m planned'

    def start_zone(self, zone: int) -> tuple[bool, str]:
        """Plan for one zone of the map (0: the whole lawn) and start the mission on it.

        An operator's request (:class:`mower_offline.operated_run.SimOperator`): the other
        zones become drive-only (:meth:`mower_maps.LawnMap.zone_map`); the obstacles found so
        far stay in the plan. Refused, with the plan unchanged, in a state that cannot start.
        """
        state = self.loop.mission.state.name
        if state not in ('IDLE', 'CHARGING', 'ERROR'):
            return False, f'already {state}: pause and dock first'
        if self.loop.safety.latched:
            return False, f'reset the safety stop first: {", ".join(self.loop.safety.latched)}'
        try:
            lawn = self.lawn.zone_map(zone)
        except MapError as exc:
            return False, str(exc)
        self.policy.lawn = lawn
        self.zone = zone
        self.loop.mission.blade_off = lawn.blade_off_area()  # the other zones: driven only
        self.loop.mission.progress_m, self.loop.mission.complete = 0.0, False  # a new plan
        self._replan()
        ok, why = self.loop.mission.request('start')
        return ok, f'zone {zone}: {why}' if zone else why

    # -- the run -------------------------------------------------------------------------------
    def _step(self, operator: SimOperator | None, pacer: Pacer | None) -> Any:
        """One control tick: paced, with the operator's commands before it."""
        if pacer is not None:
            pacer.wait(self.sim.time_s)
        if operator is not None:
            operator.apply()
        tick = self.loop.step()
        if operator is not None:
            operator.observe(tick)
        return tick

    def _after_tick(self, tick: Any, check_timer: Every, truth_rate: Every, traj: list) -> None:
        """Replan when asked or when obstacles call for it; the simulator's truth at 5 Hz."""
        t = self.sim.time_s
        if tick.mission.replan:
            self._check_obstacles(force=True)
        elif self.loop.grid is not None and check_timer.due(t):
            self._check_obstacles(force=False)
        if truth_rate.due(t):
            self.truth.stamp_passes()
            traj.append(tuple(self.sim.pose[:2]))

    def run(
        self,
        progress: bool = True,
        events: list[tuple[float, Any]] | None = None,
        stop: StopRequest | None = None,
        operator: SimOperator | None = None,
        speed: float | None = None,
        live: MessageSink | None = None,
    ) -> RunResult:
        """Start the mission and step until it is back on the dock (or the limit).

        ``events``: (simulated time, function of this run) called once at that time, for
        scenarios (an emergency stop, rain, an operator's request). ``stop`` (set by a signal,
        :func:`mower_offline.out_dir.stop_on_signals`) ends the run at the next step; the
        summary then says ``"interrupted": true`` and which signal.

        With an ``operator`` the mower waits on the dock for its commands instead of starting,
        and the run goes on until ``stop`` or the time limit (not ending when the mission is
        back on the dock); ``speed``: simulated seconds per wall second (None: as fast as it
        goes), so that people and integrations can follow.

        ``live`` (:class:`mower_offline.foxglove_live.FoxgloveLive`) gets every message the bag
        gets, as they are made (with ``cfg.record`` off, only it); its owner closes it.
        """
        pending = sorted(events or [], key=lambda e: e[0])
        cfg, sim, loop = self.cfg, self.sim, self.loop
        bag = BagRecorder(self.out / 'bag') if cfg.record else None
        rec = RunRecorder(self, tee(bag, live))
        if operator is None:
            ok, why = loop.mission.request('start')
            if not ok:
                raise RunError(f'the mission did not start: {why}')
        else:
            operator.running.set()
        bar = _Bar(self, progress)
        pacer = Pacer(speed, stop=stop) if speed else None
        t_wall = time.perf_counter()
        t0 = sim.time_s
        truth_rate = Every(0.2, start_s=t0 + 0.2, aligned=True)  # passes and path at 5 Hz
        check_timer = Every(cfg.obstacle_check_s, start_s=t0)
        states: list[str] = []
        traj: list[tuple[float, ...]] = []
        first_second_s = None  # wall time from the process start to the first simulated second
        stopped_by = None
        try:
            while sim.time_s < cfg.limit_s:
                if stop:
                    stopped_by = stop.name
                    break
                while pending and sim.time_s >= pending[0][0]:
                    pending.pop(0)[1](self)
                tick = self._step(operator, pacer)
                if first_second_s is None and sim.time_s >= t0 + 1.0:
                    first_second_s = process_uptime_s()
                rec.tick(tick)
                if not states or states[-1] != tick.mission.state:
                    states.append(tick.mission.state)
                if operator is None and _finished(states, pending):
                    break
                self._after_tick(tick, check_timer, truth_rate, traj)
                bar.update(tick.mission.state, t_wall)
        finally:
            if operator is not None:
                operator.close()
            bar.close()
            loop.close()
            rec.finish()  # the final grids (nothing without a bag or a live view)
            if bag is not None:
                bag.close()
        wall = time.perf_counter() - t_wall
        found = self.truth.found(self.detected())
        ev = sim.events
        mowable = self.lawn.mowable_area()
        summary = {
            'map': self.lawn.name,
            'seed': cfg.seed,
            'coverage_pct': round(self.coverage_pct(), 3),
            'coverage_of_mowable_pct': round(100.0 * sim.mowed_area_m2(mowable) / mowable.area, 3),
            'reachable_m2': round(self.truth_reachable.area, 2),
            'mowable_m2': round(mowable.area, 2),
            'mowed_m2': round(sim.mowed_area_m2(self.lawn.boundary), 2),
            'collisions': ev.collisions,
            'boundary_exits': ev.boundary_exits,
            'keepout_entries': ev.keepout_entries,
            'replans': self.replans,
            'skipped': [[round(v, 2) for v in disc] for disc in loop.mission.skipped],
            'hidden_obstacles': len(cfg.hidden),
            'hidden_obstacles_found': sum(found),
            'sim_time_s': round(sim.time_s, 2),
            'wall_time_s': round(wall, 2),
            'realtime_factor': round(sim.time_s / wall, 2) if wall > 0 else None,
            'first_second_wall_s': None if first_second_s is None else round(first_second_s, 2),
            'distance_m': round(_length(traj), 2),
            'states': states,
            'final_state': states[-1] if states else 'IDLE',
            'message': loop.mission.message,
            'provider': getattr(loop.segmenter, 'provider', cfg.perception),
            'bag': str(self.out / 'bag') if cfg.record else None,
            'bag_counts': dict(bag.counts) if bag is not None else {},
            'interrupted': stopped_by is not None,
            'signal': stopped_by,
        }
        return RunResult(
            summary,
            self.out,
            np.asarray(traj).reshape(-1, 2),
            list(self.replan_xy),
            self.detected(),
        )


class _Bar:
    """The run's progress bar (tqdm) in simulated seconds; does nothing when off."""

    def __init__(self, run: MowingRun, on: bool) -> None:
        self.run, self.last = run, run.sim.time_s
        self.bar = None
        if on:
            from tqdm import tqdm

            self.bar = tqdm(
                total=round(run.plan.path.length_m / 0.4 + 60.0),  # an estimate
                unit='sim s',
                dynamic_ncols=True,
                desc=f'mowing {run.lawn.name}',
            )

    def update(self, state: str, t_wall0: float) -> None:
        """Every 5 simulated seconds: progress, state, mowed share, speed."""
        t = self.run.sim.time_s
        if self.bar is None or t - self.last < 5.0:
            return
        wall = time.perf_counter() - t_wall0
        self.bar.update(round(t - self.last))
        self.last = t
        self.bar.set_postfix_str(
            f'{state} mowed {self.run.coverage_pct():.1f}% {t / max(wall, 1e-9):.0f}x real time'
        )

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


def _finished(states: list[str], pending: list) -> bool:
    """A run ends back in IDLE after something else, or in ERROR with no event to come."""
    now = states[-1]
    return now == 'IDLE' and len(states) > 1 or now == 'ERROR' and not pending


def _length(traj: list) -> float:
    a = np.asarray(traj, dtype=float).reshape(-1, 2)
    return float(np.hypot(*np.diff(a, axis=0).T).sum()) if len(a) > 1 else 0.0


def write_summary(result: RunResult) -> Path:
    """report.json."""
    path = result.out_dir / 'report.json'
    path.write_text(json.dumps(result.summary, indent=2) + '\n')
    return path
