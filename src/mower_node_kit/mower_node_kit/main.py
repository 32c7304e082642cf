"""The one ``main()`` of every node: spin, and shut down cleanly on SIGINT and SIGTERM.

rclpy installs handlers for both signals that shut the context down. Ctrl-C (SIGINT) then
surfaces from ``rclpy.spin`` as KeyboardInterrupt, and SIGTERM (what ``ros2 launch`` and
systemd send to stop a process) as ``rclpy.executors.ExternalShutdownException``; both are a
normal end, not a crash. Either way the node's ``on_exit`` runs (stop the motors, save the
state), the node is destroyed and the context shut down if it is still up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import rclpy
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from mower_node_kit.params import ConfigError

#: what a bad parameter raises while a node declares them: a message, not a traceback
PARAMETER_ERRORS = (ConfigError, InvalidParameterTypeException, InvalidParameterValueException)

N = TypeVar('N', bound=Node)


def run_node(
    make_node: Callable[[], N],
    args: list[str] | None = None,
    *,
    on_exit: Callable[[N], None] | None = None,
    startup_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Initialise rclpy, build the node, spin it until shutdown, clean up; the exit status.

    ``make_node`` is the node class (or any callable building the node). ``on_exit(node)`` runs
    before the node is destroyed, however spinning ended. An exception of ``startup_errors``
    raised while the node is built (a bad map file, say), or of :data:`PARAMETER_ERRORS` (a
    parameter of the wrong type or out of its range), ends the process with its message and
    status 1 instead of a traceback. Any other exception, from start-up or from a callback,
    propagates after the clean-up: a crash stays a crash.
    """
    rclpy.init(args=args)
    try:
        node = make_node()
    except (*PARAMETER_ERRORS, *startup_errors) as exc:
        print(f'{Path(sys.argv[0]).name}: {exc}', file=sys.stderr)
        rclpy.try_shutdown()
        return 1
    except BaseException:
        rclpy.try_shutdown()
        raise
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass  # SIGINT or SIGTERM: rclpy has shut the context down; a normal end
    finally:
        try:
            if on_exit is not None:
                on_exit(node)
        finally:
            node.destroy_node()
            rclpy.try_shutdown()
    return 0
