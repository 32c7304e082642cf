"""launch.conditions (double)."""

from _record import Recorded


class IfCondition(Recorded):
    POSITIONAL = ('predicate_expression',)


class UnlessCondition(Recorded):
    POSITIONAL = ('predicate_expression',)
