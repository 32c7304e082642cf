"""mapping_node: labelled frames and poses in; semantic grid, obstacles, mowed layer out.

Subscribes to ``segmentation/labels`` (mono8, SensorDataQoS), ``camera/camera_info``, the pose
(nav_msgs/Odometry in the map frame, ``pose_topic``) and the blade state, and, when
``use_confidence`` is set, to ``segmentation/confidence`` (mono8, 0-255 for confidence 0-1), paired
with the labels by exact header stamp (a label image whose confidence was lost is fused without
one, and counted); publishes ``map/semantic``, ``map/obstacle_cells`` and ``map/coverage``
(nav_msgs/OccupancyGrid, transient local) and ``map/obstacles`` (MarkerArray of obstacle outlines).
``map/obstacle_cells`` is the obstacle layer (100 obstacle, the cells the planner's outlines come
from; 50 suspected: evidence above ``caution_level``; 0 not), which the safety stop (100) and the
controller (both) read: map/semantic's obstacles are the class map's, drawn without
``obstacle_floor``, and leave out the small obstacles the floor finds. The coverage layer is saved
every ``save_period_s`` and on shutdown, and restored at start. A label image of the wrong size or
encoding, or one with no pose at its time stamp, is logged, counted and skipped. ``map/lawn``
(std_msgs/String, transient local: the map the owner saved, GeoJSON) changes the mowable area the
mowed share is measured on, and its flat keep-outs (a pond, a paved path) the obstacle cells on
them, which leave map/obstacle_cells and map/obstacles (``keepout_explains_m``, as ``map_file``'s);
the grids keep the extent they started with (a malformed map is logged and counted, ``bad_maps``).
"""

from __future__ import annotations

from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Bool, String
from visualization_msgs.msg import MarkerArray

from mower_mapping.conversions import (
    camera_info_k,
    confidence_from_msg,
    grid_msg,
    labels_from_msg,
    mask_values,
    obstacle_markers,
    odometry_pose,
    semantic_values,
    stamp_nanoseconds,
    stamp_seconds,
)
from mower_mapping.coverage_layer import CoverageLayer, restore_layer
from mower_mapping.mapper import BAD_LABELS, NO_POSE, PARAMETERS, Extent, Mapper, grid_extent
from mower_mapping.semantic_grid import GridParams
from mower_mapping.stamp_pairing import StampPairer
from mower_maps import MapError, load_map, parse_map
from mower_node_kit.diagnostics import diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.params import declare, field_specs
from mower_node_kit.qos import LATCHED

PAIR_DEPTH = 5  # label images (and confidence images) kept while waiting for their pair


class MappingNode(Node):
    """A thin adapter around SemanticGrid and CoverageLayer."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, restore the coverage layer, create endpoints and timers."""
        super().__init__('mapping_node', **kwargs)
        p = declare(self, {**PARAMETERS, **field_specs(GridParams)})
        self.p = p
        self.mowable, bounds, lawn = None, None, None
        if p['map_file']:
            try:
                lawn = load_map(p['map_file'])
                self.mowable, bounds = lawn.mowable_area(), lawn.boundary.bounds
            except MapError as exc:
                self.get_logger().error(
                    f'{exc}; the grids lie at origin_xy, size_m and the '
                    'mowed share is not reported'
                )
        extent = grid_extent(p, bounds)
        self.mapper = Mapper(p, extent, self._restore(extent))
        if lawn is not None:
            self.mapper.set_lawn(lawn)
        self.obstacles: list = []
        self.bad_maps = 0  # malformed map/lawn messages
        self.pub_semantic = self.create_publisher(OccupancyGrid, 'map/semantic', LATCHED)
        self.pub_coverage = self.create_publisher(OccupancyGrid, 'map/coverage', LATCHED)
        self.pub_obstacles = self.create_publisher(MarkerArray, 'map/obstacles', LATCHED)
        self.pub_obstacle_cells = self.create_publisher(
            OccupancyGrid, 'map/obstacle_cells', LATCHED
        )
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(
            Image, 'segmentation/labels', self.on_labels, qos_profile_sensor_data
        )
        self.pairer: StampPairer[Image, Image] | None = None
        if p['use_confidence']:
            self.pairer = StampPairer(PAIR_DEPTH)
            self.create_subscription(
                Image, 'segmentation/confidence', self.on_confidence, qos_profile_sensor_data
            )
        self.create_subscription(
            CameraInfo, 'camera/camera_info', self.on_camera_info, qos_profile_sensor_data
        )
        self.create_subscription(Odometry, p['pose_topic'], self.on_pose, 50)
        self.create_subscription(Bool, 'mower/blade', self.on_blade, 10)
        self.create_subscription(String, 'map/lawn', self.on_map, LATCHED)
        self.publish_timer = self.create_timer(p['publish_period_s'], self.publish)
        self.save_timer = self.create_timer(p['save_period_s'], self.save)

    @property
    def counts(self) -> dict[str, int]:
        """Frames fused and skipped, by reason (the mapping core's counters)."""
        return self.mapper.counts

    @property
    def coverage(self) -> CoverageLayer:
        """The mowed layer."""
        return self.mapper.coverage

    def _restore(self, extent: Extent) -> CoverageLayer | None:
        # never raises: a damaged file is kept aside, one on another grid copied into this one
        restored = restore_layer(
            self.p['coverage_file'],
            extent.origin,
            extent.size,
            self.p['coverage_resolution_m'],
            self.p['cut_width_m'],
        )
        if restored.message:
            log = self.get_logger()
            {'error': log.error, 'warning': log.warning}.get(restored.level, log.info)(
                restored.message
            )
        return restored.layer

    def on_camera_info(self, msg: CameraInfo) -> None:
        """Build the ground look-up table once the calibration is known (or changes)."""
        try:
            k, d, w, h = camera_info_k(msg)
        except ValueError as exc:
            self.get_logger().warning(f'ignoring camera_info: {exc}', throttle_duration_sec=10)
            return
        self.mapper.set_camera(k, w, h, d)

    def on_map(self, msg: String) -> None:
        """The owner's new map: the mowed share is measured on its mowable area from now on.

        The grids keep their extent (``map_file``'s lawn and a margin): growing or moving them
        would lose what was mapped and mowed. A lawn reaching beyond them is mapped up to their
        edge, and a warning says so.
        """
        try:
            lawn = parse_map(msg.data, source='map/lawn')
        except MapError as exc:
            self.bad_maps += 1
            self.get_logger().warning(f'malformed message on map/lawn skipped: {exc}')
            return
        self.mowable = lawn.mowable_area()
        self.mapper.set_lawn(lawn)
        (x0, y0), (w, h) = self.mapper.extent.origin, self.mapper.extent.size
        minx, miny, maxx, maxy = lawn.boundary.bounds
        if minx < x0 or miny < y0 or maxx > x0 + w or maxy > y0 + h:
            self.get_logger().warning(
                "the new map reaches beyond the grids (map_file's lawn): launch with the new "
                'map as map:=FILE to map all of it'
            )

    def on_pose(self, msg: Odometry) -> None:
        """Keep the pose history; sweep the deck while the blade runs."""
        if not self.mapper.add_pose(*odometry_pose(msg)):
            self.get_logger().warning(
                'ignoring a pose older than the last, or not finite', throttle_duration_sec=10
            )

    def on_blade(self, msg: Bool) -> None:
        """Blade state (the coverage layer only grows while it runs)."""
        self.mapper.blade_on = bool(msg.data)

    def on_labels(self, msg: Image) -> None:
        """Fuse a label image (with its confidence, when configured) at its stamp's pose."""
        if self.pairer is None:
            self.fuse(msg, None)
            return
        for _, labels, confidence in self.pairer.add_first(
            stamp_nanoseconds(msg.header.stamp), msg
        ):
            self.fuse(labels, confidence)

    def on_confidence(self, msg: Image) -> None:
        """Pair a confidence image with the label image of the same stamp, then fuse."""
        if self.pairer is None:
            return
        for _, labels, confidence in self.pairer.add_second(
            stamp_nanoseconds(msg.header.stamp), msg
        ):
            self.fuse(labels, confidence)

    def fuse(self, msg: Image, confidence_msg: Image | None) -> None:
        """Fuse a label image, and its confidence image when given, at the pose of its stamp."""
        if confidence_msg is None and self.pairer is not None:
            self.get_logger().warning(
                'fusing labels without confidence: none with their stamp '
                '(is segmentation_node publish_confidence set?)',
                throttle_duration_sec=10,
            )
        t = stamp_seconds(msg.header.stamp)
        try:
            labels = labels_from_msg(msg)
            confidence = None if confidence_msg is None else confidence_from_msg(confidence_msg)
        except ValueError as exc:
            self.mapper.count(BAD_LABELS)
            self.get_logger().warning(f'skipping labels: {exc}', throttle_duration_sec=5)
            return
        outcome = self.mapper.fuse(t, labels, confidence)
        if outcome == NO_POSE:
            self.get_logger().warning(
                f'skipping labels at t={t:.3f}: no pose at that time', throttle_duration_sec=5
            )
        elif outcome == BAD_LABELS:
            self.get_logger().warning(
                f'skipping labels at t={t:.3f}: {self.mapper.last_problem}',
                throttle_duration_sec=5,
            )

    def publish(self) -> None:
        """Publish the grids, the obstacles and diagnostics."""
        stamp = self.get_clock().now().to_msg()
        frame = self.p['frame_id']
        grid, coverage = self.mapper.grid, self.mapper.published_coverage()
        self.pub_semantic.publish(
            grid_msg(semantic_values(grid.class_map()), grid.origin, grid.res, frame, stamp)
        )
        self.pub_obstacle_cells.publish(
            grid_msg(grid.obstacle_values(), grid.origin, grid.res, frame, stamp)
        )
        self.pub_coverage.publish(
            grid_msg(
                mask_values(coverage.mowed),
                coverage.origin,
                coverage.res,
                frame,
                stamp,
            )
        )
        self.obstacles = self.mapper.obstacles()
        self.pub_obstacles.publish(obstacle_markers(self.obstacles, frame, stamp))
        bad = self.counts['bad_labels'] + self.counts['no_pose'] + self.bad_maps
        pairing = {}
        if self.pairer is not None:
            bad += self.pairer.unpaired
            pairing = {
                'with_confidence': self.pairer.paired,
                'without_confidence': self.pairer.unpaired,
                'confidence_dropped': self.pairer.dropped,
            }
        self.pub_diag.publish(
            diagnostics(
                stamp,
                'mapping_node',
                'WARN' if bad else 'OK',
                f'{self.counts["frames"]} frames fused',
                {
                    **self.counts,
                    'mowed_m2': f'{self.coverage.mowed_area_m2():.2f}',
                    'mowed_share': ''
                    if self.mowable is None
                    else f'{self.mapper.mowed_share(self.mowable):.4f}',
                    'obstacles': len(self.obstacles),
                    'bad_maps': self.bad_maps,
                    **pairing,
                },
            )
        )

    def save(self) -> None:
        """Save the coverage layer (when a file is configured)."""
        if not self.p['coverage_file']:
            return
        try:
            self.coverage.save(self.p['coverage_file'])
        except OSError as exc:  # a full or read-only disk: say so, keep mapping
            self.get_logger().error(
                f'cannot save the coverage layer: {exc}', throttle_duration_sec=60
            )

    def destroy_node(self) -> None:
        """Save before going."""
        self.save()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_mapping mapping_node``."""
    return run_node(MappingNode, args)


if __name__ == '__main__':
    main()
