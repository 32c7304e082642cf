"""Conversions between ROS 2 messages and the planner's numpy / shapely types.

The only module of this package besides the node that imports ROS message types. Every
function takes plain values in and gives messages out (or the reverse), so it is tested
without a running ROS graph.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from builtin_interfaces.msg import Duration, Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from nav_msgs.msg import OccupancyGrid, Path
from shapely.geometry import Polygon
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from mower_coverage.geometry import polygons_of, rings_of
from mower_coverage.planner import Plan
from mower_coverage.route import KINDS
from mower_maps.geometry import quaternion_from_yaw, yaw_from_quaternion


def yaw_to_quaternion(yaw_rad: float) -> Quaternion:
    """A rotation about z as a quaternion."""
    x, y, z, w = quaternion_from_yaw(yaw_rad)
    return Quaternion(x=x, y=y, z=z, w=w)


def quaternion_to_yaw(q: Quaternion) -> float:
    """The yaw of a quaternion (rotation about z), radians."""
    return yaw_from_quaternion(q.x, q.y, q.z, q.w)


def path_to_msg(poses: np.ndarray, frame_id: str, stamp: Time) -> Path:
    """nav_msgs/Path from an (N, 3) array of x, y, yaw."""
    header = Header(stamp=stamp, frame_id=frame_id)
    msg = Path(header=header)
    out = []
    for x, y, yaw in np.asarray(poses, dtype=float):
        pose = Pose(
            position=Point(x=float(x), y=float(y), z=0.0),
            orientation=yaw_to_quaternion(float(yaw)),
        )
        out.append(PoseStamped(header=Header(stamp=stamp, frame_id=frame_id), pose=pose))
    msg.poses = out
    return msg


def msg_to_path(msg: Path) -> np.ndarray:
    """The (N, 3) x, y, yaw array of a nav_msgs/Path."""
    return np.array(
        [
            (p.pose.position.x, p.pose.position.y, quaternion_to_yaw(p.pose.orientation))
            for p in msg.poses
        ],
        dtype=float,
    ).reshape(-1, 3)


_COLOURS = {
    'boundary': (0.23, 0.43, 0.16, 1.0),
    'keepout': (0.8, 0.2, 0.3, 1.0),
    'obstacle': (0.45, 0.32, 0.2, 1.0),
    'allowed': (0.5, 0.5, 0.5, 0.8),
    'headland': (0.12, 0.37, 0.66, 0.9),
    'stripe': (0.16, 0.48, 0.16, 0.9),
    'turn': (0.85, 0.55, 0.0, 0.9),
    'transit': (0.75, 0.1, 0.42, 0.9),
}


def _colour(name: str) -> ColorRGBA:
    r, g, b, a = _COLOURS[name]
    return ColorRGBA(r=r, g=g, b=b, a=a)


def _line_marker(
    ns: str,
    marker_id: int,
    points: np.ndarray,
    header: Header,
    colour: str,
    width_m: float,
    kind: int,
) -> Marker:
    m = Marker(header=header, ns=ns, id=marker_id, type=kind, action=Marker.ADD)
    m.pose.orientation.w = 1.0
    m.scale.x = width_m
    m.color = _colour(colour)
    m.lifetime = Duration(sec=0, nanosec=0)
    m.points = [Point(x=float(x), y=float(y), z=0.0) for x, y in points]
    return m


def plan_to_markers(plan: Plan, frame_id: str, stamp: Time) -> MarkerArray:
    """Lawn areas and the plan's parts as rviz markers (one namespace per kind)."""
    header = Header(stamp=stamp, frame_id=frame_id)
    markers = [Marker(header=header, ns='', id=0, action=Marker.DELETEALL)]
    lawn = plan.lawn
    for role in ('boundary', 'keepout', 'obstacle'):
        geoms = [f.geometry for f in lawn.features if f.role == role]
        for i, ring in enumerate(r for g in geoms for r in rings_of(g)):
            markers.append(
                _line_marker(f'lawn/{role}', i, ring, header, role, 0.04, Marker.LINE_STRIP)
            )
    for i, ring in enumerate(rings_of(plan.area.allowed)):
        markers.append(
            _line_marker('lawn/allowed', i, ring, header, 'allowed', 0.02, Marker.LINE_STRIP)
        )
    pts, kinds = plan.path.points, plan.path.kinds
    for k, name in enumerate(KINDS):
        sel = np.flatnonzero(kinds == k)
        if len(sel) == 0:
            continue
        seg = np.empty((2 * len(sel), 2))
        seg[0::2], seg[1::2] = pts[sel], pts[sel + 1]
        markers.append(_line_marker(f'plan/{name}', 0, seg, header, name, 0.03, Marker.LINE_LIST))
    return MarkerArray(markers=markers)


def occupancy_grid_to_array(msg: OccupancyGrid) -> tuple[np.ndarray, float, np.ndarray, float]:
    """(cells as int8 (height, width), resolution m, origin xy, origin yaw) of a grid.

    Raises ValueError for a grid whose data does not match its size or resolution.
    """
    info = msg.info
    w, h = int(info.width), int(info.height)
    if w <= 0 or h <= 0 or not math.isfinite(info.resolution) or info.resolution <= 0:
        raise ValueError(f'bad grid geometry {w}x{h} at {info.resolution} m')
    data = np.asarray(msg.data, dtype=np.int8)
    if data.size != w * h:
        raise ValueError(f'grid data has {data.size} cells, expected {w}x{h}={w * h}')
    origin = np.array([info.origin.position.x, info.origin.position.y], dtype=float)
    yaw = quaternion_to_yaw(info.origin.orientation)
    return data.reshape(h, w), float(info.resolution), origin, yaw


def obstacles_from_grid(
    cells: np.ndarray,
    resolution_m: float,
    origin_xy: np.ndarray,
    origin_yaw: float,
    threshold: int,
    min_area_m2: float,
) -> list[Polygon]:
    """Connected occupied regions (value >= threshold) as polygons in the grid's frame.

    Occupied runs of each row become boxes, and their union is split into polygons; regions
    smaller than ``min_area_m2`` are dropped.
    """
    occ = cells >= threshold
    if not occ.any():
        return []
    padded = np.pad(occ, ((0, 0), (1, 1))).astype(np.int8)
    d = np.diff(padded, axis=1)
    rows_s, cols_s = np.nonzero(d == 1)
    rows_e, cols_e = np.nonzero(d == -1)
    boxes = shapely.box(
        cols_s * resolution_m,
        rows_s * resolution_m,
        cols_e * resolution_m,
        (rows_e + 1) * resolution_m,
    )
    merged = shapely.union_all(boxes)
    c, s = math.cos(origin_yaw), math.sin(origin_yaw)
    out = []
    for poly in polygons_of(merged):
        if poly.area < min_area_m2:
            continue
        poly = shapely.affinity.affine_transform(
            poly, [c, -s, s, c, float(origin_xy[0]), float(origin_xy[1])]
        )
        out.append(poly.simplify(resolution_m * 0.5))
    return sorted(out, key=lambda p: (round(p.centroid.x, 3), round(p.centroid.y, 3)))


def markers_to_obstacles(msg: MarkerArray, namespace: str = 'obstacles') -> list[Polygon]:
    """Obstacle outlines of map/obstacles (LINE_STRIP markers in ``namespace``) as polygons.

    The inverse of mower_mapping's obstacle_markers: the outlines' x, y are taken as they are
    (z is the drawing height); markers of other namespaces or types, and outlines of fewer
    than three distinct points, are skipped. Raises ValueError on a coordinate that is not
    finite.
    """
    out = []
    for m in msg.markers:
        if m.ns != namespace or m.type != Marker.LINE_STRIP or m.action != Marker.ADD:
            continue
        xy = np.array([(p.x, p.y) for p in m.points], dtype=float).reshape(-1, 2)
        if not np.isfinite(xy).all():
            raise ValueError(f'obstacle outline {m.id} has a coordinate that is not finite')
        if len(np.unique(xy, axis=0)) < 3:
            continue
        poly = Polygon(xy)
        out.append(poly if poly.is_valid else shapely.make_valid(poly))
    return out
