"""The rclpy double is strict: what rclpy would reject, it rejects."""

from __future__ import annotations

import pytest


def test_node_needs_init(ros):
    from rclpy.exceptions import NotInitializedException
    from rclpy.node import Node

    ros.shutdown()
    with pytest.raises(NotInitializedException):
        Node('n')
    ros.init()


def test_only_common_humble_jazzy_keywords(ros):
    from rclpy.node import Node

    with pytest.raises(TypeError):
        Node('n', enable_logger_service=True)  # Jazzy only
    node = Node('n')
    with pytest.raises(TypeError):
        node.create_timer(1.0, lambda: None, autostart=False)  # Jazzy only
    with pytest.raises(AttributeError):
        node.create_rate_limited_publisher  # noqa: B018  (does not exist)


def test_qos_needs_history_or_depth_and_publisher_checks_types(ros):
    from rclpy.node import Node
    from rclpy.qos import HistoryPolicy, InvalidQoSProfileException, QoSProfile
    from std_msgs.msg import String

    with pytest.raises(InvalidQoSProfileException, match='History and/or depth'):
        QoSProfile()
    with pytest.raises(InvalidQoSProfileException, match='KEEP_LAST without a depth'):
        QoSProfile(history=HistoryPolicy.KEEP_LAST)  # rclpy/qos.py: depth is required
    assert QoSProfile(history=HistoryPolicy.KEEP_ALL).history == HistoryPolicy.KEEP_ALL
    node = Node('n')
    pub = node.create_publisher(String, 'chatter', 10)
    with pytest.raises(TypeError):
        pub.publish('hello')
    pub.publish(String(data='hello'))
    assert pub.published == [String(data='hello')]
    with pytest.raises(ValueError):
        node.create_publisher(String, 'bad topic', 10)


def test_messages_follow_the_real_definitions(ros):
    from geometry_msgs.msg import Point
    from nav_msgs.msg import Path
    from ros_double.messages import to_cdr

    with pytest.raises(AssertionError):
        Point(x=1.0, w=2.0)  # no field w
    p = Point()
    with pytest.raises(AssertionError):
        p.x = 'one'
    with pytest.raises(AttributeError):
        p.extra = 1.0
    assert len(to_cdr(Path())) > 0


def test_parameter_types_and_ranges_as_rclpy(ros):
    from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
    from rclpy.exceptions import (
        InvalidParameterTypeException,
        InvalidParameterValueException,
        ParameterNotDeclaredException,
    )
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    node = Node('n', parameter_overrides=[Parameter('speed', value=1)])
    with pytest.raises(InvalidParameterTypeException, match="expecting type 'DOUBLE'"):
        node.declare_parameter('speed', 0.5)  # YAML gave an int for a double
    ranged = ParameterDescriptor(
        floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1.0, step=0.0)]
    )
    node.declare_parameter('gain', 0.5, ranged)
    (result,) = node.set_parameters([Parameter('gain', value=2.0)])
    assert not result.successful
    with pytest.raises(ParameterNotDeclaredException):
        node.get_parameter('nope')
    with pytest.raises(InvalidParameterValueException):
        Node('m', parameter_overrides=[Parameter('gain', value=5.0)]).declare_parameter(
            'gain', 0.5, ranged
        )


def test_set_parameters_with_a_wrong_type_fails_without_raising(ros):
    """As rclpy node.py _apply_descriptor: a failed SetParametersResult, the value kept."""
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    node = Node('n')
    node.declare_parameter('speed', 0.5)
    (result,) = node.set_parameters([Parameter('speed', value=1)])
    assert not result.successful
    assert result.reason == "Wrong parameter type, expected 'Type.DOUBLE' got 'Type.INTEGER'"
    assert node.get_parameter('speed').value == 0.5


def test_lifecycle_publishers_take_rclpys_keywords_only(ros):
    from rclpy.lifecycle import LifecycleNode, LifecyclePublisher
    from std_msgs.msg import String

    node = LifecycleNode('n')
    with pytest.raises(TypeError, match='publisher_class'):
        node.create_lifecycle_publisher(String, 'x', 10, publisher_class=LifecyclePublisher)
    pub = node.create_lifecycle_publisher(String, 'x', 10)
    assert node.destroy_lifecycle_publisher(pub) and node.publishers == []
    assert not node.destroy_publisher(pub)


def test_the_product_never_imports_the_double():
    from conftest import ROOT

    for f in (ROOT / 'src').rglob('*.py'):
        assert 'ros_double' not in f.read_text(), f
