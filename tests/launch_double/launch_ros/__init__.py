"""Recording double of ``launch_ros``."""
