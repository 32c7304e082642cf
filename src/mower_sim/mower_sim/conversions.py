"""Conversions from simulator readings to ROS 2 messages (sim_node's boundary)."""

from __future__ import annotations

import array

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion, TransformStamped
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, Imu, JointState, NavSatFix, NavSatStatus
from std_msgs.msg import Header

from mower_maps.geometry import quaternion_from_yaw


def stamp_of(seconds: float) -> Time:
    """builtin_interfaces/Time of a time in seconds."""
    ns = int(round(seconds * 1e9))
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def clock_msg(seconds: float) -> Clock:
    """rosgraph_msgs/Clock."""
    return Clock(clock=stamp_of(seconds))


def yaw_quaternion(yaw: float) -> Quaternion:
    """Rotation about z."""
    x, y, z, w = quaternion_from_yaw(yaw)
    return Quaternion(x=x, y=y, z=z, w=w)


def image_msg(rgb: np.ndarray, seconds: float, frame_id: str) -> Image:
    """sensor_msgs/Image, rgb8."""
    h, w = rgb.shape[:2]
    return Image(
        header=Header(stamp=stamp_of(seconds), frame_id=frame_id),
        height=h,
        width=w,
        encoding='rgb8',
        is_bigendian=0,
        step=w * 3,  # array.array: no per-byte check
        data=array.array('B', np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()),
    )


def camera_info_msg(
    k: np.ndarray, width: int, height: int, seconds: float, frame_id: str
) -> CameraInfo:
    """sensor_msgs/CameraInfo of an ideal pinhole (no distortion)."""
    kk = [float(v) for v in np.asarray(k, dtype=float).ravel()]
    p = [kk[0], 0.0, kk[2], 0.0, 0.0, kk[4], kk[5], 0.0, 0.0, 0.0, 1.0, 0.0]
    return CameraInfo(
        header=Header(stamp=stamp_of(seconds), frame_id=frame_id),
        height=height,
        width=width,
        distortion_model='plumb_bob',
        d=[0.0] * 5,
        k=kk,
        r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        p=p,
    )


def imu_msg(
    quat_wxyz: np.ndarray,
    gyro: np.ndarray,
    accel: np.ndarray,
    seconds: float,
    frame_id: str,
    gyro_std: float,
    accel_std: float,
) -> Imu:
    """sensor_msgs/Imu with diagonal covariances from the noise model."""
    msg = Imu(header=Header(stamp=stamp_of(seconds), frame_id=frame_id))
    w, x, y, z = (float(v) for v in quat_wxyz)
    msg.orientation = Quaternion(x=x, y=y, z=z, w=w)
    msg.orientation_covariance = [1e-4, 0.0, 0.0, 0.0, 1e-4, 0.0, 0.0, 0.0, 1e-4]
    msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = (
        float(v) for v in gyro
    )
    msg.linear_acceleration.x, msg.linear_acceleration.y, msg.linear_acceleration.z = (
        float(v) for v in accel
    )
    g2, a2 = max(gyro_std, 1e-6) ** 2, max(accel_std, 1e-6) ** 2
    msg.angular_velocity_covariance = [g2, 0.0, 0.0, 0.0, g2, 0.0, 0.0, 0.0, g2]
    msg.linear_acceleration_covariance = [a2, 0.0, 0.0, 0.0, a2, 0.0, 0.0, 0.0, a2]
    return msg


def odometry_msg(
    pose: tuple[float, float, float],
    v: float,
    w: float,
    seconds: float,
    odom_frame: str,
    base_frame: str,
) -> Odometry:
    """nav_msgs/Odometry of base_link in the odom frame."""
    msg = Odometry(
        header=Header(stamp=stamp_of(seconds), frame_id=odom_frame), child_frame_id=base_frame
    )
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(pose[0]), float(pose[1])
    msg.pose.pose.orientation = yaw_quaternion(pose[2])
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(v), float(w)
    cov = [0.0] * 36
    for i, c in zip((0, 7, 14, 21, 28, 35), (1e-3, 1e-3, 1e6, 1e6, 1e6, 1e-3), strict=True):
        cov[i] = c
    msg.pose.covariance = cov
    msg.twist.covariance = cov
    return msg


def transform_msg(
    parent: str, child: str, x: float, y: float, z: float, yaw: float, seconds: float
) -> TransformStamped:
    """A planar transform."""
    t = TransformStamped(
        header=Header(stamp=stamp_of(seconds), frame_id=parent), child_frame_id=child
    )
    t.transform.translation.x, t.transform.translation.y, t.transform.translation.z = x, y, z
    t.transform.rotation = yaw_quaternion(yaw)
    return t


def joint_state_msg(
    names: list[str], positions: np.ndarray, velocities: np.ndarray, seconds: float
) -> JointState:
    """sensor_msgs/JointState."""
    return JointState(
        header=Header(stamp=stamp_of(seconds), frame_id=''),
        name=list(names),
        position=[float(v) for v in positions],
        velocity=[float(v) for v in velocities],
        effort=[],
    )


def navsat_msg(lon: float, lat: float, std_m: float, seconds: float, frame_id: str) -> NavSatFix:
    """sensor_msgs/NavSatFix (RTK fix) with a diagonal covariance."""
    msg = NavSatFix(
        header=Header(stamp=stamp_of(seconds), frame_id=frame_id),
        latitude=float(lat),
        longitude=float(lon),
        altitude=0.0,
    )
    msg.status.status = NavSatStatus.STATUS_GBAS_FIX
    msg.status.service = NavSatStatus.SERVICE_GPS
    var = max(std_m, 1e-3) ** 2
    msg.position_covariance = [var, 0.0, 0.0, 0.0, var, 0.0, 0.0, 0.0, 4 * var]
    msg.position_covariance_type = NavSatFix.COVARIANCE_TYPE_DIAGONAL_KNOWN
    return msg
