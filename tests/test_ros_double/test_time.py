"""use_sim_time in the double: the ROS clock waits for /clock, and so do its timers.

rclpy/time_source.py, rclpy/clock.py (humble and jazzy) and rcl/src/rcl/timer.c.
"""

from __future__ import annotations

import pytest


def sim_time_node():
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    return Node('n', parameter_overrides=[Parameter('use_sim_time', value=True)])


def clock_msg(seconds: float):
    from rosgraph_msgs.msg import Clock

    msg = Clock()
    msg.clock.sec, msg.clock.nanosec = int(seconds), int(round(seconds % 1 * 1e9))
    return msg


def test_without_sim_time_the_clock_is_the_tests(ros):
    from rclpy.clock import ClockType
    from rclpy.node import Node

    node = Node('n')
    clock = node.get_clock()
    assert clock.clock_type == ClockType.ROS_TIME and not clock.ros_time_is_active
    assert [s.topic for s in node.subscriptions] == []
    clock.set_now(2.5)
    assert clock.now().nanoseconds == 2_500_000_000
    fired = []
    node.create_timer(0.1, lambda: fired.append(1)).fire()
    assert fired == [1]


def test_under_sim_time_the_clock_stands_at_zero_until_clock_arrives(ros):
    from rclpy.qos import ReliabilityPolicy

    node = sim_time_node()
    clock = node.get_clock()
    assert clock.ros_time_is_active and clock.now().nanoseconds == 0
    (sub,) = node.subscriptions
    assert (sub.topic, sub.msg_type._type) == ('/clock', 'rosgraph_msgs/msg/Clock')
    assert sub.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT
    assert sub.qos_profile.depth == 1
    with pytest.raises(RuntimeError, match='follows /clock'):
        clock.set_now(1.0)
    sub.deliver(clock_msg(3.25))
    assert clock.now().nanoseconds == 3_250_000_000


def test_a_timer_on_the_ros_clock_does_not_fire_before_clock(ros):
    from rclpy.clock import Clock, ClockType

    node = sim_time_node()
    ticks, steady_ticks = [], []
    timer = node.create_timer(0.5, lambda: ticks.append(node.get_clock().now().nanoseconds))
    steady = node.create_timer(
        0.5, lambda: steady_ticks.append(1), clock=Clock(clock_type=ClockType.STEADY_TIME)
    )
    assert timer.clock is node.get_clock() and steady.clock.clock_type == ClockType.STEADY_TIME
    for _ in range(3):
        timer.fire()
        steady.fire()
    assert ticks == [] and not timer.is_ready() and steady_ticks == [1, 1, 1]
    clock_sub = node.subscriptions[0]
    clock_sub.deliver(clock_msg(0.4))
    timer.fire()
    assert ticks == []  # 0.4 s: not yet one period
    clock_sub.deliver(clock_msg(0.5))
    timer.fire()
    timer.fire()  # called once per period, not once per fire()
    assert ticks == [500_000_000]
    clock_sub.deliver(clock_msg(2.2))  # a jump: one call, the next due at 2.5 s
    timer.fire()
    timer.fire()
    assert ticks == [500_000_000, 2_200_000_000]
    clock_sub.deliver(clock_msg(2.5))
    timer.fire()
    assert len(ticks) == 3


def test_clock_types_and_timer_clock_checked(ros):
    from rclpy.clock import Clock, ClockType, ROSClock
    from rclpy.node import Node

    assert isinstance(Clock(clock_type=ClockType.ROS_TIME), ROSClock)
    with pytest.raises(TypeError):
        Clock(clock_type=3)
    with pytest.raises(TypeError):
        Node('n').create_timer(1.0, lambda: None, clock='steady')
