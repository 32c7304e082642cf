"""A field-test bag through perception and mapping on bag time (``ros2 bag play --clock``).

    ros2 launch mower_bringup replay.launch.py bag:=/data/field_test_0412 rate:=1.0

The bag needs the camera (``camera/image_raw``, ``camera/camera_info``) and the pose
(``pose_topic``, default robot_localization's ``odometry/global``). Without ROS, ``mower replay``
does the same offline and faster.
"""

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    EmitEvent,
    ExecuteProcess,
    GroupAction,
    RegisterEventHandler,
)
from launch.conditions import IfCondition
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node, SetParameter
from launch_ros.descriptions import ParameterValue
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

from mower_bringup import share_dir

SHARE = share_dir()  # launch/ config/ maps/ models/: installed, or the checkout's
CONFIG = SHARE / 'config'


def text(value) -> ParameterValue:
    """A string parameter (not read as YAML: '' and '0' stay strings)."""
    return ParameterValue(value, value_type=str)


def generate_launch_description() -> LaunchDescription:
    """ros2 bag play, segmentation and mapping on /clock."""
    arg = LaunchConfiguration
    args = [
        DeclareLaunchArgument('bag', description='rosbag2 folder or file to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback rate'),
        DeclareLaunchArgument('map', default_value='', description='lawn map (optional)'),
        DeclareLaunchArgument(
            'pose_topic',
            default_value='odometry/global',
            description='Odometry of base_link in the map frame',
        ),
        DeclareLaunchArgument(
            'model',
            default_value=str(SHARE / 'models' / 'lawnnet_int8.onnx'),
            description='ONNX segmentation model',
        ),
        DeclareLaunchArgument('use_rviz', default_value='false', description='start rviz2'),
    ]
    seg = LifecycleNode(
        package='mower_segmentation',
        executable='segmentation_node',
        name='segmentation_node',
        namespace='',
        output='screen',
        parameters=[str(CONFIG / 'segmentation.yaml'), {'model_file': text(arg('model'))}],
    )
    return LaunchDescription(
        [
            *args,
            GroupAction(
                [
                    SetParameter(name='use_sim_time', value=True),
                    ExecuteProcess(
                        cmd=['ros2', 'bag', 'play', arg('bag'), '--clock', '--rate', arg('rate')],
                        output='screen',
                    ),
                    seg,
                    RegisterEventHandler(
                        OnStateTransition(
                            target_lifecycle_node=seg,
                            goal_state='inactive',
                            entities=[
                                EmitEvent(
                                    event=ChangeState(
                                        lifecycle_node_matcher=matches_action(seg),
                                        transition_id=Transition.TRANSITION_ACTIVATE,
                                    )
                                )
                            ],
                        )
                    ),
                    EmitEvent(
                        event=ChangeState(
                            lifecycle_node_matcher=matches_action(seg),
                            transition_id=Transition.TRANSITION_CONFIGURE,
                        )
                    ),
                    # name and namespace given: launch_ros keys the dict below by
                    # /mapping_node, a key that first appears after config/mapping.yaml's and
                    # so wins; without a namespace it would go under '/**', which
                    # SetParameter's -p made the first key, and mapping.yaml would win
                    Node(
                        package='mower_mapping',
                        executable='mapping_node',
                        name='mapping_node',
                        namespace='',
                        output='screen',
                        parameters=[
                            str(CONFIG / 'mapping.yaml'),
                            {'pose_topic': arg('pose_topic'), 'map_file': text(arg('map'))},
                        ],
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
            ),
        ]
    )
