"""coverage_node: plans the lawn and publishes the plan, the path and the lawn areas (latched).

Parameters (config/coverage.yaml) are declared once, with descriptions and ranges, and validated
in the on-set callback. The node loads the map, plans with the ROS-free core, and publishes with
transient-local QoS ``coverage/plan`` (std_msgs/String: the plan for the mission, with segment
kinds and transit region, mower_coverage.handoff), ``coverage/path`` (nav_msgs/Path, for rviz)
and ``coverage/areas`` (visualization_msgs/MarkerArray). It takes the obstacles the camera found
from ``map/obstacles`` (mapping_node's outlines) and the mission's progress from ``mower/state``,
and replans when the replanning policy (mower_coverage.replan, the simulator's too) says so, or
when the mission asks on the ``mower/replan`` service. ``coverage/zone`` (std_msgs/UInt8, from an
operator such as the Home Assistant bridge) plans one zone of the map (1-based; the other zones
become drive-only, mower_maps.LawnMap.zone_map) or, with 0, the whole map; the plan carries its
zone. ``map/lawn`` (std_msgs/String, transient local: the map the owner saved, GeoJSON, from the
app's operator) replaces the map of ``map_file`` and replans (a zone the new map lacks becomes
0: the whole map); a malformed or failing map is logged and counted, the old one kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from nav_msgs.msg import Path
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from std_msgs.msg import String, UInt8
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from mower_coverage.area import PlanningError
from mower_coverage.conversions import markers_to_obstacles, path_to_msg, plan_to_markers
from mower_coverage.handoff import PlanHandoff, remaining
from mower_coverage.metrics import evaluate
from mower_coverage.params import NODE_PARAMETERS, PARAMETER_SPECS, ParameterError, PlannerParams
from mower_coverage.planner import CoveragePlanner, Plan, params_for_map
from mower_coverage.replan import ReplanParams, ReplanPolicy
from mower_maps import LawnMap, MapError, load_map, parse_map
from mower_node_kit.diagnostics import diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.params import Spec, declare, field_specs
from mower_node_kit.qos import LATCHED


class CoverageNode(Node):
    """Publishes the coverage plan of the lawn map; a thin adapter around the planner."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, create endpoints, plan once."""
        super().__init__('coverage_node', **kwargs)
        defaults = PlannerParams()
        planner = {
            f.name: Spec(getattr(defaults, f.name), *PARAMETER_SPECS[f.name])
            for f in fields(PlannerParams)
        }
        declare(self, {**planner, **NODE_PARAMETERS, **field_specs(ReplanParams)}, read_only=False)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self._plan_pub = self.create_publisher(String, 'coverage/plan', LATCHED)
        self._path_pub = self.create_publisher(Path, 'coverage/path', LATCHED)
        self._areas_pub = self.create_publisher(MarkerArray, 'coverage/areas', LATCHED)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_service(Trigger, 'mower/replan', self._on_replan)
        self.create_subscription(MarkerArray, 'map/obstacles', self._on_obstacles, LATCHED)
        self.create_subscription(String, 'mower/state', self._on_state, 10)
        self.create_subscription(UInt8, 'coverage/zone', self._on_zone, 10)
        self.create_subscription(String, 'map/lawn', self._on_map, LATCHED)

        self.plan: Plan | None = None
        self._metrics = None
        self._lawn: LawnMap | None = None
        self._policy: ReplanPolicy | None = None
        self._seen: list = []  # the obstacles map/obstacles gave last
        self._progress_m = 0.0  # the mission's progress on the plan (mower/state)
        self._zone = 0  # the zone planned (coverage/zone; 0: the whole map)
        self._bad_messages = 0
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
            params = self._planner_params()
            zone_lawn = self._lawn.zone_map(self._zone)  # a zone plans with its own settings
            if self.get_parameter('use_map_settings').value:
                params = params_for_map(params, zone_lawn)
            if self._policy is None:
                self._policy = ReplanPolicy(
                    self._lawn,
                    params.clearance_m,
                    ReplanParams(
                        **{f.name: self.get_parameter(f.name).value for f in fields(ReplanParams)}
                    ),
                )
            self._policy.lawn = zone_lawn
            plan = CoveragePlanner(params).plan(self._policy.lawn_for_planning())
        except (MapError, PlanningError, ParameterError, ValueError) as exc:
            self._status = (DiagnosticStatus.ERROR, f'planning failed ({why}): {exc}')
            self.get_logger().error(self._status[1])
            self._publish_diagnostics()
            return False
        self.plan = plan
        metrics = evaluate(plan.area, plan.path, plan.params.cut_width_m)
        stamp = self.get_clock().now().to_msg()
        frame = self.get_parameter('frame_id').value
        handoff = PlanHandoff.from_plan(plan, frame, self._zone)
        self._plan_pub.publish(String(data=handoff.to_json()))
        self._path_pub.publish(path_to_msg(plan.path.poses, frame, stamp))
        self._areas_pub.publish(plan_to_markers(plan, frame, stamp))
        level = (
            DiagnosticStatus.WARN if plan.warnings or metrics.violations else DiagnosticStatus.OK
        )
        self._status = (
            level,
            f'planned ({why}): {metrics.path_length_m:.0f} m, '
            f'{metrics.coverage_reachable_pct:.2f}% of reachable lawn'
            + ''.join(f'; {w}' for w in plan.warnings),
        )
        self._metrics = metrics
        self.get_logger().info(self._status[1])
        self._publish_diagnostics()
        return True

    def _publish_diagnostics(self) -> None:
        level, message = self._status
        held = [] if self._policy is None else self._policy.obstacles
        values = {'bad_messages': self._bad_messages, 'detected_obstacles': len(held)}
        if self.plan is not None:
            m = self._metrics
            values.update(
                {
                    'path_length_m': f'{m.path_length_m:.2f}',
                    'coverage_reachable_pct': f'{m.coverage_reachable_pct:.3f}',
                    'violations': m.violations,
                    'plan_time_s': f'{self.plan.plan_time_s:.3f}',
                }
            )
        self._diag_pub.publish(
            diagnostics(
                self.get_clock().now().to_msg(), 'coverage_node: planner', level, message, values
            )
        )

    # -- callbacks -------------------------------------------------------------------------
    def _rest_of_plan(self):
        return None if self.plan is None else remaining(self.plan.path.points, self._progress_m)

    def _on_replan(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        if self._policy is not None:
            self._policy.update(self._seen, self._rest_of_plan(), force=True)
        response.success = self.replan('requested')
        response.message = self._status[1]
        return response

    def _on_state(self, msg: String) -> None:
        """The mission's progress along the plan (mower/state JSON)."""
        try:
            progress = float(json.loads(msg.data)['progress_m'])
        except (ValueError, KeyError, TypeError) as exc:
            self._bad('mower/state', exc)
            return
        if math.isfinite(progress) and progress >= 0:
            self._progress_m = progress

    def _on_zone(self, msg: UInt8) -> None:
        """Plan one zone of the map (0: all of it); a zone the map lacks is refused."""
        zone = int(msg.data)
        if self._lawn is not None and zone > len(self._lawn.zones):
            self._bad('coverage/zone', ValueError(f'no zone {zone} in {self._lawn.name}'))
            return
        previous, self._zone = self._zone, zone
        if not self.replan(f'zone {zone}' if zone else 'all zones'):
            self._zone = previous

    def _on_map(self, msg: String) -> None:
        """The owner's new map: plan on it from now on (a bad one is counted, the old kept)."""
        try:
            lawn = parse_map(msg.data, source='map/lawn')
        except MapError as exc:
            self._bad('map/lawn', exc)
            return
        previous = self._lawn, self._zone
        self._lawn = lawn
        self._zone = self._zone if self._zone <= len(lawn.zones) else 0
        if not self.replan('new map'):
            self._lawn, self._zone = previous
            if self._policy is not None and self._lawn is not None:
                self._policy.lawn = self._lawn.zone_map(self._zone)
            self._bad('map/lawn', MapError('the new map cannot be planned: the old one is kept'))

    def _bad(self, topic: str, exc: Exception) -> None:
        self._bad_messages += 1
        self.get_logger().warning(f'ignoring {topic}: {exc}', throttle_duration_sec=10)
        self._publish_diagnostics()

    def _on_obstacles(self, msg: MarkerArray) -> None:
        """Obstacles the camera found: replan when the replanning policy says so."""
        try:
            self._seen = markers_to_obstacles(msg)
        except ValueError as exc:
            self._bad('map/obstacles', exc)
            return
        if self._policy is None:
            return
        decision = self._policy.update(self._seen, self._rest_of_plan())
        if decision.replan:
            self.replan(decision.reason)


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_coverage coverage_node``."""
    return run_node(CoverageNode, args)


if __name__ == '__main__':
    main()
