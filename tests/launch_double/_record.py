"""The base of the launch API double: records constructor arguments, rejects unknown ones."""

from __future__ import annotations

from typing import Any


class Recorded:
    """An entity or substitution whose arguments are kept for the evaluator in tests."""

    POSITIONAL: tuple[str, ...] = ()
    KEYWORDS: frozenset[str] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self.POSITIONAL):
            raise TypeError(f'{type(self).__name__}: too many positional arguments')
        named = dict(zip(self.POSITIONAL, args))
        unknown = set(kwargs) - set(self.POSITIONAL) - self.KEYWORDS
        if unknown:
            raise TypeError(
                f'{type(self).__name__}: unexpected keyword(s) {sorted(unknown)} '
                '(not in the launch API)'
            )
        named.update(kwargs)
        self.kw = named

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.kw})'
