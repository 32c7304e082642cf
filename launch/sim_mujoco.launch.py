"""The stack against the MuJoCo simulator (sim_node) instead of a robot, on simulated time.

    ros2 launch mower_bringup sim_mujoco.launch.py map:=maps/back_garden.geojson use_rviz:=true

sim_node is the robot: it publishes /clock, the camera, the IMU, odometry (the true pose: in
simulation map -> odom is the identity) and takes cmd_vel_safe from the safety supervisor.

Parameters as in stack.launch.py: each node's own file, then ``params_file``, then the launch
arguments, and ``use_sim_time`` in each node's dict (a ``SetParameter`` would put ``/**`` first
and keep a site file from overriding; see stack.launch.py).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import Command, LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace
from launch_ros.descriptions import ParameterValue

from mower_bringup import share_dir

SHARE = share_dir()  # launch/ config/ maps/ models/: installed, or the checkout's
CONFIG = SHARE / 'config'
URDF = share_dir('mower_description') / 'urdf' / 'mower.urdf.xacro'


def text(value) -> ParameterValue:
    """A string parameter (not read as YAML: '' and '0' stay strings)."""
    return ParameterValue(value, value_type=str)


def generate_launch_description() -> LaunchDescription:
    """sim_node, the description, a map -> odom identity, and the stack on /clock."""
    arg = LaunchConfiguration
    args = [
        DeclareLaunchArgument(
            'map',
            default_value=str(SHARE / 'maps' / 'demo_lawn.geojson'),
            description='lawn map (GeoJSON)',
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
    sim_time = {'use_sim_time': True}
    sim = GroupAction(
        [
            PushRosNamespace(arg('namespace')),
            Node(
                package='mower_sim',
                executable='sim_node',
                name='sim_node',
                output='screen',
                parameters=[
                    str(CONFIG / 'sim.yaml'),
                    arg('params_file'),
                    {'map_file': text(arg('map')), **sim_time},
                ],
                remappings=[('cmd_vel', 'cmd_vel_safe')],
                arguments=['--ros-args', '--log-level', arg('log_level')],
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
                        ),
                        **sim_time,
                    }
                ],
            ),
            Node(
                package='tf2_ros',
                executable='static_transform_publisher',
                name='map_to_odom',
                arguments=['--frame-id', 'map', '--child-frame-id', 'odom'],
                parameters=[sim_time],
            ),
            Node(
                package='rviz2',
                executable='rviz2',
                name='rviz2',
                output='screen',
                arguments=['-d', str(CONFIG / 'mower.rviz')],
                parameters=[sim_time],
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
