"""launch_ros.actions (double).

The keywords are those of launch_ros' ``Node`` and ``LifecycleNode`` and of launch's
``ExecuteProcess`` they pass the rest to (launch_ros/actions/node.py and lifecycle_node.py,
humble and jazzy alike): ``Node`` requires ``executable``; ``LifecycleNode`` requires ``name``
and ``namespace`` as well, and has no ``autostart`` in either distribution.
"""

from typing import Any

from _record import Recorded

_NODE = frozenset(
    {
        'package',
        'executable',
        'name',
        'namespace',
        'exec_name',
        'parameters',
        'remappings',
        'ros_arguments',
        'arguments',
        'output',
        'condition',
        'respawn',
        'respawn_delay',
        'emulate_tty',
        'additional_env',
        'env',
        'prefix',
        'sigterm_timeout',
    }
)


def _require(action: Recorded, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in action.kw]
    if missing:
        raise TypeError(
            f'{type(action).__name__}.__init__() missing required keyword-only '
            f'argument(s): {missing}'
        )


class Node(Recorded):
    KEYWORDS = _NODE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _require(self, ('executable',))


class LifecycleNode(Recorded):
    KEYWORDS = _NODE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _require(self, ('executable', 'name', 'namespace'))


class PushRosNamespace(Recorded):
    POSITIONAL = ('namespace',)
    KEYWORDS = frozenset({'condition'})


class SetParameter(Recorded):
    KEYWORDS = frozenset({'name', 'value', 'condition'})
