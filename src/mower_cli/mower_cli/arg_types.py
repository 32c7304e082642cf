"""argparse types of the ``mower`` command: checked numbers and addresses (one line on error)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ['MAX_SEED', 'POSITIVE', 'host_port', 'integer', 'number']

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


def host_port(default_host: str, default_port: int) -> Callable[[str], tuple[str, int]]:
    """An argparse type: ``HOST:PORT``, ``HOST`` or ``:PORT`` (IPv6 in brackets, ``[::1]:PORT``).

    Gives (host, port); a part left out takes its default. The port is 0 to 65535 (0: any
    free port); the host is a name or an address (whether it resolves is found when used).
    """

    def parse(text: str) -> tuple[str, int]:
        usage = f'{text!r}: expected HOST:PORT (for example {default_host}:{default_port})'
        spec = text.strip()
        if spec.startswith('['):  # [IPv6]:PORT
            host, closed, rest = spec[1:].partition(']')
            if not closed or rest and not rest.startswith(':'):
                raise argparse.ArgumentTypeError(usage)
            port_text = rest[1:]
        elif spec.count(':') > 1:  # a bare IPv6 address
            host, port_text = spec, ''
        else:
            host, _, port_text = spec.partition(':')
        if any(c.isspace() or c in '/?#@[]' for c in host):
            raise argparse.ArgumentTypeError(usage)
        if not port_text:
            return host or default_host, default_port
        if not port_text.isdigit() or int(port_text) > 65535:
            raise argparse.ArgumentTypeError(
                f'{text!r}: the port must be a whole number from 0 to 65535'
            )
        return host or default_host, int(port_text)

    return parse
