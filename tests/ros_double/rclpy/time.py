"""rclpy.time and rclpy.duration doubles."""

from __future__ import annotations

from typing import Any

from rclpy._clock_type import ClockType


class Duration:
    """A span of time in nanoseconds."""

    def __init__(self, *, seconds: float = 0, nanoseconds: int = 0) -> None:
        """Seconds and nanoseconds add up."""
        self.nanoseconds = int(seconds * 1e9) + int(nanoseconds)


class Time:
    """A point in time on a clock (rclpy/time.py: SYSTEM_TIME unless told)."""

    def __init__(
        self,
        *,
        seconds: float = 0,
        nanoseconds: int = 0,
        clock_type: ClockType = ClockType.SYSTEM_TIME,
    ) -> None:
        """Seconds and nanoseconds add up."""
        self.nanoseconds = int(seconds * 1e9) + int(nanoseconds)
        self.clock_type = clock_type

    def seconds_nanoseconds(self) -> tuple[int, int]:
        """Whole seconds and the nanoseconds past them."""
        return divmod(self.nanoseconds, 1_000_000_000)

    def to_msg(self):
        """builtin_interfaces/Time."""
        from builtin_interfaces.msg import Time as TimeMsg

        sec, nsec = self.seconds_nanoseconds()
        return TimeMsg(sec=sec, nanosec=nsec)

    @classmethod
    def from_msg(cls, msg: Any, clock_type: ClockType = ClockType.ROS_TIME) -> Time:
        """From builtin_interfaces/Time (a ROS time unless told)."""
        return cls(seconds=msg.sec, nanoseconds=msg.nanosec, clock_type=clock_type)
