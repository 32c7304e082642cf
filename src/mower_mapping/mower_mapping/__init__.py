"""Semantic grid, obstacle extraction and the mowed-coverage layer (ROS-free core)."""
