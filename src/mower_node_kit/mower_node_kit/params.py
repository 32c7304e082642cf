"""Parameters declared once: a core dataclass's field metadata holds description and range.

The cores use :func:`param` (a field with its description and, optionally, its inclusive range)
and :func:`check_ranges`; they import no ROS. A node declares them with :func:`declare`, from
:func:`field_specs` of the dataclass merged with a table of its own parameters, name ->
:class:`Spec` (or a plain ``(default, description)`` or ``(default, description, low, high)``
tuple), and builds the dataclass again with :func:`from_values`. rcl_interfaces is imported only
when a node declares.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import MISSING, Field, field, fields, is_dataclass
from typing import Any, NamedTuple


class Spec(NamedTuple):
    """One parameter: default, description and an optional inclusive range."""

    default: Any
    description: str
    low: float | None = None
    high: float | None = None


def param(default: Any, description: str, low: float | None = None,
          high: float | None = None) -> Any:
    """A dataclass field with its parameter description and, if given, its inclusive range."""
    metadata: dict[str, Any] = {'description': description}
    if low is not None or high is not None:
        metadata['range'] = (low, high)
    return field(default=default, metadata=metadata)


def check_ranges(instance: Any) -> None:
    """Raise ValueError naming the first field of a dataclass outside its declared range."""
    for f in fields(instance):
        if 'range' not in f.metadata:
            continue
        low, high = f.metadata['range']
        value = getattr(instance, f.name)
        if not low <= value <= high:
            raise ValueError(f'{f.name} = {value} is outside [{low}, {high}]')


def _nested(f: Field) -> type | None:
    """The dataclass a field holds by default (DriverParams.drive: DiffDrive), if any."""
    factory = f.default_factory
    return factory if factory is not MISSING and is_dataclass(factory) else None


def field_specs(cls: type) -> dict[str, Spec]:
    """Name -> Spec of every field of a parameter dataclass, from its metadata, in field order.

    A field holding a dataclass by default (``field(default_factory=DiffDrive)``) without a
    description of its own is flattened: its fields are parameters of the same node.
    """
    out: dict[str, Spec] = {}
    for f in fields(cls):
        nested = _nested(f)
        if nested is not None and 'description' not in f.metadata:
            out.update(field_specs(nested))
            continue
        if 'description' not in f.metadata:
            raise ValueError(f'{cls.__name__}.{f.name} has no description: declare it with '
                             'mower_node_kit.params.param')
        default = f.default if f.default is not MISSING else f.default_factory()
        out[f.name] = Spec(default, f.metadata['description'], *f.metadata.get('range', ()))
    return out


def from_values(cls: type, values: Mapping[str, Any]) -> Any:
    """The dataclass from parameter values (other keys ignored; flattened fields regrouped)."""
    kwargs = {}
    for f in fields(cls):
        nested = _nested(f)
        if nested is not None and 'description' not in f.metadata:
            kwargs[f.name] = from_values(nested, values)
        elif f.name in values:
            kwargs[f.name] = values[f.name]
    return cls(**kwargs)


def declare(node: Any, specs: Mapping[str, tuple], *, read_only: bool = True,
            writable: Collection[str] = ()) -> dict[str, Any]:
    """Declare each parameter of ``specs`` on ``node``, described; returns name -> value.

    A spec with a range gets a FloatingPointRange (float default) or an IntegerRange (int
    default; step 1). Every parameter is read-only when ``read_only``, except those named in
    ``writable``.
    """
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    for name, raw in specs.items():
        spec = Spec(*raw)
        d = ParameterDescriptor(name=name, description=spec.description,
                                read_only=read_only and name not in writable)
        if spec.low is not None and isinstance(spec.default, float):
            d.floating_point_range = [FloatingPointRange(
                from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
        elif spec.low is not None and isinstance(spec.default, int) and \
                not isinstance(spec.default, bool):
            d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high),
                                            step=1)]
        node.declare_parameter(name, spec.default, d)
    return {name: node.get_parameter(name).value for name in specs}


def declare_ranged(node: Any, cls: type, descriptor: Any = None,
                   float_range: Any = None) -> dict[str, Any]:
    """Declare every ranged field of ``cls`` read-only on ``node``; returns the values.

    The older form of :func:`declare` (``descriptor`` and ``float_range`` are not needed any
    more and ignored); mapping_node calls it until it declares with :func:`declare`.
    """
    return declare(node, {name: s for name, s in field_specs(cls).items() if s.low is not None})
