"""launch.substitutions (double)."""

from _record import Recorded


class LaunchConfiguration(Recorded):
    POSITIONAL = ('variable_name',)
    KEYWORDS = frozenset({'default'})

    def perform(self, context) -> str:
        name = self.kw['variable_name']
        if name in context.launch_configurations:
            return str(context.launch_configurations[name])
        if self.kw.get('default') is not None:
            return str(self.kw['default'])
        raise KeyError(f"launch configuration '{name}' does not exist")


class Command(Recorded):
    POSITIONAL = ('command',)
    KEYWORDS = frozenset({'on_stderr'})


class PathJoinSubstitution(Recorded):
    POSITIONAL = ('substitutions',)
