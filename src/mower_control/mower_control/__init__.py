"""Path following, mission, safety supervisor and motor driver (ROS-free core)."""
