"""The headless MuJoCo lawn simulator: step it, read its sensors and ground truth.

``LawnSim`` is what tests, the dataset generator, ``mower sim`` and ``sim_node`` drive. Wheel
speeds come from a ``(v, w)`` command through differential-drive kinematics; the camera renders
RGB and, from MuJoCo's segmentation rendering, a label image; the deck's swept area, collisions
with obstacles and exits of the deck centre from the lawn are recorded as ground truth.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field

os.environ.setdefault('MUJOCO_GL', 'egl')  # headless rendering unless the user chose a backend

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from mower_maps import LawnMap  # noqa: E402
from mower_maps.geometry import (  # noqa: E402
    cell_index,
    quaternion_from_yaw,
    yaw_from_quaternion,
)
from mower_maps.tiles import TiledRaster, TileRegion  # noqa: E402
from mower_sim.world import IGNORE, LABELS, World, WorldConfig, build_world  # noqa: E402

COVERAGE_RES_M = 0.02  # resolution of the ground-truth mowed raster
COLLISION_DEBOUNCE_S = 0.5  # touches of one obstacle closer in time than this are one collision


@dataclass(frozen=True)
class SensorNoise:
    """Noise of the simulated sensors (standard deviations); zero gives perfect sensors."""

    image_std: float = 2.0  # grey levels
    gyro_std: float = 0.002  # rad/s
    accel_std: float = 0.02  # m/s²
    gnss_std_m: float = 0.02  # RTK-like
    encoder_std_rad: float = 0.0


@dataclass
class Events:
    """Ground-truth events so far."""

    collisions: int = 0  # new contacts between the mower and an obstacle
    boundary_exits: int = 0  # times the deck centre left the lawn boundary
    keepout_entries: int = 0  # times the deck centre entered a keep-out
    collision_times_s: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Look:
    """One frame's random draws: exposure gain, blur length (px), noise bank row and offset."""

    gain: float
    blur: int
    noise_k: int  # -1: no noise
    noise_offset: int


@dataclass(frozen=True)
class CameraFrame:
    """One camera image with its ground truth."""

    time_s: float
    rgb: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8 class ids (world.LABELS), 255 = ignore
    pose: tuple[float, float, float]  # true x, y, yaw of base_link at the frame's time


class LawnSim:
    """A mower on a lawn in MuJoCo; deterministic for a seed."""

    def __init__(
        self,
        lawn: LawnMap,
        config: WorldConfig | None = None,
        seed: int = 0,
        noise: SensorNoise | None = None,
        render: bool = True,
    ) -> None:
        """Build and compile the scene; the mower starts at the dock (or the lawn centre)."""
        self.lawn = lawn
        self.config = config or WorldConfig()
        self.world: World = build_world(lawn, self.config, seed)
        self.model = mujoco.MjModel.from_xml_string(self.world.xml, self.world.assets)
        self.data = mujoco.MjData(self.model)
        mujoco.mj_resetDataKeyframe(self.model, self.data, 0)
        mujoco.mj_forward(self.model, self.data)
        self.noise = noise or SensorNoise()
        self.rng = np.random.default_rng(seed + 1)
        self.mower = self.config.mower
        self.blade_on = False
        self.events = Events()
        self._renderer = None
        if render:
            self._renderer = mujoco.Renderer(
                self.model, self.mower.image_height, self.mower.image_width
            )
            _release_gl_context()
        self._geom_class = self._classify_geoms()
        self._robot_geoms = {
            i
            for i in range(self.model.ngeom)
            if (mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, i) or '').startswith(
                'robot_'
            )
        }
        self._obstacle_geoms = {
            i for i in range(self.model.ngeom) if self._geom_class[i] == LABELS['obstacle']
        }
        self._last_touch: dict[int, float] = {}
        self._noise_bank: np.ndarray | None = None
        if self.config.randomise:
            self._jitter_camera()
        # the deck centre may be on the lawn or on a navigation area (a path between lawns)
        nav = lawn.navigation
        self._boundary = lawn.boundary if nav.is_empty else shapely.union(lawn.boundary, nav)
        self._keepouts = shapely.union_all(
            [f.geometry for f in lawn.features if f.role == 'keepout']
        )
        shapely.prepare(self._boundary)
        shapely.prepare(self._keepouts)
        self._outside = False
        self._inside_keepout = False
        minx, miny, maxx, maxy = lawn.boundary.bounds
        # the mowed raster: cell (row, col) is centred at _cov_origin + (col, row) * resolution,
        # so in mower_maps.geometry's convention (origin = corner of cell (0, 0)) its origin is
        # half a cell lower-left of that: coverage_origin
        self._cov_origin = np.array([minx - 1.0, miny - 1.0])
        self._cov_corner = self._cov_origin - COVERAGE_RES_M / 2
        self._cov_shape = (
            int((maxy - miny + 2) / COVERAGE_RES_M) + 1,
            int((maxx - minx + 2) / COVERAGE_RES_M) + 1,
        )
        # the ground truth of a whole lawn: only the tiles the deck reached are allocated
        self.mowed = TiledRaster(self._cov_shape, bool)
        r = int(math.ceil(self.mower.cut_width_m / 2 / COVERAGE_RES_M))
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        self._deck = (xx**2 + yy**2) * COVERAGE_RES_M**2 <= (self.mower.cut_width_m / 2) ** 2
        self._last_mark: np.ndarray | None = None
        self._target = np.zeros(2)

    # -- state ------------------------------------------------------------------------------
    @property
    def time_s(self) -> float:
        """Simulated time."""
        return float(self.data.time)

    @property
    def pose(self) -> tuple[float, float, float]:
        """True x, y (m) and yaw (rad) of base_link (the wheel axle centre) in the map frame."""
        q = self.data.qpos
        w, x, y, z = q[3:7]  # MuJoCo's order
        return float(q[0]), float(q[1]), yaw_from_quaternion(x=x, y=y, z=z, w=w)

    @property
    def coverage_origin(self) -> np.ndarray:
        """Map x, y of the lower-left *corner* of cell (0, 0) of the mowed raster ``mowed``.

        ``mowed`` is a :class:`mower_maps.tiles.TiledRaster` of booleans (True: cut), as large
        as the lawn's bounds with 1 m around them, allocated tile by tile where the deck went.

        The one grid convention of mower_maps.geometry: a point lies in cell
        ``cell_index(xy, coverage_origin, COVERAGE_RES_M)`` (column, row), whose centre is
        ``cell_centre(index, coverage_origin, COVERAGE_RES_M)``. It is half a cell lower-left
        of the old private ``_cov_origin``, which was the *centre* of cell (0, 0). A read-only
        copy.
        """
        origin = self._cov_corner.copy()
        origin.flags.writeable = False
        return origin

    @property
    def deck_mask(self) -> np.ndarray:
        """The deck's footprint on the mowed raster: a (2r + 1, 2r + 1) read-only bool mask.

        Centred on the cell of the deck centre; True where the cutting disc (of the mower's
        ``cut_width_m``) covers a cell's centre. It is what each pose stamps into ``mowed``.
        """
        mask = self._deck.view()
        mask.flags.writeable = False
        return mask

    @property
    def tilt_rad(self) -> float:
        """Angle between the body's up axis and the world's."""
        w, x, y, z = self.data.qpos[3:7]
        up_z = 1 - 2 * (x * x + y * y)
        return math.acos(max(-1.0, min(1.0, up_z)))

    def set_pose(self, x_m: float, y_m: float, yaw_rad: float) -> None:
        """Place the mower (at rest) anywhere; for tests and scenarios."""
        self.data.qpos[0:3] = [x_m, y_m, self.mower.wheel_radius_m + 0.002]
        x, y, z, w = quaternion_from_yaw(yaw_rad)
        self.data.qpos[3:7] = [w, x, y, z]  # MuJoCo's order
        self.data.qvel[:] = 0
        mujoco.mj_forward(self.model, self.data)
        self._last_mark = None

    def push(
        self,
        force_n: tuple[float, float, float] = (0.0, 0.0, 0.0),
        torque_nm: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        """Apply a force and torque (world frame) to the mower's body until changed.

        For tests: lifting it by hand, tipping it over. Zeros release it.
        """
        body = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, 'mower')
        self.data.xfrc_applied[body, :3] = force_n
        self.data.xfrc_applied[body, 3:] = torque_nm

    # -- stepping ---------------------------------------------------------------------------
    def command(self, v_mps: float, w_radps: float, blade: bool | None = None) -> None:
        """Wheel speed set-points from a body velocity (differential-drive kinematics)."""
        half = self.mower.wheel_track_m / 2
        r = self.mower.wheel_radius_m
        self._target[0] = (v_mps - w_radps * half) / r  # left
        self._target[1] = (v_mps + w_radps * half) / r  # right
        if blade is not None:
            self.blade_on = bool(blade)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps, recording contacts, exits and the mowed area."""
        dmax = self.mower.max_wheel_accel_rad_s2 * self.model.opt.timestep
        ctrl, m, d = self.data.ctrl, self.model, self.data
        left, right = float(ctrl[0]), float(ctrl[1])
        tl, tr = float(self._target[0]), float(self._target[1])
        for _ in range(n):
            # the motor board ramps wheel speeds (its acceleration limit)
            left += min(dmax, max(-dmax, tl - left))
            right += min(dmax, max(-dmax, tr - right))
            ctrl[0], ctrl[1] = left, right
            mujoco.mj_step(m, d)
            if d.ncon:
                self._check_contacts()
        self._check_ground()

    def run(self, duration_s: float, check_every: int = 5) -> None:
        """Advance by ``duration_s`` with the current command."""
        steps = int(round(duration_s / self.model.opt.timestep))
        while steps > 0:
            k = min(check_every, steps)
            self.step(k)
            steps -= k

    def _check_contacts(self) -> None:
        """Count contacts of the mower with an obstacle; one touch within 0.5 s is one."""
        d = self.data
        if d.ncon == 0:
            return
        robot, obstacle = self._robot_geoms, self._obstacle_geoms
        for g1, g2 in zip(d.contact.geom1.tolist(), d.contact.geom2.tolist(), strict=True):
            other = g2 if g1 in robot else g1 if g2 in robot else -1
            if other in obstacle:
                last = self._last_touch.get(other)
                if last is None or self.data.time - last > COLLISION_DEBOUNCE_S:
                    self.events.collisions += 1
                    self.events.collision_times_s.append(self.time_s)
                self._last_touch[other] = float(self.data.time)

    def _check_ground(self) -> None:
        x, y, _ = self.pose
        outside = not shapely.contains_xy(self._boundary, x, y)
        if outside and not self._outside:
            self.events.boundary_exits += 1
        self._outside = outside
        inside_keepout = (
            bool(shapely.contains_xy(self._keepouts, x, y))
            if not self._keepouts.is_empty
            else False
        )
        if inside_keepout and not self._inside_keepout:
            self.events.keepout_entries += 1
        self._inside_keepout = inside_keepout
        if self.blade_on:
            self._mark(np.array([x, y]))

    def _mark(self, xy: np.ndarray) -> None:
        last = self._last_mark
        dist = 0.0 if last is None else math.hypot(xy[0] - last[0], xy[1] - last[1])
        if last is not None and dist < COVERAGE_RES_M:
            return
        start = xy if last is None else last
        n = 1 if last is None else max(1, int(dist / COVERAGE_RES_M))
        r = self._deck.shape[0] // 2
        f = np.arange(1, n + 1)[:, None] / n  # stamp the deck every raster cell along the way
        corners = cell_index(start + f * (xy - start), self._cov_corner, COVERAGE_RES_M) - r
        for c0, r0 in corners.tolist():
            if (
                r0 < 0
                or c0 < 0
                or r0 + 2 * r + 1 > self._cov_shape[0]
                or c0 + 2 * r + 1 > self._cov_shape[1]
            ):
                continue
            self.mowed.or_mask(r0, c0, self._deck)
        self._last_mark = xy

    # -- sensors ----------------------------------------------------------------------------
    def camera(self, labels: bool = True) -> CameraFrame:
        """Render the front camera: RGB (with noise) and ground-truth labels.

        ``labels=False`` skips the second (segmentation) render; the frame's labels are then
        an empty array.
        """
        if self._renderer is None:
            raise RuntimeError('this simulator was built with render=False')
        r = self._renderer
        look = self.draw_look()
        r.disable_segmentation_rendering()
        r.update_scene(self.data, camera='front')
        try:
            rgb = self.develop(r.render(), look)
            seg = self.render_labels(r) if labels else np.zeros((0, 0), np.uint8)
        finally:
            _release_gl_context()  # so that any thread (the garbage collector's) may free it
        return CameraFrame(self.time_s, rgb, seg, self.pose)

    def draw_look(self) -> Look:
        """This frame's random draws (exposure, blur, noise), taken from the simulator's RNG."""
        gain, blur = 1.0, 0
        if self.config.randomise:
            gain = float(self.rng.uniform(0.7, 1.3))
            yaw_rate = abs(float(self.data.qvel[5]))
            blur = min(6, int(yaw_rate * 6 + self.rng.uniform(0, 1.5)))
        k = off = -1
        if self.noise.image_std > 0:
            h = self.mower.image_height
            if self._noise_bank is None:
                self._noise_bank = np.round(
                    self.rng.normal(
                        0.0, self.noise.image_std, (4, h * 2, self.mower.image_width, 3)
                    )
                ).astype(np.int16)
            k = int(self.rng.integers(0, len(self._noise_bank)))
            off = int(self.rng.integers(0, h))
        return Look(gain, blur, k, off)

    def develop(self, rgb: np.ndarray, look: Look) -> np.ndarray:
        """Apply a frame's exposure, motion blur and pixel noise to a rendered image."""
        if self.config.randomise:
            out = rgb.astype(np.float32) * look.gain
            if look.blur > 1:  # horizontal smear over k pixels
                out = sum(np.roll(out, s, axis=1) for s in range(look.blur)) / look.blur
            rgb = np.clip(out, 0, 255).astype(np.uint8)
        if look.noise_k >= 0 and self._noise_bank is not None:
            noise = self._noise_bank[
                look.noise_k, look.noise_offset : look.noise_offset + rgb.shape[0]
            ]
            rgb = np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        return rgb

    def render_labels(self, renderer: mujoco.Renderer) -> np.ndarray:
        """Ground-truth labels of the scene last given to ``renderer`` (a segmentation render)."""
        renderer.enable_segmentation_rendering()
        try:
            seg = renderer.render()
        finally:
            renderer.disable_segmentation_rendering()
        ids, types = seg[..., 0], seg[..., 1]
        labels = np.full(ids.shape, LABELS['sky'], dtype=np.uint8)
        is_geom = (types == int(mujoco.mjtObj.mjOBJ_GEOM)) & (ids >= 0)
        labels[is_geom] = self._geom_class[ids[is_geom]]
        return labels

    def camera_intrinsics(self) -> np.ndarray:
        """The 3x3 pinhole matrix K of the front camera (pixels; square pixels, no skew)."""
        m = self.mower
        f = (m.image_height / 2) / math.tan(math.radians(m.camera_fovy_deg) / 2)
        return np.array([[f, 0, m.image_width / 2], [0, f, m.image_height / 2], [0, 0, 1.0]])

    def camera_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """(position, 3x3 rotation) of the camera in the world; optical axis is -z (OpenGL)."""
        cam = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, 'front')
        return self.data.cam_xpos[cam].copy(), self.data.cam_xmat[cam].reshape(3, 3).copy()

    def _jitter_camera(self) -> None:
        """Domain randomisation: mounting height +-2 cm and pitch +-3 degrees, per episode."""
        cam = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, 'front')
        self.model.cam_pos[cam, 2] += self.rng.uniform(-0.02, 0.02)
        dq = np.zeros(4)
        mujoco.mju_axisAngle2Quat(
            dq, np.array([1.0, 0.0, 0.0]), math.radians(self.rng.uniform(-3.0, 3.0))
        )
        q = np.zeros(4)
        mujoco.mju_mulQuat(q, self.model.cam_quat[cam].copy(), dq)
        self.model.cam_quat[cam] = q
        mujoco.mj_forward(self.model, self.data)

    def imu(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(orientation quaternion wxyz, angular velocity rad/s, linear acceleration m/s²)."""
        s = self.data.sensordata
        gyro = s[3:6] + self.rng.normal(0, self.noise.gyro_std, 3)
        accel = s[0:3] + self.rng.normal(0, self.noise.accel_std, 3)
        return s[6:10].copy(), gyro, accel

    def encoders(self) -> np.ndarray:
        """Wheel angles (rad): left, right."""
        return (
            self.data.sensordata[10:12].copy() + self.rng.normal(0, self.noise.encoder_std_rad, 2)
            if self.noise.encoder_std_rad
            else self.data.sensordata[10:12].copy()
        )

    def gnss(self) -> tuple[float, float]:
        """A noisy ENU position fix of base_link (m)."""
        x, y, _ = self.pose
        return (
            x + float(self.rng.normal(0, self.noise.gnss_std_m)),
            y + float(self.rng.normal(0, self.noise.gnss_std_m)),
        )

    def mowed_area_m2(self, within=None) -> float:
        """Ground-truth mowed area, optionally within a geometry (for example the lawn)."""
        if within is None:
            return float(self.mowed.count_nonzero()) * COVERAGE_RES_M**2
        cells = self.mowed.count_within(TileRegion(within, self._cov_corner, COVERAGE_RES_M))
        return float(cells) * COVERAGE_RES_M**2

    def _classify_geoms(self) -> np.ndarray:
        out = np.full(self.model.ngeom, IGNORE, dtype=np.uint8)
        for i in range(self.model.ngeom):
            name = mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, i) or ''
            if name.startswith('lawn_'):
                out[i] = LABELS['lawn']
            elif name.startswith('other_'):
                out[i] = LABELS['other']
            elif name.startswith('obst_'):
                out[i] = LABELS['obstacle']
        return out

    def close(self) -> None:
        """Release the renderer."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


class CameraWorker:
    """Renders the front camera on a thread of its own, overlapping the physics.

    An OpenGL context belongs to one thread, so the worker creates its own renderer and does all
    GL work; the simulation thread only copies the simulation state and draws the frame's random
    numbers, so frames are the same whatever the timing. Rendering and
    ONNX Runtime release the GIL: on a machine with two cores the camera, the segmentation
    (``then``) and the physics run side by side, as camera and nodes do on the robot.
    """

    def __init__(self, sim: LawnSim, labels: bool = False) -> None:
        """Start the worker thread and its renderer; ``labels`` adds ground-truth labels."""
        from concurrent.futures import ThreadPoolExecutor

        self.sim = sim
        self.labels = labels
        self._pool = ThreadPoolExecutor(1, thread_name_prefix='mower-camera')
        m = sim.mower
        self._renderer = self._pool.submit(
            self._make_renderer, sim.model, m.image_height, m.image_width
        ).result()

    @staticmethod
    def _make_renderer(model: mujoco.MjModel, height: int, width: int) -> mujoco.Renderer:
        try:
            return mujoco.Renderer(model, height, width)
        finally:
            _release_gl_context()

    def submit(self, then=None):
        """Take a frame now; returns a Future of ``(CameraFrame, then(frame))``."""
        sim, r = self.sim, self._renderer
        if r is None:
            raise RuntimeError('the camera worker is closed')
        look = sim.draw_look()
        snapshot = copy.copy(sim.data)  # the state now; the physics goes on meanwhile
        t, pose, labels = sim.time_s, sim.pose, self.labels

        def work():
            try:
                r.update_scene(snapshot, camera='front')
                rgb = sim.develop(r.render(), look)
                seg = sim.render_labels(r) if labels else np.zeros((0, 0), np.uint8)
            finally:
                _release_gl_context()
            frame = CameraFrame(t, rgb, seg, pose)
            return frame, then(frame) if then is not None else None

        return self._pool.submit(work)

    def close(self) -> None:
        """Release the renderer (on its thread) and stop the worker."""
        self._pool.shutdown()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def _release_gl_context() -> None:
    """Unbind this thread's EGL context, so that another thread may use or free it.

    An EGL context can be current on one thread only; the camera worker releases it after each
    frame, so closing (or the garbage collector) works from any thread.
    """
    if os.environ.get('MUJOCO_GL') == 'egl':
        from mujoco import egl

        egl.EGL.eglMakeCurrent(
            egl.EGL_DISPLAY, egl.EGL.EGL_NO_SURFACE, egl.EGL.EGL_NO_SURFACE, egl.EGL.EGL_NO_CONTEXT
        )
