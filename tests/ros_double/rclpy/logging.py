"""rclpy.logging double: loggers that record what they are told, with rclpy's call-site rules."""

from __future__ import annotations

import inspect
import os
from enum import IntEnum
from typing import Any

_THIS_FILE = os.path.realpath(__file__)
# The keyword arguments of the logging filters (rclpy/impl/rcutils_logger.py,
# get_filters_from_kwargs, humble and jazzy), and ``name``, which ``log`` pops first.
_FILTER_KWARGS = frozenset(
    {'throttle_duration_sec', 'throttle_time_source_type', 'skip_first', 'once'}
)


class LoggingSeverity(IntEnum):
    """The rcutils severities (rclpy/impl/logging_severity.py, humble and jazzy)."""

    UNSET = 0
    DEBUG = 10
    INFO = 20
    WARN = 30
    ERROR = 40
    FATAL = 50


def _caller_id() -> tuple[str, str, int, int]:
    """The first frame outside this module, keyed as rclpy keys a logging call site.

    rclpy/impl/rcutils_logger.py (``CallerId``, ``_find_caller``; humble and jazzy): function
    name, file, line and the frame's last instruction (two calls on one line differ).
    """
    frame = inspect.currentframe()
    while frame is not None and os.path.realpath(frame.f_code.co_filename) == _THIS_FILE:
        frame = frame.f_back
    assert frame is not None
    return (
        frame.f_code.co_name,
        os.path.abspath(frame.f_code.co_filename),
        frame.f_lineno,
        frame.f_lasti,
    )


class RcutilsLogger:
    """A named logger; ``records`` holds (severity, message) pairs for tests."""

    def __init__(self, name: str = '') -> None:
        """Empty record, no call site seen."""
        self.name = name
        self.records: list[tuple[str, str]] = []
        self.contexts: dict[tuple[str, str, int, int], dict[str, Any]] = {}

    def log(self, message: str, severity: LoggingSeverity | int, **kwargs: Any) -> bool:
        """Log at ``severity``; a call site keeps its first severity, name and filters.

        Mirrors ``RcutilsLogger.log`` (rclpy/impl/rcutils_logger.py, humble and jazzy): the
        context of each call site is made on its first call, and a later call from the same
        site with another severity raises ``ValueError('Logger severity cannot be changed
        between calls.')`` (likewise for the name and the filters). One difference: rclpy
        checks only severities its logger is enabled for (INFO and up by default); the double
        checks every call, so a site that mixes DEBUG in fails here as it would under
        ``--log-level debug``.
        """
        severity = LoggingSeverity(severity)
        name = kwargs.pop('name', self.name)
        unknown = set(kwargs) - _FILTER_KWARGS
        if unknown:
            raise TypeError(
                f'parameter(s) {sorted(unknown)} not one of the recognized logging '
                f'options {sorted(_FILTER_KWARGS)}'
            )
        if not isinstance(message, str):
            raise TypeError('log message must be a str')
        filters = dict(kwargs)
        caller = _caller_id()
        context = self.contexts.setdefault(
            caller, {'severity': severity, 'name': name, 'filters': filters}
        )
        if severity != context['severity']:
            raise ValueError('Logger severity cannot be changed between calls.')
        if name != context['name']:
            raise ValueError('Logger name cannot be changed between calls.')
        if set(filters) != set(context['filters']):
            raise ValueError('Requested logging filters cannot be changed between calls.')
        if filters != context['filters']:
            raise ValueError('Logging filter parameters cannot be changed between calls.')
        self.records.append((severity.name, message))
        return True

    def debug(self, message: str, **kwargs: Any) -> bool:
        """Log at DEBUG."""
        return self.log(message, LoggingSeverity.DEBUG, **kwargs)

    def info(self, message: str, **kwargs: Any) -> bool:
        """Log at INFO."""
        return self.log(message, LoggingSeverity.INFO, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> bool:
        """Log at WARN."""
        return self.log(message, LoggingSeverity.WARN, **kwargs)

    def warn(self, message: str, **kwargs: Any) -> bool:
        """Log at WARN (deprecated in rclpy in favour of :meth:`warning`)."""
        return self.warning(message, **kwargs)

    def error(self, message: str, **kwargs: Any) -> bool:
        """Log at ERROR."""
        return self.log(message, LoggingSeverity.ERROR, **kwargs)

    def fatal(self, message: str, **kwargs: Any) -> bool:
        """Log at FATAL."""
        return self.log(message, LoggingSeverity.FATAL, **kwargs)


def get_logger(name: str) -> RcutilsLogger:
    """A new logger of that name (rclpy/logging.py: ``_root_logger.get_child(name)``).

    Call-site contexts belong to the logger object, as in rclpy, so a node's
    ``get_logger()`` (one object per node) keeps them for the node's life.
    """
    return RcutilsLogger(name)
