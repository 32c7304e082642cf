"""rclpy.logging double: loggers that record what they are told."""

from __future__ import annotations

from typing import Any

_LOGGERS: dict[str, RcutilsLogger] = {}


class RcutilsLogger:
    """A named logger; ``records`` holds (severity, message) pairs for tests."""

    def __init__(self, name: str = '') -> None:
        """Empty record."""
        self.name = name
        self.records: list[tuple[str, str]] = []

    def _log(self, severity: str, message: str, **kwargs: Any) -> bool:
        allowed = {'throttle_duration_sec', 'throttle_time_source_type', 'skip_first', 'once'}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f'unexpected logging arguments: {sorted(unknown)}')
        if not isinstance(message, str):
            raise TypeError('log message must be a str')
        self.records.append((severity, message))
        return True

    def debug(self, message: str, **kwargs: Any) -> bool:
        """Log at DEBUG."""
        return self._log('DEBUG', message, **kwargs)

    def info(self, message: str, **kwargs: Any) -> bool:
        """Log at INFO."""
        return self._log('INFO', message, **kwargs)

    def warning(self, message: str, **kwargs: Any) -> bool:
        """Log at WARN."""
        return self._log('WARN', message, **kwargs)

    warn = warning

    def error(self, message: str, **kwargs: Any) -> bool:
        """Log at ERROR."""
        return self._log('ERROR', message, **kwargs)

    def fatal(self, message: str, **kwargs: Any) -> bool:
        """Log at FATAL."""
        return self._log('FATAL', message, **kwargs)


def get_logger(name: str) -> RcutilsLogger:
    """The logger of that name."""
    return _LOGGERS.setdefault(name, RcutilsLogger(name))
