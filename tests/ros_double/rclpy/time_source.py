"""rclpy.time_source double: ``use_sim_time`` and the ``/clock`` subscription.

Mirrors rclpy/time_source.py (humble and jazzy): the node's TimeSource reads ``use_sim_time``;
when true it activates ROS time on the attached clocks and subscribes to ``/clock``
(rosgraph_msgs/Clock, depth 1, best effort); each message overrides the clocks' time. Until
the first message the ROS time stands at zero (``Time(clock_type=ROS_TIME)``).
"""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import SetParametersResult

from rclpy.clock import ClockType, ROSClock
from rclpy.time import Time

CLOCK_TOPIC = '/clock'
USE_SIM_TIME_NAME = 'use_sim_time'


class TimeSource:
    """Drives a node's ROS clocks from ``/clock`` while ``use_sim_time`` is true."""

    def __init__(self, *, node: Any = None) -> None:
        """Not active, no clocks; attach ``node`` if given."""
        self._node: Any = None
        self._clock_sub: Any = None
        self._clocks: list[ROSClock] = []
        self._last_time_set = Time(clock_type=ClockType.ROS_TIME)
        self._ros_time_is_active = False
        if node is not None:
            self.attach_node(node)

    @property
    def ros_time_is_active(self) -> bool:
        """Whether the clocks follow ``/clock``."""
        return self._ros_time_is_active

    @ros_time_is_active.setter
    def ros_time_is_active(self, enabled: bool) -> None:
        if self._ros_time_is_active == enabled:
            return
        self._ros_time_is_active = enabled
        for clock in self._clocks:
            clock._set_ros_time_is_active(enabled)
        if enabled and self._clock_sub is None and self._node is not None:
            from rosgraph_msgs.msg import Clock as ClockMsg

            from rclpy.qos import QoSProfile, ReliabilityPolicy

            self._clock_sub = self._node.create_subscription(
                ClockMsg,
                CLOCK_TOPIC,
                self.clock_callback,
                QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT),
            )

    def attach_node(self, node: Any) -> None:
        """Read (declaring if needed) ``use_sim_time`` and follow its changes."""
        self._node = node
        if not node.has_parameter(USE_SIM_TIME_NAME):
            node.declare_parameter(USE_SIM_TIME_NAME, False)
        param = node.get_parameter(USE_SIM_TIME_NAME)
        if isinstance(param.value, bool):
            self.ros_time_is_active = param.value
        else:
            node.get_logger().error(
                f"Invalid type for parameter '{USE_SIM_TIME_NAME}' {param.type_!r} should be bool"
            )
        node.add_on_set_parameters_callback(self._on_parameter_event)

    def attach_clock(self, clock: ROSClock) -> None:
        """Drive ``clock`` too (only ROS clocks can be attached)."""
        if not isinstance(clock, ROSClock):
            raise ValueError('Only clocks with type ROS_TIME can be attached.')
        clock.set_ros_time_override(self._last_time_set)
        clock._set_ros_time_is_active(self.ros_time_is_active)
        self._clocks.append(clock)

    def clock_callback(self, msg: Any) -> None:
        """A ``/clock`` message: the attached clocks read its time."""
        self._last_time_set = Time.from_msg(msg.clock)
        for clock in self._clocks:
            clock.set_ros_time_override(self._last_time_set)

    def _on_parameter_event(self, parameter_list: list[Any]) -> SetParametersResult:
        for parameter in parameter_list:
            if parameter.name == USE_SIM_TIME_NAME and isinstance(parameter.value, bool):
                self.ros_time_is_active = parameter.value
        return SetParametersResult(successful=True)
