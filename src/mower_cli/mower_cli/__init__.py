"""The ``mower`` command line: maps, planning and benchmarks without ROS."""
