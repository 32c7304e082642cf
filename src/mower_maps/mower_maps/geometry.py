"""Small planar geometry shared by every package of the stack (ROS-free: numpy and math only).

One definition of what was written out in several places:

* **Quaternions.** The functions take the four components *by name*. ROS messages
  (``geometry_msgs/Quaternion``) order them ``x, y, z, w``; MuJoCo (``qpos``, its sensors, the
  simulator's ``imu()``) orders them ``w, x, y, z``. Unpack the right way or pass keywords::

      yaw_from_quaternion(q.x, q.y, q.z, q.w)       # a ROS message
      w, x, y, z = qpos[3:7]                         # MuJoCo
      yaw_from_quaternion(x=x, y=y, z=z, w=w)

  :func:`quaternion_from_yaw` returns ROS order ``(x, y, z, w)``. The formulas assume a unit
  quaternion.
* **Angles** are radians; :func:`wrap_angle` maps any angle into ``[-pi, pi)``. Roll, pitch and
  yaw are the z-y'-x'' (Tait-Bryan) angles that ROS (tf2 ``getRPY``) uses.
* **Polylines** are ``(N, 2)`` float arrays of x, y in metres; arc length is measured from the
  first vertex.
* **Metric grids** (rasters in the map frame, as ``nav_msgs/OccupancyGrid``): ``origin`` is the
  map x, y of the *lower-left corner* of cell ``(0, 0)`` and ``res`` the cell size in metres.
  Along each axis cell ``i`` covers the half-open interval ``[origin + i * res,
  origin + (i + 1) * res)``, so a point's cell is the *floor* of ``(xy - origin) / res`` and a
  cell's centre is ``origin + (i + 0.5) * res``. Indices come in the order of ``xy``:
  ``(ix, iy)`` = (column, row); a raster ``grid`` of shape ``(rows, cols)`` is read as
  ``grid[iy, ix]``. A point exactly on a cell edge belongs to the cell above it, up to the
  rounding of ``(xy - origin) / res``.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np

__all__ = [
    'cell_centre',
    'cell_index',
    'cumulative_length',
    'in_grid',
    'path_length',
    'quaternion_from_yaw',
    'rpy_from_quaternion',
    'segment_lengths',
    'wrap_angle',
    'yaw_from_quaternion',
]

_TAU = 2.0 * math.pi


# -- quaternions and angles -------------------------------------------------------------------


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Yaw (rotation about z, radians in [-pi, pi]) of a unit quaternion given by components.

    Parameters are in ROS order (``x, y, z, w``); for MuJoCo's ``w, x, y, z`` pass keywords.
    """
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def rpy_from_quaternion(x: float, y: float, z: float, w: float) -> tuple[float, float, float]:
    """(roll, pitch, yaw) in radians of a unit quaternion given by components (ROS order).

    The z-y'-x'' Tait-Bryan angles, as tf2's ``getRPY``: roll and yaw in [-pi, pi], pitch in
    [-pi/2, pi/2] (clamped, so a slightly denormalised quaternion never raises).
    """
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    return roll, pitch, yaw_from_quaternion(x, y, z, w)


def quaternion_from_yaw(yaw: float) -> tuple[float, float, float, float]:
    """The unit quaternion of a rotation by ``yaw`` radians about z, in ROS order (x, y, z, w).

    For MuJoCo's order: ``x, y, z, w = quaternion_from_yaw(yaw); q = [w, x, y, z]``.
    """
    half = yaw / 2
    return 0.0, 0.0, math.sin(half), math.cos(half)


@overload
def wrap_angle(angle: float) -> float: ...


@overload
def wrap_angle(angle: np.ndarray) -> np.ndarray: ...


def wrap_angle(angle: float | np.ndarray) -> float | np.ndarray:
    """An angle (radians; a float or an array of them) wrapped into [-pi, pi)."""
    wrapped = (angle + math.pi) % _TAU - math.pi
    # (a % tau) of a tiny negative a rounds to tau itself: that is -pi, not pi
    if isinstance(wrapped, np.ndarray):
        return np.where(wrapped >= math.pi, -math.pi, wrapped)
    return float(wrapped) if wrapped < math.pi else -math.pi


# -- polylines --------------------------------------------------------------------------------


def segment_lengths(points: np.ndarray) -> np.ndarray:
    """(N - 1,) lengths of the pieces of an (N, 2) polyline; empty for fewer than two points."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    return np.hypot(*np.diff(pts, axis=0).T)


def cumulative_length(points: np.ndarray) -> np.ndarray:
    """(N,) arc length at every vertex of an (N, 2) polyline: 0 at the first one.

    An empty polyline gives an empty array, a single point ``[0.0]``.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if not len(pts):
        return np.zeros(0)
    return np.concatenate([[0.0], np.cumsum(segment_lengths(pts))])


def path_length(points: np.ndarray) -> float:
    """Total length of an (N, 2) polyline; 0 for fewer than two points."""
    return float(segment_lengths(points).sum())


# -- metric grids (see the module docstring for the convention) -------------------------------


def cell_index(xy: np.ndarray, origin: np.ndarray, res: float) -> np.ndarray:
    """Integer (ix, iy) of the grid cells containing points: ``floor((xy - origin) / res)``.

    ``xy`` is one point ``(2,)`` or many ``(N, 2)``; the result has its shape, dtype int64.
    Points off the grid get indices outside it (negative or too large): see :func:`in_grid`.
    """
    return np.floor((np.asarray(xy, dtype=float) - np.asarray(origin, dtype=float)) / res).astype(
        np.int64
    )


def cell_centre(index: np.ndarray, origin: np.ndarray, res: float) -> np.ndarray:
    """Map x, y of the centres of cells (ix, iy): ``origin + (index + 0.5) * res``.

    The inverse of :func:`cell_index` on centres: ``cell_index(cell_centre(i, o, r), o, r)``
    is ``i``.
    """
    return np.asarray(origin, dtype=float) + (np.asarray(index) + 0.5) * res


def in_grid(index: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which (ix, iy) indices (shape ``(2,)`` or ``(N, 2)``) lie on a ``(rows, cols)`` raster."""
    ij = np.asarray(index)
    return (
        (ij[..., 0] >= 0) & (ij[..., 0] < shape[1]) & (ij[..., 1] >= 0) & (ij[..., 1] < shape[0])
    )
