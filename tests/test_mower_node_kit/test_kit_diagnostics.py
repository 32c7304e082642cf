"""mower_node_kit.diagnostics: DiagnosticStatus levels are ``byte`` values, as in rosidl."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize('given', ['WARN', b'\x01', 1])
def test_a_level_by_name_byte_or_number_is_the_byte_constant(ros, given):
    from diagnostic_msgs.msg import DiagnosticStatus

    from mower_node_kit.diagnostics import diagnostic_status

    status = diagnostic_status('node', given, 'slow')
    assert status.level == DiagnosticStatus.WARN == b'\x01'
    assert isinstance(status.level, bytes)


@pytest.mark.parametrize('given', ['warn', 'FATAL', 4, -1, True, b'\x07', b'', 1.0])
def test_an_unknown_level_is_refused(ros, given):
    from mower_node_kit.diagnostics import diagnostic_status

    with pytest.raises(ValueError, match='diagnostic level'):
        diagnostic_status('node', given)


def test_values_keep_their_order_as_strings(ros):
    from mower_node_kit.diagnostics import diagnostic_status

    status = diagnostic_status(
        'motor board', 'ERROR', 'lost', {'frames': 3, 'rate': '1.50', 'ok': False}, 'mower'
    )
    assert [(kv.key, kv.value) for kv in status.values] == [
        ('frames', '3'),
        ('rate', '1.50'),
        ('ok', 'False'),
    ]
    assert (status.name, status.message, status.hardware_id) == ('motor board', 'lost', 'mower')
    assert diagnostic_status('n', 'OK').values == []


def test_the_array_holds_one_stamped_status(ros):
    from builtin_interfaces.msg import Time
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

    from mower_node_kit.diagnostics import diagnostics

    msg = diagnostics(
        Time(sec=12, nanosec=5),
        'camera_node',
        'ERROR',
        'not connected',
        {'frames': 0},
        '/dev/video0',
    )
    assert isinstance(msg, DiagnosticArray)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (12, 5, '')
    (status,) = msg.status
    assert status.level == DiagnosticStatus.ERROR and status.hardware_id == '/dev/video0'
    assert [(kv.key, kv.value) for kv in status.values] == [('frames', '0')]
