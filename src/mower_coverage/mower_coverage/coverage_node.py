"""coverage_node: plans the lawn and publishes the path and the lawn areas (latched).

Parameters (config/coverage.yaml) are declared once, with descriptions and ranges, and validated
in the on-set callback. The node loads the map, plans with the ROS-free core, publishes
``coverage/path`` (nav_msgs/Path) and ``coverage/areas`` (visualization_msgs/MarkerArray) with
transient-local QoS, replans on the ``mower/replan`` service, and replans when ``map/semantic``
shows obstacles that the map does not know.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import shapely
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import OccupancyGrid, Path
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from mower_coverage.area import PlanningError
from mower_coverage.conversions import (
    obstacles_from_grid,
    occupancy_grid_to_array,
    path_to_msg,
    plan_to_markers,
)
from mower_coverage.metrics import evaluate
from mower_coverage.params import PARAMETER_SPECS, ParameterError, PlannerParams
from mower_coverage.planner import CoveragePlanner, Plan, params_for_map
from mower_maps import LawnMap, MapError, load_map
from mower_node_kit.main import run_node

#: Node parameters besides the planner's: name -> (default, description, min, max).
NODE_PARAMETERS: dict[str, tuple[Any, str, float | None, float | None]] = {
    'map_file': ('', 'lawn map (GeoJSON) to plan', None, None),
    'frame_id': ('map', 'frame of the map, the path and the markers', None, None),
    'use_map_settings': (True, "apply the map's own mowing settings over these", None, None),
    'obstacle_threshold': (90, 'map/semantic cells at or above this value are obstacles',
                           1, 100),
    'min_obstacle_area_m2': (0.01, 'smaller detected obstacles are ignored (m²)', 0.0, 100.0),
    'replan_min_change_m2': (0.05, 'replan when detected obstacles change by more (m²)',
                             0.0, 100.0),
}

LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


def _descriptor(name: str, default: Any, text: str, lo: Any, hi: Any) -> ParameterDescriptor:
    d = ParameterDescriptor(name=name, description=text)
    if isinstance(default, float) and lo is not None:
        d.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi),
                                                     step=0.0)]
    elif isinstance(default, int) and not isinstance(default, bool) and lo is not None:
        d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=1)]
    return d


class CoverageNode(Node):
    """Publishes the coverage plan of the lawn map; a thin adapter around the planner."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, create endpoints, plan once."""
        super().__init__('coverage_node', **kwargs)
        defaults = PlannerParams()
        for f in fields(PlannerParams):
            text, lo, hi = PARAMETER_SPECS[f.name]
            value = getattr(defaults, f.name)
            self.declare_parameter(f.name, value, _descriptor(f.name, value, text, lo, hi))
        for name, (value, text, lo, hi) in NODE_PARAMETERS.items():
            self.declare_parameter(name, value, _descriptor(name, value, text, lo, hi))
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self._path_pub = self.create_publisher(Path, 'coverage/path', LATCHED)
        self._areas_pub = self.create_publisher(MarkerArray, 'coverage/areas', LATCHED)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_service(Trigger, 'mower/replan', self._on_replan)
        self.create_subscription(OccupancyGrid, 'map/semantic', self._on_semantic, LATCHED)

        self.plan: Plan | None = None
        self._metrics = None
        self._lawn: LawnMap | None = None
        self._detected: list = []
        self._bad_grids = 0
        self._status = (DiagnosticStatus.WARN, 'not planned yet')
        self.replan('startup')

    # -- parameters ------------------------------------------------------------------------
    def _planner_params(self, overrides: dict[str, Any] | None = None) -> PlannerParams:
        values = {f.name: self.get_parameter(f.name).value for f in fields(PlannerParams)}
        values.update(overrides or {})
        return PlannerParams(**values)

    def _on_set_parameters(self, params: list) -> SetParametersResult:
        planner = {p.name: p.value for p in params if p.name in PARAMETER_SPECS}
        if planner:
            try:
                self._planner_params(planner)
            except (ParameterError, TypeError) as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    # -- planning --------------------------------------------------------------------------
    def replan(self, why: str) -> bool:
        """Load the map (once), plan with the current parameters and obstacles, publish."""
        try:
            if self._lawn is None:
                path = self.get_parameter('map_file').value
                if not path:
                    raise MapError('parameter map_file is empty')
                self._lawn = load_map(path)
            lawn = self._lawn.with_obstacles(self._detected) if self._detected else self._lawn
            params = self._planner_params()
            if self.get_parameter('use_map_settings').value:
                params = params_for_map(params, lawn)
            plan = CoveragePlanner(params).plan(lawn)
        except (MapError, PlanningError, ParameterError) as exc:
            self._status = (DiagnosticStatus.ERROR, f'planning failed ({why}): {exc}')
            self.get_logger().error(self._status[1])
            self._publish_diagnostics()
            return False
        self.plan = plan
        metrics = evaluate(plan.area, plan.path, plan.params.cut_width_m)
        stamp = self.get_clock().now().to_msg()
        frame = self.get_parameter('frame_id').value
        self._path_pub.publish(path_to_msg(plan.path.poses, frame, stamp))
        self._areas_pub.publish(plan_to_markers(plan, frame, stamp))
        level = DiagnosticStatus.WARN if plan.warnings or metrics.violations else \
            DiagnosticStatus.OK
        self._status = (level, f'planned ({why}): {metrics.path_length_m:.0f} m, '
                               f'{metrics.coverage_reachable_pct:.2f}% of reachable lawn'
                        + ''.join(f'; {w}' for w in plan.warnings))
        self._metrics = metrics
        self.get_logger().info(self._status[1])
        self._publish_diagnostics()
        return True

    def _publish_diagnostics(self) -> None:
        level, message = self._status
        values = [KeyValue(key='bad_grid_messages', value=str(self._bad_grids)),
                  KeyValue(key='detected_obstacles', value=str(len(self._detected)))]
        if self.plan is not None:
            m = self._metrics
            values += [KeyValue(key='path_length_m', value=f'{m.path_length_m:.2f}'),
                       KeyValue(key='coverage_reachable_pct',
                                value=f'{m.coverage_reachable_pct:.3f}'),
                       KeyValue(key='violations', value=str(m.violations)),
                       KeyValue(key='plan_time_s', value=f'{self.plan.plan_time_s:.3f}')]
        status = DiagnosticStatus(level=level, name='coverage_node: planner', message=message,
                                  hardware_id='', values=values)
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id='')
        self._diag_pub.publish(DiagnosticArray(header=header, status=[status]))

    # -- callbacks -------------------------------------------------------------------------
    def _on_replan(self, request: Trigger.Request, response: Trigger.Response
                   ) -> Trigger.Response:
        response.success = self.replan('requested')
        response.message = self._status[1]
        return response

    def _on_semantic(self, msg: OccupancyGrid) -> None:
        try:
            cells, res, origin, yaw = occupancy_grid_to_array(msg)
        except ValueError as exc:
            self._bad_grids += 1
            self.get_logger().warning(f'ignoring map/semantic: {exc}')
            self._publish_diagnostics()
            return
        found = obstacles_from_grid(cells, res, origin, yaw,
                                    self.get_parameter('obstacle_threshold').value,
                                    self.get_parameter('min_obstacle_area_m2').value)
        if self._lawn is None:
            return
        known = self._lawn.holes
        new = [p for p in found
               if p.difference(known).area >= self.get_parameter('min_obstacle_area_m2').value
               and p.intersects(self._lawn.boundary)]
        before = shapely.union_all(self._detected) if self._detected else shapely.Polygon()
        after = shapely.union_all(new) if new else shapely.Polygon()
        change = shapely.symmetric_difference(before, after).area
        if change >= self.get_parameter('replan_min_change_m2').value:
            self._detected = new
            self.replan(f'{len(new)} detected obstacle(s)')


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_coverage coverage_node``."""
    return run_node(CoverageNode, args)


if __name__ == '__main__':
    main()
