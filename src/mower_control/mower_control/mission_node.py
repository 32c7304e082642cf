"""mission_node: the mowing job's state machine, and the operator's services.

Subscribes to ``coverage/plan`` (the plan with its segment kinds and transit region, JSON from
coverage_node, transient local), the pose (``pose_topic``),
``map/coverage`` (the persisted mowed layer: where to resume), ``battery`` (BatteryState),
``mower/rain`` (std_msgs/Bool from a rain sensor), ``safety/status`` and ``motor/status``
(DiagnosticStatus) and ``controller/progress``. Publishes ``mission/path`` (the path to drive
now, transient local), ``mower/state`` (std_msgs/String holding JSON: state, mowed_pct,
progress_m, message, zone), ``mower/blade_request`` (Bool) and ``/diagnostics``. Serves
``mower/start``, ``mower/pause``, ``mower/resume`` and ``mower/dock`` (std_srvs/Trigger) and calls
``mower/replan`` when an obstacle blocks the path. ``state_file`` keeps the progress and the
skipped stretches across restarts. ``map/lawn`` (std_msgs/String, transient local: the map the
owner saved, GeoJSON, from the app's operator) replaces ``map_file``'s map: the dock, the
mowable area, the transit region and the blade-off areas (the plan on it comes from
coverage_node); a malformed map is logged and counted, the old one kept.

Discovery: ``mower/discover`` (std_srvs/Trigger), asked on the dock, explores the lawn with no
map from ``map/semantic`` (mapping_node's semantic grid, OccupancyGrid) through
:class:`~mower_mapping.discovery.DiscoveryDriver`, the same decision the simulator's discovery
runs; the pose when it is asked is the dock. When it ends on the dock (or with no way back),
the lawn it found becomes a draft map in ``discovery_dir`` (discovered.geojson and .png, or
discovered.rejected.*), by :func:`~mower_maps.draft_map.discovery_draft`; nothing is mowed on
it until the owner accepts it.

Teach mode: ``teach/start``, ``teach/boundary``, ``teach/keepout``, ``teach/navigation``,
``teach/dock``, ``teach/undo``, ``teach/finish`` and ``teach/cancel`` (std_srvs/Trigger) are
the mission's teach requests (:data:`~mower_control.mission.TEACH_REQUESTS`); the session is
kept in ``teach_dir``/teach_recording.json (restored at start) and ``teach/finish`` writes the
draft map there (draft_map.geojson and .png, or draft_map.rejected.* with the faults), with
the obstacles ``map/obstacles`` (MarkerArray) holds on the taught lawn. The teach settings
are :class:`~mower_maps.teach.TeachParams`' fields; the state of the session is a line of the
diagnostics.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from nav_msgs.msg import OccupancyGrid, Odometry
from nav_msgs.msg import Path as PathMsg
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from mower_control.conversions import (
    battery_of,
    mowed_grid,
    path_msg,
    pose_of,
    progress_values,
    safety_of,
    semantic_class_map,
    stamp_s,
    state_msg,
    status_values,
)
from mower_control.mission import TEACH_REQUESTS, Mission, MissionInputs, MissionParams
from mower_control.mission_state import MissionState, load_state, save_state
from mower_control.parameters import NODE_EXTRA, build, declare
from mower_control.teach_control import write_draft
from mower_coverage.area import erode
from mower_coverage.conversions import markers_to_obstacles
from mower_coverage.handoff import HandoffError, PlanHandoff
from mower_mapping.discovery import DiscoveryDriver, Explorer, ExplorerParams, with_obstacles
from mower_maps import LawnMap, MapError, load_map, parse_map
from mower_maps.draft_map import discovery_draft
from mower_maps.lawn_polygons import ExtractionError
from mower_maps.teach import TeachParams, restore
from mower_node_kit.diagnostics import diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.params import field_specs
from mower_node_kit.qos import LATCHED

EXTRA = NODE_EXTRA['mission_node']  # the node's own parameters: one table, in parameters.py


class MissionNode(Node):
    """A thin adapter around Mission."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, load the map, create endpoints."""
        super().__init__('mission_node', **kwargs)
        self.p = p = declare(self, MissionParams, {**field_specs(TeachParams), **EXTRA})
        self.mowable: Any = None
        self.lawn: LawnMap | None = None
        self.zone = 0  # the zone the plan mows (coverage/plan; 0: all)
        self.mission = Mission(build(MissionParams, p))
        if p['map_file']:
            try:
                self.use_map(load_map(p['map_file']))
            except MapError as exc:
                raise SystemExit(f'mission_node: {exc}') from exc
        else:
            self.get_logger().warning('no map_file: no dock, transits are straight lines')
        self._restore()
        self.teach_dir = Path(p['teach_dir']).expanduser()
        recorder, message = restore(self.teach_dir / 'teach_recording.json', build(TeachParams, p))
        if message:
            self.get_logger().info(message)
        self.mission.teach = recorder
        self.discovery_dir = Path(p['discovery_dir']).expanduser()
        self.semantic: tuple[Any, Any, float] | None = None  # map/semantic: classes, origin, res
        self.obstacles: list = []  # map/obstacles: what the camera found (teach adds them)
        self.explorer = Explorer(
            ExplorerParams(
                footprint_radius_m=max(p['clearance_m'], 0.01),
                time_limit_s=p['discovery_time_limit_s'],
            )
        )
        self.mission.explore = DiscoveryDriver(self.explorer, self._semantic_grid)
        self.pose: tuple[float, float, float] | None = None
        self.pose_time_s = math.nan  # when the last pose came (node clock)
        self.battery = (100.0, False)
        self.raining = False
        self.safety: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self.board_connected = True
        self.progress = {'path_stamp_s': -1.0, 'progress_m': 0.0, 'done': 0.0}
        self.mowed_share = math.nan
        self.path_stamps: dict[int, float] = {}
        self.published_id = -1
        self.bad_messages = 0
        self.pub_path = self.create_publisher(PathMsg, 'mission/path', LATCHED)
        self.pub_state = self.create_publisher(String, 'mower/state', 10)
        self.pub_blade = self.create_publisher(Bool, 'mower/blade_request', 10)
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.create_subscription(String, 'coverage/plan', self.on_plan, LATCHED)
        self.create_subscription(Odometry, p['pose_topic'], self.on_pose, 20)
        self.create_subscription(OccupancyGrid, 'map/coverage', self.on_coverage, LATCHED)
        self.create_subscription(BatteryState, 'battery', self.on_battery, 5)
        self.create_subscription(Bool, 'mower/rain', self.on_rain, 5)
        self.create_subscription(DiagnosticStatus, 'safety/status', self.on_safety, 10)
        self.create_subscription(DiagnosticStatus, 'motor/status', self.on_motor, 10)
        self.create_subscription(Float64MultiArray, 'controller/progress', self.on_progress, 10)
        self.create_subscription(OccupancyGrid, 'map/semantic', self.on_semantic, LATCHED)
        self.create_subscription(MarkerArray, 'map/obstacles', self.on_obstacles, LATCHED)
        self.create_subscription(String, 'map/lawn', self.on_map, LATCHED)
        for name in ('start', 'discover', 'pause', 'resume', 'dock'):
            self.create_service(Trigger, f'mower/{name}', self._service(name))
        for name in TEACH_REQUESTS:
            self.create_service(Trigger, name, self._service(name))
        self.replan_client = self.create_client(Trigger, 'mower/replan')
        self.timer = self.create_timer(1.0 / p['rate_hz'], self.step)
        self.diag_timer = self.create_timer(1.0, self.publish_diagnostics)

    def use_map(self, lawn: LawnMap) -> None:
        """The map in force (``map_file``, then ``map/lawn``): dock, mowable, region, blade-off."""
        dock = lawn.dock
        zone = self.zone if self.zone <= len(lawn.zones) else 0  # the plan's zone, if kept
        self.mission.set_map(
            None if dock is None else (dock.x_m, dock.y_m, dock.heading_rad),
            erode(lawn.drivable_area(), self.p['clearance_m']),  # navigation areas too
            lawn.zone_map(zone).blade_off_area(),
        )
        self.mowable, self.lawn = lawn.mowable_area(), lawn

    # -- persistence ----------------------------------------------------------------------------
    def _restore(self) -> None:
        # never raises: a damaged file is kept aside and the mission starts from the beginning
        state, message = load_state(self.p['state_file'])
        if state is None:
            if message:
                self.get_logger().error(message)
            return
        self.mission.progress_m, self.mission.complete = state.progress_m, state.complete
        self.mission.skipped, self.mission.skips = list(state.skipped), state.skips
        self.get_logger().info(message)

    def save(self) -> None:
        """Write the progress (atomically, durably; never NaN or Infinity)."""
        path = self.p['state_file']
        if not path:
            return
        try:
            m = self.mission
            save_state(path, MissionState(m.progress_m, m.complete, tuple(m.skipped), m.skips))
        except (OSError, ValueError) as exc:
            self.get_logger().error(f'cannot save the mission state to {path}: {exc}')

    # -- inputs -----------------------------------------------------------------------------------
    def now_s(self) -> float:
        """The node clock in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def _bad(self, topic: str, exc: Exception) -> None:
        self.bad_messages += 1
        self.get_logger().warning(f'malformed message on {topic} skipped: {exc}')

    def on_plan(self, msg: String) -> None:
        """A coverage plan (a new one while mowing continues from the first gap)."""
        try:
            plan = PlanHandoff.from_json(msg.data)
        except HandoffError as exc:
            self._bad('coverage/plan', exc)
            return
        if self.lawn is not None and plan.zone != self.zone:
            try:  # the zones not mowed are driven through with the blade off
                self.mission.blade_off = self.lawn.zone_map(plan.zone).blade_off_area()
            except MapError as exc:
                self._bad('coverage/plan', exc)
                return
        self.mission.set_plan(*plan.mission_args())
        self.zone = plan.zone
        self.get_logger().info(
            f'coverage plan: {len(plan.points)} points'
            + (f' (zone {plan.zone})' if plan.zone else '')
        )

    def on_map(self, msg: String) -> None:
        """The owner's new map (coverage_node sends the plan on it)."""
        try:
            lawn = parse_map(msg.data, source='map/lawn')
        except MapError as exc:
            self._bad('map/lawn', exc)
            return
        self.use_map(lawn)
        self.get_logger().info(f'new map: {lawn.name}')

    def on_pose(self, msg: Odometry) -> None:
        """The robot's pose."""
        try:
            pose = pose_of(msg)
        except (AttributeError, TypeError) as exc:
            self._bad(self.p['pose_topic'], exc)
            return
        if all(math.isfinite(v) for v in pose):
            self.pose = pose
            self.pose_time_s = self.now_s()

    def on_coverage(self, msg: OccupancyGrid) -> None:
        """The mowed layer: where to resume, and the mowed share."""
        try:
            grid = mowed_grid(msg, self.p['coverage_threshold'])
        except (AttributeError, TypeError, ValueError) as exc:
            self._bad('map/coverage', exc)
            return
        self.mission.mowed = grid
        if self.mowable is not None and self.mowable.area > 0:
            self.mowed_share = grid.share(self.mowable)

    def on_semantic(self, msg: OccupancyGrid) -> None:
        """The semantic grid: what discovery explores."""
        try:
            self.semantic = semantic_class_map(msg)
        except (AttributeError, TypeError, ValueError) as exc:
            self._bad('map/semantic', exc)

    def on_obstacles(self, msg: MarkerArray) -> None:
        """The obstacle outlines mapping_node found (a taught map gets those on its lawn)."""
        try:
            self.obstacles = markers_to_obstacles(msg)
        except (AttributeError, TypeError, ValueError) as exc:
            self._bad('map/obstacles', exc)

    def _semantic_grid(self) -> tuple[Any, Any, float]:
        """The last semantic grid with map/obstacles' outlines as obstacles.

        What the safety stop halts for (:func:`~mower_mapping.discovery.with_obstacles`); the
        discover service is refused before the first grid.
        """
        if self.semantic is None:
            raise RuntimeError('no semantic grid yet')
        class_map, origin, res = self.semantic
        return with_obstacles(class_map, origin, res, self.obstacles), origin, res

    def on_battery(self, msg: BatteryState) -> None:
        """Charge and charging."""
        self.battery = battery_of(msg)

    def on_rain(self, msg: Bool) -> None:
        """The rain sensor."""
        self.raining = bool(msg.data)

    def on_safety(self, msg: DiagnosticStatus) -> None:
        """What the supervisor holds back."""
        self.safety = safety_of(msg)

    def on_motor(self, msg: DiagnosticStatus) -> None:
        """Whether the motor board is connected."""
        self.board_connected = status_values(msg).get('connected', 'True') == 'True'

    def on_progress(self, msg: Float64MultiArray) -> None:
        """The controller's progress on the path it follows."""
        try:
            self.progress = progress_values(msg)
        except ValueError as exc:
            self._bad('controller/progress', exc)

    def _service(self, name: str):
        def handle(request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
            refused = self._discover_refused() if name == 'discover' else ''
            if name == 'teach/finish':
                self.mission.teach.set_obstacles(self.obstacles)
            if refused:
                response.success, response.message = False, refused
            else:
                response.success, response.message = self.mission.request(name)
            if name == 'teach/finish':
                response.message = self.write_draft(response.message)
            self.get_logger().info(f'{name}: {response.message}')
            return response

        return handle

    def _discover_refused(self) -> str:
        """Why discovery cannot start now ('' when it can); the dock is where the mower is."""
        if self.pose is None:
            return 'no pose yet: discovery starts from the dock'
        if self.semantic is None:
            return 'no semantic grid yet (map/semantic): is mapping_node running?'
        if self.mission.state.name in ('IDLE', 'CHARGING', 'ERROR'):
            x, y, yaw = self.pose
            self.explorer.dock = (x, y, yaw)
        return ''

    def write_discovery(self) -> str:
        """The lawn the last discovery found, as a draft map in ``discovery_dir``; a message."""
        ex = self.explorer
        if self.semantic is None or ex.phase not in ('done', 'stuck'):
            return ''
        classes, origin, res = self.semantic
        seed = ex.entry if ex.entry is not None else ex.dock[:2]
        try:
            _, draft = discovery_draft(
                classes, origin, res, seed_xy=(float(seed[0]), float(seed[1])), dock=ex.dock
            )
            written = draft.write(self.discovery_dir / 'discovered.geojson')
        except ExtractionError as exc:
            return f'no draft map: {exc}'
        except OSError as exc:
            return f'the discovered map could not be written: {exc}'
        return written.message.splitlines()[-1]

    def write_draft(self, message: str) -> str:
        """Write the last teach/finish's draft map into ``teach_dir``; the message, extended."""
        return write_draft(
            self.mission.teach_result, self.teach_dir / 'draft_map.geojson', message
        )

    # -- the tick ---------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the state machine and publish what it wants."""
        if self.pose is None:
            return
        following = -1
        for pid, stamp in self.path_stamps.items():
            if abs(stamp - self.progress['path_stamp_s']) < 1e-6:
                following = pid
        before = self.mission.state.name
        out = self.mission.tick(
            MissionInputs(
                self.now_s(),
                self.pose,
                battery_pct=self.battery[0],
                charging=self.battery[1],
                raining=self.raining,
                safety_reasons=self.safety[0],
                safety_latched=self.safety[1],
                board_connected=self.board_connected,
                follower_path_id=following,
                follower_done=self.progress['done'] > 0.5,
                follower_progress_m=self.progress['progress_m'],
                mowed_share=self.mowed_share,
                pose_time_s=self.pose_time_s,
            )
        )
        if out.path_id != self.published_id:
            stamp = self.get_clock().now().to_msg()
            self.path_stamps = {out.path_id: stamp_s(stamp)}
            self.pub_path.publish(path_msg(out.path, self.p['frame_id'], stamp, out.reverse))
            self.published_id = out.path_id
        if out.replan:
            if self.replan_client.service_is_ready():
                self.replan_client.call_async(Trigger.Request())
            else:
                self.get_logger().warning('mower/replan is not available')
        self.pub_state.publish(
            state_msg(
                out.state,
                100.0 * self.mowed_share,
                out.message,
                self.mission.progress_m,
                self.zone,
            )
        )
        self.pub_blade.publish(Bool(data=out.blade))
        if out.state != before:
            self.get_logger().info(f'{before} -> {out.state} {out.message}')
            if before == 'DISCOVERING' and out.state in ('IDLE', 'ERROR'):
                self.get_logger().info(f'discovery: {self.write_discovery() or "no draft map"}')
            self.save()

    def publish_diagnostics(self) -> None:
        """State, progress, mowed share."""
        name = self.mission.state.name
        level = 'ERROR' if name == 'ERROR' else 'WARN' if self.bad_messages else 'OK'
        self.pub_diag.publish(
            diagnostics(
                self.get_clock().now().to_msg(),
                'mission_node',
                level,
                f'{name} {self.mission.message}'.strip(),
                {
                    'state': name,
                    'progress_m': f'{self.mission.progress_m:.1f}',
                    'mowed_pct': f'{100 * self.mowed_share:.1f}',
                    'replans': self.mission.replans,
                    'bad_messages': self.bad_messages,
                    'teach': self.mission.teach.summary(),
                },
                'mower',
            )
        )
        self.save()


def main(args: list[str] | None = None) -> int:
    """Entry point: ``ros2 run mower_control mission_node``."""
    return run_node(MissionNode, args, on_exit=MissionNode.save)


if __name__ == '__main__':
    main()
