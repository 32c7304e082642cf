"""Small rosbag2 messages the bag-reading tests write (through mower_offline.bag)."""

from __future__ import annotations

from typing import Any

from mower_offline.bag import header, quaternion_z, ros_msg


def odometry(t: float, x: float, y: float = 0.0) -> Any:
    """nav_msgs/Odometry of base_link at (x, y), heading east, in the map frame, at ``t``."""
    return ros_msg(
        'nav_msgs/msg/Odometry',
        header=header(t, 'map'),
        child_frame_id='base_link',
        pose=ros_msg(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=ros_msg(
                'geometry_msgs/msg/Pose',
                position=ros_msg('geometry_msgs/msg/Point', x=x, y=y),
                orientation=quaternion_z(0.0),
            ),
        ),
    )


def compressed_jpeg(t: float, jpeg: bytes, frame_id: str = 'camera_optical_frame') -> Any:
    """sensor_msgs/CompressedImage of JPEG bytes stamped ``t``."""
    return ros_msg(
        'sensor_msgs/msg/CompressedImage', header=header(t, frame_id), format='jpeg', data=jpeg
    )
