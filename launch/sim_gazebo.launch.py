"""The stack in Gazebo (gz sim Harmonic): the world generated from a lawn map, the mower spawned.

    ros2 launch mower_bringup sim_gazebo.launch.py map:=maps/back_garden.geojson use_rviz:=true

The world (lawn and beds as meshes, obstacles) is written from the map at launch time into
``world_dir``; ros_gz_bridge carries the topics of config/gz_bridge.yaml; the stack runs on
/clock (``use_sim_time`` set once for its group). Gazebo's odometry is the true pose, so
map -> odom is the identity, as with MuJoCo.
"""

import os
from pathlib import Path

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    GroupAction,
    IncludeLaunchDescription,
    OpaqueFunction,
)
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import Command, LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace, SetParameter
from launch_ros.descriptions import ParameterValue

from mower_bringup import share_dir

SHARE = share_dir()  # launch/ config/ maps/ models/: installed, or the checkout's
CONFIG = SHARE / 'config'
URDF = share_dir('mower_description') / 'urdf' / 'mower.urdf.xacro'


def _world_and_robot(context, *args, **kwargs) -> list:
    """Write the world from the map, start gz sim, spawn the mower at the dock."""
    from mower_maps import load_map
    from mower_sim.gazebo import dock_pose, write_gazebo

    lawn_map = LaunchConfiguration('map').perform(context)
    out = Path(LaunchConfiguration('world_dir').perform(context))
    lawn = load_map(lawn_map)
    files = write_gazebo(lawn, out, include_mower=False)
    x, y, yaw = dock_pose(lawn)
    env = {
        'GZ_SIM_RESOURCE_PATH': os.pathsep.join(
            p for p in (str(out / 'models'), os.environ.get('GZ_SIM_RESOURCE_PATH', '')) if p
        )
    }
    return [
        ExecuteProcess(
            cmd=['gz', 'sim', '-r', str(files['world'])], additional_env=env, output='screen'
        ),
        Node(
            package='ros_gz_sim',
            executable='create',
            name='spawn_mower',
            output='screen',
            arguments=[
                '-file',
                str(files['model']),
                '-name',
                'mower',
                '-x',
                f'{x:.4f}',
                '-y',
                f'{y:.4f}',
                '-z',
                '0.02',
                '-Y',
                f'{yaw:.5f}',
            ],
        ),
    ]


def generate_launch_description() -> LaunchDescription:
    """Gazebo (gz sim), the bridge, the description, and the stack on /clock."""
    arg = LaunchConfiguration
    args = [
        DeclareLaunchArgument(
            'map',
            default_value=str(SHARE / 'maps' / 'demo_lawn.geojson'),
            description='lawn map (GeoJSON)',
        ),
        DeclareLaunchArgument(
            'world_dir',
            default_value='/tmp/mower_gz',
            description='where the generated world, meshes and model go',
        ),
        DeclareLaunchArgument(
            'params_file',
            default_value=str(CONFIG / 'overrides.yaml'),
            description='parameters applied to every node after its own file',
        ),
        DeclareLaunchArgument(
            'model',
            default_value=str(SHARE / 'models' / 'lawnnet_int8.onnx'),
            description='ONNX segmentation model',
        ),
        DeclareLaunchArgument(
            'execution_providers',
            default_value="['qnn-htp', 'openvino', 'tensorrt', 'cuda', 'cpu']",
            description='ONNX Runtime providers to try, in order',
        ),
        DeclareLaunchArgument('namespace', default_value='', description='namespace'),
        DeclareLaunchArgument('use_rviz', default_value='false', description='start rviz2'),
        DeclareLaunchArgument('log_level', default_value='info', description='ROS log level'),
        DeclareLaunchArgument(
            'mqtt',
            default_value='false',
            description='Home Assistant over MQTT (mqtt_bridge_node)',
        ),
        DeclareLaunchArgument(
            'app',
            default_value='false',
            description="the owner's app in a browser (app_node; address, port: config/app.yaml)",
        ),
    ]
    sim = GroupAction(
        [
            PushRosNamespace(arg('namespace')),  # the bridge's topics meet the stack's
            SetParameter(name='use_sim_time', value=True),  # no params_file here: '/**' may lead
            OpaqueFunction(function=_world_and_robot),
            Node(
                package='ros_gz_bridge',
                executable='parameter_bridge',
                name='gz_bridge',
                output='screen',
                parameters=[{'config_file': str(CONFIG / 'gz_bridge.yaml')}],
                remappings=[('cmd_vel', 'cmd_vel_safe')],
            ),
            Node(
                package='robot_state_publisher',
                executable='robot_state_publisher',
                name='robot_state_publisher',
                output='screen',
                parameters=[
                    {
                        'robot_description': ParameterValue(
                            Command(['xacro ', str(URDF)]), value_type=str
                        )
                    }
                ],
            ),
            Node(
                package='tf2_ros',
                executable='static_transform_publisher',
                name='map_to_odom',
                arguments=['--frame-id', 'map', '--child-frame-id', 'odom'],
            ),
            Node(
                package='rviz2',
                executable='rviz2',
                name='rviz2',
                output='screen',
                arguments=['-d', str(CONFIG / 'mower.rviz')],
                condition=IfCondition(arg('use_rviz')),
            ),
        ]
    )
    stack = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(SHARE / 'launch' / 'stack.launch.py')),
        launch_arguments={
            'map': arg('map'),
            'params_file': arg('params_file'),
            'model': arg('model'),
            'execution_providers': arg('execution_providers'),
            'pose_topic': 'odom',
            'namespace': arg('namespace'),
            'use_sim_time': 'true',
            'log_level': arg('log_level'),
            'mqtt': arg('mqtt'),
            'app': arg('app'),
        }.items(),
    )
    return LaunchDescription([*args, sim, stack])
