"""A run's output folder, claimed for the run; and a clean stop on SIGINT / SIGTERM.

The rules ``mower sim``, ``mower replay`` and ``mower segment adapt`` share (no ROS here):

* :func:`claim_output` refuses an output folder that is a file, that contains one of the run's
  inputs or lies inside one (a run replaces its own outputs in the folder, such as ``bag/``,
  so an input there could be deleted), and one that another run holds; it creates the folder
  and holds an exclusive lock (``fcntl.flock`` on :data:`LOCK_NAME` inside it) until released.
  :class:`OutputError` is the one-line reason (exit status 1).
* :func:`stop_on_signals` turns SIGINT and SIGTERM into a request the run's loop polls
  (:class:`StopRequest`), so the run ends at the next step and writes what it did so far; a
  second signal stops at once (:class:`Interrupted`). The exit status of an interrupted run is
  128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_NAME = '.mower-run.lock'  # inside the output folder; held (flock) for the whole run


class OutputError(RuntimeError):
    """The output folder cannot be used: a one-line reason."""


def _resolved(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()


def _within(inner: Path, outer: Path) -> bool:
    """Whether resolved ``inner`` is ``outer`` or lies inside it."""
    return inner == outer or outer in inner.parents


def check_apart(
    out: str | Path,
    inputs: Iterable[str | Path],
    what: str = 'output folder',
    option: str = '--out',
) -> None:
    """OutputError when ``out`` contains one of ``inputs``, is one, or lies inside one.

    ``what`` and ``option`` name the output in the message.
    """
    o = _resolved(out)
    for p in inputs:
        i = _resolved(p)
        if _within(i, o):
            raise OutputError(
                f'{out}: the {what} would contain the input {p}, and a run '
                f'replaces its outputs there: choose another {option}'
            )
        if _within(o, i):
            raise OutputError(
                f'{out}: the {what} lies inside the input {p}: choose another {option}'
            )


class OutputLock:
    """An output folder held by this run (see :func:`claim_output`); release it when done."""

    def __init__(self, path: Path, fd: int, created: bool) -> None:
        """Hold ``fd``, the locked :data:`LOCK_NAME` of folder ``path`` (``created``: by us)."""
        self.path, self.created = path, created
        self._fd: int | None = fd

    def release(self) -> None:
        """Unlock; a folder this run created and left empty is removed again."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if self.created and [p.name for p in self.path.iterdir()] == [LOCK_NAME]:
            try:
                (self.path / LOCK_NAME).unlink()
                self.path.rmdir()
            except OSError:
                pass

    def __enter__(self) -> OutputLock:
        """The lock."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Release."""
        self.release()


def claim_output(out: str | Path, inputs: Iterable[str | Path] = ()) -> OutputLock:
    """Create (if needed) and lock the output folder ``out`` of a run reading ``inputs``.

    OutputError when ``out`` is a file, contains an input or lies inside one, cannot be
    created, or another run holds it.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputError(f'{out}: the output folder is a file (--out names a folder)')
    check_apart(path, inputs)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(
            f'{out}: cannot create the output folder: {exc.strerror or exc}'
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 64).decode('ascii', 'replace').strip()
        os.close(fd)
        who = f' (pid {holder})' if holder.isdigit() else ''
        raise OutputError(
            f'{out}: another run{who} holds this output folder: wait for it to '
            'end or choose another --out'
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f'{os.getpid()}\n'.encode())
    return OutputLock(path, fd, created)


class Interrupted(KeyboardInterrupt):
    """A second SIGINT / SIGTERM: stop at once (``signum`` says which)."""

    def __init__(self, signum: int) -> None:
        """The signal's number."""
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopRequest:
    """Set when SIGINT or SIGTERM arrives inside :func:`stop_on_signals`; false until then."""

    def __init__(self) -> None:
        """No request yet."""
        self.signum: int | None = None

    def __bool__(self) -> bool:
        """Whether a stop was requested."""
        return self.signum is not None

    @property
    def name(self) -> str | None:
        """'SIGINT' or 'SIGTERM' (None: no request)."""
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """128 + the signal number (130 for SIGINT, 143 for SIGTERM); 0 without a request."""
        return 0 if self.signum is None else 128 + self.signum


@contextmanager
def stop_on_signals(
    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[StopRequest]:
    """A :class:`StopRequest` set by the first of ``signals``; a second raises Interrupted.

    The previous handlers come back on exit. Off the main thread (where Python cannot handle
    signals) the request is never set.
    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.signum is not None:
            raise Interrupted(signum)
        stop.signum = signum
        print(
            f'\n{signal.Signals(signum).name}: stopping; writing what was done so far '
            '(again to stop at once)',
            file=sys.stderr,
            flush=True,
        )

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
