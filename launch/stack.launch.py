"""The mower stack without a robot: segmentation, mapping, coverage, mission, control, safety.

Included by robot.launch.py (the real mower), sim_mujoco.launch.py and sim_gazebo.launch.py.
Each node reads its own file in config/ (keys ``/**/<node_name>``, so a namespace keeps them),
then ``params_file`` (site overrides under ``/**``, which beat the node's file), then what the
launch arguments set (``map``, ``pose_topic``, ``use_sim_time``...), which beats both.
``pose_topic`` is the nav_msgs/Odometry of base_link in the map frame: robot_localization's
``odometry/global`` on the robot, the simulator's ``odom`` in simulation.

``use_sim_time`` is in each node's own dict, not a group ``SetParameter``: launch_ros passes
``SetParameter`` values as ``-p`` before every file (launch_ros actions/node.py), which makes
``/**`` the first node key, and ROS 2 applies node keys in order of first appearance (rcl
parse.c, rclpy node.cpp): a ``/**`` site file would then never beat a node's own file.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, GroupAction, RegisterEventHandler
from launch.conditions import IfCondition
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node, PushRosNamespace
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
    """The stack's nodes in one group (namespace and use_sim_time set once for all)."""
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
            'pose_topic',
            default_value='odometry/global',
            description='Odometry of base_link in the map frame',
        ),
        DeclareLaunchArgument('namespace', default_value='', description='namespace of the stack'),
        DeclareLaunchArgument(
            'use_sim_time',
            default_value='false',
            description='use /clock (simulation, bag replay)',
        ),
        DeclareLaunchArgument('log_level', default_value='info', description='ROS log level'),
        DeclareLaunchArgument(
            'mqtt',
            default_value='false',
            description='Home Assistant over MQTT: start mqtt_bridge_node (broker settings: '
            'config/mqtt_bridge.yaml, overridden in params_file)',
        ),
        DeclareLaunchArgument(
            'app',
            default_value='false',
            description="the owner's app: start app_node (address, port and password file: "
            'config/app.yaml, overridden in params_file)',
        ),
    ]

    sim_time = {'use_sim_time': arg('use_sim_time')}  # every node's, set here once

    def node(package: str, executable: str, config: str, condition=None, **extra) -> Node:
        return Node(
            package=package,
            executable=executable,
            name=executable,
            output='screen',
            parameters=[str(CONFIG / config), arg('params_file'), {**extra, **sim_time}],
            arguments=['--ros-args', '--log-level', arg('log_level')],
            condition=condition,
        )

    segmentation = LifecycleNode(
        package='mower_segmentation',
        executable='segmentation_node',
        name='segmentation_node',
        namespace='',
        output='screen',  # the group's PushRosNamespace applies
        parameters=[
            str(CONFIG / 'segmentation.yaml'),
            arg('params_file'),
            {
                'model_file': text(arg('model')),
                'publish_overlay': True,
                'execution_providers': arg('execution_providers'),
                **sim_time,
            },
        ],
        arguments=['--ros-args', '--log-level', arg('log_level')],
    )
    configure = EmitEvent(
        event=ChangeState(
            lifecycle_node_matcher=matches_action(segmentation),
            transition_id=Transition.TRANSITION_CONFIGURE,
        )
    )
    activate = RegisterEventHandler(
        OnStateTransition(
            target_lifecycle_node=segmentation,
            goal_state='inactive',
            entities=[
                EmitEvent(
                    event=ChangeState(
                        lifecycle_node_matcher=matches_action(segmentation),
                        transition_id=Transition.TRANSITION_ACTIVATE,
                    )
                )
            ],
        )
    )
    group = GroupAction(
        [
            PushRosNamespace(arg('namespace')),
            segmentation,
            activate,
            configure,
            node(
                'mower_mapping',
                'mapping_node',
                'mapping.yaml',
                map_file=text(arg('map')),
                pose_topic=arg('pose_topic'),
            ),
            node('mower_coverage', 'coverage_node', 'coverage.yaml', map_file=text(arg('map'))),
            node(
                'mower_control',
                'mission_node',
                'mission.yaml',
                map_file=text(arg('map')),
                pose_topic=arg('pose_topic'),
            ),
            node(
                'mower_control', 'controller_node', 'controller.yaml', pose_topic=arg('pose_topic')
            ),
            node(
                'mower_control',
                'safety_node',
                'safety.yaml',
                map_file=text(arg('map')),
                pose_topic=arg('pose_topic'),
            ),
            node(
                'mower_integrations',
                'mqtt_bridge_node',
                'mqtt_bridge.yaml',
                condition=IfCondition(arg('mqtt')),
                map_file=text(arg('map')),
                pose_topic=arg('pose_topic'),
            ),
            node(
                'mower_app',
                'app_node',
                'app.yaml',
                condition=IfCondition(arg('app')),
                map_file=text(arg('map')),
                pose_topic=arg('pose_topic'),
            ),
        ]
    )
    return LaunchDescription([*args, group])
