"""launch_ros.actions (double)."""

from _record import Recorded

_NODE = frozenset({'package', 'executable', 'name', 'namespace', 'exec_name', 'parameters',
                   'remappings', 'ros_arguments', 'arguments', 'output', 'condition',
                   'respawn', 'respawn_delay', 'emulate_tty', 'additional_env', 'env',
                   'prefix', 'sigterm_timeout'})


class Node(Recorded):
    KEYWORDS = _NODE


class LifecycleNode(Recorded):
    KEYWORDS = _NODE | frozenset({'autostart'})


class PushRosNamespace(Recorded):
    POSITIONAL = ('namespace',)
    KEYWORDS = frozenset({'condition'})


class SetParameter(Recorded):
    KEYWORDS = frozenset({'name', 'value', 'condition'})
