r"""ROS 2 message and service classes built from the real definitions that rosbags ships.

Each class behaves like a Python message that rosidl_generator_py generates, where a node can
tell the difference (the template is ``rosidl_generator_py/resource/_msg.py.em``; the rules below
cite it as "the template"):

* keyword construction, ``__slots__`` (an unknown field raises AssertionError);
* the field checks of Humble's setters (Jazzy runs the same checks when
  ``ROS_PYTHON_CHECK_FIELDS=1``; without it Jazzy checks nothing and a wrong value reaches the C
  conversion, which sends garbage or fails, so the double always checks): ``float64 x`` takes a
  ``float`` only (``x = 1`` raises), integers are range-checked, ``byte`` takes ``bytes`` of length
  one, a nested message must be an instance of its class;
* numeric sequences (``uint8[] data``, ``int8[] data``, ``float64[] ...``) are ``array.array``:
  an ``array.array`` of the right type code is taken as it is; anything else must be a
  ``collections.abc.Sequence`` (or Set, UserList) of values of the right Python type, checked one
  by one (slow: 10-90 ms for a 320x240 image's bytes) and copied into an ``array.array``; a
  numpy array is not a Sequence and is refused. The constructor converts with
  ``array.array(type_code, value)`` instead (fast for ``bytes``);
* numeric fixed-size arrays (``float64[36] covariance``) are numpy arrays: a numpy array of the
  exact dtype and size, or a sequence of values of the right type, in the setter; anything
  ``numpy.array(value, dtype)`` takes in the constructor;
* defaults as generated: ``array.array`` for numeric sequences, ``numpy.zeros`` for numeric
  arrays, ``bytes([0])`` for ``byte``, the ``.msg`` default values (rosbags keeps none, so they are
  listed in :data:`FIELD_DEFAULTS`: ``Quaternion().w == 1.0``);
* constants as class attributes, ``byte`` constants as ``bytes`` (``DiagnosticStatus.OK ==
  b'\x00'``; ``rosidl_generator_py/generate_py_impl.py`` ``constant_value_to_py``);
* the definitions of one distribution, Humble (the default) or Jazzy: Humble lacks constants and
  fields Jazzy has (``NavSatStatus.STATUS_UNKNOWN``, ``Marker.ARROW_STRIP``, ``Range.variance``).

:func:`to_cdr` serialises an instance through rosbags, so a message that does not match its
definition fails there exactly as it would on the wire.
"""

from __future__ import annotations

import array
import math
import types
from collections import UserList, UserString
from collections.abc import Sequence, Set
from typing import Any

import numpy as np
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.base import Nodetype

DISTROS = {'humble': Stores.ROS2_HUMBLE, 'jazzy': Stores.ROS2_JAZZY}
DEFAULT_DISTRO = 'humble'

# Service definitions are not in the typestore: these are the upstream .srv texts.
SERVICES = {
    'std_srvs/srv/Trigger': (
        '',
        'bool success   # indicate successful run of triggered service\n'
        'string message # informational, e.g. for error messages',
    ),
    'std_srvs/srv/Empty': ('', ''),
    'std_srvs/srv/SetBool': ('bool data', 'bool success\nstring message'),
}

#: Field default values of the .msg files (common_interfaces humble and jazzy branches); every
#: other field defaults to zero, empty or false.
FIELD_DEFAULTS: dict[str, dict[tuple[str, str], Any]] = {
    'humble': {('geometry_msgs/msg/Quaternion', 'w'): 1.0},
    'jazzy': {
        ('geometry_msgs/msg/Quaternion', 'w'): 1.0,
        ('sensor_msgs/msg/NavSatStatus', 'status'): -2,
    },  # STATUS_UNKNOWN, Jazzy only
}

# rosidl_generator_py/generate_py_impl.py SPECIAL_NESTED_BASIC_TYPES: (array type code, dtype).
# A .msg ``char`` is the IDL uint8; a .msg ``byte`` is the IDL octet, which is not special.
_SPECIAL: dict[str, tuple[str, Any]] = {
    'float32': ('f', np.float32),
    'float64': ('d', np.float64),
    'int8': ('b', np.int8),
    'uint8': ('B', np.uint8),
    'char': ('B', np.uint8),
    'int16': ('h', np.int16),
    'uint16': ('H', np.uint16),
    'int32': ('i', np.int32),
    'uint32': ('I', np.uint32),
    'int64': ('q', np.int64),
    'uint64': ('Q', np.uint64),
}
_INT_BOUNDS = {
    'int8': (-(2**7), 2**7),
    'int16': (-(2**15), 2**15),
    'int32': (-(2**31), 2**31),
    'int64': (-(2**63), 2**63),
    'uint8': (0, 2**8),
    'char': (0, 2**8),
    'uint16': (0, 2**16),
    'uint32': (0, 2**32),
    'uint64': (0, 2**64),
}
_FLOAT_BOUNDS = {'float32': 3.402823466e38, 'float64': 1.7976931348623157e308}


#: Numeric sequences or arrays of more than SLOW_CHECK_MIN values that a setter checked value by
#: value (the template's ``all(isinstance(v, int) for v in value) and all(...)``): on Humble that
#: costs 10-90 ms for a 320x240 image or a 600x600 grid (machine-dependent), where an
#: ``array.array`` (sequences) or a numpy array of the exact dtype (arrays) is taken at once.
SLOW_CHECKS: list[tuple[str, int]] = []
SLOW_CHECK_MIN = 1024


class _Distro:
    """The typestore and the message classes of one ROS 2 distribution."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.store = get_typestore(DISTROS[name])
        self.classes: dict[str, type] = {}
        self.service_keys: dict[str, tuple[str, str]] = {}
        for srv, (req, resp) in SERVICES.items():
            keys = []
            for text, part in ((req, 'Request'), (resp, 'Response')):
                types_ = get_types_from_msg(text, f'{srv}_{part}')
                self.store.register(types_)
                keys.append(next(iter(types_)))  # rosbags: <pkg>/srv/msg/<Name>_<Part>
            self.service_keys[srv] = (keys[0], keys[1])


_DISTRO_CACHE: dict[str, _Distro] = {}
_current = DEFAULT_DISTRO


def distro(name: str | None = None) -> _Distro:
    """The definitions of ``name`` (default: the distribution installed last)."""
    name = name or _current
    if name not in DISTROS:
        raise ValueError(f'unknown ROS 2 distribution {name!r}; one of {sorted(DISTROS)}')
    if name not in _DISTRO_CACHE:
        _DISTRO_CACHE[name] = _Distro(name)
    return _DISTRO_CACHE[name]


# -- the template's checks -------------------------------------------------------------------


def _scalar_ok(base: tuple[str, int], v: Any, element: bool = False) -> bool:
    """The setter's check of one value (``element``: inside a sequence or array)."""
    typename, bound = base
    if typename == 'bool':
        return isinstance(v, bool)
    if typename == 'byte':  # octet: bytes (or ByteString); length one outside a sequence
        return isinstance(v, (bytes, bytearray)) and (element or len(v) == 1)
    if typename in ('string', 'wstring'):
        return isinstance(v, str) and (not bound or len(v) <= bound)
    if typename in _INT_BOUNDS:  # isinstance(v, int): a bool passes, as in the template
        low, high = _INT_BOUNDS[typename]
        return isinstance(v, int) and low <= v < high
    if typename in _FLOAT_BOUNDS:  # isinstance(v, float): an int does not pass
        b = _FLOAT_BOUNDS[typename]
        return isinstance(v, float) and (not (v < -b or v > b) or math.isinf(v))
    raise AssertionError(f'unknown base type {typename}')


def _checked(d: _Distro, where: str, ftype: tuple, value: Any) -> Any:
    """What the generated setter stores for ``value``, or AssertionError as it raises."""
    kind, spec = ftype
    if kind == Nodetype.BASE:
        if not _scalar_ok(spec, value):
            raise AssertionError(f'The {where!r} field must be of type {spec[0]}, got {value!r}')
        return value
    if kind == Nodetype.NAME:
        if not isinstance(value, message_class(spec, d.name)):
            raise AssertionError(f"The {where!r} field must be a sub message of type '{spec}'")
        return value
    (ikind, ispec), count = spec
    special = _SPECIAL.get(ispec[0]) if ikind == Nodetype.BASE else None
    if special is not None:
        code, dtype = special
        if kind == Nodetype.ARRAY and isinstance(value, np.ndarray):
            if value.dtype != dtype or value.size != count:
                raise AssertionError(
                    f'The {where!r} numpy.ndarray() must have the dtype of '
                    f'{np.dtype(dtype).name} and a size of {count}'
                )
            return value
        if kind == Nodetype.SEQUENCE and isinstance(value, array.array):
            if value.typecode != code or (count and len(value) > count):
                raise AssertionError(
                    f'The {where!r} array.array() must have the type code of '
                    f"'{code}'" + (f' and a size <= {count}' if count else '')
                )
            return value
    seq = isinstance(value, (Sequence, Set, UserList)) and not isinstance(value, (str, UserString))
    if special is not None and seq and len(value) > SLOW_CHECK_MIN:
        SLOW_CHECKS.append((where, len(value)))
    length = seq and (
        len(value) == count if kind == Nodetype.ARRAY else not count or len(value) <= count
    )
    if ikind == Nodetype.NAME:
        cls = message_class(ispec, d.name)
        items = seq and all(isinstance(v, cls) for v in value)
    else:
        items = seq and all(_scalar_ok(ispec, v, element=True) for v in value)
    if not (seq and length and items):
        size = (
            f' with length {count}'
            if kind == Nodetype.ARRAY
            else f' with length <= {count}'
            if count
            else ''
        )
        raise AssertionError(
            f'The {where!r} field must be a set or sequence{size} and each '
            f'value of type {ispec if ikind == Nodetype.NAME else ispec[0]} '
            f'(got {type(value).__name__})'
        )
    if special is not None:
        code, dtype = special
        return np.array(value, dtype=dtype) if kind == Nodetype.ARRAY else array.array(code, value)
    return value


def _default(d: _Distro, ftype: tuple) -> Any:
    """The generated ``__init__``'s value of a field that is not given."""
    kind, spec = ftype
    if kind == Nodetype.BASE:
        typename = spec[0]
        return {'bool': False, 'byte': bytes([0]), 'string': '', 'wstring': ''}.get(
            typename, 0.0 if typename in _FLOAT_BOUNDS else 0
        )
    if kind == Nodetype.NAME:
        return message_class(spec, d.name)()
    (ikind, ispec), count = spec
    special = _SPECIAL.get(ispec[0]) if ikind == Nodetype.BASE else None
    if kind == Nodetype.SEQUENCE:
        return array.array(special[0]) if special else []
    if special:
        return np.zeros(count, dtype=special[1])
    return [_default(d, (ikind, ispec)) for _ in range(count)]


def _from_constructor(ftype: tuple, value: Any) -> Any:
    """The generated ``__init__`` converts numeric sequences and arrays before the setter."""
    kind, spec = ftype
    if kind not in (Nodetype.ARRAY, Nodetype.SEQUENCE):
        return value
    (ikind, ispec), count = spec
    special = _SPECIAL.get(ispec[0]) if ikind == Nodetype.BASE else None
    if special is None:
        return value
    code, dtype = special
    if kind == Nodetype.SEQUENCE:
        return array.array(code, value)  # TypeError / OverflowError as the real one
    out = np.array(value, dtype=dtype)
    if out.shape != (count,):
        raise AssertionError(f'the array must have the shape ({count},), got {out.shape}')
    return out


def _constant(ctype: str, value: Any) -> Any:
    """generate_py_impl.constant_value_to_py: a ``byte`` constant is ``bytes([value])``."""
    return bytes([value]) if ctype == 'byte' else value


def message_class(name: str, distro_name: str | None = None) -> type:
    """The class of a message (``'nav_msgs/msg/Path'``) or service part, for a distribution."""
    d = distro(distro_name)
    if name in d.classes:
        return d.classes[name]
    if name not in d.store.fielddefs:
        raise KeyError(f'{name} is not defined in ROS 2 {d.name}')
    consts, fields = d.store.fielddefs[name]
    short = name.split('/')[-1]
    field_types = dict(fields)
    defaults = {f: v for (t, f), v in FIELD_DEFAULTS[d.name].items() if t == name}
    slots = tuple(f'_f_{f}' for f, _ in fields)

    def __init__(self, **kwargs: Any) -> None:  # noqa: N807
        unknown = set(kwargs) - set(field_types)
        if unknown:
            raise AssertionError(
                f'Invalid arguments passed to constructor: {", ".join(sorted(unknown))}'
            )
        for f, ftype in fields:
            if f in kwargs:
                setattr(self, f, _from_constructor(ftype, kwargs[f]))
            else:
                setattr(self, f, defaults[f] if f in defaults else _default(d, ftype))

    def __eq__(self, other: object) -> bool:  # noqa: N807
        return type(self) is type(other) and all(
            _plain(getattr(self, f)) == _plain(getattr(other, f)) for f in field_types
        )

    def __repr__(self) -> str:  # noqa: N807
        inner = ', '.join(f'{f}={getattr(self, f)!r}' for f in field_types)
        return f'{name.replace("/", ".")}({inner})'

    ns: dict[str, Any] = {
        '__slots__': slots,
        '__init__': __init__,
        '__eq__': __eq__,
        '__repr__': __repr__,
        '__hash__': None,
        '_type': name,
        '_distro': d.name,
        '_fields_and_field_types': dict(fields),
        'get_fields_and_field_types': classmethod(lambda cls: dict(cls._fields_and_field_types)),
    }
    for cname, ctype, cvalue in consts:
        ns[cname] = _constant(ctype, cvalue)
    for f, ftype in fields:
        ns[f] = _property(d, short, f, ftype)
    cls = type(short, (), ns)
    d.classes[name] = cls
    return cls


def _plain(v: Any) -> Any:
    if isinstance(v, (np.ndarray, array.array)):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _property(d: _Distro, cls_name: str, field: str, ftype: tuple) -> property:
    attr = f'_f_{field}'

    def fget(self: Any) -> Any:
        return getattr(self, attr)

    def fset(self: Any, value: Any) -> None:
        setattr(self, attr, _checked(d, f'{cls_name}.{field}', ftype, value))

    return property(fget, fset)


def service_class(name: str, distro_name: str | None = None) -> type:
    """A service type with ``Request`` and ``Response`` classes, like rosidl's."""
    d = distro(distro_name)
    short = name.split('/')[-1]
    req, resp = d.service_keys[name]
    return type(
        short,
        (),
        {
            'Request': message_class(req, d.name),
            'Response': message_class(resp, d.name),
            '_type': name,
        },
    )


_DTYPES = {
    'float32': np.float32,
    'float64': np.float64,
    'int8': np.int8,
    'uint8': np.uint8,
    'int16': np.int16,
    'uint16': np.uint16,
    'int32': np.int32,
    'uint32': np.uint32,
    'int64': np.int64,
    'uint64': np.uint64,
    'byte': np.uint8,
    'char': np.uint8,
    'bool': np.bool_,
}


def to_rosbags(msg: Any) -> Any:
    """The rosbags dataclass of a message (for serialisation with the real definition)."""
    d = distro(msg._distro)
    name = msg._type
    _, fields = d.store.fielddefs[name]
    cls = d.store.types[name]
    kwargs = {}
    for f, (kind, spec) in fields:
        v = getattr(msg, f)
        if kind == Nodetype.NAME:
            kwargs[f] = to_rosbags(v)
        elif kind in (Nodetype.ARRAY, Nodetype.SEQUENCE):
            inner_kind, inner_spec = spec[0]
            if inner_kind == Nodetype.NAME:
                kwargs[f] = [to_rosbags(x) for x in v]
                continue
            base = inner_spec[0]
            if base == 'byte':
                v = [x[0] for x in v]
            dtype = _DTYPES.get(base)
            kwargs[f] = np.asarray(v, dtype=dtype) if dtype is not None else list(v)
        elif spec[0] == 'byte':
            kwargs[f] = v[0]
        else:
            kwargs[f] = v
    return cls(**kwargs)


def to_cdr(msg: Any) -> bytes:
    """Serialise a message to CDR with rosbags and its distribution's definition."""
    return bytes(distro(msg._distro).store.serialize_cdr(to_rosbags(msg), msg._type))


def install_message_modules(distro_name: str = DEFAULT_DISTRO) -> dict[str, types.ModuleType]:
    """Modules ``<pkg>.msg`` and ``<pkg>.srv`` of one distribution's packages."""
    global _current
    d = distro(distro_name)
    _current = d.name
    modules: dict[str, types.ModuleType] = {}
    for name in d.store.fielddefs:
        parts = name.split('/')
        if len(parts) != 3 or parts[1] != 'msg':
            continue
        pkg = parts[0]
        modules.setdefault(f'{pkg}.msg', _LazyModule(f'{pkg}.msg', d.name))
        modules.setdefault(pkg, types.ModuleType(pkg))
    for name in SERVICES:
        pkg, _, short = name.split('/')
        mod = modules.setdefault(f'{pkg}.srv', types.ModuleType(f'{pkg}.srv'))
        setattr(mod, short, service_class(name, d.name))
        modules.setdefault(pkg, types.ModuleType(pkg))
    for key, mod in modules.items():
        if '.' in key:
            pkg, sub = key.split('.')
            setattr(modules[pkg], sub, mod)
    return modules


class _LazyModule(types.ModuleType):
    """A ``<pkg>.msg`` module whose classes are built on first use."""

    def __init__(self, name: str, distro_name: str) -> None:
        super().__init__(name)
        self._distro_name = distro_name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith('__'):
            raise AttributeError(attr)
        full = f'{self.__name__.split(".")[0]}/msg/{attr}'
        if full not in distro(self._distro_name).store.fielddefs:
            raise AttributeError(f"module '{self.__name__}' has no attribute '{attr}'")
        cls = message_class(full, self._distro_name)
        setattr(self, attr, cls)
        return cls


__all__ = [
    'DEFAULT_DISTRO',
    'DISTROS',
    'install_message_modules',
    'message_class',
    'service_class',
    'to_cdr',
]
