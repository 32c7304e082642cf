"""Saved state that survives a power cut, and damaged files kept aside (ROS-free).

Every file the stack saves to resume from (the mowed layer, the mission state) is written with
:func:`atomic_write_bytes`: into a temporary file in the same folder, flushed and fsync'd,
renamed over the old one, and the folder fsync'd (POSIX), so that after a crash or a flat
battery the path holds either the old file or the new one, never a half-written one.

A saved file found damaged is never deleted or overwritten: :func:`quarantine` renames it to
``<name>.<tag>-<UTC time stamp>`` next to it (``coverage.npz.damaged-20250601T101500Z``), and
the caller logs that and starts afresh.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

#: the tag of a file kept aside because it is damaged
DAMAGED = 'damaged'


def fsync_dir(folder: str | Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; nothing where folders cannot be opened)."""
    if os.name != 'posix':
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and durably; returns the path.

    A temporary file next to ``path`` is written, flushed and fsync'd, then renamed over
    ``path`` (``os.replace``), and the folder is fsync'd. The folder is created when missing.
    On any error the temporary file is removed and the old ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def aside_name(path: str | Path, tag: str = DAMAGED, when: datetime | None = None) -> Path:
    """``<name>.<tag>-<UTC time stamp>`` next to ``path``; a free name (``-1``, ``-2`` ...)."""
    path = Path(path)
    stamp = (when or datetime.now(timezone.utc)).strftime('%Y%m%dT%H%M%SZ')
    target = path.with_name(f'{path.name}.{tag}-{stamp}')
    n = 0
    while target.exists() or target.is_symlink():
        n += 1
        target = path.with_name(f'{path.name}.{tag}-{stamp}-{n}')
    return target


def quarantine(path: str | Path, tag: str = DAMAGED) -> Path:
    """Rename ``path`` aside to :func:`aside_name` (never deletes, never overwrites).

    Returns the new path; OSError when it cannot be renamed (it is then left where it was).
    """
    path = Path(path)
    target = aside_name(path, tag)
    os.rename(path, target)
    with suppress(OSError):
        fsync_dir(path.parent)
    return target


def keep_copy(path: str | Path, tag: str) -> Path:
    """Copy ``path`` aside to :func:`aside_name` (durably); the original stays. The copy."""
    path = Path(path)
    target = aside_name(path, tag)
    data = path.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, 'wb') as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    with suppress(OSError):
        fsync_dir(path.parent)
    return target
