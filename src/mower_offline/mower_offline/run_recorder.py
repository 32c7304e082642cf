"""The bag of a simulated mowing run: its topics at their rates, DESIGN.md's names and types.

:class:`RunRecorder` is called once per control tick of :class:`mower_offline.run.MowingRun`'s
loop and writes odometry, tf and the velocity commands (``bag_state_hz``), the camera with
its labels, their overlay and camera info (``bag_camera_hz``), the semantic and mowed grids
with the path driven so far (every ``bag_grid_s``), the planned paths (when they change) and
the mission state with the diagnostics (on a change, else every second) into a
:class:`mower_offline.bag.MessageSink`: the rosbag2 file, the live Foxglove view, or both.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from mower_offline.bag import (
    MessageSink,
    coverage_grid_msg,
    header,
    obstacle_cells_msg,
    quaternion_z,
    ros_msg,
    semantic_grid_msg,
)
from mower_offline.replay_outputs import compressed_image, label_overlay
from mower_offline.schedule import Every

if TYPE_CHECKING:
    from mower_offline.run import MowingRun

DRIVEN_STEP_M = 0.25  # /mower/driven_path: a pose each time the robot is this far on
DRIVEN_TOL_M = 0.02  # ... kept as a vertex only where the path bends by more than this
TOPICS = {  # what a run records: topic -> message type (config/foxglove_layout.json shows them)
    '/odom': 'nav_msgs/msg/Odometry',
    '/tf': 'tf2_msgs/msg/TFMessage',
    '/cmd_vel': 'geometry_msgs/msg/Twist',
    '/cmd_vel_safe': 'geometry_msgs/msg/Twist',
    '/camera/image_raw/compressed': 'sensor_msgs/msg/CompressedImage',
    '/segmentation/overlay/compressed': 'sensor_msgs/msg/CompressedImage',
    '/segmentation/labels': 'sensor_msgs/msg/Image',
    '/camera/camera_info': 'sensor_msgs/msg/CameraInfo',
    '/mower/driven_path': 'nav_msgs/msg/Path',
    '/map/semantic': 'nav_msgs/msg/OccupancyGrid',
    '/map/obstacle_cells': 'nav_msgs/msg/OccupancyGrid',
    '/map/coverage': 'nav_msgs/msg/OccupancyGrid',
    '/coverage/path': 'nav_msgs/msg/Path',
    '/mission/path': 'nav_msgs/msg/Path',
    '/mower/state': 'std_msgs/msg/String',
    '/diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
}


class RunRecorder:
    """Writes the run's topics into the bag at their rates (DESIGN.md's names and types)."""

    def __init__(self, run: MowingRun, bag: MessageSink | None) -> None:
        """Record ``run`` into ``bag`` (None: record nothing); all rates due at the start.

        ``bag``: a :class:`mower_offline.bag.BagRecorder`, the live view, or both (a tee).
        """
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
        self.driven: list[Any] = []  # the path driven: PoseStamped, DRIVEN_STEP_M apart
        self.driven_xy = (np.inf, np.inf)  # where the last of them is

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
        """The final grids, at the end of the run (nothing without a bag)."""
        if self.bag is not None:
            self._grids(self.run.sim.time_s)

    @property
    def _bag(self) -> MessageSink:
        assert self.bag is not None, 'nothing is written without a bag'
        return self.bag

    def _state(self, tick: Any, t: float) -> None:
        bag = self._bag
        x, y, yaw = self.run.loop.pose()
        self._driven(t, x, y, yaw)
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
        """Image, labels, their overlay and camera info, stamped with the exposure time.

        Written at bag time ``t``; the overlay is the video's (camera and label colours).
        """
        run, ts = self.run, frame.time_s
        for topic, rgb in (
            ('/camera/image_raw/compressed', frame.rgb),
            ('/segmentation/overlay/compressed', label_overlay(frame.rgb, labels)),
        ):
            msg = compressed_image(rgb, ts, 'camera_optical_frame')
            if msg is not None:
                self._bag.write(topic, 'sensor_msgs/msg/CompressedImage', t, msg)
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

    def _driven(self, t: float, x: float, y: float, yaw: float) -> None:
        """The path driven, as a polyline with a vertex where the robot turned.

        A pose every DRIVEN_STEP_M; one that continues the last straight piece (the piece's
        end lies within DRIVEN_TOL_M of the line from the vertex before it) moves that end
        instead of adding a vertex: a stripe is two poses, so the path written with every
        grid stays small on long runs.
        """
        if np.hypot(x - self.driven_xy[0], y - self.driven_xy[1]) < DRIVEN_STEP_M:
            return
        self.driven_xy = (x, y)
        pose = ros_msg(
            'geometry_msgs/msg/PoseStamped',
            header=header(t, 'map'),
            pose=ros_msg(
                'geometry_msgs/msg/Pose',
                position=ros_msg('geometry_msgs/msg/Point', x=x, y=y),
                orientation=quaternion_z(yaw),
            ),
        )
        if len(self.driven) >= 2 and _on_line(self.driven[-2], self.driven[-1], x, y):
            self.driven[-1] = pose
        else:
            self.driven.append(pose)

    def _grids(self, t: float) -> None:
        """The semantic, obstacle and mowed grids, and the path driven so far (which grows)."""
        run = self.run
        self._bag.write(
            '/mower/driven_path',
            'nav_msgs/msg/Path',
            t,
            ros_msg('nav_msgs/msg/Path', header=header(t, 'map'), poses=self.driven),
        )
        if run.loop.grid is not None:
            self._bag.write(
                '/map/semantic',
                'nav_msgs/msg/OccupancyGrid',
                t,
                semantic_grid_msg(run.loop.grid, t),
            )
            self._bag.write(
                '/map/obstacle_cells',
                'nav_msgs/msg/OccupancyGrid',
                t,
                obstacle_cells_msg(run.loop.grid, t),
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


def _on_line(a: Any, b: Any, x: float, y: float) -> bool:
    """Whether pose ``b`` lies within DRIVEN_TOL_M of the line from pose ``a`` to (x, y)."""
    ax, ay = a.pose.position.x, a.pose.position.y
    bx, by = b.pose.position.x, b.pose.position.y
    dx, dy = x - ax, y - ay
    length = float(np.hypot(dx, dy))
    if length < 1e-9:
        return True
    ahead = ((bx - ax) * dx + (by - ay) * dy) / length  # b must lie between a and (x, y)
    return 0.0 <= ahead <= length and abs((bx - ax) * dy - (by - ay) * dx) / length <= DRIVEN_TOL_M
