"""A whole mowing run in simulation, closed loop, recorded as a rosbag2 file, with a report.

camera (MuJoCo) -> segmentation (the shipped int8 model, best available provider) -> semantic
grid and mowed layer -> coverage planning (replanned when the camera finds an obstacle the plan
runs into) -> mission -> path following -> safety supervisor -> motor driver (simulation
transport) -> simulated board -> MuJoCo, all in simulated time, with the parameters of
config/*.yaml: the same core components the ROS nodes wrap.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import shapely

from mower_bringup import share_dir
from mower_control.driver import DriverParams
from mower_control.follower import FollowerParams
from mower_control.mission import MissionParams
from mower_control.parameters import build, node_yaml
from mower_control.safety import SafetyParams
from mower_coverage import CoveragePlanner, PlannerParams, params_for_map
from mower_coverage.planner import Plan
from mower_mapping.coverage_layer import CoverageLayer
from mower_mapping.obstacles import extract_obstacles, obstacle_core_centre
from mower_mapping.semantic_grid import GridParams
from mower_maps import LawnMap
from mower_sim.sim import COVERAGE_RES_M, LawnSim
from mower_sim.world import HiddenObstacle, WorldConfig
from mower_stack.bag import (
    BagRecorder,
    coverage_grid_msg,
    header,
    quaternion_z,
    ros_msg,
    semantic_grid_msg,
)
from mower_stack.closed_loop import ClosedLoop, LoopConfig

CONFIG = share_dir() / 'config'  # mower_bringup's share, or the checkout's
DEMO_HIDDEN = (HiddenObstacle('rock', 7.5, 2.05, 0.4), HiddenObstacle('toy', 12.6, 7.3, 0.3),
               HiddenObstacle('pet', 3.2, 2.5, 0.45))


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
    bag_camera_hz: float = 1.0  # compressed images and labels in the bag
    bag_state_hz: float = 10.0  # odom, tf, cmd_vel
    bag_grid_s: float = 10.0  # grids
    config_dir: Path = CONFIG


def _planner_params(config_dir: Path) -> PlannerParams:
    values = node_yaml(config_dir / 'coverage.yaml', 'coverage_node')
    return PlannerParams(**{f.name: values[f.name] for f in fields(PlannerParams)
                            if f.name in values})


def loop_config(cfg: RunConfig) -> LoopConfig:
    """The loop's components with the parameters of config/*.yaml."""
    d = cfg.config_dir
    seg = node_yaml(d / 'segmentation.yaml', 'segmentation_node')
    return LoopConfig(
        camera_hz=cfg.camera_hz, perception=cfg.perception,
        providers=tuple(seg.get('execution_providers', ('cpu',))),
        follower=build(FollowerParams, node_yaml(d / 'controller.yaml', 'controller_node')),
        safety=build(SafetyParams, node_yaml(d / 'safety.yaml', 'safety_node')),
        mission=build(MissionParams, node_yaml(d / 'mission.yaml', 'mission_node')),
        driver=build(DriverParams, node_yaml(d / 'motor_driver.yaml', 'motor_driver_node')),
        grid=_grid_params(d), mapping=node_yaml(d / 'mapping.yaml', 'mapping_node'))


def _grid_params(d: Path) -> GridParams:
    return GridParams.from_values(node_yaml(d / 'mapping.yaml', 'mapping_node'))


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

    def __init__(self, lawn: LawnMap, out_dir: str | Path, config: RunConfig | None = None
                 ) -> None:
        """Plan, build the world and wire the loop."""
        self.lawn = lawn
        self.cfg = cfg = config or RunConfig()
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.planner_params = params_for_map(_planner_params(cfg.config_dir), lawn)
        self.planner = CoveragePlanner(self.planner_params)
        self.plan: Plan = self.planner.plan(lawn)
        self.sim = LawnSim(lawn, WorldConfig(hidden=cfg.hidden), seed=cfg.seed)
        lc = loop_config(cfg)
        self.mapping = lc.mapping
        self.loop = ClosedLoop(self.sim, lc, self.plan.path.points, self.plan.path.kinds,
                               self.plan.area.region, seed=cfg.seed)
        self.loop.record = False
        minx, miny, maxx, maxy = lawn.boundary.bounds
        self.layer = CoverageLayer((minx - 1, miny - 1), maxx - minx + 2, maxy - miny + 2,
                                   self.mapping['coverage_resolution_m'],
                                   self.mapping['cut_width_m'])
        self.loop.mission.mowed = self._mowed_lookup
        self.obstacles: list[Any] = []
        self._last_mask: np.ndarray | None = None
        self.replans = 0
        self.replan_xy: list[tuple[float, float]] = []
        self.truth_reachable = self._truth_reachable()
        self._reach_mask: np.ndarray | None = None
        self.passes = np.zeros(self.sim.mowed.shape, dtype=np.uint8)
        self._last_pass = np.full(self.sim.mowed.shape, -1e9, dtype=np.float32)

    # -- ground truth --------------------------------------------------------------------------
    def _truth_reachable(self):
        """What the deck can reach, the clearances of the configuration kept.

        The planner's reachable area (half the body width from edges and known obstacles) for
        the lawn with the hidden obstacles added as the stack treats obstacles the camera
        finds: their true footprint grown by mapping's ``obstacle_margin_m``.
        """
        margin = self.mapping['obstacle_margin_m']
        hidden = [fp.buffer(margin) for fp in self.sim.world.hidden_footprints]
        lawn = self.lawn.with_obstacles(hidden, 'hidden') if hidden else self.lawn
        return self.planner.plan(lawn).area.reachable

    def coverage_pct(self) -> float:
        """Share of the reachable mowable area mowed (simulator ground truth), percent.

        Counted on the simulator's 2 cm raster against the reachable area rasterised once.
        """
        if self._reach_mask is None:
            h, w = self.sim.mowed.shape
            rows, cols = np.mgrid[0:h, 0:w]
            x0, y0 = self.sim._cov_origin
            self._reach_mask = shapely.contains_xy(self.truth_reachable,
                                                   x0 + cols * COVERAGE_RES_M,
                                                   y0 + rows * COVERAGE_RES_M)
        total = int(self._reach_mask.sum())
        mowed = int(np.count_nonzero(self.sim.mowed & self._reach_mask))
        return 100.0 * mowed / total if total else 0.0

    def _stamp_passes(self) -> None:
        """Count passes of the deck per 2 cm cell (a new pass after 3 s away)."""
        if not self.sim.blade_on:
            return
        x, y, _ = self.sim.pose
        r = int(math.ceil(self.mapping['cut_width_m'] / 2 / COVERAGE_RES_M))
        c = np.round((np.array([x, y]) - self.sim._cov_origin) / COVERAGE_RES_M).astype(int)
        r0, c0 = c[1] - r, c[0] - r
        h, w = self.passes.shape
        if r0 < 0 or c0 < 0 or r0 + 2 * r + 1 > h or c0 + 2 * r + 1 > w:
            return
        deck = self.sim._deck
        last = self._last_pass[r0:r0 + 2 * r + 1, c0:c0 + 2 * r + 1]
        new = deck & (self.sim.time_s - last > 3.0)
        block = self.passes[r0:r0 + 2 * r + 1, c0:c0 + 2 * r + 1]
        block[new] = np.minimum(block[new].astype(np.int16) + 1, 255).astype(np.uint8)
        last[deck] = self.sim.time_s

    # -- mapping and replanning ----------------------------------------------------------------
    def _mowed_lookup(self, xy: np.ndarray) -> np.ndarray:
        layer = self.layer
        ij = np.round((np.asarray(xy) - layer.origin) / layer.res).astype(np.int64)
        rows, cols = layer.mowed.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < cols) & (ij[:, 1] >= 0) & (ij[:, 1] < rows)
        out = np.zeros(len(ij), dtype=bool)
        out[inside] = layer.mowed[ij[inside, 1], ij[inside, 0]]
        return out

    def detected(self) -> list[Any]:
        """Obstacles in the semantic grid, as buffered polygons."""
        g = self.loop.grid
        return extract_obstacles(g.obstacle_mask(), g.origin, g.res,
                                 margin_m=self.mapping['obstacle_margin_m'],
                                 min_area_m2=self.mapping['min_obstacle_area_m2'])

    def _check_obstacles(self, force: bool) -> None:
        """Replan when a detected obstacle (not a known one) blocks the rest of the plan."""
        # every obstacle the camera sees counts, known ones too: the planner then keeps the
        # detection margin from what the camera saw, so the safety stop is not triggered
        mask = self.loop.grid.obstacle_mask()
        if not force and self._last_mask is not None and np.array_equal(mask, self._last_mask):
            return  # nothing new seen
        self._last_mask = mask
        new = self.detected()
        added = shapely.union_all(new) if new else shapely.Polygon()
        before = shapely.union_all(self.obstacles) if self.obstacles else shapely.Polygon()
        change = added.symmetric_difference(before).area if new or self.obstacles else 0.0
        if not force and change < 0.05:
            return
        m = self.loop.mission
        if not force:
            pts = m.plan_points
            s0 = m.progress_m
            rest = pts[np.searchsorted(m._plan_cum, s0):]
            if len(rest) < 2:
                return
            clearance = self.planner_params.clearance_m
            if not shapely.LineString(rest).intersects(added.buffer(clearance)):
                self.obstacles = new
                return
        self.obstacles = new
        self._replan()

    def _replan(self) -> None:
        lawn = self.lawn.with_obstacles(self.obstacles) if self.obstacles else self.lawn
        plan = self.planner.plan(lawn)
        self.plan = plan
        self.replans += 1
        self.replan_xy.append(self.sim.pose[:2])
        self.loop.mission.set_plan(plan.path.points, plan.path.kinds, plan.area.region)

    # -- the run -------------------------------------------------------------------------------
    def run(self, progress: bool = True, events: list[tuple[float, Any]] | None = None
            ) -> RunResult:
        """Start the mission and step until it is back on the dock (or the limit).

        ``events``: (simulated time, function of this run) called once at that time, for
        scenarios (an emergency stop, rain, an operator's request).
        """
        pending = sorted(events or [], key=lambda e: e[0])
        cfg, sim, loop = self.cfg, self.sim, self.loop
        bag = BagRecorder(self.out / 'bag') if cfg.record else None
        rec = _Recorder(self, bag)
        ok, why = loop.mission.request('start')
        if not ok:
            raise RuntimeError(f'the mission did not start: {why}')
        estimate = self.plan.path.length_m / 0.4 + 60.0
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=round(estimate), unit='sim s', dynamic_ncols=True,
                       desc=f'mowing {self.lawn.name}')
        t_wall = time.perf_counter()
        next_check = 0.0
        states: list[str] = []
        traj = []
        last_bar = 0.0
        try:
            while sim.time_s < cfg.limit_s:
                while pending and sim.time_s >= pending[0][0]:
                    pending.pop(0)[1](self)
                tick = loop.step()
                rec.tick(tick)
                x, y, _ = sim.pose
                if int(round(sim.time_s * 50)) % 5 == 0:  # the mowed layer at 10 Hz
                    self.layer.update(*tick.pose[:2], sim.blade_on)
                if not states or states[-1] != tick.mission.state:
                    states.append(tick.mission.state)
                if tick.mission.state == 'IDLE' and len(states) > 1 or \
                        tick.mission.state == 'ERROR' and not pending:
                    break
                if tick.mission.replan:
                    self._check_obstacles(force=True)
                elif loop.grid is not None and sim.time_s >= next_check:
                    next_check = sim.time_s + cfg.obstacle_check_s
                    self._check_obstacles(force=False)
                if int(round(sim.time_s * 50)) % 10 == 0:  # 5 Hz
                    self._stamp_passes()
                    traj.append((x, y))
                if bar is not None and sim.time_s - last_bar >= 5.0:
                    wall = time.perf_counter() - t_wall
                    bar.update(round(sim.time_s - last_bar))
                    last_bar = sim.time_s
                    bar.set_postfix_str(f'{tick.mission.state} mowed '
                                        f'{self.coverage_pct():.1f}% '
                                        f'{sim.time_s / max(wall, 1e-9):.0f}x real time')
        finally:
            if bar is not None:
                bar.close()
            loop.close()
            if bag is not None:
                rec.finish()
                bag.close()
        wall = time.perf_counter() - t_wall
        found = self._found()
        ev = sim.events
        mowable = self.lawn.mowable_area()
        summary = {
            'map': self.lawn.name, 'seed': cfg.seed,
            'coverage_pct': round(self.coverage_pct(), 3),
            'coverage_of_mowable_pct': round(100.0 * sim.mowed_area_m2(mowable)
                                             / mowable.area, 3),
            'reachable_m2': round(self.truth_reachable.area, 2),
            'mowable_m2': round(mowable.area, 2),
            'mowed_m2': round(sim.mowed_area_m2(self.lawn.boundary), 2),
            'collisions': ev.collisions, 'boundary_exits': ev.boundary_exits,
            'keepout_entries': ev.keepout_entries, 'replans': self.replans,
            'hidden_obstacles': len(cfg.hidden),
            'hidden_obstacles_found': sum(found),
            'sim_time_s': round(sim.time_s, 2), 'wall_time_s': round(wall, 2),
            'realtime_factor': round(sim.time_s / wall, 2) if wall > 0 else None,
            'distance_m': round(_length(traj), 2), 'states': states,
            'final_state': states[-1] if states else 'IDLE',
            'message': loop.mission.message,
            'provider': getattr(loop.segmenter, 'provider', cfg.perception),
            'bag': str(self.out / 'bag') if cfg.record else None,
            'bag_counts': dict(bag.counts) if bag is not None else {},
        }
        return RunResult(summary, self.out, np.asarray(traj).reshape(-1, 2),
                         list(self.replan_xy), self.detected())

    def _found(self) -> list[bool]:
        polys = self.detected()
        margin = self.mapping['obstacle_margin_m']
        centres = [obstacle_core_centre(p, margin) for p in polys]
        out = []
        for h in self.cfg.hidden:
            d = min((math.hypot(cx - h.x_m, cy - h.y_m) for cx, cy in centres), default=math.inf)
            out.append(d <= max(0.3, h.size_m / 2 + 0.1))
        return out


def _length(traj: list) -> float:
    a = np.asarray(traj, dtype=float).reshape(-1, 2)
    return float(np.hypot(*np.diff(a, axis=0).T).sum()) if len(a) > 1 else 0.0


class _Recorder:
    """Writes the run's topics into the bag at their rates (DESIGN.md's names and types)."""

    def __init__(self, run: MowingRun, bag: BagRecorder | None) -> None:
        self.run, self.bag = run, bag
        self.next_cam = self.next_state = self.next_grid = self.next_diag = 0.0
        self.path_id = None
        self.last_state = None
        self.last_frame = None

    def tick(self, tick: Any) -> None:
        if self.bag is None:
            return
        run, t = self.run, self.run.sim.time_s
        cfg = run.cfg
        if t >= self.next_state:
            self.next_state = max(self.next_state + 1.0 / cfg.bag_state_hz, t - 1e-6)
            self._state(tick, t)
        loop = run.loop
        if loop.camera is None:  # no perception in the loop: render for the bag
            if t >= self.next_cam:
                self.next_cam = t + 1.0 / cfg.bag_camera_hz
                frame = run.sim.camera(labels=True)
                self._camera(t, frame, frame.labels)
        elif loop.last_frame is not self.last_frame and \
                loop.last_frame.time_s >= self.next_cam - 1e-6:
            self.last_frame = frame = loop.last_frame
            self.next_cam = frame.time_s + 1.0 / cfg.bag_camera_hz
            self._camera(t, frame, loop.last_labels)
        if t >= self.next_grid:
            self.next_grid = t + cfg.bag_grid_s
            self._grids(t)
        if self.path_id != run.loop.mission.path_id:
            self.path_id = run.loop.mission.path_id
            self._path(t)
        if tick.mission.state != self.last_state or t >= self.next_diag:
            self.next_diag = t + 1.0
            self.last_state = tick.mission.state
            self._mission(tick, t)

    def finish(self) -> None:
        self._grids(self.run.sim.time_s)

    def _state(self, tick: Any, t: float) -> None:
        bag = self.bag
        x, y, yaw = self.run.loop.pose()
        w, qx, qy, qz = (float(v) for v in self.run.sim.data.qpos[3:7])  # attitude, wxyz
        pose = ros_msg('geometry_msgs/msg/Pose',
                       position=ros_msg('geometry_msgs/msg/Point', x=x, y=y),
                       orientation=ros_msg('geometry_msgs/msg/Quaternion', x=qx, y=qy, z=qz,
                                           w=w))
        twist = ros_msg('geometry_msgs/msg/Twist',
                        linear=ros_msg('geometry_msgs/msg/Vector3', x=tick.safety.v_mps),
                        angular=ros_msg('geometry_msgs/msg/Vector3', z=tick.safety.w_radps))
        odom = ros_msg('nav_msgs/msg/Odometry', header=header(t, 'map'),
                       child_frame_id='base_link',
                       pose=ros_msg('geometry_msgs/msg/PoseWithCovariance', pose=pose),
                       twist=ros_msg('geometry_msgs/msg/TwistWithCovariance', twist=twist))
        bag.write('/odom', 'nav_msgs/msg/Odometry', t, odom)
        tf = ros_msg('geometry_msgs/msg/TransformStamped', header=header(t, 'map'),
                     child_frame_id='base_link', transform=ros_msg(
                         'geometry_msgs/msg/Transform',
                         translation=ros_msg('geometry_msgs/msg/Vector3', x=x, y=y),
                         rotation=quaternion_z(yaw)))
        bag.write('/tf', 'tf2_msgs/msg/TFMessage', t,
                  ros_msg('tf2_msgs/msg/TFMessage', transforms=[tf]))
        cmd = ros_msg('geometry_msgs/msg/Twist',
                      linear=ros_msg('geometry_msgs/msg/Vector3', x=tick.follower.v_mps),
                      angular=ros_msg('geometry_msgs/msg/Vector3', z=tick.follower.w_radps))
        bag.write('/cmd_vel', 'geometry_msgs/msg/Twist', t, cmd)
        bag.write('/cmd_vel_safe', 'geometry_msgs/msg/Twist', t, twist)

    def _camera(self, t: float, frame: Any, labels: np.ndarray) -> None:
        """Image, labels and camera info, stamped with the exposure time; bag time ``t``."""
        run, ts = self.run, frame.time_s
        ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            self.bag.write('/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage', t,
                           ros_msg('sensor_msgs/msg/CompressedImage',
                                   header=header(ts, 'camera_optical_frame'), format='jpeg',
                                   data=jpeg.tobytes()))
        h, w = labels.shape
        self.bag.write('/segmentation/labels', 'sensor_msgs/msg/Image', t,
                       ros_msg('sensor_msgs/msg/Image', header=header(ts, 'camera_optical_frame'),
                               height=h, width=w, encoding='mono8', step=w,
                               data=labels.astype(np.uint8).tobytes()))
        k = run.sim.camera_intrinsics()
        m = run.sim.mower
        self.bag.write('/camera/camera_info', 'sensor_msgs/msg/CameraInfo', t, ros_msg(
            'sensor_msgs/msg/CameraInfo', header=header(ts, 'camera_optical_frame'),
            height=m.image_height, width=m.image_width, distortion_model='plumb_bob',
            d=np.zeros(5), k=k.reshape(-1),
            p=np.hstack([k, np.zeros((3, 1))]).reshape(-1),
            r=np.eye(3).reshape(-1)))

    def _grids(self, t: float) -> None:
        run = self.run
        if run.loop.grid is not None:
            self.bag.write('/map/semantic', 'nav_msgs/msg/OccupancyGrid', t,
                           semantic_grid_msg(run.loop.grid, t))
        self.bag.write('/map/coverage', 'nav_msgs/msg/OccupancyGrid', t,
                       coverage_grid_msg(run.layer, t))  # the mowed layer at 10 cm

    def _path(self, t: float) -> None:
        m = self.run.loop.mission
        for topic, pts in (('/coverage/path', m.plan_points), ('/mission/path', m.path)):
            poses = []
            for x, y in (pts if pts is not None else np.zeros((0, 2)))[::2]:
                poses.append(ros_msg('geometry_msgs/msg/PoseStamped', header=header(t, 'map'),
                                     pose=ros_msg('geometry_msgs/msg/Pose', position=ros_msg(
                                         'geometry_msgs/msg/Point', x=float(x), y=float(y)),
                                         orientation=quaternion_z(0.0))))
            self.bag.write(topic, 'nav_msgs/msg/Path', t,
                           ros_msg('nav_msgs/msg/Path', header=header(t, 'map'), poses=poses))

    def _mission(self, tick: Any, t: float) -> None:
        run = self.run
        state = {'state': tick.mission.state, 'mowed_pct': round(run.coverage_pct(), 2),
                 'progress_m': round(run.loop.mission.progress_m, 2),
                 'message': tick.mission.message}
        self.bag.write('/mower/state', 'std_msgs/msg/String', t,
                       ros_msg('std_msgs/msg/String', data=json.dumps(state)))
        kv = [ros_msg('diagnostic_msgs/msg/KeyValue', key=k, value=str(v)) for k, v in {
            'active': ', '.join(tick.safety.reasons), 'latched': ', '.join(tick.safety.latched),
            **run.loop.driver.diagnostics()}.items()]
        status = ros_msg('diagnostic_msgs/msg/DiagnosticStatus', level=0, name='mower',
                         message=tick.mission.state, hardware_id='sim', values=kv)
        self.bag.write('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', t,
                       ros_msg('diagnostic_msgs/msg/DiagnosticArray', header=header(t, ''),
                               status=[status]))


def write_summary(result: RunResult) -> Path:
    """report.json."""
    path = result.out_dir / 'report.json'
    path.write_text(json.dumps(result.summary, indent=2) + '\n')
    return path

