"""Parameters declared once: a core dataclass's field metadata holds description and range.

ROS-free (the cores use :func:`param` and :func:`check_ranges`); :func:`declare_ranged` is what
a node calls with its rclpy node, the descriptor types passed in so this module imports no ROS.
"""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any


def param(default: float, description: str, low: float, high: float) -> Any:
    """A dataclass field with its parameter description and inclusive range."""
    return field(default=default, metadata={'description': description, 'range': (low, high)})


def check_ranges(instance: Any) -> None:
    """Raise ValueError naming the first field of a dataclass outside its declared range."""
    for f in fields(instance):
        if 'range' not in f.metadata:
            continue
        low, high = f.metadata['range']
        value = getattr(instance, f.name)
        if not low <= value <= high:
            raise ValueError(f'{f.name} = {value} is outside [{low}, {high}]')


def declare_ranged(node: Any, cls: type, descriptor: type, float_range: type) -> dict[str, Any]:
    """Declare every ranged field of ``cls`` read-only on ``node``; returns the values.

    ``descriptor`` and ``float_range`` are rcl_interfaces.msg.ParameterDescriptor and
    FloatingPointRange (passed in: this module stays free of ROS).
    """
    values = {}
    for f in fields(cls):
        if 'range' not in f.metadata:
            continue
        low, high = f.metadata['range']
        node.declare_parameter(f.name, f.default, descriptor(
            name=f.name, description=f.metadata['description'], read_only=True,
            floating_point_range=[float_range(from_value=float(low), to_value=float(high),
                                              step=0.0)]))
        values[f.name] = node.get_parameter(f.name).value
    return values
