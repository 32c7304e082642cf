"""controller_node: follows the mission's path with regulated pure pursuit; ``cmd_vel`` out.

Subscribes to ``mission/path`` (nav_msgs/Path, transient local: the path to drive now; empty:
stop), the pose (nav_msgs/Odometry in the map frame, ``pose_topic``) and ``map/obstacle_cells`` (to
slow down near found and suspected obstacles ahead: cells at or above ``obstacle_threshold``).
Publishes ``cmd_vel`` (Twist, or TwistStamped when ``cmd_vel_stamped``) at ``control_rate_hz`` and
``controller/progress`` (Float64MultiArray, layout in mower_control.conversions.PROGRESS_FIELDS)
for the mission. The safety supervisor, not this node, decides whether the command reaches the
motors. A malformed message is logged, counted in diagnostics and skipped.
"""

from __future__ import annotations

import math
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from rclpy.node import Node
from std_msgs.msg import Float64MultiArray

from mower_control.conversions import (
    obstacle_grid,
    path_points,
    pose_of,
    progress_msg,
    stamp_s,
    twist_msg,
    yaw_of,
)
from mower_control.follower import FollowerParams, PathFollower
from mower_control.parameters import NODE_EXTRA, build, declare
from mower_node_kit.diagnostics import diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.qos import LATCHED

EXTRA = NODE_EXTRA['controller_node']  # the node's own parameters: one table, in parameters.py
HARDWARE_ID = 'mower'  # of the diagnostics


class ControllerNode(Node):
    """A thin adapter around PathFollower."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, create endpoints and the control timer."""
        super().__init__('controller_node', **kwargs)
        self.p = p = declare(self, FollowerParams, EXTRA)
        self.follower = PathFollower(build(FollowerParams, p))
        self.pose: tuple[float, float, float] | None = None
        self.pose_t = -math.inf
        self.path_stamp = -1.0
        self.grid = None
        self.counts = {'paths': 0, 'bad_messages': 0, 'no_pose': 0}
        cmd_type = TwistStamped if p['cmd_vel_stamped'] else Twist
        self.pub_cmd = self.create_publisher(cmd_type, 'cmd_vel', 10)
        self.pub_progress = self.create_publisher(Float64MultiArray, 'controller/progress', 10)
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(Path, 'mission/path', self.on_path, LATCHED)
        self.create_subscription(Odometry, p['pose_topic'], self.on_pose, 20)
        self.create_subscription(OccupancyGrid, 'map/obstacle_cells', self.on_grid, LATCHED)
        self.timer = self.create_timer(1.0 / p['control_rate_hz'], self.step)
        self.diag_timer = self.create_timer(1.0, self.publish_diagnostics)

    def now_s(self) -> float:
        """The node clock in seconds (simulated time with use_sim_time)."""
        return self.get_clock().now().nanoseconds * 1e-9

    def on_path(self, msg: Path) -> None:
        """A new path from the mission (empty: stop); reverse paths' poses face backwards."""
        try:
            pts = path_points(msg)
        except (AttributeError, TypeError, ValueError) as exc:
            self._bad('mission/path', exc)
            return
        self.path_stamp = stamp_s(msg.header.stamp)
        self.counts['paths'] += 1
        if len(pts) < 2:
            self.follower.clear()
            return
        reverse = self._is_reverse(msg)
        self.follower.set_path(pts, reverse=reverse)

    @staticmethod
    def _is_reverse(msg: Path) -> bool:
        """A reverse path's poses face against the direction of travel."""
        a, b = msg.poses[0].pose, msg.poses[1].pose
        dx, dy = b.position.x - a.position.x, b.position.y - a.position.y
        yaw = yaw_of(a.orientation)
        return math.cos(yaw) * dx + math.sin(yaw) * dy < 0.0

    def on_pose(self, msg: Odometry) -> None:
        """The robot's pose."""
        try:
            pose = pose_of(msg)
        except (AttributeError, TypeError) as exc:
            self._bad(self.p['pose_topic'], exc)
            return
        if all(math.isfinite(v) for v in pose):
            self.pose, self.pose_t = pose, self.now_s()

    def on_grid(self, msg: OccupancyGrid) -> None:
        """Obstacles for the speed regulation."""
        try:
            self.grid = obstacle_grid(msg, self.p['obstacle_threshold'])
        except (AttributeError, TypeError, ValueError) as exc:
            self._bad('map/obstacle_cells', exc)

    def obstacle_distance(self) -> float:
        """Distance from the footprint's edge to the nearest obstacle cell ahead (m)."""
        if self.grid is None or self.pose is None:
            return math.inf
        return self.grid.clearance_ahead(*self.pose, self.follower.params.footprint_radius_m)

    def step(self) -> None:
        """One control step."""
        now = self.now_s()
        if self.pose is None or now - self.pose_t > self.p['pose_timeout_s']:
            self.counts['no_pose'] += 1
            v = w = 0.0
            progress, done, cross = 0.0, False, 0.0
        else:
            cmd = self.follower.step(*self.pose, now, self.obstacle_distance())
            v, w = cmd.v_mps, cmd.w_radps
            progress, done, cross = cmd.progress_m, self.follower.done, cmd.cross_track_m
        stamp = self.get_clock().now().to_msg()
        self.pub_cmd.publish(
            twist_msg(v, w, self.p['cmd_vel_stamped'], stamp, self.p['base_frame_id'])
        )
        self.pub_progress.publish(
            progress_msg(
                {
                    'path_stamp_s': self.path_stamp,
                    'progress_m': progress,
                    'done': float(done),
                    'cross_track_m': cross,
                    'v_mps': v,
                    'w_radps': w,
                }
            )
        )

    def _bad(self, topic: str, exc: Exception) -> None:
        self.counts['bad_messages'] += 1
        self.get_logger().warning(f'malformed message on {topic} skipped: {exc}')

    def publish_diagnostics(self) -> None:
        """Counters and the follower's state."""
        level = 'WARN' if self.counts['bad_messages'] else 'OK'
        values = {**self.counts, 'path_length_m': f'{self.follower.length_m:.2f}'}
        mode = 'idle' if self.follower.done else 'following'
        self.pub_diag.publish(
            diagnostics(
                self.get_clock().now().to_msg(),
                'controller_node',
                level,
                mode,
                values,
                HARDWARE_ID,
            )
        )


def main(args: list[str] | None = None) -> int:
    """Entry point: ``ros2 run mower_control controller_node``."""
    return run_node(ControllerNode, args)


if __name__ == '__main__':
    main()
