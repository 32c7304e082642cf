"""rclpy.executors double: only what a node's main() uses."""

from __future__ import annotations

import signal

from rclpy.context import Context, default_context


class ExternalShutdownException(Exception):
    """Context has been shutdown (rclpy/executors.py, humble and jazzy).

    Raised by spin when the context was shut down from outside the executor, as rclpy's
    SIGTERM handler does.
    """


def _wait(context: Context) -> None:
    """What spinning does in the double: return at once, or end as a signal makes rclpy end.

    rclpy's executor (``_wait_for_ready_callbacks``) raises ExternalShutdownException when it
    wakes to a context that is no longer ok; a signal is set with ``Context.signal_on_spin``.
    """
    signum = context._take_signal()
    if signum is None:
        return
    context.try_shutdown()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise ExternalShutdownException()


class SingleThreadedExecutor:
    """Holds nodes; spinning returns at once (tests drive callbacks)."""

    def __init__(self, *, context: Context | None = None) -> None:
        """No nodes yet."""
        self._context = context or default_context()
        self._nodes: list = []

    @property
    def context(self) -> Context:
        """The executor's context."""
        return self._context

    def add_node(self, node) -> bool:
        """Add a node."""
        self._nodes.append(node)
        return True

    def spin(self) -> None:
        """Returns at once, unless a signal ends it (see ``Context.signal_on_spin``)."""
        _wait(self._context)

    def shutdown(self, timeout_sec: float | None = None) -> bool:
        """Nothing to stop."""
        return True
