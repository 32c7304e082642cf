"""Launch coverage_node alone: plan a lawn map and publish the path and areas (latched)."""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from mower_bringup import share_dir

SHARE = share_dir()  # launch/ config/ maps/ models/: installed, or the checkout's


def generate_launch_description() -> LaunchDescription:
    """coverage_node with config/coverage.yaml and a map chosen by argument."""
    map_file = LaunchConfiguration('map')
    params_file = LaunchConfiguration('params_file')
    use_sim_time = LaunchConfiguration('use_sim_time')
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                'map',
                default_value=str(SHARE / 'maps' / 'demo_lawn.geojson'),
                description='lawn map (GeoJSON) to plan',
            ),
            DeclareLaunchArgument(
                'params_file',
                default_value=str(SHARE / 'config' / 'coverage.yaml'),
                description='coverage_node parameters',
            ),
            DeclareLaunchArgument(
                'use_sim_time',
                default_value='false',
                description='use /clock from a simulator or bag',
            ),
            Node(
                package='mower_coverage',
                executable='coverage_node',
                name='coverage_node',
                output='screen',
                parameters=[params_file, {'map_file': map_file, 'use_sim_time': use_sim_time}],
            ),
        ]
    )
