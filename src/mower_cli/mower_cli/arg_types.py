"""argparse types of the ``mower`` command: finite, range-checked numbers (one line on error)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ['MAX_SEED', 'POSITIVE', 'integer', 'number']

MAX_SEED = 2**32 - 1


def number(
    low: float | None = None, above: bool = False, high: float | None = None
) -> Callable[[str], float]:
    """An argparse type: a finite number, at least (or with ``above``, above) ``low``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a number') from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f'{text!r}: a finite number is needed')
        if low is not None and (value <= low if above else value < low):
            raise argparse.ArgumentTypeError(
                f'{text!r}: must be {"above" if above else "at least"} {low:g}'
            )
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f'{text!r}: must be at most {high:g}')
        return value

    return parse


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` (to ``high``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
        if value < low or high is not None and value > high:
            span = f'from {low} to {high}' if high is not None else f'at least {low}'
            raise argparse.ArgumentTypeError(f'{text!r}: must be {span}')
        return value

    return parse


POSITIVE = number(0.0, above=True)
