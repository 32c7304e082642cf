"""Conversions between mapping layers and ROS 2 messages (mapping_node's boundary)."""

from __future__ import annotations

import array

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from nav_msgs.msg import OccupancyGrid, Odometry
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from mower_mapping.coverage_layer import coverage_share
from mower_maps.geometry import rpy_from_quaternion

#: OccupancyGrid values of map/semantic: lawn, other ground, obstacle; -1 is unknown.
SEMANTIC_VALUES = {0: 0, 1: 30, 2: 100}


def stamp_seconds(stamp: Time) -> float:
    """builtin_interfaces/Time in seconds."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def odometry_pose(msg: Odometry) -> tuple[float, float, float, float, float, float]:
    """(t, x, y, yaw, roll, pitch) of an Odometry message."""
    q = msg.pose.pose.orientation
    roll, pitch, yaw = rpy_from_quaternion(q.x, q.y, q.z, q.w)
    p = msg.pose.pose.position
    return stamp_seconds(msg.header.stamp), float(p.x), float(p.y), yaw, roll, pitch


def labels_from_msg(msg: Image) -> np.ndarray:
    """(H, W) uint8 class ids of a mono8 label image; ValueError names what is wrong."""
    if msg.encoding != 'mono8':
        raise ValueError(f'label image encoding {msg.encoding!r}, expected mono8')
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if h <= 0 or w <= 0 or step < w or data.size != step * h:
        raise ValueError(f'label image geometry {w}x{h} step {step} with {data.size} bytes')
    return data.reshape(h, step)[:, :w]


def stamp_nanoseconds(stamp: Time) -> int:
    """builtin_interfaces/Time in integer nanoseconds (exact, for pairing by stamp)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def confidence_from_msg(msg: Image) -> np.ndarray:
    """(H, W) float32 confidence in [0, 1] of a mono8 confidence image (0-255 is 0-1).

    ``segmentation/confidence`` carries the segmenter's per-pixel confidence (largest softmax
    probability) scaled to 0-255 and rounded; ValueError names what is wrong with the image.
    """
    if msg.encoding != 'mono8':
        raise ValueError(f'confidence image encoding {msg.encoding!r}, expected mono8')
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if h <= 0 or w <= 0 or step < w or data.size != step * h:
        raise ValueError(f'confidence image geometry {w}x{h} step {step} with {data.size} bytes')
    return data.reshape(h, step)[:, :w].astype(np.float32) * np.float32(1.0 / 255.0)


def camera_info_k(msg: CameraInfo) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(K, distortion, width, height) of a CameraInfo; ValueError when unusable."""
    k = np.asarray(msg.k, dtype=float).reshape(3, 3)
    if k[0, 0] <= 0 or k[1, 1] <= 0 or msg.width <= 0 or msg.height <= 0:
        raise ValueError('camera_info without a calibration')
    d = np.asarray(msg.d, dtype=float)
    return k, (d if d.size else np.zeros(5)), int(msg.width), int(msg.height)


def grid_msg(
    values: np.ndarray, origin_xy: np.ndarray, resolution_m: float, frame_id: str, stamp: Time
) -> OccupancyGrid:
    """An OccupancyGrid of int8 values (row 0 at the origin's y)."""
    msg = OccupancyGrid(header=Header(stamp=stamp, frame_id=frame_id))
    msg.info.map_load_time = stamp
    msg.info.resolution = float(resolution_m)
    msg.info.height, msg.info.width = (int(v) for v in values.shape)
    msg.info.origin.position.x = float(origin_xy[0])
    msg.info.origin.position.y = float(origin_xy[1])
    msg.info.origin.orientation.w = 1.0
    # array.array('b') is taken as it is; a list is checked value by value by Humble's setter
    # (rosidl_generator_py resource/_msg.py.em), tens of ms for a 600x600 grid
    msg.data = array.array('b', np.ascontiguousarray(values, dtype=np.int8).tobytes())
    return msg


def semantic_values(class_map: np.ndarray) -> np.ndarray:
    """Class map (255 unknown) to OccupancyGrid values."""
    out = np.full(class_map.shape, -1, dtype=np.int8)
    for cls, value in SEMANTIC_VALUES.items():
        out[class_map == cls] = value
    return out


def mask_values(mask: np.ndarray) -> np.ndarray:
    """A boolean layer as OccupancyGrid values: 100 where set, 0 elsewhere.

    map/coverage (the mowed layer) is published this way; map/obstacle_cells carries
    :meth:`SemanticGrid.obstacle_values` (100 found, 50 suspected, 0).
    """
    return np.where(mask, 100, 0).astype(np.int8)


def coverage_values(mowed: np.ndarray, factor: int) -> np.ndarray:
    """Mowed raster reduced by ``factor``: 100 mowed (half the cell or more), 0 not yet."""
    return np.where(coverage_share(mowed, factor) >= 0.5, 100, 0).astype(np.int8)


def obstacle_markers(polygons: list, frame_id: str, stamp: Time) -> MarkerArray:
    """Obstacle outlines as LINE_STRIP markers (namespace ``obstacles``)."""
    header = Header(stamp=stamp, frame_id=frame_id)
    markers = [Marker(header=header, ns='obstacles', id=0, action=Marker.DELETEALL)]
    for i, poly in enumerate(polygons):
        m = Marker(
            header=header, ns='obstacles', id=i + 1, type=Marker.LINE_STRIP, action=Marker.ADD
        )
        m.pose.orientation.w = 1.0
        m.scale.x = 0.03
        m.color = ColorRGBA(r=0.9, g=0.1, b=0.1, a=1.0)
        m.points = [Point(x=float(x), y=float(y), z=0.02) for x, y in poly.exterior.coords]
        markers.append(m)
    return MarkerArray(markers=markers)
