"""rclpy.task.Future: the part of its API nodes use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Future:
    """The result of an asynchronous call."""

    def __init__(self, *, executor: Any = None) -> None:
        """Not done yet."""
        self._done = False
        self._result: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Future], None]] = []

    def done(self) -> bool:
        """Whether a result or an exception is set."""
        return self._done

    def result(self) -> Any:
        """The result (None while not done); raises the exception if one was set."""
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self) -> BaseException | None:
        """The exception, if any."""
        return self._exception

    def set_result(self, result: Any) -> None:
        """Finish with a result and run the done callbacks."""
        self._result, self._done = result, True
        self._run_callbacks()

    def set_exception(self, exception: BaseException) -> None:
        """Finish with an exception and run the done callbacks."""
        self._exception, self._done = exception, True
        self._run_callbacks()

    def cancel(self) -> None:
        """Cancel (treated as done)."""
        self._done = True

    def cancelled(self) -> bool:
        """Never true in the double."""
        return False

    def add_done_callback(self, callback: Callable[[Future], None]) -> None:
        """Run ``callback(self)`` when done (at once if already done)."""
        self._callbacks.append(callback)
        if self._done:
            callback(self)

    def _run_callbacks(self) -> None:
        for cb in self._callbacks:
            cb(self)
