"""Message conversions of the control nodes, in one place (tested with the real definitions).

Standard messages only: geometry_msgs Twist / TwistStamped, nav_msgs Path / Odometry /
OccupancyGrid, sensor_msgs Imu / JointState / BatteryState, diagnostic_msgs DiagnosticStatus,
tf2_msgs TFMessage, std_msgs String / Float64MultiArray.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped, TransformStamped, Twist, TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from sensor_msgs.msg import BatteryState, Imu, JointState
from std_msgs.msg import Float64MultiArray, MultiArrayDimension, String
from tf2_msgs.msg import TFMessage

from mower_control.safety import ObstacleGrid
from mower_maps.geometry import yaw_from_quaternion
from mower_maps.mowed import MowedGrid

#: Layout of ``controller/progress`` (std_msgs/Float64MultiArray).
PROGRESS_FIELDS = ('path_stamp_s', 'progress_m', 'done', 'cross_track_m', 'v_mps', 'w_radps')


def stamp_s(stamp: Time) -> float:
    """Seconds of a builtin_interfaces/Time."""
    return stamp.sec + stamp.nanosec * 1e-9


def to_stamp(t: float) -> Time:
    """A builtin_interfaces/Time of ``t`` seconds."""
    sec = math.floor(t)
    return Time(sec=int(sec), nanosec=min(999_999_999, int(round((t - sec) * 1e9))))


def twist_of(msg: Twist | TwistStamped) -> tuple[float, float]:
    """(v, w) of a Twist or TwistStamped."""
    t = msg.twist if isinstance(msg, TwistStamped) else msg
    return float(t.linear.x), float(t.angular.z)


def twist_msg(
    v: float, w: float, stamped: bool, stamp: Time, frame_id: str
) -> Twist | TwistStamped:
    """A Twist (or TwistStamped) of a body velocity."""
    t = Twist()
    t.linear.x, t.angular.z = float(v), float(w)
    if not stamped:
        return t
    msg = TwistStamped(twist=t)
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg


def yaw_of(q: Any) -> float:
    """Yaw of a geometry_msgs/Quaternion."""
    return yaw_from_quaternion(q.x, q.y, q.z, q.w)


def pose_of(msg: Odometry) -> tuple[float, float, float]:
    """(x, y, yaw) of an Odometry message's pose."""
    p = msg.pose.pose
    return float(p.position.x), float(p.position.y), yaw_of(p.orientation)


def path_points(msg: Path) -> np.ndarray:
    """(N, 2) x, y of a nav_msgs/Path."""
    return np.array(
        [[ps.pose.position.x, ps.pose.position.y] for ps in msg.poses], dtype=float
    ).reshape(-1, 2)


def path_msg(points: np.ndarray | None, frame_id: str, stamp: Time, reverse: bool = False) -> Path:
    """A nav_msgs/Path through ``points``; empty for None.

    Each pose faces the way the robot faces there: along the path, or against it on a path
    driven in reverse.
    """
    msg = Path()
    msg.header.frame_id, msg.header.stamp = frame_id, stamp
    if points is None or len(points) == 0:
        return msg
    pts = np.asarray(points, dtype=float)
    d = np.diff(pts, axis=0)
    yaw = np.arctan2(d[:, 1], d[:, 0]) if len(d) else np.zeros(0)
    yaw = np.concatenate([yaw, yaw[-1:] if len(yaw) else [0.0]]) + (math.pi if reverse else 0.0)
    poses = []
    for (x, y), h in zip(pts, yaw):
        ps = PoseStamped()
        ps.header = msg.header
        ps.pose.position.x, ps.pose.position.y = float(x), float(y)
        ps.pose.orientation.z, ps.pose.orientation.w = math.sin(h / 2), math.cos(h / 2)
        poses.append(ps)
    msg.poses = poses
    return msg


def imu_arrays(msg: Imu) -> tuple[np.ndarray, np.ndarray]:
    """(orientation wxyz, linear acceleration) of an Imu message."""
    q, a = msg.orientation, msg.linear_acceleration
    return np.array([q.w, q.x, q.y, q.z]), np.array([a.x, a.y, a.z])


def grid_cells(msg: OccupancyGrid) -> tuple[np.ndarray, tuple[float, float], float]:
    """(values (rows, cols) int8, origin x/y, resolution) of an unrotated OccupancyGrid."""
    info = msg.info
    values = np.asarray(msg.data, dtype=np.int8)
    if values.size != info.width * info.height:
        raise ValueError(
            f'grid data has {values.size} cells, info says {info.width} x {info.height}'
        )
    if info.resolution <= 0:
        raise ValueError(f'grid resolution {info.resolution} is not positive')
    return (
        values.reshape(info.height, info.width),
        (float(info.origin.position.x), float(info.origin.position.y)),
        float(info.resolution),
    )


def semantic_class_map(msg: OccupancyGrid) -> tuple[np.ndarray, np.ndarray, float]:
    """map/semantic back to the semantic grid's classes: (class map, origin, resolution).

    The inverse of mapping_node's encoding (``SEMANTIC_VALUES``): 0 lawn, 1 other ground,
    2 obstacle; unknown (-1) and any value not in the table are 255 (never seen).
    """
    from mower_mapping.conversions import SEMANTIC_VALUES  # the one table of the encoding

    values, origin, res = grid_cells(msg)
    out = np.full(values.shape, 255, np.uint8)
    for cls, value in SEMANTIC_VALUES.items():
        out[values == value] = cls
    return out, np.asarray(origin, float), res


def obstacle_grid(msg: OccupancyGrid, threshold: int) -> ObstacleGrid:
    """The obstacle cells (value >= threshold) of map/obstacle_cells."""
    return ObstacleGrid.from_values(*grid_cells(msg), threshold)


def mowed_grid(msg: OccupancyGrid, threshold: int = 50) -> MowedGrid:
    """The map/coverage grid as a MowedGrid (cells >= ``threshold`` mowed).

    Called with an (N, 2) array of points it says which are mowed; ``share`` gives the mowed
    share of an area (the one formula of mower_maps.mowed).
    """
    values, origin, res = grid_cells(msg)
    return MowedGrid.from_values(values, origin, res, threshold)


def status_msg(name: str, level: str, message: str, values: dict[str, Any]) -> DiagnosticStatus:
    """A DiagnosticStatus with key/value pairs; ``level`` is 'OK', 'WARN' or 'ERROR'."""
    return DiagnosticStatus(
        level=getattr(DiagnosticStatus, level),
        name=name,
        message=message,
        hardware_id='mower',
        values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
    )


def status_values(msg: DiagnosticStatus) -> dict[str, str]:
    """The key/value pairs of a DiagnosticStatus."""
    return {kv.key: kv.value for kv in msg.values}


def split_list(text: str) -> tuple[str, ...]:
    """'a, b' -> ('a', 'b'); '' -> ()."""
    return tuple(s.strip() for s in text.split(',') if s.strip())


def safety_of(msg: DiagnosticStatus) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``safety/status``: (active reasons, latched reasons)."""
    v = status_values(msg)
    return split_list(v.get('active', '')), split_list(v.get('latched', ''))


def battery_of(msg: BatteryState) -> tuple[float, bool]:
    """``battery``: (charge in %, charging); a charge that is not given (NaN) reads 100 %."""
    pct = msg.percentage * 100.0 if math.isfinite(msg.percentage) else 100.0
    return pct, msg.power_supply_status == BatteryState.POWER_SUPPLY_STATUS_CHARGING


def progress_msg(values: dict[str, float]) -> Float64MultiArray:
    """``controller/progress``: the fields of PROGRESS_FIELDS in order, labelled."""
    msg = Float64MultiArray()
    msg.layout.dim = [
        MultiArrayDimension(
            label=','.join(PROGRESS_FIELDS), size=len(PROGRESS_FIELDS), stride=len(PROGRESS_FIELDS)
        )
    ]
    msg.data = [float(values[k]) for k in PROGRESS_FIELDS]
    return msg


def progress_values(msg: Float64MultiArray) -> dict[str, float]:
    """The fields of a ``controller/progress`` message; ValueError when malformed."""
    if len(msg.data) != len(PROGRESS_FIELDS):
        raise ValueError(
            f'controller/progress needs {len(PROGRESS_FIELDS)} values, got {len(msg.data)}'
        )
    return dict(zip(PROGRESS_FIELDS, (float(v) for v in msg.data)))


def state_msg(
    state: str, mowed_pct: float, message: str, progress_m: float, zone: int = 0
) -> String:
    """``mower/state``: a JSON object, readable by people and programs.

    ``zone``: the map's zone the mission's plan mows (0: all of them).
    """
    return String(
        data=json.dumps(
            {
                'state': state,
                'mowed_pct': None if not math.isfinite(mowed_pct) else round(mowed_pct, 2),
                'progress_m': round(progress_m, 2),
                'message': message,
                'zone': zone,
            }
        )
    )


def state_of(msg: String) -> dict[str, Any]:
    """The fields of a ``mower/state`` message; ValueError when malformed."""
    try:
        data = json.loads(msg.data)
    except json.JSONDecodeError as exc:
        raise ValueError(f'mower/state is not JSON: {exc}') from exc
    if not isinstance(data, dict) or not isinstance(data.get('state'), str):
        raise ValueError('mower/state has no "state" string')
    return data


def odometry_msg(
    x: float,
    y: float,
    yaw: float,
    v: float,
    w: float,
    stamp: Time,
    frame_id: str,
    child_frame_id: str,
) -> Odometry:
    """nav_msgs/Odometry of a planar pose and body velocity."""
    msg = Odometry()
    msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, frame_id, child_frame_id
    p = msg.pose.pose
    p.position.x, p.position.y = float(x), float(y)
    p.orientation.z, p.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(v), float(w)
    cov = np.zeros(36)
    cov[[0, 7, 35]] = [1e-3, 1e-3, 4e-3]  # wheel odometry: x, y, yaw variances
    cov[[14, 21, 28]] = 1e6  # z, roll, pitch: not measured
    msg.pose.covariance = cov.tolist()
    tw = np.zeros(36)
    tw[[0, 35]] = [1e-3, 4e-3]
    tw[[7, 14, 21, 28]] = 1e6
    msg.twist.covariance = tw.tolist()
    return msg


def tf_msg(odom: Odometry) -> TFMessage:
    """The transform odom -> base_link that an Odometry message states."""
    t = TransformStamped()
    t.header = odom.header
    t.child_frame_id = odom.child_frame_id
    p = odom.pose.pose
    t.transform.translation.x, t.transform.translation.y = p.position.x, p.position.y
    t.transform.rotation = p.orientation
    return TFMessage(transforms=[t])


def joint_state_msg(
    names: tuple[str, str],
    angles_rad: tuple[float, float],
    speeds_radps: tuple[float, float],
    stamp: Time,
) -> JointState:
    """Wheel joint states."""
    msg = JointState(
        name=list(names),
        position=[float(a) for a in angles_rad],
        velocity=[float(s) for s in speeds_radps],
    )
    msg.header.stamp = stamp
    return msg


def battery_msg(voltage_v: float, charge_pct: float, charging: bool, stamp: Time) -> BatteryState:
    """sensor_msgs/BatteryState (LiPo/Li-ion pack)."""
    msg = BatteryState()
    msg.header.stamp = stamp
    msg.voltage = float(voltage_v) if math.isfinite(voltage_v) else math.nan
    msg.percentage = float(charge_pct) / 100.0 if math.isfinite(charge_pct) else math.nan
    msg.power_supply_status = (
        BatteryState.POWER_SUPPLY_STATUS_CHARGING
        if charging
        else BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
    )
    msg.present = math.isfinite(charge_pct)
    return msg
