"""The double's loggers keep rclpy's per-call-site rules (rclpy/impl/rcutils_logger.py)."""

from __future__ import annotations

import pytest


def test_one_call_site_cannot_change_severity(ros):
    from rclpy.node import Node

    node = Node('n')

    def report(ok: bool) -> None:
        log = node.get_logger().info if ok else node.get_logger().error
        log('state changed')  # one call site, two severities

    report(True)
    with pytest.raises(ValueError, match='severity cannot be changed between calls'):
        report(False)


def test_separate_call_sites_and_repeated_calls_are_fine(ros):
    from rclpy.node import Node

    logger = Node('n').get_logger()
    for ok in (True, False, True):
        if ok:
            logger.info('up')
        else:
            logger.error('down')
    logger.info('a')
    logger.error('b')  # noqa: E702  (one line, two call sites)
    assert [s for s, _ in logger.records] == ['INFO', 'ERROR', 'INFO', 'INFO', 'ERROR']


def test_a_call_site_keeps_its_filters(ros):
    from rclpy.node import Node

    logger = Node('n').get_logger()

    def warn(**kwargs) -> None:
        logger.warning('slow', **kwargs)

    warn(throttle_duration_sec=1.0)
    with pytest.raises(ValueError, match='parameters cannot be changed'):
        warn(throttle_duration_sec=2.0)
    with pytest.raises(ValueError, match='filters cannot be changed'):
        warn(once=True)
    with pytest.raises(TypeError, match='recognized logging options'):
        logger.info('x', every=3)


def test_each_node_has_its_own_logger(ros):
    from rclpy.node import Node

    a, b = Node('same'), Node('same')
    a.get_logger().info('a')
    assert a.get_logger() is a.get_logger() and b.get_logger().records == []
