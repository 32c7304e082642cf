"""lifecycle_msgs (double: the transition ids launch files use)."""
