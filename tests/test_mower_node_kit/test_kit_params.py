"""mower_node_kit.params: one description and range per parameter, checked and declared."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mower_node_kit.params import check_ranges, param


@dataclass(frozen=True)
class Settings:
    """A core dataclass as the cores write them."""

    gain: float = param(0.5, 'a gain', 0.0, 1.0)

    def __post_init__(self) -> None:
        check_ranges(self)


def test_metadata_holds_description_and_range():
    from dataclasses import fields

    (f,) = fields(Settings)
    assert f.metadata == {'description': 'a gain', 'range': (0.0, 1.0)}
    assert Settings().gain == 0.5


@pytest.mark.parametrize('value', [-0.01, 1.01])
def test_a_value_outside_the_range_is_refused_with_its_name(value):
    with pytest.raises(ValueError, match=r'gain = .* is outside \[0.0, 1.0\]'):
        Settings(gain=value)


def test_nodes_declare_the_range_from_the_metadata(ros):
    import rclpy
    from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
    from rclpy.node import Node

    from mower_node_kit.params import declare_ranged

    assert rclpy.ok()  # the ros fixture has initialised the double
    node = Node('kit_test')
    values = declare_ranged(node, Settings, ParameterDescriptor, FloatingPointRange)
    assert values == {'gain': 0.5}
    d = node.describe_parameter('gain')
    assert d.read_only and d.description == 'a gain'
    assert (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value) == \
        (0.0, 1.0)
    node.destroy_node()
