"""``mower teach``: the command line of the simulator's teach run (imports it lazily)."""

from __future__ import annotations

from typing import Any

from mower_cli.arg_types import MAX_SEED, integer, number

__all__ = ['add_teach_parser']


def add_teach_parser(sub: Any) -> None:
    """Register ``mower teach`` on the ``mower`` command's subparsers."""
    p = sub.add_parser(
        'teach',
        help='teach mode in the simulator: a scripted owner drives the lawn edges; a draft map',
    )
    p.add_argument('map', help='GeoJSON lawn map: the truth the owner drives')
    p.add_argument('--out', default='out/teach', help='output folder (default: out/teach)')
    p.add_argument('--seed', type=integer(0, MAX_SEED), default=0, help='random seed (default 0)')
    p.add_argument(
        '--speed',
        type=number(0.0, above=True, high=1.0),
        default=0.3,
        help="the owner's speed along the edges (m/s)",
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
