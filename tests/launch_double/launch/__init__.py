"""Recording double of the ROS 2 ``launch`` package (the subset the mower's launch files use)."""

from _record import Recorded


class LaunchDescription(Recorded):
    """launch.LaunchDescription(initial_entities)."""

    POSITIONAL = ('initial_entities',)
    KEYWORDS = frozenset({'deprecated_reason'})


class LaunchContext:
    """launch.LaunchContext: launch configurations by name."""

    def __init__(self, configurations: dict | None = None) -> None:
        self.launch_configurations = dict(configurations or {})
