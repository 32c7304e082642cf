"""launch_ros.events (double)."""
