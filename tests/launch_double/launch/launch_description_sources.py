"""launch.launch_description_sources (double)."""

from _record import Recorded


class PythonLaunchDescriptionSource(Recorded):
    POSITIONAL = ('launch_file_path',)
