"""rclpy.context double."""

from __future__ import annotations


class Context:
    """An init/shutdown state."""

    def __init__(self) -> None:
        """Not initialised."""
        self._ok = False
        self.args: list[str] | None = None

    def init(self, args: list[str] | None = None, *, initialize_logging: bool = True,
             domain_id: int | None = None) -> None:
        """Initialise; twice raises, like rclpy."""
        if self._ok:
            raise RuntimeError('Context.init() must only be called once')
        self._ok = True
        self.args = args

    def ok(self) -> bool:
        """Initialised and not shut down."""
        return self._ok

    def shutdown(self) -> None:
        """Shut down; raises when not initialised."""
        if not self._ok:
            raise RuntimeError('Context must be initialized before it can be shutdown')
        self._ok = False

    def try_shutdown(self) -> None:
        """Shut down if running."""
        self._ok = False


_DEFAULT = Context()


def default_context() -> Context:
    """The process-wide context."""
    return _DEFAULT
