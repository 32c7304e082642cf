"""``mower sim --serve``: the owner's app against the simulated mower (options and server).

The app (:mod:`mower_app`) talks to the run through the simulator's operator
(:class:`mower_offline.operated_run.SimOperator`), the same one ``--mqtt`` bridges: the mower
waits on its dock for commands, in simulated time paced by ``--speed``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mower_cli.arg_types import host_port

__all__ = ['DEFAULT_APP', 'add_serve_options', 'app_server']

DEFAULT_APP = ('127.0.0.1', 8080)


def sim_start(text: str) -> datetime.datetime:
    """An argparse type: ``YYYY-MM-DDTHH:MM`` (local time), the simulated clock's start."""
    try:
        return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M')
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a date and time YYYY-MM-DDTHH:MM (e.g. 2025-06-02T08:58)'
        ) from None


def add_serve_options(p: argparse.ArgumentParser) -> None:
    """``--serve [HOST:PORT]``, ``--app-password-file``, ``--app-tls``, ``--sim-start``."""
    host, port = DEFAULT_APP
    p.add_argument(
        '--serve',
        nargs='?',
        const=DEFAULT_APP,
        type=host_port(host, port),
        default=None,
        metavar='HOST:PORT',
        help=f"the owner's app against the simulated mower (default {host}:{port}; port 0: "
        'any free one); it waits on the dock for commands until Ctrl-C',
    )
    p.add_argument(
        '--app-password-file',
        default=None,
        metavar='FILE',
        help="the app's owner password (`mower app password`); default: a new one for this "
        'run, printed, kept in the output folder',
    )
    p.add_argument(
        '--app-tls',
        nargs=2,
        default=None,
        metavar=('CERT', 'KEY'),
        help='serve the app over HTTPS with this certificate chain and private key (PEM)',
    )
    p.add_argument(
        '--sim-start',
        type=sim_start,
        default=None,
        metavar='YYYY-MM-DDTHH:MM',
        help="the simulated local date and time the run starts at, the mowing schedule's "
        'clock (default: now)',
    )


@contextlib.contextmanager
def app_server(args: argparse.Namespace, operator: Any) -> Iterator[Any]:
    """With ``--serve``: the app served for ``operator`` while the block runs (else None)."""
    if args.serve is None:
        yield None
        return
    from mower_app.auth import set_password
    from mower_app.serve import AppServer
    from mower_app.server import AppSettings, create_app

    host, port = args.serve
    if args.app_password_file:
        path = Path(args.app_password_file)
        if not path.is_file():
            raise OSError(f'{path}: no such password file (make one: mower app password)')
        told = f'password from {path}'
    else:  # the simulator's: a fresh password for this run, said once
        path = Path(args.out) / 'app_password.json'
        password = secrets.token_urlsafe(12)
        set_password(path, password)
        told = f'password for this run: {password}'
    cert, key = args.app_tls or ('', '')
    settings = AppSettings(
        password_file=str(path), data_dir=Path(args.out) / 'app', tls_cert=cert, tls_key=key
    )
    server = AppServer(create_app(operator, settings), host, port, settings.tls)
    url = server.start()
    print(f'app: {url} ({told}); Ctrl-C ends the run', flush=True)
    try:
        yield server
    finally:
        server.stop()
