"""launch.actions (double)."""

from _record import Recorded

_ACTION = frozenset({'condition'})


class DeclareLaunchArgument(Recorded):
    POSITIONAL = ('name',)
    KEYWORDS = frozenset({'default_value', 'description', 'choices'}) | _ACTION


class GroupAction(Recorded):
    POSITIONAL = ('actions',)
    KEYWORDS = frozenset({'scoped', 'forwarding', 'launch_configurations'}) | _ACTION


class IncludeLaunchDescription(Recorded):
    POSITIONAL = ('launch_description_source',)
    KEYWORDS = frozenset({'launch_arguments'}) | _ACTION


class ExecuteProcess(Recorded):
    KEYWORDS = (
        frozenset(
            {
                'cmd',
                'name',
                'cwd',
                'env',
                'additional_env',
                'shell',
                'output',
                'respawn',
                'sigterm_timeout',
                'sigkill_timeout',
            }
        )
        | _ACTION
    )


class OpaqueFunction(Recorded):
    KEYWORDS = frozenset({'function', 'args', 'kwargs'}) | _ACTION


class EmitEvent(Recorded):
    KEYWORDS = frozenset({'event'}) | _ACTION


class RegisterEventHandler(Recorded):
    POSITIONAL = ('event_handler',)
    KEYWORDS = _ACTION


class SetLaunchConfiguration(Recorded):
    POSITIONAL = ('name', 'value')
    KEYWORDS = _ACTION
