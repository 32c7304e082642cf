"""The mower's robot description (URDF/xacro), shared by robot_state_publisher, rviz and Gazebo.

The xacro file is installed into this package's share directory (urdf/mower.urdf.xacro); the
launch files find it there through mower_bringup.share_dir('mower_description').
"""
