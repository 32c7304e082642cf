"""Signals and shutdown in the double, as rclpy's handlers and executor end spin."""

from __future__ import annotations

import signal

import pytest


def test_sigterm_ends_spin_with_external_shutdown(ros):
    from rclpy.context import default_context
    from rclpy.executors import ExternalShutdownException
    from rclpy.node import Node

    node = Node('n')
    ros.spin(node)  # no middleware: returns at once
    default_context().signal_on_spin(signal.SIGTERM)
    with pytest.raises(ExternalShutdownException):
        ros.spin(node)
    assert not ros.ok()
    ros.try_shutdown()  # already down: fine
    with pytest.raises(RuntimeError):
        ros.shutdown()  # rclpy raises on a context already shut down


def test_sigint_ends_spin_with_keyboard_interrupt(ros):
    from rclpy.context import default_context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    executor = SingleThreadedExecutor()
    executor.add_node(Node('n'))
    default_context().signal_on_spin(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        executor.spin()
    assert not ros.ok()
    with pytest.raises(ValueError):
        default_context().signal_on_spin(signal.SIGHUP)


def test_try_shutdown_has_rclpys_keywords(ros):
    with pytest.raises(TypeError):
        ros.try_shutdown(uninstall_handlers=True)  # shutdown() has it, try_shutdown() not
    ros.try_shutdown(context=None)
