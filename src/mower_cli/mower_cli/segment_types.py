"""Checked number types for ``mower segment`` and its ``adapt`` subcommands.

Their parsers are built in mower_segmentation and mower_offline, which do not depend on this
package (it depends on them); :func:`check_segment_values` gives their numeric options the
checked types of :mod:`mower_cli.arg_types` once they are registered, so that a bad value is a
usage error (one line, exit 2) before any work, as for every other ``mower`` command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mower_cli.arg_types import MAX_SEED, POSITIVE, integer, number

__all__ = ['SEGMENT_TYPES', 'check_segment_values']

_THREADS = integer(1, 256)
_SHARE = number(0.0, high=1.0)
_PERCENTILE = number(50.0, above=True, high=100.0)  # int8 calibration ranges

#: (subcommand, option dest) -> its argparse type
SEGMENT_TYPES: dict[tuple[str, str], Callable[[str], object]] = {
    ('dataset', 'frames'): integer(1),
    ('dataset', 'seed'): integer(0, MAX_SEED),
    ('dataset', 'garden_share'): _SHARE,
    ('dataset', 'near_share'): _SHARE,
    ('dataset', 'edge_share'): _SHARE,
    ('train', 'minutes'): POSITIVE,
    ('train', 'epochs'): integer(1),
    ('train', 'batch'): integer(1),
    ('train', 'threads'): _THREADS,
    ('train', 'lr'): POSITIVE,
    ('train', 'val_limit'): integer(0),
    ('quantize', 'frames'): integer(1),
    ('quantize', 'percentile'): _PERCENTILE,
    ('shift-bias', 'by'): number(-20.0, high=20.0),  # logits: beyond this every pixel flips
    ('shift-bias', 'frames'): integer(1),
    ('eval', 'limit'): integer(0),
    ('eval', 'sheet_rows'): integer(0),
    ('bench', 'frames'): integer(1),
    ('adapt', 'minutes'): POSITIVE,
    ('adapt', 'epochs'): integer(1),
    ('adapt', 'threads'): _THREADS,
    ('adapt', 'holdout'): _SHARE,
    ('adapt', 'every'): integer(1),
    ('adapt', 'rounds'): integer(1, 5),
    ('adapt', 'seed'): integer(0),
    ('adapt', 'soft_weight'): _SHARE,
    ('adapt-proof', 'minutes'): POSITIVE,
    ('adapt-proof', 'epochs'): integer(1),
    ('adapt-proof', 'threads'): _THREADS,
    ('adapt-proof', 'rounds'): integer(1, 5),
    ('adapt-proof', 'seed'): integer(0),
    ('adapt-proof', 'soft_weight'): _SHARE,
}


def check_segment_values(subcommands: argparse._SubParsersAction) -> None:
    """Give the registered ``mower segment`` subcommands' numeric options their checked types.

    Raises RuntimeError naming the option when one in :data:`SEGMENT_TYPES` is not registered
    (a renamed option must not lose its check silently).
    """
    found = set()
    for name, parser in subcommands.choices.items():
        for action in parser._actions:
            key = (name, action.dest)
            if key in SEGMENT_TYPES:
                action.type = SEGMENT_TYPES[key]
                found.add(key)
    missing = sorted(set(SEGMENT_TYPES) - found)
    if missing:
        raise RuntimeError(f'mower segment options not registered: {missing}')
