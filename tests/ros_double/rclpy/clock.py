"""rclpy.clock double: a ROS clock the test sets."""

from __future__ import annotations

from rclpy.time import Time


class Clock:
    """A clock whose time tests set with :meth:`set_now` (a test-only helper)."""

    def __init__(self) -> None:
        """Starts at zero."""
        self._now_ns = 0

    def now(self) -> Time:
        """The current time."""
        return Time(nanoseconds=self._now_ns)

    def set_now(self, seconds: float) -> None:
        """Test helper: move the clock."""
        self._now_ns = int(seconds * 1e9)


class ROSClock(Clock):
    """The node clock."""
