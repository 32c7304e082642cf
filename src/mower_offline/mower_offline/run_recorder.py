"""The bag of a simulated mowing run: its topics at their rates, DESIGN.md's names and types.

:class:`RunRecorder` is called once per control tick of :class:`mower_offline.run.MowingRun`'s
loop and writes odometry, tf and the velocity commands (``bag_state_hz``), the camera with
its labels and camera info (``bag_camera_hz``), the semantic and mowed grids (every
``bag_grid_s``), the paths (when they change) and the mission state with the diagnostics (on
a change, else every second) into a :class:`mower_offline.bag.BagRecorder`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from mower_offline.bag import (
    BagRecorder,
    coverage_grid_msg,
    header,
    quaternion_z,
    ros_msg,
    semantic_grid_msg,
)
from mower_offline.schedule import Every

if TYPE_CHECKING:
    from mower_offline.run import MowingRun


class RunRecorder:
    """Writes the run's topics into the bag at their rates (DESIGN.md's names and types)."""

    def __init__(self, run: MowingRun, bag: BagRecorder | None) -> None:
        """Record ``run`` into ``bag`` (None: record nothing); all rates due at the start."""
        self.run, self.bag = run, bag
        cfg = run.cfg
        # the state keeps its phase (a rate), the others count from their last message
        self.state_rate = Every(1.0 / cfg.bag_state_hz, aligned=True)
        self.camera_rate = Every(1.0 / cfg.bag_camera_hz)
        self.grid_rate = Every(cfg.bag_grid_s)
        self.diag_rate = Every(1.0)  # and at each change of the mission state
        self.path_id: int | None = None
        self.last_state: str | None = None
        self.last_frame: Any = None

    def tick(self, tick: Any) -> None:
        """Write what is due after the loop's tick ``tick``, on the simulator's clock."""
        if self.bag is None:
            return
        run, t = self.run, self.run.sim.time_s
        if self.state_rate.due(t):
            self._state(tick, t)
        loop = run.loop
        if loop.camera is None:  # no perception in the loop: render for the bag
            if self.camera_rate.due(t):
                frame = run.sim.camera(labels=True)
                self._camera(t, frame, frame.labels)
        elif loop.last_frame is not self.last_frame and self.camera_rate.due(
            loop.last_frame.time_s
        ):
            self.last_frame = frame = loop.last_frame
            self._camera(t, frame, loop.last_labels)
        if self.grid_rate.due(t):
            self._grids(t)
        if self.path_id != run.loop.mission.path_id:
            self.path_id = run.loop.mission.path_id
            self._path(t)
        if tick.mission.state != self.last_state or self.diag_rate.due(t):
            self.diag_rate.restart(t)
            self.last_state = tick.mission.state
            self._mission(tick, t)

    def finish(self) -> None:
        """The final grids, at the end of the run."""
        self._grids(self.run.sim.time_s)

    @property
    def _bag(self) -> BagRecorder:
        assert self.bag is not None, 'nothing is written without a bag'
        return self.bag

    def _state(self, tick: Any, t: float) -> None:
        bag = self._bag
        x, y, yaw = self.run.loop.pose()
        w, qx, qy, qz = (float(v) for v in self.run.sim.data.qpos[3:7])  # attitude, wxyz
        pose = ros_msg(
            'geometry_msgs/msg/Pose',
            position=ros_msg('geometry_msgs/msg/Point', x=x, y=y),
            orientation=ros_msg('geometry_msgs/msg/Quaternion', x=qx, y=qy, z=qz, w=w),
        )
        twist = ros_msg(
            'geometry_msgs/msg/Twist',
            linear=ros_msg('geometry_msgs/msg/Vector3', x=tick.safety.v_mps),
            angular=ros_msg('geometry_msgs/msg/Vector3', z=tick.safety.w_radps),
        )
        odom = ros_msg(
            'nav_msgs/msg/Odometry',
            header=header(t, 'map'),
            child_frame_id='base_link',
            pose=ros_msg('geometry_msgs/msg/PoseWithCovariance', pose=pose),
            twist=ros_msg('geometry_msgs/msg/TwistWithCovariance', twist=twist),
        )
        bag.write('/odom', 'nav_msgs/msg/Odometry', t, odom)
        tf = ros_msg(
            'geometry_msgs/msg/TransformStamped',
            header=header(t, 'map'),
            child_frame_id='base_link',
            transform=ros_msg(
                'geometry_msgs/msg/Transform',
                translation=ros_msg('geometry_msgs/msg/Vector3', x=x, y=y),
                rotation=quaternion_z(yaw),
            ),
        )
        bag.write(
            '/tf', 'tf2_msgs/msg/TFMessage', t, ros_msg('tf2_msgs/msg/TFMessage', transforms=[tf])
        )
        cmd = ros_msg(
            'geometry_msgs/msg/Twist',
            linear=ros_msg('geometry_msgs/msg/Vector3', x=tick.follower.v_mps),
            angular=ros_msg('geometry_msgs/msg/Vector3', z=tick.follower.w_radps),
        )
        bag.write('/cmd_vel', 'geometry_msgs/msg/Twist', t, cmd)
        bag.write('/cmd_vel_safe', 'geometry_msgs/msg/Twist', t, twist)

    def _camera(self, t: float, frame: Any, labels: np.ndarray) -> None:
        """Image, labels and camera info, stamped with the exposure time; bag time ``t``."""
        run, ts = self.run, frame.time_s
        ok, jpeg = cv2.imencode(
            '.jpg', cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
        )
        if ok:
            self._bag.write(
                '/camera/image_raw/compressed',
                'sensor_msgs/msg/CompressedImage',
                t,
                ros_msg(
                    'sensor_msgs/msg/CompressedImage',
                    header=header(ts, 'camera_optical_frame'),
                    format='jpeg',
                    data=jpeg.tobytes(),
                ),
            )
        h, w = labels.shape
        self._bag.write(
            '/segmentation/labels',
            'sensor_msgs/msg/Image',
            t,
            ros_msg(
                'sensor_msgs/msg/Image',
                header=header(ts, 'camera_optical_frame'),
                height=h,
                width=w,
                encoding='mono8',
                step=w,
                data=labels.astype(np.uint8).tobytes(),
            ),
        )
        k = run.sim.camera_intrinsics()
        m = run.sim.mower
        self._bag.write(
            '/camera/camera_info',
            'sensor_msgs/msg/CameraInfo',
            t,
            ros_msg(
                'sensor_msgs/msg/CameraInfo',
                header=header(ts, 'camera_optical_frame'),
                height=m.image_height,
                width=m.image_width,
                distortion_model='plumb_bob',
                d=np.zeros(5),
                k=k.reshape(-1),
                p=np.hstack([k, np.zeros((3, 1))]).reshape(-1),
                r=np.eye(3).reshape(-1),
            ),
        )

    def _grids(self, t: float) -> None:
        run = self.run
        if run.loop.grid is not None:
            self._bag.write(
                '/map/semantic',
                'nav_msgs/msg/OccupancyGrid',
                t,
                semantic_grid_msg(run.loop.grid, t),
            )
        self._bag.write(
            '/map/coverage', 'nav_msgs/msg/OccupancyGrid', t, coverage_grid_msg(run.layer, t)
        )  # the mowed layer at 10 cm

    def _path(self, t: float) -> None:
        m = self.run.loop.mission
        for topic, pts in (('/coverage/path', m.plan_points), ('/mission/path', m.path)):
            poses = []
            for x, y in (pts if pts is not None else np.zeros((0, 2)))[::2]:
                poses.append(
                    ros_msg(
                        'geometry_msgs/msg/PoseStamped',
                        header=header(t, 'map'),
                        pose=ros_msg(
                            'geometry_msgs/msg/Pose',
                            position=ros_msg('geometry_msgs/msg/Point', x=float(x), y=float(y)),
                            orientation=quaternion_z(0.0),
                        ),
                    )
                )
            self._bag.write(
                topic,
                'nav_msgs/msg/Path',
                t,
                ros_msg('nav_msgs/msg/Path', header=header(t, 'map'), poses=poses),
            )

    def _mission(self, tick: Any, t: float) -> None:
        run = self.run
        state = {
            'state': tick.mission.state,
            'mowed_pct': round(run.coverage_pct(), 2),
            'progress_m': round(run.loop.mission.progress_m, 2),
            'message': tick.mission.message,
        }
        self._bag.write(
            '/mower/state',
            'std_msgs/msg/String',
            t,
            ros_msg('std_msgs/msg/String', data=json.dumps(state)),
        )
        kv = [
            ros_msg('diagnostic_msgs/msg/KeyValue', key=k, value=str(v))
            for k, v in {
                'active': ', '.join(tick.safety.reasons),
                'latched': ', '.join(tick.safety.latched),
                **run.loop.driver.diagnostics(),
            }.items()
        ]
        status = ros_msg(
            'diagnostic_msgs/msg/DiagnosticStatus',
            level=0,
            name='mower',
            message=tick.mission.state,
            hardware_id='sim',
            values=kv,
        )
        self._bag.write(
            '/diagnostics',
            'diagnostic_msgs/msg/DiagnosticArray',
            t,
            ros_msg('diagnostic_msgs/msg/DiagnosticArray', header=header(t, ''), status=[status]),
        )
