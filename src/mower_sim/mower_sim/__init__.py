"""MuJoCo lawn simulator (headless) and Gazebo assets generated from the same lawn maps."""
