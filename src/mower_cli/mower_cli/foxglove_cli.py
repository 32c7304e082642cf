"""``--foxglove``: the options of ``mower sim`` and ``mower replay`` for the live Foxglove view.

The view itself is :class:`mower_offline.foxglove_live.FoxgloveLive` (imported when asked for).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mower_bringup import share_dir
from mower_cli.arg_types import host_port, number

__all__ = [
    'DEFAULT_ADDRESS',
    'REPLAY_RATE',
    'SIM_RATE',
    'add_foxglove_options',
    'add_speed_option',
    'speed',
    'live_view',
    'run_topics',
]

DEFAULT_ADDRESS = ('127.0.0.1', 8765)  # as mower_offline.foxglove_live's defaults
SIM_RATE = 10.0  # simulated seconds per wall second: a run in minutes that the eye can follow
REPLAY_RATE = 1.0  # a field bag at its own pace


def add_foxglove_options(parser: argparse.ArgumentParser) -> None:
    """``--foxglove [HOST:PORT]`` (the pace is ``--speed``'s)."""
    host, port = DEFAULT_ADDRESS
    parser.add_argument(
        '--foxglove',
        nargs='?',
        const=f'{host}:{port}',
        default=None,
        type=host_port(host, port),
        metavar='HOST:PORT',
        help=f'stream the run live to Foxglove over WebSocket (default {host}:{port}; port 0: '
        'any free one; a map or bag goes before it); open config/foxglove_layout.json there',
    )


def add_speed_option(parser: argparse.ArgumentParser, what: str, defaults: str) -> None:
    """``--speed X``: ``what`` seconds per wall second (0: as fast as it goes)."""
    parser.add_argument(
        '--speed',
        type=number(0.0, high=1000.0),
        default=None,
        metavar='X',
        help=f'{what} seconds per wall second (0: as fast as it goes; default: {defaults})',
    )


def speed(args: argparse.Namespace, live_default: float) -> float:
    """``--speed``, or its default (simulated or bag seconds per wall second).

    1 with ``--mqtt`` or ``--serve``, ``live_default`` with ``--foxglove``; without them 0 (as
    fast as it goes).
    """
    if args.speed is not None:
        return float(args.speed)
    if getattr(args, 'mqtt', None) is not None or getattr(args, 'serve', None) is not None:
        return 1.0  # Home Assistant and the app follow a mower at its real pace
    return live_default if args.foxglove is not None else 0.0


def run_topics() -> list[tuple[str, str, Any]]:
    """(topic, type, typestore) of what ``mower sim`` records, for the view to advertise first."""
    from mower_offline.bag import TYPESTORE
    from mower_offline.run_recorder import TOPICS

    return [(topic, msgtype, TYPESTORE) for topic, msgtype in TOPICS.items()]


@contextmanager
def live_view(
    args: argparse.Namespace,
    stop: Any = None,
    topics: Iterable[tuple[str, str, Any]] = (),
    rate: float = 0.0,
) -> Iterator[Any]:
    """The live view the options ask for (None without ``--foxglove``), closed on exit.

    ``topics``: (topic, message type, typestore) known beforehand, advertised from the start.

    ``rate``: simulated (bag) seconds per wall second the view paces what it is given to (0:
    it does not pace; ``mower sim`` paces its own loop, ``--speed``). Raises
    :class:`mower_offline.foxglove_live.LiveError` (an OSError: one line, exit 1) when the
    server cannot start. ``stop`` (the run's :class:`mower_offline.out_dir.StopRequest`) ends
    the pacing when it is set.
    """
    from mower_offline.foxglove_live import LAYOUT, FoxgloveLive

    if args.foxglove is None:
        yield None
        return
    host, port = args.foxglove
    with FoxgloveLive(host, port, rate, stop=stop, topics=topics) as live:
        speed = getattr(args, 'speed', None) or rate
        pace = 'as fast as it goes' if not speed else f'{speed:g} s a wall second'
        print(
            f'foxglove: live on {live.url} ({pace}); layout {share_dir() / "config" / LAYOUT}',
            file=sys.stderr,
            flush=True,
        )
        yield live
