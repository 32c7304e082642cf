"""mower_node_kit.qos: the latched profile of plans and maps."""

from __future__ import annotations


def test_latched_keeps_the_last_message_reliably_for_late_subscribers(ros):
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, ReliabilityPolicy

    from mower_node_kit.qos import LATCHED

    assert LATCHED.history == HistoryPolicy.KEEP_LAST and LATCHED.depth == 1
    assert LATCHED.reliability == ReliabilityPolicy.RELIABLE
    assert LATCHED.durability == DurabilityPolicy.TRANSIENT_LOCAL


def test_a_node_publishes_and_subscribes_with_it(ros):
    from nav_msgs.msg import Path
    from rclpy.node import Node

    from mower_node_kit.qos import LATCHED

    node = Node('kit_qos_test')
    pub = node.create_publisher(Path, 'plan', LATCHED)
    sub = node.create_subscription(Path, 'plan', lambda msg: None, LATCHED)
    assert pub.qos_profile == LATCHED and sub.qos_profile == LATCHED
    node.destroy_node()
