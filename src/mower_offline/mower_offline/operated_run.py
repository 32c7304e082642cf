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
    check_command,
    mission_request,
    obstacles_geojson,
    plan_points,
    zone_to_plan,
)
from mower_offline.replay_outputs import label_overlay, rgb_jpeg
from mower_offline.schedule import Every

if TYPE_CHECKING:
    from mower_offline.run import MowingRun

MAP_TIMEOUT_S = 60.0  # planning a new map: the longest a caller waits
CAMERA_PERIOD_S = 1.0  # the app's camera image, at most this often (simulated s)
LAYERS_PERIOD_S = 5.0  # the app's mowed layer and obstacles, at most this often (simulated s)


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

    # -- the Operator interface (any thread) ---------------------------------------------------
    def status(self) -> MowerStatus:
        """The latest status."""
        return self.tracker.status()

    def command(self, name: str, zone: int = 0) -> tuple[bool, str]:
        """Queue a command for the loop and wait (at most ``timeout_s``) for its result."""
        why = check_command(name, zone, self.tracker.zones)
        if why:
            return False, why
        if not self.running.is_set():
            return False, 'the simulated mower is not running'
        done: Future = Future()
        self._queue.put((name, zone, done))
        try:
            return done.result(timeout=self.timeout_s)
        except FutureTimeout:
            return False, 'the simulator did not take the command in time'

    def set_map(self, lawn: Any) -> tuple[bool, str]:
        """The owner's new map (a LawnMap), used from the next tick on; (accepted, message).

        Planning it takes a moment: this waits up to ``MAP_TIMEOUT_S``.
        """
        if not self.running.is_set():
            return False, 'the simulated mower is not running'
        done: Future = Future()
        self._queue.put(('set_map', lawn, done))
        try:
            return done.result(timeout=max(self.timeout_s, MAP_TIMEOUT_S))
        except FutureTimeout:
            return False, 'the simulator did not take the map in time'

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
                return
            try:
                result = self._do(name, zone)
            except Exception as exc:  # noqa: BLE001 (the caller's thread gets the reason)
                result = (False, f'{name} failed: {exc}')
            self.log.append((self.run.sim.time_s, name, zone if name != 'set_map' else 0, *result))
            if not done.done():
                done.set_result(result)

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
            run.loop.safety.emergency_stop(True, run.sim.time_s)
            return True, 'emergency stop: wheels and blade stopped'
        target = zone_to_plan(name, zone, run.zone, mission.state.name)
        if target is not None:
            return run.start_zone(target)
        return mission.request(mission_request(name, mission.state.name))

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
