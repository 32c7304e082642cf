"""rclpy.clock double: clocks the tests set, and the ROS clock's sim-time override.

Mirrors rclpy/clock.py (humble and jazzy): ``Clock(clock_type=...)`` gives a ``ROSClock`` for
``ClockType.ROS_TIME``; a ROS clock whose ROS time is active (the node's ``use_sim_time``, set
by its TimeSource) reads the last ``/clock`` message and stands at zero until one arrives.
"""

from __future__ import annotations

from rclpy._clock_type import ClockType
from rclpy.time import Time

__all__ = ['Clock', 'ClockType', 'ROSClock']


class Clock:
    """A clock whose time tests set with :meth:`set_now` (a test-only helper).

    rclpy's system and steady clocks read the machine's time; the double's start at zero and
    move only when a test moves them, so tests are deterministic.
    """

    def __new__(cls, *, clock_type: ClockType = ClockType.SYSTEM_TIME) -> Clock:
        """As rclpy: a ClockType is required; ROS_TIME gives a ROSClock."""
        if not isinstance(clock_type, ClockType):
            raise TypeError('Clock type must be a ClockType enum')
        self = super().__new__(ROSClock if clock_type is ClockType.ROS_TIME else cls)
        self._clock_type = clock_type
        self._now_ns = 0
        return self

    @property
    def clock_type(self) -> ClockType:
        """The clock type."""
        return self._clock_type

    def __repr__(self) -> str:
        return f'Clock(clock_type={self._clock_type.name})'

    def now(self) -> Time:
        """The current time."""
        return Time(nanoseconds=self._now_ns, clock_type=self._clock_type)

    def set_now(self, seconds: float) -> None:
        """Test helper: move the clock."""
        self._now_ns = int(seconds * 1e9)


class ROSClock(Clock):
    """The node clock: system time, or the ``/clock`` time while ROS time is active."""

    def __new__(cls) -> ROSClock:
        """A clock of type ROS_TIME, ROS time inactive."""
        self = super().__new__(Clock, clock_type=ClockType.ROS_TIME)
        self._ros_time_active = False
        self._override_ns = 0
        return self

    @property
    def ros_time_is_active(self) -> bool:
        """Whether the clock follows ``/clock`` (use_sim_time)."""
        return self._ros_time_active

    def _set_ros_time_is_active(self, enabled: bool) -> None:
        # rclpy: not public; only the node's TimeSource calls it
        self._ros_time_active = bool(enabled)

    def set_ros_time_override(self, time: Time) -> None:
        """The time a ``/clock`` message gave (TimeSource.clock_callback)."""
        if not isinstance(time, Time):
            raise TypeError(
                f'Time must be specified as rclpy.time.Time. Received type: {type(time)}'
            )
        self._override_ns = time.nanoseconds

    def now(self) -> Time:
        """The ``/clock`` time while ROS time is active (0 before any), else the set time."""
        if self._ros_time_active:
            return Time(nanoseconds=self._override_ns, clock_type=ClockType.ROS_TIME)
        return super().now()

    def set_now(self, seconds: float) -> None:
        """Test helper: move the clock (under use_sim_time, deliver a ``/clock`` instead)."""
        if self._ros_time_active:
            raise RuntimeError(
                'this clock follows /clock (use_sim_time): deliver a '
                'rosgraph_msgs/Clock message to move it'
            )
        super().set_now(seconds)
