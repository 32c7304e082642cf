"""The simulator's :class:`~mower_control.operator.Operator`: an owner's integration drives a run.

``mower sim MAP --mqtt HOST[:PORT]`` (and later the owner's app) runs the whole stack in the
simulator, waiting on the dock for commands instead of starting at once. Commands arrive on
other threads (the MQTT client's); :class:`SimOperator` queues them and the run's loop applies
them between two control ticks (:meth:`SimOperator.apply`), so that the simulation stays
single-threaded and deterministic in simulated time. The status comes from the same
:class:`~mower_control.operator.StatusTracker` the robot's bridge node feeds from topics.

What the app draws is made on the simulation thread too and handed over under a lock
(:class:`~mower_control.operator.CameraImage`, :class:`~mower_control.operator.MowedImage`): the
camera frame with its labels blended over it (the bag's overlay, at most once a simulated
second, when perception is in the loop), and the mowed layer and the obstacles found (every
five simulated seconds, the layer when it changed).

Teach mode from the app (:class:`~mower_control.teach_control.TeachControl`): the teach requests
go to the mission between two ticks, as mission_node's ``teach/*`` services; the joystick's
commands drive the loop's teleop (``ClosedLoop.manual``, as ``mower teach``'s scripted owner
does) under :class:`~mower_control.teach_control.TeachDrive`'s rule, its deadman on simulated
time.
"""

from __future__ import annotations

import datetime
import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from mower_control.mowing_schedule import Schedule, ScheduleFollower, Scheduler
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
from mower_control.teach_control import TeachDrive, check_teach, teach_request, write_draft
from mower_offline.replay_outputs import label_overlay, rgb_jpeg
from mower_offline.schedule import Every

if TYPE_CHECKING:
    from mower_offline.run import MowingRun

MAP_TIMEOUT_S = 60.0  # planning a new map: the longest a caller waits
CAMERA_PERIOD_S = 1.0  # the app's camera image, at most this often (simulated s)
LAYERS_PERIOD_S = 5.0  # the app's mowed layer and obstacles, at most this often (simulated s)


def _logged(name: str, arg: Any) -> tuple[str, int] | None:
    """(command, zone) as :attr:`SimOperator.log` keeps a queued item; None: not kept.

    A teach request is kept by its name (``teach/start``); the joystick's commands (ten a
    second) are not kept.
    """
    if name == 'drive':
        return None
    if name == 'teach':
        return str(arg), 0
    return name, arg if name != 'set_map' else 0


class SimOperator:
    """Commands into, and status out of, a :class:`~mower_offline.run.MowingRun`."""

    def __init__(
        self,
        run: MowingRun,
        timeout_s: float = 5.0,
        status_hz: float = 5.0,
        sim_start: datetime.datetime | None = None,
        schedule: Scheduler | None = None,
    ) -> None:
        """``timeout_s``: how long :meth:`command` waits for the loop to apply a command.

        ``sim_start``: the local date and time at simulated time 0 (default: now), the clock
        of the mowing ``schedule`` (default: an empty one, set by :meth:`set_schedule`).
        """
        self.run = run
        self.sim_start = sim_start or datetime.datetime.now().replace(microsecond=0)
        self.timeout_s = timeout_s
        self.tracker = StatusTracker(zones=len(run.lawn.zones))
        self.schedule_follower = ScheduleFollower(self.tracker, schedule)
        self.sequence = ZoneSequence()  # start on a map of several zones: one after another
        self.running = threading.Event()  # set while the run's loop applies commands
        self._queue: queue.Queue[tuple[str, Any, Future]] = queue.Queue()  # (what, arg, done)
        self._rate = Every(1.0 / status_hz)
        self._mowed_rate = Every(1.0)
        self._mowed: float | None = None
        self.log: list[tuple[float, str, int, bool, str]] = []  # (sim time, command, ...)
        self._plan_lock = threading.Lock()
        self._plan_of: Any = None  # the Plan object last seen
        self._plan: tuple[int, list[list[float]]] = (0, [])
        # what the app draws, made by the loop: the camera, the mowed layer, the obstacles
        self._camera = CameraImage(CAMERA_PERIOD_S)
        self.camera_frame: Any = None  # the camera frame of camera_jpeg's image
        self._mowed_image = MowedImage()
        self._layers_rate = Every(LAYERS_PERIOD_S)
        self._obstacles: list[dict] = []  # replaced whole (one assignment: thread-safe)
        # teach mode's joystick (mower_control.teach_control), on simulated time
        self.teach_drive = TeachDrive()
        self._teleop = False  # the joystick drives the loop's teleop (ClosedLoop.manual)

    # -- the Operator interface (any thread) ---------------------------------------------------
    def status(self) -> MowerStatus:
        """The latest status."""
        return self.tracker.status()

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        """Queue a command for the loop and wait (at most ``timeout_s``) for its result."""
        why = check_command(name, zone, self.tracker.zones)
        return (False, why) if why else self._queued(name, zone)

    def teach(self, request: str) -> tuple[bool, str]:
        """A teach request (``start``, ``boundary``, ..., ``finish``) to the mission.

        As mission_node's ``teach/*`` services take it (the
        :class:`~mower_control.teach_control.TeachControl` interface); ``finish`` writes the
        draft map into the run's folder (``draft_map.geojson``).
        """
        why = check_teach(request)
        return (False, why) if why else self._queued('teach', teach_request(request))

    def drive(self, linear: float, angular: float) -> tuple[bool, str]:
        """The owner's joystick (m/s, rad/s): the loop's teleop, as ``mower teach``'s owner's.

        Checked and clamped by :class:`~mower_control.teach_control.TeachDrive` in the loop's
        mission state, and held for at most its ``deadman_s`` of simulated time.
        """
        return self._queued('drive', (float(linear), float(angular)))

    def _queued(
        self, name: str, arg: Any, what: str = 'the command', wait_s: float = 0.0
    ) -> tuple[bool, str]:
        """Queue ``name`` (``arg``) for the loop; its result, waited for up to ``timeout_s``.

        Or up to ``wait_s`` when longer; ``what`` names it when the loop does not take it.
        """
        if not self.running.is_set():
            return False, 'the simulated mower is not running'
        done: Future = Future()
        self._queue.put((name, arg, done))
        try:
            return done.result(timeout=max(self.timeout_s, wait_s))
        except FutureTimeout:
            return False, f'the simulator did not take {what} in time'

    def set_map(self, lawn: Any) -> tuple[bool, str]:
        """The owner's new map (a LawnMap), used from the next tick on; (accepted, message).

        Planning it takes a moment: this waits up to ``MAP_TIMEOUT_S``.
        """
        return self._queued('set_map', lawn, 'the map', MAP_TIMEOUT_S)

    def lawn_geojson(self) -> dict:
        """The map the stack mows (:class:`~mower_control.operator.MapView`)."""
        from mower_maps import map_to_geojson

        return map_to_geojson(self.run.lawn)

    def plan(self) -> tuple[int, list[list[float]]]:
        """(version, points) of the plan the mission follows (a replan makes a new version)."""
        with self._plan_lock:
            return self._plan

    def camera_jpeg(self) -> tuple[int, bytes] | None:
        """(frame number, JPEG) of the camera with its labels; None without perception."""
        return self._camera.get()

    def coverage_png(self) -> tuple[int, bytes, tuple[float, float, float, float]] | None:
        """(version, PNG, bounds) of the mowed layer as map/coverage carries it."""
        return self._mowed_image.get()

    def obstacles(self) -> list[dict]:
        """The obstacles found in the semantic grid (GeoJSON), as map/obstacles carries them."""
        return self._obstacles

    # -- the loop's side (the simulation thread) -----------------------------------------------
    def apply(self) -> None:
        """Apply the queued commands (called by the loop before each control tick)."""
        while True:
            try:
                name, zone, done = self._queue.get_nowait()
            except queue.Empty:
                break
            try:
                result = self._do(name, zone)
            except Exception as exc:  # noqa: BLE001 (the caller's thread gets the reason)
                result = (False, f'{name} failed: {exc}')
            entry = _logged(name, zone)
            if entry is not None:
                self.log.append((self.run.sim.time_s, *entry, *result))
            if not done.done():
                done.set_result(result)
        self._steer()

    def _steer(self) -> None:
        """The joystick's command for the next tick (the loop's teleop), or the follower's."""
        loop = self.run.loop
        v_w = self.teach_drive.step(self.run.sim.time_s, loop.mission.state.name)
        if v_w is not None or self._teleop:
            loop.manual, self._teleop = v_w, v_w is not None

    def close(self) -> None:
        """The run ended: refuse what is still queued, and every later command."""
        self.running.clear()
        while True:
            try:
                _, _, done = self._queue.get_nowait()
            except queue.Empty:
                return
            if not done.done():
                done.set_result((False, 'the simulated run has ended'))

    def _do(self, name: str, zone: Any) -> tuple[bool, str]:
        run = self.run
        mission = run.loop.mission
        if name == 'set_map':
            ok, why = run.set_map(zone)
            if ok:
                self.tracker.set_zones(len(run.lawn.zones))
            return ok, why
        if name == 'emergency_stop':
            self.sequence.end()
            run.loop.safety.emergency_stop(True, run.sim.time_s)
            return True, 'emergency stop: wheels and blade stopped'
        if name in ('teach', 'drive'):
            return self._do_teach(name, zone)
        state = mission.state.name
        target = self.sequence.plan_for(name, zone, run.zone, state, self.tracker.zones)
        if target is not None:
            return self._start_zone(target)
        return mission.request(mission_request(name, state))

    def _start_zone(self, zone: int) -> tuple[bool, str]:
        """Plan the zone and start; a refusal ends an all-zones sequence."""
        ok, why = self.run.start_zone(zone)
        if not ok:
            self.sequence.end()
        elif self.sequence.zone:
            why = f'all zones, in their order ({self.sequence.zones}): {why}'
        return ok, why

    def _do_teach(self, name: str, arg: Any) -> tuple[bool, str]:
        """A teach request to the mission, or the joystick's command held from this tick on."""
        run = self.run
        mission = run.loop.mission
        if name == 'drive':
            linear, angular = arg
            v_w, message = self.teach_drive.check(linear, angular, mission.state.name)
            if v_w is None:
                return False, message
            self.teach_drive.hold(*v_w, run.sim.time_s)
            return True, message
        if arg == 'teach/finish':  # the obstacles found join the draft (mission_node's too)
            mission.teach.set_obstacles(run.detected())
        ok, message = mission.request(arg)
        if arg == 'teach/finish':
            message = write_draft(mission.teach_result, run.out / 'draft_map.geojson', message)
        return ok, message

    def observe(self, tick: Any) -> None:
        """Feed the status tracker from a control tick (at ``status_hz`` of simulated time)."""
        run = self.run
        t = run.sim.time_s
        if not self._rate.due(t):
            return
        if run.plan is not self._plan_of:  # a new plan: a new version for the app
            self._plan_of = run.plan
            points = plan_points(run.plan.path.points)
            with self._plan_lock:
                self._plan = (self._plan[0] + 1, points)
        loop = run.loop
        if self._mowed_rate.due(t):
            self._see_mowed(t)
        if loop.last_frame is not self.camera_frame and self._camera.due(t):
            self._see_frame(t)
        st = loop.driver.status
        tr = self.tracker
        tr.mission(tick.mission.state, tick.mission.message, self._mowed, run.zone)
        after = self.sequence.observe(tick.mission.state, run.zone, tr.zones)
        if after is not None:  # the last zone's run ended on the dock: the next zone
            self.log.append((run.sim.time_s, 'start_zone', after, *self._start_zone(after)))
        tr.pose(*tick.pose)
        tr.battery(st.battery_pct, st.charging)
        tr.blade(tick.safety.blade)
        latched = loop.safety.latched
        tr.safety(latched, 'emergency stop' in latched)
        self._tick_schedule()

    def _see_mowed(self, t: float) -> None:
        """The mowed share; every ``LAYERS_PERIOD_S`` the mowed layer and the obstacles too."""
        run = self.run
        mowed = run.loop.mapper.published_coverage()
        mowable = run.policy.lawn.mowable_area()
        self._mowed = 100.0 * mowed.share(mowable) if mowable.area > 0 else None
        if self._layers_rate.due(t):
            self._mowed_image.update(mowed)
            self.tracker.zones_mowed(zone_shares(mowed, run.lawn))
            self._obstacles = obstacles_geojson(run.detected())

    def _see_frame(self, t: float) -> None:
        """The latest camera frame with its labels blended over it (the bag's overlay)."""
        loop = self.run.loop
        frame: Any = loop.last_frame  # a mower_sim Frame (the loop's attribute starts as None)
        labels: Any = loop.last_labels
        self.camera_frame = frame
        jpeg = rgb_jpeg(label_overlay(frame.rgb, labels))
        if jpeg is not None:
            self._camera.set(t, jpeg)

    # -- the mowing schedule (mower_control.mowing_schedule) -----------------------------------
    def sim_now(self) -> datetime.datetime:
        """The simulated local wall time: ``sim_start`` plus the simulated seconds."""
        return self.sim_start + datetime.timedelta(seconds=self.run.sim.time_s)

    def schedule(self) -> Schedule:
        """The mowing schedule in force (any thread)."""
        return self.schedule_follower.schedule()

    def set_schedule(self, schedule: Schedule) -> None:
        """Follow ``schedule`` from now on (any thread); ScheduleError for a zone not on the map.

        The next run in the status changes at once.
        """
        self.schedule_follower.set_schedule(schedule, self.sim_now())

    def _tick_schedule(self) -> None:
        """Start a scheduled run when a window opens (the simulation thread, at status_hz).

        The command takes the path of :meth:`command`'s (``_do``); it is logged in
        :attr:`log` with the message prefixed ``schedule:``.
        """
        run = self.run
        due = self.schedule_follower.tick(self.sim_now(), run.sim.time_s, bool(run.loop.raining))
        if due is None:
            return
        name, zone, why = due
        try:
            ok, message = (False, why) if why else self._do(name, zone)
        except Exception as exc:  # noqa: BLE001 (the run goes on; the log says why)
            ok, message = False, f'{name} failed: {exc}'
        self.log.append((run.sim.time_s, name, zone, ok, f'schedule: {message}'))
