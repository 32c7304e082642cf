"""``mower app``: the owner's app's command line (``mower app password``; imports it lazily)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

__all__ = ['add_app_parser']


def add_app_parser(sub: Any) -> None:
    """Register ``mower app`` on the ``mower`` command's subparsers."""
    p_app = sub.add_parser('app', help="the owner's app served by the robot")
    app_sub = p_app.add_subparsers(dest='app_command', required=True)
    p = app_sub.add_parser(
        'password',
        help="set the owner's password of the app (stored hashed, readable by you only)",
    )
    p.add_argument(
        '--file',
        default=None,
        help='password file (default: ~/.config/mower/app_password.json)',
    )
    p.add_argument(
        '--stdin',
        action='store_true',
        help='read the password from the first line of stdin (for scripts) instead of asking',
    )
    p.set_defaults(func=_cmd_password)


def _read_password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or asked twice on the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip('\r\n')
    first = getpass.getpass('New app password: ')
    if getpass.getpass('Again: ') != first:
        raise ValueError('the two passwords differ: nothing was changed')
    return first


def _cmd_password(args: Any) -> int:
    from mower_app.auth import PasswordError, default_password_file, set_password

    path = Path(args.file).expanduser() if args.file else default_password_file()
    try:
        set_password(path, _read_password(args.stdin))
    except (PasswordError, ValueError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print('\nerror: no password given: nothing was changed', file=sys.stderr)
        return 1
    print(f'app password set: {path}')
    return 0
