"""ClockType, kept apart so that rclpy.clock and rclpy.time can both use it (not rclpy API)."""

from enum import IntEnum


class ClockType(IntEnum):
    """rcl_clock_type_t (rclpy.clock.ClockType in humble and jazzy)."""

    UNINITIALIZED = 0
    ROS_TIME = 1
    SYSTEM_TIME = 2
    STEADY_TIME = 3
