r"""Diagnostics the nodes publish: one DiagnosticStatus builder, one ``/diagnostics`` message.

``level`` is a name ('OK', 'WARN', 'ERROR', 'STALE'), the DiagnosticStatus constant (a ``byte``
field: ``bytes`` of length one in rosidl's Python, ``DiagnosticStatus.OK == b'\x00'``) or its
number; values are written with ``str`` in the mapping's order (format floats before).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

LEVELS = ('OK', 'WARN', 'ERROR', 'STALE')


def level_byte(level: str | bytes | int) -> bytes:
    """The ``byte`` value of a DiagnosticStatus level given by name, byte or number."""
    if isinstance(level, str):
        if level not in LEVELS:
            raise ValueError(f'diagnostic level {level!r} is not one of {LEVELS}')
        return getattr(DiagnosticStatus, level)
    number = level[0] if isinstance(level, (bytes, bytearray)) and len(level) == 1 else level
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < len(LEVELS):
        raise ValueError(f'diagnostic level {level!r} is not one of {LEVELS}')
    return bytes([number])


def diagnostic_status(
    name: str,
    level: str | bytes | int,
    message: str = '',
    values: Mapping[str, Any] | None = None,
    hardware_id: str = '',
) -> DiagnosticStatus:
    """A DiagnosticStatus with its key/value pairs."""
    return DiagnosticStatus(
        level=level_byte(level),
        name=name,
        message=message,
        hardware_id=hardware_id,
        values=[KeyValue(key=str(k), value=str(v)) for k, v in (values or {}).items()],
    )


def diagnostics(
    stamp: Any,
    name: str,
    level: str | bytes | int,
    message: str = '',
    values: Mapping[str, Any] | None = None,
    hardware_id: str = '',
) -> DiagnosticArray:
    """The ``/diagnostics`` message of one status, stamped ``stamp`` (builtin_interfaces Time)."""
    return DiagnosticArray(
        header=Header(stamp=stamp, frame_id=''),
        status=[diagnostic_status(name, level, message, values, hardware_id)],
    )
