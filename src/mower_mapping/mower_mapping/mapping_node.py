"""mapping_node: labelled frames and poses in; semantic grid, obstacles, mowed layer out.

Subscribes to ``segmentation/labels`` (mono8, SensorDataQoS), ``camera/camera_info``, the pose
(nav_msgs/Odometry in the map frame, ``pose_topic``) and the blade state, and, when
``use_confidence`` is set, to ``segmentation/confidence`` (mono8, 0-255 for confidence 0-1),
paired with the labels by exact header stamp (a label image whose confidence was lost is fused
without one, and counted); publishes
``map/semantic`` and ``map/coverage`` (nav_msgs/OccupancyGrid, transient local) and
``map/obstacles`` (MarkerArray of obstacle outlines). The coverage layer is saved every
``save_period_s`` and on shutdown, and restored at start. A label image of the wrong size or
encoding, or one with no pose at its time stamp, is logged, counted and skipped.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import OccupancyGrid, Odometry
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Bool, Header
from visualization_msgs.msg import MarkerArray

from mower_mapping.conversions import (
    camera_info_k,
    confidence_from_msg,
    coverage_values,
    grid_msg,
    labels_from_msg,
    obstacle_markers,
    odometry_pose,
    semantic_values,
    stamp_nanoseconds,
    stamp_seconds,
)
from mower_mapping.coverage_layer import CoverageLayer
from mower_mapping.obstacles import extract_obstacles
from mower_mapping.pose_buffer import PoseBuffer
from mower_mapping.semantic_grid import GridParams, SemanticGrid
from mower_mapping.stamp_pairing import StampPairer
from mower_maps import MapError, load_map
from mower_node_kit.main import run_node
from mower_node_kit.params import declare_ranged
from mower_perception.camera_model import CameraModel, Mounting, ground_lut

#: name -> (default, description); GridParams' fields are declared from its field metadata
PARAMETERS: dict[str, tuple[Any, str]] = {
    'frame_id': ('map', 'frame of the grids'),
    'pose_topic': ('odom', 'nav_msgs/Odometry of base_link in the map frame'),
    'origin_xy': ([-5.0, -5.0], 'lower-left corner of the grids in the map frame (m)'),
    'size_m': ([30.0, 30.0], 'width and height of the grids (m)'),
    'coverage_resolution_m': (0.02, 'mowed layer resolution (m)'),
    'cut_width_m': (0.22, 'deck cut width (m)'),
    'obstacle_margin_m': (0.1, 'safety margin around extracted obstacles (m)'),
    'min_obstacle_area_m2': (0.005, 'smaller obstacle regions are ignored (m²)'),
    'camera_x_m': (0.15, 'camera mounting in base_link: x (m)'),
    'camera_y_m': (0.0, 'camera mounting: y (m)'),
    'camera_z_m': (0.38, 'camera mounting: height above the ground (m)'),
    'camera_pitch_deg': (25.0, 'camera mounting: pitch, down positive (deg)'),
    'max_range_m': (4.5, 'ignore ground farther than this from the camera (m)'),
    'lut_stride': (3, 'project every n-th pixel in each direction'),
    'publish_period_s': (1.0, 'grid publishing period (s)'),
    'save_period_s': (30.0, 'coverage layer saving period (s)'),
    'coverage_file': ('', 'where the coverage layer is saved and restored ("" = not saved)'),
    'map_file': ('', 'lawn map, for the mowed share of its mowable area ("" = not reported)'),
    'use_confidence': (True, 'subscribe to segmentation/confidence and fuse it with the labels '
                              'of the same stamp (segmentation_node publish_confidence)'),
}
PAIR_DEPTH = 5  # label images (and confidence images) kept while waiting for their pair

LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


class MappingNode(Node):
    """A thin adapter around SemanticGrid and CoverageLayer."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, restore the coverage layer, create endpoints and timers."""
        super().__init__('mapping_node', **kwargs)
        for name, (value, text) in PARAMETERS.items():
            self.declare_parameter(name, value, ParameterDescriptor(name=name, description=text,
                                                                    read_only=True))
        declare_ranged(self, GridParams, ParameterDescriptor, FloatingPointRange)
        names = [*PARAMETERS, *(f.name for f in fields(GridParams))]
        p = {name: self.get_parameter(name).value for name in names}
        self.p = p
        origin, size = tuple(p['origin_xy']), tuple(p['size_m'])
        self.grid = SemanticGrid(origin, size[0], size[1], GridParams.from_values(p))
        self.coverage = self._restore(origin, size)
        self.poses = PoseBuffer()
        self.mowable = None
        if p['map_file']:
            try:
                self.mowable = load_map(p['map_file']).mowable_area()
            except MapError as exc:
                self.get_logger().error(f'{exc}; the mowed share is not reported')
        self.lut = None
        self.blade_on = False
        self.counts = {'frames': 0, 'bad_labels': 0, 'no_pose': 0, 'no_camera_info': 0}
        self.pub_semantic = self.create_publisher(OccupancyGrid, 'map/semantic', LATCHED)
        self.pub_coverage = self.create_publisher(OccupancyGrid, 'map/coverage', LATCHED)
        self.pub_obstacles = self.create_publisher(MarkerArray, 'map/obstacles', LATCHED)
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(Image, 'segmentation/labels', self.on_labels,
                                 qos_profile_sensor_data)
        self.pairer: StampPairer[Image, Image] | None = None
        if p['use_confidence']:
            self.pairer = StampPairer(PAIR_DEPTH)
            self.create_subscription(Image, 'segmentation/confidence', self.on_confidence,
                                     qos_profile_sensor_data)
        self.create_subscription(CameraInfo, 'camera/camera_info', self.on_camera_info,
                                 qos_profile_sensor_data)
        self.create_subscription(Odometry, p['pose_topic'], self.on_pose, 50)
        self.create_subscription(Bool, 'mower/blade', self.on_blade, 10)
        self.publish_timer = self.create_timer(p['publish_period_s'], self.publish)
        self.save_timer = self.create_timer(p['save_period_s'], self.save)

    def _restore(self, origin: tuple, size: tuple) -> CoverageLayer:
        path = self.p['coverage_file']
        if path and Path(path).exists():
            try:
                layer = CoverageLayer.load(path)
                self.get_logger().info(f'coverage restored from {path}: '
                                       f'{layer.mowed_area_m2():.1f} m² already mowed')
                return layer
            except ValueError as exc:
                self.get_logger().error(f'{exc}; starting an empty coverage layer')
        return CoverageLayer(origin, size[0], size[1], self.p['coverage_resolution_m'],
                             self.p['cut_width_m'])

    def on_camera_info(self, msg: CameraInfo) -> None:
        """Build the ground look-up table once the calibration is known (or changes)."""
        try:
            k, d, w, h = camera_info_k(msg)
        except ValueError as exc:
            self.get_logger().warning(f'ignoring camera_info: {exc}', throttle_duration_sec=10)
            return
        key = (w, h, tuple(k.ravel()), tuple(d.ravel()))
        if self.lut is not None and key == self._lut_key:
            return
        p = self.p
        cam = CameraModel(k, w, h, d, Mounting(p['camera_x_m'], p['camera_y_m'],
                                               p['camera_z_m'], 0.0,
                                               math.radians(p['camera_pitch_deg']), 0.0))
        self.lut = ground_lut(cam, p['lut_stride'], p['max_range_m'])
        self._lut_key = key

    def on_pose(self, msg: Odometry) -> None:
        """Keep the pose history; sweep the deck while the blade runs."""
        t, x, y, yaw, roll, pitch = odometry_pose(msg)
        if not self.poses.add(t, x, y, yaw, roll, pitch):
            self.get_logger().warning('ignoring a pose older than the last, or not finite',
                                      throttle_duration_sec=10)
            return
        self.coverage.update(x, y, self.blade_on)

    def on_blade(self, msg: Bool) -> None:
        """Blade state (the coverage layer only grows while it runs)."""
        self.blade_on = bool(msg.data)

    def on_labels(self, msg: Image) -> None:
        """Fuse a label image (with its confidence, when configured) at its stamp's pose."""
        if self.pairer is None:
            self.fuse(msg, None)
            return
        for _, labels, confidence in self.pairer.add_first(stamp_nanoseconds(msg.header.stamp),
                                                           msg):
            self.fuse(labels, confidence)

    def on_confidence(self, msg: Image) -> None:
        """Pair a confidence image with the label image of the same stamp, then fuse."""
        if self.pairer is None:
            return
        for _, labels, confidence in self.pairer.add_second(
                stamp_nanoseconds(msg.header.stamp), msg):
            self.fuse(labels, confidence)

    def fuse(self, msg: Image, confidence_msg: Image | None) -> None:
        """Fuse a label image, and its confidence image when given, at the pose of its stamp."""
        if confidence_msg is None and self.pairer is not None:
            self.get_logger().warning('fusing labels without confidence: none with their stamp '
                                      '(is segmentation_node publish_confidence set?)',
                                      throttle_duration_sec=10)
        if self.lut is None:
            self.counts['no_camera_info'] += 1
            return
        t = stamp_seconds(msg.header.stamp)
        pose = self.poses.lookup(t)
        if pose is None:
            self.counts['no_pose'] += 1
            self.get_logger().warning(f'skipping labels at t={t:.3f}: no pose at that time',
                                      throttle_duration_sec=5)
            return
        try:
            labels = labels_from_msg(msg)
            confidence = None if confidence_msg is None else confidence_from_msg(confidence_msg)
            self.grid.fuse(labels, self.lut, pose[:3], pose[3], pose[4], confidence)
        except ValueError as exc:
            self.counts['bad_labels'] += 1
            self.get_logger().warning(f'skipping labels: {exc}', throttle_duration_sec=5)
            return
        self.counts['frames'] += 1

    def publish(self) -> None:
        """Publish the grids, the obstacles and diagnostics."""
        stamp = self.get_clock().now().to_msg()
        frame = self.p['frame_id']
        self.pub_semantic.publish(grid_msg(semantic_values(self.grid.class_map()),
                                           self.grid.origin, self.grid.res, frame, stamp))
        factor = max(1, int(round(self.grid.res / self.coverage.res)))
        self.pub_coverage.publish(grid_msg(coverage_values(self.coverage.mowed, factor),
                                           self.coverage.origin, self.coverage.res * factor,
                                           frame, stamp))
        self.obstacles = extract_obstacles(self.grid.obstacle_mask(), self.grid.origin,
                                           self.grid.res, self.p['obstacle_margin_m'],
                                           self.p['min_obstacle_area_m2'])
        self.pub_obstacles.publish(obstacle_markers(self.obstacles, frame, stamp))
        bad = self.counts['bad_labels'] + self.counts['no_pose']
        pairing = []
        if self.pairer is not None:
            bad += self.pairer.unpaired
            pairing = [KeyValue(key='with_confidence', value=str(self.pairer.paired)),
                       KeyValue(key='without_confidence', value=str(self.pairer.unpaired)),
                       KeyValue(key='confidence_dropped', value=str(self.pairer.dropped))]
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN if bad else DiagnosticStatus.OK, name='mapping_node',
            hardware_id='', message=f'{self.counts["frames"]} frames fused',
            values=[KeyValue(key=k, value=str(v)) for k, v in self.counts.items()] +
            [KeyValue(key='mowed_m2', value=f'{self.coverage.mowed_area_m2():.2f}'),
             KeyValue(key='mowed_share', value='' if self.mowable is None else
                      f'{self.coverage.mowed_share(self.mowable):.4f}'),
             KeyValue(key='obstacles', value=str(len(self.obstacles)))] + pairing)
        self.pub_diag.publish(DiagnosticArray(header=Header(stamp=stamp, frame_id=''),
                                              status=[status]))

    def save(self) -> None:
        """Save the coverage layer (when a file is configured)."""
        if self.p['coverage_file']:
            self.coverage.save(self.p['coverage_file'])

    def destroy_node(self) -> None:
        """Save before going."""
        self.save()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_mapping mapping_node``."""
    return run_node(MappingNode, args)


if __name__ == '__main__':
    main()
