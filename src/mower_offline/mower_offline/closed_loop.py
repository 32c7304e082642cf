"""The stack's control chain, closed around the simulated mower.

Path follower -> safety supervisor -> motor driver -> (simulation transport) -> simulated motor
board -> MuJoCo mower, with the mission on top and, optionally, perception in the loop (camera
-> segmentation -> semantic grid -> the supervisor's obstacle stop and the follower's slowing).
The same ROS-free components the nodes wrap, stepped in simulated time at the control rate.

The pose the controller and the mission use is the simulator's, with an optional noise model
(as DESIGN.md: in simulation ``map -> odom`` comes from the simulator's pose): white noise
(``pose_noise_m``), or the localisation error model of :mod:`mower_sim.pose_error`
(``pose_error``: RTK noise, RTK dropouts with odometry drift, recovery); odometry reaches
the safety supervisor only when the motor board's encoder ticks arrive, so a lost board shows
as stale odometry, as it would on the robot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mower_bringup import share_dir
from mower_control.driver import DriverParams, MotorDriver
from mower_control.follower import FollowerCommand, FollowerParams, PathFollower
from mower_control.mission import Mission, MissionInputs, MissionOutput, MissionParams
from mower_control.parameters import NODE_EXTRA
from mower_control.protocol import EncoderTicks
from mower_control.safety import (
    ObstacleGrid,
    SafetyOutput,
    SafetyParams,
    SafetySupervisor,
    fence_region,
)
from mower_control.sim_board import BatteryModel, SimTransport, SimulatedBoard
from mower_mapping.mapper import Mapper, grid_extent
from mower_mapping.semantic_grid import SemanticGrid
from mower_maps.geometry import rpy_from_quaternion
from mower_sim.pose_error import PoseErrorModel, PoseErrorParams
from mower_sim.sim import LawnSim

DEFAULT_MODEL = share_dir() / 'models' / 'lawnnet_int8.onnx'  # installed, or the checkout's


def roll_pitch(q: np.ndarray) -> tuple[float, float]:
    """Roll and pitch (rad) of a wxyz quaternion (MuJoCo's order)."""
    w, x, y, z = (float(v) for v in q)
    roll, pitch, _ = rpy_from_quaternion(x, y, z, w)
    return roll, pitch


@dataclass
class LoopConfig:
    """How the loop is run. Units are in the names."""

    control_hz: float = 50.0
    camera_hz: float = 0.0  # perception rate; 0: no perception in the loop
    perception_latency_s: float = 0.3  # camera exposure to grid update, simulated time
    perception: str = 'model'  # 'model' (the shipped int8 network) or 'truth' (sim labels)
    model: Path = DEFAULT_MODEL
    pose_noise_m: float = 0.0  # white noise on the pose the controller sees
    # the localisation error model on that pose (None: off, the true pose plus white noise)
    pose_error: PoseErrorParams | None = None
    follower: FollowerParams = field(default_factory=FollowerParams)
    safety: SafetyParams = field(default_factory=SafetyParams)
    mission: MissionParams = field(default_factory=MissionParams)
    driver: DriverParams = field(default_factory=DriverParams)
    battery: BatteryModel = field(default_factory=BatteryModel)
    providers: tuple[str, ...] = ('qnn-htp', 'openvino', 'tensorrt', 'cuda', 'cpu')
    grid: Any = None  # mower_mapping GridParams over ``mapping``'s (None: those, else defaults)
    # mapping_node parameters: LUT, mounting, use_confidence (fuse the model's confidence)
    mapping: dict = field(default_factory=dict)
    # map/obstacle_cells values at or above which the follower slows (controller_node's
    # obstacle_threshold: found and suspected obstacles) and the safety stop acts (safety_node's)
    slow_threshold: int = NODE_EXTRA['controller_node']['obstacle_threshold'].default
    stop_threshold: int = NODE_EXTRA['safety_node']['obstacle_threshold'].default


@dataclass
class Tick:
    """One control step, as recorded."""

    time_s: float
    pose: tuple[float, float, float]
    follower: FollowerCommand
    safety: SafetyOutput
    mission: MissionOutput


class ClosedLoop:
    """The control chain around a :class:`LawnSim`; :meth:`step` advances one control period."""

    def __init__(
        self,
        sim: LawnSim,
        config: LoopConfig | None = None,
        plan_points: np.ndarray | None = None,
        plan_kinds: np.ndarray | None = None,
        region=None,
        seed: int = 0,
    ) -> None:
        """Wire the components; the mission gets ``plan_points`` as its coverage plan."""
        self.sim = sim
        self.cfg = cfg = config or LoopConfig()
        self.rng = np.random.default_rng(seed)
        # its own random stream, so that switching it on changes no other draw
        self.pose_error = (
            PoseErrorModel(cfg.pose_error, seed) if cfg.pose_error is not None else None
        )
        dock = sim.lawn.dock
        self.dock_pose = None if dock is None else (dock.x_m, dock.y_m, dock.heading_rad)
        self.board = SimulatedBoard(sim, cfg.driver.drive, cfg.battery, self.dock_pose)
        self.driver = MotorDriver(SimTransport(self.board), cfg.driver)
        self.safety = SafetySupervisor(cfg.safety, fence_region(sim.lawn))
        self.follower = PathFollower(cfg.follower)
        self.mission = Mission(cfg.mission, self.dock_pose, region)
        self.mission.blade_off = sim.lawn.blade_off_area()
        if plan_points is not None:
            self.mission.set_plan(plan_points, plan_kinds)
        self.steps_per_tick = max(1, int(round(1.0 / cfg.control_hz / sim.model.opt.timestep)))
        self.commands_enabled = True  # False: the controller falls silent (watchdog tests)
        self.imu_enabled = True  # False: the IMU falls silent
        self.raining = False
        self.manual: tuple[float, float] | None = None  # (v, w) instead of the follower's
        self.ticks: list[Tick] = []
        self.record = True
        self._path_id = -1
        self._cmd = FollowerCommand(0.0, 0.0, 'idle', 0.0, 0.0, 0)
        self._out = SafetyOutput(0.0, 0.0, False, (), ())
        self._next_frame = 0.0
        # the mapping core mapping_node wraps: pose history, mowed layer, and with perception
        # the semantic grid and its obstacles
        values = {**cfg.mapping, **(vars(cfg.grid) if cfg.grid is not None else {})}
        self.mapper = Mapper(values, grid_extent(values, sim.lawn.boundary.bounds))
        # the mapper's semantic grid, when perception is in the loop
        self.grid: SemanticGrid | None = None
        self.segmenter = None
        self.slow_grid: ObstacleGrid | None = None  # what the follower slows near
        self.last_frame = None  # the latest camera frame and its labels (for recording)
        self.last_labels = None
        self.use_confidence = False  # the model's per-pixel confidence goes into the grid
        self.camera = None
        self._in_flight: list[tuple[float, Any, float]] = []  # (fuse at, frame, exposure)
        if cfg.camera_hz > 0:
            self._init_perception()

    # -- perception -------------------------------------------------------------------------
    def _init_perception(self) -> None:
        m = self.sim.mower
        self.mapper.set_camera(self.sim.camera_intrinsics(), m.image_width, m.image_height)
        self.grid = self.mapper.grid
        if self.cfg.perception == 'model':
            from mower_segmentation.runtime import Segmenter

            self.segmenter = Segmenter(self.cfg.model, self.cfg.providers, threads=1)
            self.use_confidence = bool(self.cfg.mapping.get('use_confidence', False))
        from mower_sim.sim import CameraWorker

        self.camera = CameraWorker(self.sim, labels=self.segmenter is None)

    def _segment(self, frame) -> tuple[np.ndarray, np.ndarray | None]:
        """Runs on the camera thread: the frame's labels (the model's, or the simulator's).

        With the confidence of the model's labels when ``use_confidence`` (else None).
        """
        if self.segmenter is None:
            return frame.labels, None
        result = self.segmenter.segment(frame.rgb, with_confidence=self.use_confidence)
        return result.labels, result.confidence

    def _perceive(self, t: float) -> None:
        """Take frames at the camera rate; fuse each ``perception_latency_s`` after its exposure.

        The frame is rendered and segmented on the camera thread meanwhile; the mapper fuses it
        with the pose of its exposure time from the pose history, as mapping_node does with
        the image stamp. Waiting for a fixed simulated latency keeps runs deterministic.
        """
        grid, camera = self.grid, self.camera
        if grid is None or camera is None:  # no perception in the loop
            return
        while self._in_flight and t >= self._in_flight[0][0]:
            _, future, exposure = self._in_flight.pop(0)
            frame, (labels, confidence) = future.result()
            self.last_frame, self.last_labels = frame, labels
            self.mapper.fuse(exposure, labels, confidence)
            # map/obstacle_cells, read as safety_node and controller_node read it
            cells = (grid.obstacle_values(), tuple(grid.origin), grid.res)
            self.safety.grid = ObstacleGrid.from_values(*cells, self.cfg.stop_threshold)
            self.slow_grid = ObstacleGrid.from_values(*cells, self.cfg.slow_threshold)
        if t >= self._next_frame - 1e-6:  # control ticks carry float error
            self._next_frame = max(self._next_frame + 1.0 / self.cfg.camera_hz, t)
            self._in_flight.append(
                (t + self.cfg.perception_latency_s, camera.submit(self._segment), t)
            )

    def close(self) -> None:
        """Stop the camera thread."""
        if self.camera is not None:
            self.camera.close()
            self.camera = None

    def obstacle_distance(self, pose: tuple[float, float, float]) -> float:
        """Distance from the footprint's edge to the nearest slowing cell ahead (m).

        Found and suspected obstacles (``slow_threshold``), as controller_node reads them.
        """
        g = self.slow_grid
        if g is None:
            return math.inf
        return g.clearance_ahead(*pose, self.cfg.safety.footprint_radius_m)

    # -- the loop ---------------------------------------------------------------------------
    def pose(self) -> tuple[float, float, float]:
        """The pose the stack sees now."""
        x, y, yaw = self.sim.pose
        if self.pose_error is not None:
            x, y, yaw = self.pose_error.observe(self.sim.time_s, (x, y, yaw))
        if self.cfg.pose_noise_m > 0:
            x += float(self.rng.normal(0, self.cfg.pose_noise_m))
            y += float(self.rng.normal(0, self.cfg.pose_noise_m))
        return x, y, yaw

    def step(self) -> Tick:
        """One control period: sense, decide, command, then advance the physics."""
        sim, t = self.sim, self.sim.time_s
        pose = self.pose()
        msgs = self.driver.spin(t)
        if any(isinstance(m, EncoderTicks) for m in msgs):
            self.safety.odometry(*pose, t)
        if self.imu_enabled:
            q, _, accel = sim.imu()
            self.safety.imu(q, accel, t)
        st = self.driver.status
        if st.estop_pressed:
            self.safety.emergency_stop(True, t, hardware=True)
        elif st.connected:
            self.safety.emergency_stop(False, t, hardware=True)
        self.mapper.blade_on = sim.blade_on
        self.mapper.add_pose(t, *pose, *roll_pitch(sim.data.qpos[3:7]))
        if self.grid is not None:
            self._perceive(t)
        inp = MissionInputs(
            t,
            pose,
            battery_pct=st.battery_pct if math.isfinite(st.battery_pct) else 100.0,
            charging=st.charging,
            raining=self.raining,
            safety_reasons=self._out.reasons,
            safety_latched=self.safety.latched,
            board_connected=st.connected,
            follower_path_id=self._path_id,
            follower_done=self.follower.done,
            follower_progress_m=self._cmd.progress_m,
        )
        mo = self.mission.tick(inp)
        if mo.path_id != self._path_id:
            self._path_id = mo.path_id
            if mo.path is None:
                self.follower.clear()
            else:
                self.follower.set_path(mo.path, reverse=mo.reverse)
        self._cmd = self.follower.step(*pose, t, self.obstacle_distance(pose))
        v, w = (self._cmd.v_mps, self._cmd.w_radps) if self.manual is None else self.manual
        if self.commands_enabled:
            self.safety.command(v, w, t)
        self.safety.mission(mo.state, mo.blade)
        self._out = self.safety.filter(t)
        self.driver.send_velocity(self._out.v_mps, self._out.w_radps)
        self.driver.send_blade(self._out.blade)
        self.board.update()  # the board runs on its own, connected or not
        sim.step(self.steps_per_tick)
        tick = Tick(t, pose, self._cmd, self._out, mo)
        if self.record:
            self.ticks.append(tick)
        return tick

    def run(self, duration_s: float) -> None:
        """Step for ``duration_s`` of simulated time."""
        end = self.sim.time_s + duration_s
        while self.sim.time_s < end - 1e-9:
            self.step()

    def run_until(self, condition, timeout_s: float) -> bool:
        """Step until ``condition(tick)`` holds; False when ``timeout_s`` passes first."""
        end = self.sim.time_s + timeout_s
        while self.sim.time_s < end:
            if condition(self.step()):
                return True
        return False
