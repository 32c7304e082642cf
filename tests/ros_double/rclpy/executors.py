"""rclpy.executors double: only what a node's main() uses."""

from __future__ import annotations


class ExternalShutdownException(Exception):
    """Raised by spin when the context is shut down from elsewhere."""


class SingleThreadedExecutor:
    """Holds nodes; spinning returns at once (tests drive callbacks)."""

    def __init__(self, *, context=None) -> None:
        """No nodes yet."""
        self._nodes: list = []

    def add_node(self, node) -> bool:
        """Add a node."""
        self._nodes.append(node)
        return True

    def spin(self) -> None:
        """Returns at once."""

    def shutdown(self, timeout_sec: float | None = None) -> bool:
        """Nothing to stop."""
        return True
