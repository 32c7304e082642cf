"""launch_ros.events.lifecycle (double)."""

from _record import Recorded


class ChangeState(Recorded):
    KEYWORDS = frozenset({'lifecycle_node_matcher', 'transition_id'})
