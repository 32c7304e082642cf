"""The message classes behave like Humble's generated Python messages (rosidl_generator_py).

Each case is a line of ``rosidl_generator_py/resource/_msg.py.em`` (humble): the setter's
checks, the constructor's conversions, the defaults, the constants; and the definitions of the
distribution a test picks.
"""

from __future__ import annotations

import array

import numpy as np
import pytest


def test_float_fields_take_floats_only(ros):
    from geometry_msgs.msg import Point

    p = Point()
    with pytest.raises(AssertionError):
        p.x = 1  # isinstance(value, float): an int is refused
    with pytest.raises(AssertionError):
        Point(x=1)
    with pytest.raises(AssertionError):
        p.y = np.float32(1.0)  # not a float subclass
    p.x = np.float64(1.5)  # a float subclass
    p.z = float('inf')
    assert p.x == 1.5


def test_integer_fields_are_range_checked(ros):
    from sensor_msgs.msg import Image

    img = Image()
    with pytest.raises(AssertionError):
        img.height = 1.0
    with pytest.raises(AssertionError):
        img.is_bigendian = 256  # uint8
    with pytest.raises(AssertionError):
        img.width = -1  # uint32
    img.height = 240


def test_numeric_sequences_are_array_array(ros):
    from nav_msgs.msg import OccupancyGrid
    from sensor_msgs.msg import Image

    assert Image().data == array.array('B')
    img = Image(data=bytes([1, 2, 3]))  # the constructor: array.array('B', value), fast
    assert img.data == array.array('B', [1, 2, 3])
    fast = array.array('B', [4, 5])
    img.data = fast
    assert img.data is fast
    img.data = b'\x07'  # a Sequence of ints: checked value by value, then copied
    assert img.data == array.array('B', [7])
    img.data = [8, 9]
    assert img.data == array.array('B', [8, 9])
    with pytest.raises(AssertionError):
        img.data = np.zeros(3, dtype=np.uint8)  # a numpy array is not a Sequence
    with pytest.raises(AssertionError):
        img.data = array.array('b', [1])  # wrong type code
    with pytest.raises(AssertionError):
        img.data = [256]
    with pytest.raises(TypeError):
        Image(data=np.zeros(3))  # array.array('B', floats)
    grid = OccupancyGrid()
    assert grid.data == array.array('b')
    with pytest.raises(AssertionError):
        grid.data = [0, 100, 200]  # int8
    grid.data = array.array('b', [0, 100, -1])


def test_numeric_fixed_arrays_are_numpy(ros):
    from geometry_msgs.msg import PoseWithCovariance

    p = PoseWithCovariance()
    assert isinstance(p.covariance, np.ndarray) and p.covariance.dtype == np.float64
    assert p.covariance.shape == (36,)
    p.covariance = [0.5] * 36
    assert isinstance(p.covariance, np.ndarray)
    with pytest.raises(AssertionError):
        p.covariance = [0] * 36  # ints
    with pytest.raises(AssertionError):
        p.covariance = np.zeros(36, dtype=np.float32)
    with pytest.raises(AssertionError):
        p.covariance = [0.0] * 35
    assert PoseWithCovariance(covariance=[0] * 36).covariance.dtype == np.float64  # numpy.array


def test_defaults_and_constants_as_generated(ros):
    from diagnostic_msgs.msg import DiagnosticStatus
    from geometry_msgs.msg import Quaternion
    from ros_double.messages import to_cdr

    assert Quaternion().w == 1.0 and Quaternion().x == 0.0  # float64 w 1 in Quaternion.msg
    assert DiagnosticStatus.OK == b'\x00' and DiagnosticStatus.WARN == b'\x01'  # byte: bytes
    status = DiagnosticStatus()
    assert status.level == b'\x00'
    with pytest.raises(AssertionError):
        status.level = 1
    status.level = DiagnosticStatus.ERROR
    assert len(to_cdr(status)) > 0


def test_nested_messages_and_sequences_of_them(ros):
    from geometry_msgs.msg import Point, PoseStamped
    from nav_msgs.msg import Path

    path = Path()
    with pytest.raises(AssertionError):
        path.poses = [Point()]
    with pytest.raises(AssertionError):
        path.header = PoseStamped()
    path.poses = (PoseStamped(),)  # any Sequence of the right class, kept as given
    assert isinstance(path.poses, tuple)


def test_humble_definitions_are_the_default(ros):
    from sensor_msgs.msg import NavSatStatus, Range
    from visualization_msgs.msg import Marker

    assert not hasattr(NavSatStatus, 'STATUS_UNKNOWN')  # added in Jazzy
    assert not hasattr(Marker, 'ARROW_STRIP')
    assert NavSatStatus().status == 0
    with pytest.raises(AssertionError):
        Range(variance=0.1)  # no such field in Humble


@pytest.mark.ros_distro('jazzy')
def test_a_test_can_pick_jazzy(ros):
    from sensor_msgs.msg import NavSatStatus, Range
    from visualization_msgs.msg import Marker

    assert NavSatStatus.STATUS_UNKNOWN == -2 and NavSatStatus().status == -2
    assert Marker.ARROW_STRIP == 12
    assert Range(variance=0.1).variance == 0.1


def test_big_sequences_set_value_by_value_are_recorded(ros):
    """The slow path of the setter (tens of ms per image on Humble) is visible to tests."""
    from ros_double.messages import SLOW_CHECKS
    from sensor_msgs.msg import Image

    SLOW_CHECKS.clear()
    data = bytes(320 * 240 * 3)
    Image(data=data)
    msg = Image()
    msg.data = array.array('B', data)
    assert SLOW_CHECKS == []
    msg.data = data
    assert SLOW_CHECKS == [('Image.data', len(data))]
    SLOW_CHECKS.clear()
