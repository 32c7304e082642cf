"""launch_ros.descriptions (double)."""

from _record import Recorded


class ParameterValue(Recorded):
    POSITIONAL = ('value',)
    KEYWORDS = frozenset({'value_type'})
