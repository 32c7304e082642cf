"""rclpy.time and rclpy.duration doubles."""

from __future__ import annotations


class Duration:
    """A span of time in nanoseconds."""

    def __init__(self, *, seconds: float = 0, nanoseconds: int = 0) -> None:
        """Seconds and nanoseconds add up."""
        self.nanoseconds = int(seconds * 1e9) + int(nanoseconds)


class Time:
    """A point in time on a clock."""

    def __init__(self, *, seconds: float = 0, nanoseconds: int = 0, clock_type: int = 1) -> None:
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
