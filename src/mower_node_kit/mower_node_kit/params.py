"""Parameters declared once: a core dataclass's field metadata holds description and range.

The cores use :func:`param` (a field with its description and, optionally, its inclusive range)
and :func:`check_ranges`; they import no ROS. A node declares them with :func:`declare`, from
:func:`field_specs` of the dataclass merged with a table of its own parameters, name ->
:class:`Spec` (or a plain ``(default, description)`` or ``(default, description, low, high)``
tuple), and builds the dataclass again with :func:`from_values`. rcl_interfaces is imported only
when a node declares.

Every value is checked the same way wherever it comes from (:func:`check_value`): its type (the
default's: an int is fine for a float, a bool is not an int, a string is not a number, a list's
items as the default's first item), finite, and inside its range. A bad one raises
:class:`ConfigError`, one line naming the file (or node), the key and the value.
"""

from __future__ import annotations

import array
import math
import numbers
from collections.abc import Collection, Mapping
from dataclasses import MISSING, Field, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

INT64_MAX = 2**63 - 1  # the bound of a ROS IntegerRange


class _Unknown(Enum):
    NO_VALUE = 'no value'  # an enum member: the same object after pickling


NO_VALUE: Any = _Unknown.NO_VALUE  # a ConfigError about a key whose value is not known


def show(value: Any, limit: int = 60) -> str:
    """A value as a config file's reader recognises it, on one line, at most ``limit`` long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + '...'


class ConfigError(ValueError):
    """A configuration value that cannot be used, as one line: ``FILE: KEY = VALUE why``.

    ``why`` reads on from the value (``is outside [0.0, 100.0]``, ``has the wrong type
    (expected float)``, ``is an unknown key for mission_node (did you mean rate_hz?)``).
    ``source`` names the file (or the node) when known; ``key`` may be empty for a rule that
    is about no single key.
    """

    def __init__(
        self, key: str, value: Any = NO_VALUE, why: str = '', source: str | Path = ''
    ) -> None:
        """Keep the parts; the message is the one line :meth:`line` makes of them."""
        self.key, self.value, self.why, self.source = str(key), value, why, str(source)
        super().__init__(self.line())

    def line(self) -> str:
        """The message: ``FILE: KEY = VALUE why`` (parts that are not known left out)."""
        head = f'{self.source}: ' if self.source else ''
        key = self.key.replace('\n', '\\n')
        if not key:
            return head + self.why
        if self.value is NO_VALUE:
            return f'{head}{key} {self.why}'
        return f'{head}{key} = {show(self.value)} {self.why}'

    def __reduce__(self) -> tuple:
        """Pickled by its parts (an exception is pickled by its args otherwise)."""
        return ConfigError, (self.key, self.value, self.why, self.source)

    def in_file(self, source: str | Path) -> ConfigError:
        """The same error naming ``source`` (itself when it names one already)."""
        if self.source or not str(source):
            return self
        return ConfigError(self.key, self.value, self.why, source)


class Spec(NamedTuple):
    """One parameter: default, description and an optional inclusive range."""

    default: Any
    description: str
    low: float | None = None
    high: float | None = None


def param(
    default: Any, description: str, low: float | None = None, high: float | None = None
) -> Any:
    """A dataclass field with its parameter description and, if given, its inclusive range."""
    metadata: dict[str, Any] = {'description': description}
    if low is not None or high is not None:
        metadata['range'] = (low, high)
    return field(default=default, metadata=metadata)


def type_name(default: Any) -> str | None:
    """The type a parameter's values must have, from its default (None: any)."""
    if isinstance(default, bool):
        return 'bool'
    if isinstance(default, numbers.Integral):
        return 'int'
    if isinstance(default, numbers.Real):
        return 'float'
    if isinstance(default, str):
        return 'str'
    if isinstance(default, (list, tuple)):
        return 'list'
    return None


def _bounds(spec: Spec) -> tuple[float, float]:
    """The inclusive range, a missing side unbounded."""
    return (
        -math.inf if spec.low is None else spec.low,
        math.inf if spec.high is None else spec.high,
    )


def _scalar(key: str, value: Any, kind: str, source: str | Path) -> Any:
    """``value`` as a ``kind`` (an int read as a float for a float), or ConfigError."""
    if kind == 'bool':
        ok = isinstance(value, bool)
    elif kind == 'int':
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind == 'float':
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(key, value, f'has the wrong type (expected {kind})', source)
    if kind == 'float':
        if not math.isfinite(value):
            raise ConfigError(key, value, 'is not a finite number', source)
        return float(value)
    return int(value) if kind == 'int' else value


def check_value(key: str, value: Any, spec: tuple, source: str | Path = '') -> Any:
    """``value`` checked against ``spec`` (a :class:`Spec` or its tuple); raise ConfigError.

    The type is the default's: bool, int, float (an int is fine and read as a float; a bool or
    a string is not a number), str or list (each item as the default's first one, if it has
    one). A float must be finite; a number must lie in the spec's inclusive range. Returns the
    value as read (a float for a float, a list for a list).
    """
    spec = Spec(*spec)
    kind = type_name(spec.default)
    if kind is None:
        return value
    if kind == 'list':
        if not isinstance(value, (list, tuple, array.array)):
            raise ConfigError(key, value, 'has the wrong type (expected list)', source)
        item = type_name(spec.default[0]) if len(spec.default) else None
        if item is None or item == 'list':
            return list(value)
        return [_scalar(f'{key}[{i}]', v, item, source) for i, v in enumerate(value)]
    read = _scalar(key, value, kind, source)
    if kind in ('int', 'float') and (spec.low is not None or spec.high is not None):
        low, high = _bounds(spec)
        if not low <= read <= high:
            raise ConfigError(key, value, f'is outside [{low}, {high}]', source)
    return read


def _field_spec(f: Field) -> Spec:
    """The Spec of a described field (its description may be empty for an undescribed one)."""
    default = f.default if f.default is not MISSING else f.default_factory()
    return Spec(default, f.metadata.get('description', ''), *f.metadata.get('range', ()))


def check_ranges(instance: Any) -> None:
    """Raise ConfigError naming the first described field of a dataclass that is not valid.

    Valid as :func:`check_value` says: the default's type, finite, inside the declared range.
    """
    for f in fields(instance):
        if 'description' in f.metadata:
            check_value(f.name, getattr(instance, f.name), _field_spec(f))


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
            raise ValueError(
                f'{cls.__name__}.{f.name} has no description: declare it with '
                'mower_node_kit.params.param'
            )
        default = f.default if f.default is not MISSING else f.default_factory()
        out[f.name] = Spec(default, f.metadata['description'], *f.metadata.get('range', ()))
    return out


def from_values(cls: type, values: Mapping[str, Any], source: str | Path = '') -> Any:
    """The dataclass from parameter values (other keys ignored; flattened fields regrouped).

    Each value is checked first (:func:`check_value`); a value the dataclass then refuses
    (a rule between fields) is a ConfigError too, naming ``source`` (the file) when given.
    """
    kwargs = {}
    for f in fields(cls):
        nested = _nested(f)
        if nested is not None and 'description' not in f.metadata:
            kwargs[f.name] = from_values(nested, values, source)
        elif f.name in values:
            kwargs[f.name] = (
                check_value(f.name, values[f.name], _field_spec(f), source)
                if 'description' in f.metadata
                else values[f.name]
            )
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise exc.in_file(source) from None
    except (TypeError, ValueError) as exc:
        if not str(source):
            raise
        raise ConfigError('', why=' '.join(str(exc).split()), source=source) from exc


def declare(
    node: Any,
    specs: Mapping[str, tuple],
    *,
    read_only: bool = True,
    writable: Collection[str] = (),
) -> dict[str, Any]:
    """Declare each parameter of ``specs`` on ``node``, described; returns name -> value.

    A spec with a range gets a FloatingPointRange (float default) or an IntegerRange (int
    default; step 1), so rclpy refuses a value outside it, at start-up and when set, as it
    refuses a value of another type (rclpy's InvalidParameterValueException and
    InvalidParameterTypeException name the parameter and the value; note that rclpy takes
    no int for a float: ``1.0``, not ``1``). Every parameter is read-only when ``read_only``,
    except those named in ``writable``. What rclpy lets through and :func:`check_value`
    refuses (a float that is not finite, a list of the wrong items) raises ConfigError
    naming the node, the key and the value.
    """
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    who = node.get_name()
    out = {}
    for name, raw in specs.items():
        spec = Spec(*raw)
        d = ParameterDescriptor(
            name=name, description=spec.description, read_only=read_only and name not in writable
        )
        kind = type_name(spec.default)
        low, high = _bounds(spec)
        if spec.low is None and spec.high is None:
            pass
        elif kind == 'float':
            d.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)
            ]
        elif kind == 'int':
            d.integer_range = [
                IntegerRange(
                    from_value=int(max(low, -INT64_MAX - 1)),
                    to_value=int(min(high, INT64_MAX)),
                    step=1,
                )
            ]
        node.declare_parameter(name, spec.default, d)
        out[name] = check_value(name, node.get_parameter(name).value, spec, who)
    return out


def declare_ranged(
    node: Any, cls: type, descriptor: Any = None, float_range: Any = None
) -> dict[str, Any]:
    """Declare every ranged field of ``cls`` read-only on ``node``; returns the values.

    The older form of :func:`declare` (``descriptor`` and ``float_range`` are not needed any
    more and ignored); mapping_node calls it until it declares with :func:`declare`.
    """
    return declare(node, {name: s for name, s in field_specs(cls).items() if s.low is not None})
