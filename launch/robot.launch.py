"""The real mower: camera, the stack, the motor driver, robot_localization, the description.

    ros2 launch mower_bringup robot.launch.py map:=/path/to/lawn.geojson serial_port:=/dev/ttyACM0

An IMU driver (``imu/data``) and an RTK-GNSS driver (``gnss/fix``) are hardware-specific and
started separately. ``motor_transport:=sim`` runs the motor driver against its simulated board
(an ideal mower; launch_testing uses it).

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
    """Everything on the robot, in one namespace."""
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
        DeclareLaunchArgument(
            'serial_port',
            default_value='/dev/ttyACM0',
            description='serial port of the motor board',
        ),
        DeclareLaunchArgument(
            'motor_transport',
            default_value='serial',
            description="'serial' (the board) or 'sim' (simulated board)",
        ),
        DeclareLaunchArgument(
            'camera_device',
            default_value='0',
            description='camera: V4L2 index, GStreamer pipeline or video file',
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
    stack = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(SHARE / 'launch' / 'stack.launch.py')),
        launch_arguments={
            'map': arg('map'),
            'params_file': arg('params_file'),
            'model': arg('model'),
            'execution_providers': arg('execution_providers'),
            'pose_topic': 'odometry/global',
            'namespace': arg('namespace'),
            'use_sim_time': 'false',
            'log_level': arg('log_level'),
            'mqtt': arg('mqtt'),
            'app': arg('app'),
        }.items(),
    )
    ros_args = ['--ros-args', '--log-level', arg('log_level')]
    wall_time = {'use_sim_time': False}  # every node's, set here once
    robot = GroupAction(
        [
            PushRosNamespace(arg('namespace')),
            Node(
                package='mower_perception',
                executable='camera_node',
                name='camera_node',
                output='screen',
                arguments=ros_args,
                parameters=[
                    str(CONFIG / 'camera.yaml'),
                    arg('params_file'),
                    {
                        'source': text(arg('camera_device')),
                        'calibration_file': str(CONFIG / 'camera_info.yaml'),
                        **wall_time,
                    },
                ],
            ),
            Node(
                package='mower_control',
                executable='motor_driver_node',
                name='motor_driver_node',
                output='screen',
                arguments=ros_args,
                parameters=[
                    str(CONFIG / 'motor_driver.yaml'),
                    arg('params_file'),
                    {
                        'port': text(arg('serial_port')),
                        'transport': text(arg('motor_transport')),
                        'publish_tf': False,
                        **wall_time,
                    },
                ],
                remappings=[('odom', 'wheel/odom')],
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
                        **wall_time,
                    }
                ],
            ),
            Node(
                package='robot_localization',
                executable='ekf_node',
                name='ekf_local',
                output='screen',
                parameters=[str(CONFIG / 'ekf.yaml'), wall_time],
                remappings=[('odometry/filtered', 'odometry/local')],
            ),
            Node(
                package='robot_localization',
                executable='ekf_node',
                name='ekf_global',
                output='screen',
                parameters=[str(CONFIG / 'ekf.yaml'), wall_time],
                remappings=[('odometry/filtered', 'odometry/global')],
            ),
            Node(
                package='robot_localization',
                executable='navsat_transform_node',
                name='navsat_transform',
                output='screen',
                parameters=[str(CONFIG / 'navsat_transform.yaml'), wall_time],
                remappings=[
                    ('imu', 'imu/data'),
                    ('gps/fix', 'gnss/fix'),
                    ('odometry/filtered', 'odometry/global'),
                ],
            ),
            Node(
                package='rviz2',
                executable='rviz2',
                name='rviz2',
                output='screen',
                arguments=['-d', str(CONFIG / 'mower.rviz')],
                parameters=[wall_time],
                condition=IfCondition(arg('use_rviz')),
            ),
        ]
    )
    return LaunchDescription([*args, robot, stack])
