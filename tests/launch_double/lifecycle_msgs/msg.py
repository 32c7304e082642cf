"""lifecycle_msgs.msg (double)."""


class Transition:
    """lifecycle_msgs/msg/Transition ids."""

    TRANSITION_CONFIGURE = 1
    TRANSITION_CLEANUP = 2
    TRANSITION_ACTIVATE = 3
    TRANSITION_DEACTIVATE = 4
