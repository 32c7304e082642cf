"""``mower teach``: the command line of the simulator's teach run (imports it lazily)."""

from __future__ import annotations

import argparse
import math
from typing import Any

__all__ = ['add_teach_parser']


def _seed(text: str) -> int:
    """An argparse type: a whole number from 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f'{text!r}: must be from 0 to {2**32 - 1}')
    return value


def _speed(text: str) -> float:
    """An argparse type: a speed above 0 and at most 1 m/s."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise argparse.ArgumentTypeError(f'{text!r}: must be above 0 and at most 1 (m/s)')
    return value


def add_teach_parser(sub: Any) -> None:
    """Register ``mower teach`` on the ``mower`` command's subparsers."""
    p = sub.add_parser(
        'teach',
        help='teach mode in the simulator: a scripted owner drives the lawn edges; a draft map',
    )
    p.add_argument('map', help='GeoJSON lawn map: the truth the owner drives')
    p.add_argument('--out', default='out/teach', help='output folder (default: out/teach)')
    p.add_argument('--seed', type=_seed, default=0, help='random seed (default 0)')
    p.add_argument(
        '--speed', type=_speed, default=0.3, help="the owner's speed along the edges (m/s)"
    )
    p.add_argument(
        '--true-pose',
        action='store_true',
        help='record the true pose instead of the localisation error model',
    )
    p.add_argument('--json', action='store_true', help='print one JSON summary object')
    p.set_defaults(func=_cmd_teach)


def _cmd_teach(args: Any) -> int:
    from mower_offline.teach_run import cmd_teach  # MuJoCo: only when asked for

    return cmd_teach(args)
