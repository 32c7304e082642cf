"""Camera model: pinhole with OpenCV distortion, mounted on the mower, projected onto the ground.

Frames (REP-103): ``base_link`` on the ground under the wheel-axle centre, x forward, y left,
z up; ``camera_link`` at the mounting position, x along the optical axis; the optical frame has
z forward, x right, y down. For flat ground the pixel -> ground mapping is fixed while the camera
is rigid on the robot, so it is computed once as a look-up table of ground points in
``base_link`` (the homography of the ground plane, with distortion), cut at a range limit and
below the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

#: Optical frame (z forward, x right, y down) to camera_link (x forward, y left, z up).
R_LINK_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def rotation_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rz(yaw) Ry(pitch) Rx(roll) (REP-103: positive pitch tilts x down)."""
    cr, sr, cp, sp, cy, sy = (
        math.cos(roll),
        math.sin(roll),
        math.cos(pitch),
        math.sin(pitch),
        math.cos(yaw),
        math.sin(yaw),
    )
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


@dataclass(frozen=True)
class Mounting:
    """Pose of camera_link in base_link: metres and radians (pitch > 0 looks down)."""

    x_m: float = 0.15
    y_m: float = 0.0
    z_m: float = 0.38
    roll_rad: float = 0.0
    pitch_rad: float = math.radians(25.0)
    yaw_rad: float = 0.0

    def rotation_base_optical(self) -> np.ndarray:
        """Rotation taking optical-frame vectors to base_link."""
        return rotation_rpy(self.roll_rad, self.pitch_rad, self.yaw_rad) @ R_LINK_OPTICAL


@dataclass(frozen=True)
class CameraModel:
    """Intrinsics (K, OpenCV distortion), image size and mounting."""

    k: np.ndarray
    width: int
    height: int
    dist: np.ndarray = field(default_factory=lambda: np.zeros(5))
    mounting: Mounting = field(default_factory=Mounting)

    @staticmethod
    def from_fov(
        width: int, height: int, fovy_deg: float, mounting: Mounting | None = None
    ) -> CameraModel:
        """An ideal pinhole with square pixels from a vertical field of view."""
        f = (height / 2) / math.tan(math.radians(fovy_deg) / 2)
        k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1.0]])
        return CameraModel(k, width, height, np.zeros(5), mounting or Mounting())

    def rays_base(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Unit-free ray directions in base_link for pixel coordinates (undistorted)."""
        pts = np.stack([u, v], axis=-1).reshape(-1, 1, 2).astype(np.float64)
        norm = cv2.undistortPoints(pts, self.k, self.dist).reshape(-1, 2)
        d_opt = np.column_stack([norm, np.ones(len(norm))])
        return d_opt @ self.mounting.rotation_base_optical().T

    def ground_points(
        self,
        u: np.ndarray,
        v: np.ndarray,
        max_range_m: float = 6.0,
        min_depression_rad: float = math.radians(2.0),
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ground points (x, y in base_link) of pixels, and which are valid.

        Invalid: rays above the horizon or less than ``min_depression_rad`` below it, and ground
        points farther than ``max_range_m`` from the camera.
        """
        d = self.rays_base(np.asarray(u, float).ravel(), np.asarray(v, float).ravel())
        m = self.mounting
        length = np.linalg.norm(d, axis=1)
        below = d[:, 2] < -np.sin(min_depression_rad) * length
        t = np.where(below, -m.z_m / np.where(below, d[:, 2], -1.0), 0.0)
        x = m.x_m + t * d[:, 0]
        y = m.y_m + t * d[:, 1]
        valid = below & (np.hypot(x - m.x_m, y - m.y_m) <= max_range_m)
        return np.column_stack([x, y]), valid

    def project_ground(self, xy_base: np.ndarray) -> np.ndarray:
        """Pixel coordinates (u, v) of ground points given in base_link (the inverse)."""
        m = self.mounting
        pts = np.column_stack([xy_base, np.zeros(len(xy_base))]) - [m.x_m, m.y_m, m.z_m]
        p_opt = pts @ m.rotation_base_optical()  # base -> optical (transpose of R)
        uv, _ = cv2.projectPoints(
            p_opt.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), self.k, self.dist
        )
        return uv.reshape(-1, 2)


@dataclass(frozen=True)
class GroundLut:
    """Pixels sampled every ``stride``, their rays and ground points in a level base_link."""

    rows: np.ndarray  # (N,) image rows of valid samples
    cols: np.ndarray  # (N,) image columns
    xy: np.ndarray  # (N, 2) ground points in base_link when the robot stands level (m)
    grid_shape: tuple[int, int]  # sample grid (rows, cols) the samples come from
    grid_index: np.ndarray  # (N,) flat index into the sample grid
    stride: int
    rays: np.ndarray  # (N, 3) ray directions in base_link
    camera_xyz: np.ndarray  # (3,) camera position in base_link
    max_range_m: float
    min_depression_rad: float

    def ground_xy(
        self, roll_rad: float = 0.0, pitch_rad: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ground points in the (yaw-only) base frame for a tilted robot, and their validity.

        A pitch of one degree moves a point 3 m ahead by about 0.35 m, so the body's roll and
        pitch (IMU or simulator) are applied to the rays before they meet the ground.
        """
        if roll_rad == 0.0 and pitch_rad == 0.0:
            return self.xy, np.ones(len(self.xy), dtype=bool)
        r = rotation_rpy(roll_rad, pitch_rad, 0.0)
        d = self.rays @ r.T
        c = r @ self.camera_xyz
        dz = d[:, 2]
        s2 = np.sin(self.min_depression_rad) ** 2
        below = (dz < 0) & (dz * dz > s2 * np.einsum('ij,ij->i', d, d))
        t = -c[2] / np.where(below, dz, -1.0)
        dx, dy = t * d[:, 0], t * d[:, 1]
        valid = below & (dx * dx + dy * dy <= self.max_range_m**2)
        return np.column_stack([c[0] + dx, c[1] + dy]), valid


def ground_lut(
    camera: CameraModel,
    stride: int = 2,
    max_range_m: float = 6.0,
    min_depression_rad: float = math.radians(2.0),
) -> GroundLut:
    """The look-up table of the ground under each sampled pixel (pixel centres)."""
    rows = np.arange(stride // 2, camera.height, stride)
    cols = np.arange(stride // 2, camera.width, stride)
    rr, cc = np.meshgrid(rows, cols, indexing='ij')
    u, v = cc.ravel() + 0.5, rr.ravel() + 0.5
    xy, valid = camera.ground_points(u, v, max_range_m, min_depression_rad)
    idx = np.flatnonzero(valid)
    rays = camera.rays_base(u[idx], v[idx])
    m = camera.mounting
    return GroundLut(
        rr.ravel()[idx],
        cc.ravel()[idx],
        xy[idx],
        rr.shape,
        idx,
        stride,
        rays,
        np.array([m.x_m, m.y_m, m.z_m]),
        max_range_m,
        min_depression_rad,
    )
