"""launch_ros.event_handlers (double)."""

from _record import Recorded


class OnStateTransition(Recorded):
    KEYWORDS = frozenset(
        {
            'target_lifecycle_node',
            'transition',
            'start_state',
            'goal_state',
            'entities',
            'matcher',
            'handle_once',
        }
    )
