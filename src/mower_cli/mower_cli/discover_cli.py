"""``mower discover``: the command line of the simulator's discovery run (imports it lazily)."""

from __future__ import annotations

from typing import Any

from mower_cli.arg_types import MAX_SEED, POSITIVE, integer

__all__ = ['add_discover_parser']


def add_discover_parser(sub: Any) -> None:
    """Register ``mower discover`` on the ``mower`` command's subparsers."""
    p = sub.add_parser(
        'discover',
        help='discovery in the simulator: explore a hidden lawn from its dock, draft its map, '
        'score it against the map',
    )
    p.add_argument('map', help='GeoJSON lawn map: the truth the world is built from')
    p.add_argument('--out', default='out/discover', help='output folder (default: out/discover)')
    p.add_argument(
        '--perception',
        choices=('labels', 'model'),
        default='labels',
        help="the simulator's exact labels (default) or the shipped segmenter",
    )
    p.add_argument('--camera-hz', type=POSITIVE, default=4.0, help='perception rate (default 4)')
    p.add_argument(
        '--limit-s', type=POSITIVE, default=7200.0, help='simulated time limit (default 2 h)'
    )
    p.add_argument(
        '--true-pose',
        action='store_true',
        help='the true pose instead of the localisation error model (RTK noise, dropouts)',
    )
    p.add_argument(
        '--hidden', type=integer(0), default=0, help='random hidden obstacles (default 0)'
    )
    p.add_argument('--seed', type=integer(0, MAX_SEED), default=0, help='random seed (default 0)')
    p.add_argument('--json', action='store_true', help='print the score as one JSON object')
    p.set_defaults(func=_cmd_discover)


def _cmd_discover(args: Any) -> int:
    from mower_offline.discover_run import cmd_discover  # MuJoCo: only when asked for

    return cmd_discover(args)
