"""The robot's operator: the stack's topics and services behind the operator interface.

:class:`RosOperator` is the robot's :class:`~mower_control.operator.Operator` and
:class:`~mower_control.operator.MapView` (the simulator's is
``mower_offline.operated_run.SimOperator``), made on a node that owns it: ``mqtt_bridge_node``
hands it to Home Assistant's bridge, ``mower_app.app_node`` to the owner's app. It creates the
node's endpoints:

- subscriptions to ``mower/state`` (mission_node's JSON), the pose (``pose_topic``,
  nav_msgs/Odometry in the map frame), ``battery`` (sensor_msgs/BatteryState), ``mower/blade``
  (std_msgs/Bool: what the safety supervisor lets the blade do) and ``safety/status``, which
  feed a :class:`~mower_control.operator.StatusTracker`; and to ``coverage/plan``
  (std_msgs/String, transient local: coverage_node's plan, decoded with
  :meth:`~mower_coverage.handoff.PlanHandoff.from_json`), whose points :meth:`RosOperator.plan`
  gives with a version that counts the plans received;
- clients of ``mower/start``, ``mower/pause``, ``mower/resume``, ``mower/dock``
  (std_srvs/Trigger, called asynchronously), publishers of ``mower/emergency_stop``
  (std_msgs/Bool) and ``coverage/zone`` (std_msgs/UInt8: coverage_node plans that zone), and
  of ``map/lawn`` (std_msgs/String, transient local: the map in force as GeoJSON, which
  coverage_node, mission_node, safety_node and mapping_node follow; :meth:`RosOperator.set_map`);
- with ``views`` (the owner's app), what the app draws besides (:class:`RosViews`): the
  camera image with the segmentation overlay (``segmentation/overlay``, sensor_msgs/Image rgb8,
  SensorDataQoS: segmentation_node's, kept as a JPEG at most every :data:`CAMERA_PERIOD_S` of
  the node's clock), the mowed layer (``map/coverage``, nav_msgs/OccupancyGrid, transient
  local: a PNG when it changed) and the obstacles the camera found (``map/obstacles``,
  visualization_msgs/MarkerArray, transient local, as GeoJSON);
- teach mode (:class:`~mower_control.teach_control.TeachControl`): clients of mission_node's
  ``teach/*`` services (std_srvs/Trigger; :meth:`RosOperator.teach` waits for the answer) and
  a publisher of the owner's joystick on ``cmd_vel_teleop`` (geometry_msgs/Twist,
  :data:`TELEOP_TOPIC`), sent by the timer under
  :class:`~mower_control.teach_control.TeachDrive`'s rule: only while ``mower/state`` says
  TEACHING, clamped, and a zero once no fresh command came for its deadman time;
- a timer every ``poll_s`` that carries out the commands and sends the maps:
  :meth:`RosOperator.command` and :meth:`RosOperator.set_map` are called on other threads (the
  MQTT client's, the app server's) and only queue; the ROS calls stay on the executor's
  thread. A zone is planned first, and the mission started once ``mower/state`` reports the
  new plan's zone, or the start given up after :data:`ZONE_TIMEOUT_S`.

What became of a command (the mission's answer, a service that is not there, a zone given up)
goes to :attr:`RosOperator.on_result` (command, zone, accepted, message): the MQTT bridge
publishes it, and by default it is logged. A malformed message is logged, counted
(``counts['bad_messages']``) and skipped.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import math
import queue
import threading
from collections.abc import Callable
from typing import Any

import cv2
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import Twist
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import BatteryState, Image
from std_msgs.msg import Bool, String, UInt8
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from mower_control.conversions import (
    battery_of,
    mowed_grid,
    pose_of,
    safety_of,
    state_of,
    twist_msg,
)
from mower_control.mission import TEACH_REQUESTS
from mower_control.mowing_schedule import Schedule, ScheduleFollower
from mower_control.operator import (
    CameraImage,
    MowedImage,
    MowerStatus,
    StatusTracker,
    ZoneSequence,
    check_command,
    mission_request,
    obstacles_geojson,
    plan_points,
    zone_shares,
)
from mower_control.teach_control import TeachDrive, check_teach, teach_request
from mower_coverage.conversions import markers_to_obstacles
from mower_coverage.handoff import HandoffError, PlanHandoff
from mower_maps import MapError, load_map, map_to_geojson, parse_map
from mower_node_kit.qos import LATCHED
from mower_segmentation.conversions import image_to_rgb

ZONE_TIMEOUT_S = 60.0  # a zone's plan must reach the mission within this (s)
CAMERA_PERIOD_S = 1.0  # the app's camera image, at most this often (s, the node's clock)
JPEG_QUALITY = 80
REQUESTS = ('start', 'pause', 'resume', 'dock')
TEACH_TIMEOUT_S = 10.0  # teach/* must answer within this (s; teach/finish writes the draft)
#: the owner's joystick in teach mode (geometry_msgs/Twist); the stack's teleop input
TELEOP_TOPIC = 'cmd_vel_teleop'
#: what :attr:`RosOperator.on_result` is called with: command, zone, accepted, message
ResultCallback = Callable[[str, int, bool, str], None]


def trigger_answer(done: Any, service: str) -> tuple[bool, str]:
    """(success, message) of a finished std_srvs/Trigger call to ``service`` (a future)."""
    try:
        response = done.result()
    except Exception as exc:  # noqa: BLE001 (the service call failed: say so)
        return False, f'{service} failed: {exc}'
    if response is None:
        return False, f'{service} gave no answer'
    return bool(response.success), response.message


class RosOperator:
    """Status, commands, the map and the plan over a node's topics and services."""

    def __init__(
        self,
        node: Node,
        pose_topic: str = 'odom',
        map_file: str = '',
        poll_s: float = 0.1,
        on_result: ResultCallback | None = None,
        local_time: Callable[[], datetime.datetime] = datetime.datetime.now,
        views: bool = False,
    ) -> None:
        """Read the map (MapError when it cannot be used), create ``node``'s endpoints.

        ``map_file``: the lawn map ('' none: no zones, an empty map); ``on_result``: where
        command results go (default: the node's log; may be set later); ``local_time``: the
        local wall clock the mowing schedule follows; ``views``: subscribe to what the app
        draws besides the status (the camera, the mowed layer, the obstacles).
        """
        self.node = node
        self.pose_topic = pose_topic
        lawn = load_map(map_file) if map_file else None
        self.lawn_map = lawn  # the map in force (None: none), for each zone's mowed share
        self.sequence = ZoneSequence()  # start on a map of several zones: one after another
        self._lawn: dict = (
            {'type': 'FeatureCollection', 'features': []} if lawn is None else map_to_geojson(lawn)
        )
        self.tracker = StatusTracker(zones=0 if lawn is None else len(lawn.zones))
        self.on_result: ResultCallback = on_result or self._log_result
        self.local_time = local_time
        self.schedule_follower = ScheduleFollower(self.tracker)  # set by the app
        self.raining = False  # mower/rain
        self._schedule_t = -math.inf  # node time of the last schedule check
        self.counts = {'bad_messages': 0, 'commands': 0, 'zone_timeouts': 0, 'plans': 0}
        self.planned_zone = 0  # the zone of the mission's plan (mower/state)
        self.pending_zone: tuple[int, float] | None = None  # (zone, give up at node time)
        self._commands: queue.Queue[tuple[str, int]] = queue.Queue()
        self._maps: queue.Queue[str] = queue.Queue()  # map/lawn's GeoJSON, for the timer
        self._plan_lock = threading.Lock()
        self._plan: tuple[int, list[list[float]]] = (0, [])
        self.pub_estop = node.create_publisher(Bool, 'mower/emergency_stop', 10)
        self.pub_zone = node.create_publisher(UInt8, 'coverage/zone', 10)
        self.pub_lawn = node.create_publisher(String, 'map/lawn', LATCHED)
        node.create_subscription(String, 'mower/state', self.on_state, 10)
        node.create_subscription(Odometry, pose_topic, self.on_odom, 20)
        node.create_subscription(BatteryState, 'battery', self.on_battery, 5)
        node.create_subscription(Bool, 'mower/blade', self.on_blade, 10)
        node.create_subscription(DiagnosticStatus, 'safety/status', self.on_safety, 10)
        node.create_subscription(String, 'coverage/plan', self.on_plan, LATCHED)
        node.create_subscription(Bool, 'mower/rain', self.on_rain, 5)
        node.create_subscription(String, 'map/lawn', self.on_lawn, LATCHED)
        self.views = RosViews(node, self._bad, self._zone_shares) if views else None
        self.requests = {r: node.create_client(Trigger, f'mower/{r}') for r in REQUESTS}
        # teach mode (mower_control.teach_control): mission_node's teach/* services, the joystick
        self.teach_clients = {r: node.create_client(Trigger, r) for r in TEACH_REQUESTS}
        self.pub_teleop = node.create_publisher(Twist, TELEOP_TOPIC, 10)
        self.teach_drive = TeachDrive()
        self._teach_calls: queue.Queue[tuple[str, concurrent.futures.Future]] = queue.Queue()
        self._drives: queue.Queue[tuple[float, float]] = queue.Queue()  # checked (v, w)
        self.timer = node.create_timer(poll_s, self.step)

    # -- Operator and MapView (any thread) -------------------------------------------------------
    def status(self) -> MowerStatus:
        """The latest status."""
        return self.tracker.status()

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        """Queue a command for the node's timer (ROS calls stay on the executor's thread)."""
        why = check_command(name, zone, self.tracker.zones)
        if why:
            return False, why
        self._commands.put((name, zone))
        return True, 'queued (the mission answers next)'

    def teach(self, request: str) -> tuple[bool, str]:
        """A teach request (``start``, ``boundary``, ..., ``finish``): mission_node's answer.

        The call goes out on the node's timer (``teach/<request>``, std_srvs/Trigger); this
        waits up to :data:`TEACH_TIMEOUT_S` for the service's answer (it goes to
        :attr:`on_result` too).
        """
        why = check_teach(request)
        if why:
            return False, why
        service = teach_request(request)
        answer: concurrent.futures.Future = concurrent.futures.Future()
        self._teach_calls.put((service, answer))
        try:
            return answer.result(timeout=TEACH_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            return False, f'{service} gave no answer in {TEACH_TIMEOUT_S:.0f} s'

    def drive(self, linear: float, angular: float) -> tuple[bool, str]:
        """The owner's joystick (m/s, rad/s), checked in ``mower/state``'s state and clamped.

        The node's timer publishes it on :data:`TELEOP_TOPIC` and stops the wheels (a zero)
        once it is older than the deadman time
        (:class:`~mower_control.teach_control.TeachDrive`).
        """
        v_w, message = self.teach_drive.check(linear, angular, self.tracker.status().state)
        if v_w is None:
            return False, message
        self._drives.put(v_w)
        return True, message

    def lawn_geojson(self) -> dict:
        """The map in force (``map_file``, or the last :meth:`set_map`'s); empty without."""
        return self._lawn

    def plan(self) -> tuple[int, list[list[float]]]:
        """(version, points): the last plan on ``coverage/plan``; the version counts the plans."""
        with self._plan_lock:
            return self._plan

    def camera_jpeg(self) -> tuple[int, bytes] | None:
        """(number, JPEG) of the latest ``segmentation/overlay`` image; None without one."""
        return None if self.views is None else self.views.camera.get()

    def coverage_png(self) -> tuple[int, bytes, tuple[float, float, float, float]] | None:
        """(version, PNG, bounds) of the last ``map/coverage`` grid; None without one."""
        return None if self.views is None else self.views.mowed.get()

    def obstacles(self) -> list[dict]:
        """The obstacles on ``map/obstacles`` (GeoJSON); [] without."""
        return [] if self.views is None else self.views.obstacles

    def set_map(self, lawn: Any) -> tuple[bool, str]:
        """The owner's new map (a checked LawnMap), queued for ``map/lawn``: the nodes follow it.

        The planner's answer comes later, as a new plan on ``coverage/plan``.
        """
        doc = map_to_geojson(lawn)
        self._maps.put(json.dumps(doc))
        self._lawn, self.lawn_map = doc, lawn  # assignments: thread-safe
        self.tracker.set_zones(len(lawn.zones))
        return True, (
            'sent to the nodes (map/lawn): coverage_node plans on it, mission_node drives and '
            'safety_node fences by it'
        )

    # -- the executor's side ---------------------------------------------------------------------
    def now_s(self) -> float:
        """The node clock in seconds."""
        return self.node.get_clock().now().nanoseconds * 1e-9

    def step(self) -> None:
        """Send queued maps, carry out queued commands; start a zone's run once it is planned."""
        self._send_maps()
        self._teach_step()
        while True:
            try:
                name, zone = self._commands.get_nowait()
            except queue.Empty:
                break
            self.counts['commands'] += 1
            self._do(name, zone)
        if self.pending_zone is not None:
            zone, give_up = self.pending_zone
            if self.planned_zone == zone:
                self.pending_zone = None
                self._call('start', 'start_zone', zone)
            elif self.now_s() > give_up:
                self.pending_zone = None
                self.counts['zone_timeouts'] += 1
                why = f'no plan for zone {zone} reached the mission in {ZONE_TIMEOUT_S:.0f} s'
                self.node.get_logger().error(why)
                self.on_result('start_zone', zone, False, why)
        self._tick_schedule()

    def _send_maps(self) -> None:
        while True:
            try:
                self.pub_lawn.publish(String(data=self._maps.get_nowait()))
            except queue.Empty:
                return

    # -- the mowing schedule (mower_control.mowing_schedule) -----------------------------------
    def schedule(self) -> Schedule:
        """The mowing schedule in force (any thread)."""
        return self.schedule_follower.schedule()

    def set_schedule(self, schedule: Schedule) -> None:
        """Follow ``schedule`` from now on; ScheduleError for a zone the map lacks."""
        self.schedule_follower.set_schedule(schedule, self.local_time())

    def on_rain(self, msg: Bool) -> None:
        """The rain sensor (the schedule's rain rule)."""
        self.raining = bool(msg.data)

    def _tick_schedule(self) -> None:
        """Once a second: start a scheduled run when its window opens (the timer's thread)."""
        t = self.now_s()
        if t - self._schedule_t < 1.0:
            return
        self._schedule_t = t
        due = self.schedule_follower.tick(self.local_time(), t, self.raining)
        if due is None:
            return
        name, zone, why = due
        if why:
            self.on_result(name, zone, False, f'schedule: {why}')
            return
        self.node.get_logger().info(f'schedule: {name}{f" zone {zone}" if zone else ""}')
        self._do(name, zone)

    def _do(self, name: str, zone: int) -> None:
        if name == 'emergency_stop':
            self.sequence.end()
            self.pub_estop.publish(Bool(data=True))
            self.on_result(name, 0, True, 'emergency stop sent')
            return
        state = self.tracker.status().state
        target = self.sequence.plan_for(name, zone, self.planned_zone, state, self.tracker.zones)
        if target is not None:
            self._plan_zone(target)
            return
        self._call(mission_request(name, state), name, zone)

    def _plan_zone(self, zone: int) -> None:
        """Ask coverage_node for the zone's plan; the mission starts once it has it (step)."""
        self.pub_zone.publish(UInt8(data=zone))
        self.pending_zone = (zone, self.now_s() + ZONE_TIMEOUT_S)

    def _zone_shares(self, grid: Any) -> None:
        """Each zone's mowed share, from a new mowed layer (map/coverage)."""
        lawn = self.lawn_map
        if lawn is not None:
            self.tracker.zones_mowed(zone_shares(grid, lawn))

    def _call(self, request: str, name: str, zone: int) -> None:
        client = self.requests[request]
        if not client.service_is_ready():
            self.on_result(name, zone, False, f'mower/{request} is not available')
            return
        future = client.call_async(Trigger.Request())

        def answered(done: Any) -> None:
            self.on_result(name, zone, *trigger_answer(done, f'mower/{request}'))

        future.add_done_callback(answered)

    def _teach_step(self) -> None:
        """Call the queued teach requests; hold the newest joystick command; teleop it."""
        while True:
            try:
                request, answer = self._teach_calls.get_nowait()
            except queue.Empty:
                break
            self._call_teach(request, answer)
        now = self.now_s()
        while True:
            try:
                self.teach_drive.hold(*self._drives.get_nowait(), now)
            except queue.Empty:
                break
        v_w = self.teach_drive.step(now, self.tracker.status().state)
        if v_w is not None:  # None: the joystick is let go, the teleop silent
            stamp = self.node.get_clock().now().to_msg()
            self.pub_teleop.publish(twist_msg(*v_w, False, stamp, ''))

    def _call_teach(self, request: str, answer: concurrent.futures.Future) -> None:
        """Call ``request``'s service; its answer goes to the waiting caller and to on_result."""

        def say(ok: bool, message: str) -> None:
            self.on_result(request, 0, ok, message)
            if not answer.done():
                answer.set_result((ok, message))

        client = self.teach_clients[request]
        if not client.service_is_ready():
            say(False, f'{request} is not available (is mission_node running?)')
            return
        client.call_async(Trigger.Request()).add_done_callback(
            lambda done: say(*trigger_answer(done, request))
        )

    def _log_result(self, name: str, zone: int, ok: bool, message: str) -> None:
        text = f'{name}{f" {zone}" if zone else ""}: {message}'
        if ok:
            self.node.get_logger().info(text)
        else:
            self.node.get_logger().warning(text)

    # -- subscriptions ---------------------------------------------------------------------------
    def on_lawn(self, msg: String) -> None:
        """The map in force (saved in the app, maybe by another node): its shapes and zones.

        So that every operator (the MQTT bridge's too) shows the map the nodes use and offers
        its zones; a map that fails the checks is counted and the old one kept.
        """
        try:
            lawn = parse_map(msg.data, source='map/lawn')
        except MapError as exc:
            self._bad('map/lawn', exc)
            return
        self._lawn, self.lawn_map = map_to_geojson(lawn), lawn
        self.tracker.set_zones(len(lawn.zones))

    def _bad(self, topic: str, exc: Exception) -> None:
        self.counts['bad_messages'] += 1
        self.node.get_logger().warning(f'malformed message on {topic} skipped: {exc}')

    def on_state(self, msg: String) -> None:
        """The mission's state, message, mowed share and zone."""
        try:
            data = state_of(msg)
            zone = int(data.get('zone', 0))
        except (ValueError, TypeError) as exc:
            self._bad('mower/state', exc)
            return
        mowed = data.get('mowed_pct')
        self.planned_zone = zone
        self.tracker.mission(
            data['state'],
            str(data.get('message', '')),
            float(mowed) if isinstance(mowed, (int, float)) else None,
            zone,
        )
        after = self.sequence.observe(data['state'], zone, self.tracker.zones)
        if after is not None:  # the last zone's run ended on the dock: the next zone
            self.node.get_logger().info(f'all zones: zone {after} next')
            self._plan_zone(after)

    def on_odom(self, msg: Odometry) -> None:
        """The pose: position, heading, distance today."""
        try:
            self.tracker.pose(*pose_of(msg))
        except (AttributeError, TypeError) as exc:
            self._bad(self.pose_topic, exc)

    def on_battery(self, msg: BatteryState) -> None:
        """Charge and charging."""
        self.tracker.battery(*battery_of(msg))

    def on_blade(self, msg: Bool) -> None:
        """Whether the blade runs."""
        self.tracker.blade(bool(msg.data))

    def on_safety(self, msg: DiagnosticStatus) -> None:
        """Latched safety stops, the emergency stop among them."""
        _, latched = safety_of(msg)
        self.tracker.safety(latched, any('emergency stop' in r for r in latched))

    def on_plan(self, msg: String) -> None:
        """A coverage plan: its points (mm kept) under the next version."""
        try:
            plan = PlanHandoff.from_json(msg.data)
        except HandoffError as exc:
            self._bad('coverage/plan', exc)
            return
        points = plan_points(plan.points)
        with self._plan_lock:
            self._plan = (self._plan[0] + 1, points)
            self.counts['plans'] += 1


class RosViews:
    """The camera image with the segmentation overlay, the mowed layer, the obstacles found."""

    def __init__(
        self,
        node: Node,
        bad: Callable[[str, Exception], None],
        on_grid: Callable[[Any], None] | None = None,
        camera_topic: str = 'segmentation/overlay',
    ) -> None:
        """Subscribe on ``node``; ``bad(topic, error)`` hears of malformed messages.

        ``on_grid`` gets each new mowed layer (a MowedGrid).
        """
        self.node, self.bad, self.camera_topic = node, bad, camera_topic
        self.on_grid = on_grid
        self.camera = CameraImage(CAMERA_PERIOD_S)
        self.mowed = MowedImage()
        self.obstacles: list[dict] = []  # replaced whole (one assignment: thread-safe)
        node.create_subscription(Image, camera_topic, self.on_camera, qos_profile_sensor_data)
        node.create_subscription(OccupancyGrid, 'map/coverage', self.on_coverage, LATCHED)
        node.create_subscription(MarkerArray, 'map/obstacles', self.on_obstacles, LATCHED)

    def on_camera(self, msg: Image) -> None:
        """A camera image with the overlay: a JPEG, unless the last is younger than the period."""
        t = self.node.get_clock().now().nanoseconds * 1e-9
        if not self.camera.due(t):
            return
        try:
            rgb = image_to_rgb(msg)
        except ValueError as exc:
            self.bad(self.camera_topic, exc)
            return
        ok, jpeg = cv2.imencode('.jpg', rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            self.camera.set(t, jpeg.tobytes())

    def on_coverage(self, msg: OccupancyGrid) -> None:
        """The mowed layer: a new PNG when it changed."""
        try:
            grid = mowed_grid(msg)
            changed = self.mowed.update(grid)
        except ValueError as exc:
            self.bad('map/coverage', exc)
            return
        if changed and self.on_grid is not None:
            self.on_grid(grid)

    def on_obstacles(self, msg: MarkerArray) -> None:
        """The obstacles found, as GeoJSON."""
        try:
            self.obstacles = obstacles_geojson(markers_to_obstacles(msg))
        except ValueError as exc:
            self.bad('map/obstacles', exc)
