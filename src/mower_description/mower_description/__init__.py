"""The mower's robot description (URDF/xacro), shared by robot_state_publisher, rviz and Gazebo."""

from pathlib import Path

URDF_XACRO = Path(__file__).resolve().parents[1] / 'urdf' / 'mower.urdf.xacro'
