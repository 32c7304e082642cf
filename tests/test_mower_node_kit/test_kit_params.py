"""mower_node_kit.params: one description and range per parameter, checked and declared."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pytest

from mower_node_kit.params import check_ranges, param


@dataclass(frozen=True)
class Settings:
    """A core dataclass as the cores write them."""

    gain: float = param(0.5, 'a gain', 0.0, 1.0)

    def __post_init__(self) -> None:
        check_ranges(self)


def test_metadata_holds_description_and_range():
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
    assert (d.floating_point_range[0].from_value, d.floating_point_range[0].to_value) == (0.0, 1.0)
    node.destroy_node()


@dataclass(frozen=True)
class Wheels:
    """A nested dataclass: flattened into its owner's parameters."""

    radius_m: float = param(0.09, 'wheel radius')
    ticks: int = param(1024, 'ticks per revolution', 1, 100000)


@dataclass(frozen=True)
class Robot:
    """Described fields without a range, a nested dataclass, an int."""

    wheels: Wheels = field(default_factory=Wheels)
    name: str = param('mower', 'what it is called')
    retries: int = param(3, 'tries before giving up')


def test_field_specs_flatten_nested_dataclasses_in_field_order():
    from mower_node_kit.params import Spec, field_specs

    assert field_specs(Robot) == {
        'radius_m': Spec(0.09, 'wheel radius'),
        'ticks': Spec(1024, 'ticks per revolution', 1, 100000),
        'name': Spec('mower', 'what it is called'),
        'retries': Spec(3, 'tries before giving up'),
    }
    assert 'range' not in fields(Robot)[1].metadata


def test_a_field_without_description_is_refused():
    from mower_node_kit.params import field_specs

    @dataclass
    class Bare:
        gain: float = 1.0

    with pytest.raises(ValueError, match='Bare.gain has no description'):
        field_specs(Bare)


def test_from_values_regroups_flattened_fields_and_ignores_other_keys():
    from mower_node_kit.params import from_values

    robot = from_values(Robot, {'ticks': 512, 'retries': 5, 'rate_hz': 10.0})
    assert robot == Robot(wheels=Wheels(ticks=512), retries=5)


def test_declare_merges_dataclass_and_node_tables_with_ranges_by_type(ros):
    from rclpy.node import Node

    from mower_node_kit.params import Spec, declare, field_specs

    node = Node('kit_declare_test')
    values = declare(
        node,
        {
            **field_specs(Robot),
            'rate_hz': Spec(10.0, 'loop rate', 1, 100),
            'topic': ('odom', 'pose topic'),
        },
        writable=('rate_hz',),
    )
    assert values == {
        'radius_m': 0.09,
        'ticks': 1024,
        'name': 'mower',
        'retries': 3,
        'rate_hz': 10.0,
        'topic': 'odom',
    }
    ticks, rate, topic = (node.describe_parameter(n) for n in ('ticks', 'rate_hz', 'topic'))
    assert ticks.read_only and not ticks.floating_point_range
    assert (
        ticks.integer_range[0].from_value,
        ticks.integer_range[0].to_value,
        ticks.integer_range[0].step,
    ) == (1, 100000, 1)
    assert not rate.read_only and not rate.integer_range
    assert (rate.floating_point_range[0].from_value, rate.floating_point_range[0].to_value) == (
        1.0,
        100.0,
    )
    assert topic.read_only and topic.description == 'pose topic'
    assert not topic.floating_point_range and not topic.integer_range
    node.destroy_node()


def test_declare_can_leave_every_parameter_writable(ros):
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    from mower_node_kit.params import declare

    node = Node('kit_writable_test')
    declare(node, {'gain': (0.5, 'a gain', 0.0, 1.0)}, read_only=False)
    assert not node.describe_parameter('gain').read_only
    (ok, refused) = node.set_parameters(
        [Parameter('gain', value=0.7), Parameter('gain', value=1.5)]
    )
    assert ok.successful and not refused.successful
    node.destroy_node()
