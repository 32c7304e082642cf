"""rclpy.context double."""

from __future__ import annotations

import signal


class Context:
    """An init/shutdown state."""

    def __init__(self) -> None:
        """Not initialised."""
        self._ok = False
        self.args: list[str] | None = None
        self._pending_signal: int | None = None

    def init(
        self,
        args: list[str] | None = None,
        *,
        initialize_logging: bool = True,
        domain_id: int | None = None,
    ) -> None:
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

    def signal_on_spin(self, signum: int) -> None:
        """Test helper: ``signum`` arrives while the next spin on this context waits.

        rclpy's handlers (src/rclpy/signal_handler.cpp, humble and jazzy) shut the contexts
        down and wake the executor. For SIGINT they chain to Python's handler, which raises
        KeyboardInterrupt; SIGTERM's default handler is not chained, so the executor finds its
        context shut down and spin raises ExternalShutdownException (rclpy/executors.py).
        """
        if signum not in (signal.SIGINT, signal.SIGTERM):
            raise ValueError('rclpy handles SIGINT and SIGTERM only')
        self._pending_signal = signum

    def _take_signal(self) -> int | None:
        signum, self._pending_signal = self._pending_signal, None
        return signum


_DEFAULT = Context()


def default_context() -> Context:
    """The process-wide context."""
    return _DEFAULT
