"""ROS 2 message and service classes built from the real definitions that rosbags ships.

Each class behaves like an rosidl-generated Python message where it matters to a node: keyword
construction with defaults, ``__slots__`` (an unknown field raises), type checks on assignment,
constants as class attributes, equality by value, and ``Srv.Request`` / ``Srv.Response``.
:func:`to_cdr` serialises an instance through rosbags, so a message that does not match its
definition fails there exactly as it would on the wire.
"""

from __future__ import annotations

import array
import types
from typing import Any

import numpy as np
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.base import Nodetype

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)

# Service definitions are not in the typestore: these are the upstream .srv texts.
SERVICES = {
    'std_srvs/srv/Trigger': ('', 'bool success   # indicate successful run of triggered service\n'
                                 'string message # informational, e.g. for error messages'),
    'std_srvs/srv/Empty': ('', ''),
    'std_srvs/srv/SetBool': ('bool data', 'bool success\nstring message'),
}

_INT_TYPES = {'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
              'byte', 'char'}
_FLOAT_TYPES = {'float32', 'float64'}
_CLASSES: dict[str, type] = {}


_SERVICE_KEYS: dict[str, tuple[str, str]] = {}


def _register_services() -> None:
    for name, (req, resp) in SERVICES.items():
        keys = []
        for text, part in ((req, 'Request'), (resp, 'Response')):
            types_ = get_types_from_msg(text, f'{name}_{part}')
            TYPESTORE.register(types_)
            keys.append(next(iter(types_)))  # rosbags files it as <pkg>/srv/msg/<Name>_<Part>
        _SERVICE_KEYS[name] = (keys[0], keys[1])


_register_services()


def _default(fieldtype: tuple) -> Any:
    kind, spec = fieldtype
    if kind == Nodetype.BASE:
        base = spec[0]
        if base == 'bool':
            return False
        if base == 'string':
            return ''
        if base in _FLOAT_TYPES:
            return 0.0
        return 0
    if kind == Nodetype.NAME:
        return message_class(spec)()
    inner, count = spec
    if kind == Nodetype.ARRAY:
        return [_default(inner) for _ in range(count)]
    return []


def _check(cls_name: str, field: str, fieldtype: tuple, value: Any) -> None:
    kind, spec = fieldtype
    where = f'{cls_name}.{field}'
    if kind == Nodetype.BASE:
        base = spec[0]
        if base == 'bool':
            ok = isinstance(value, bool)
        elif base == 'string':
            ok = isinstance(value, str)
        elif base in _FLOAT_TYPES:
            ok = isinstance(value, (float, int)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok:
            raise AssertionError(f'The {where!r} field must be of type {base}, got {value!r}')
        return
    if kind == Nodetype.NAME:
        if type(value).__name__ != spec.split('/')[-1] or getattr(value, '_type', None) != spec:
            raise AssertionError(f'The {where!r} field must be a {spec}, got {type(value)}')
        return
    inner, count = spec
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (bytes, bytearray, array.array)):
        if not (inner[0] == Nodetype.BASE and inner[1][0] in ('uint8', 'byte', 'char')):
            raise AssertionError(f'The {where!r} field takes bytes only for uint8 sequences')
        if kind == Nodetype.ARRAY and len(value) != count:
            raise AssertionError(f'The {where!r} field must have {count} elements')
        return
    if not isinstance(value, (list, tuple)):
        raise AssertionError(f'The {where!r} field must be a sequence, got {type(value)}')
    if kind == Nodetype.ARRAY and len(value) != count:
        raise AssertionError(f'The {where!r} field must have {count} elements')
    for v in value:
        _check(cls_name, field, inner, v)


def message_class(name: str) -> type:
    """The class of a message (``'nav_msgs/msg/Path'``) or service part."""
    if name in _CLASSES:
        return _CLASSES[name]
    consts, fields = TYPESTORE.fielddefs[name]
    short = name.split('/')[-1]
    field_types = dict(fields)
    slots = tuple(f'_f_{f}' for f, _ in fields)

    def __init__(self, **kwargs: Any) -> None:  # noqa: N807
        unknown = set(kwargs) - set(field_types)
        if unknown:
            raise AssertionError(
                f'Invalid arguments passed to constructor: {", ".join(sorted(unknown))}')
        for f, ftype in fields:
            setattr(self, f, kwargs[f] if f in kwargs else _default(ftype))

    def __eq__(self, other: object) -> bool:  # noqa: N807
        return type(self) is type(other) and all(
            _plain(getattr(self, f)) == _plain(getattr(other, f)) for f in field_types)

    def __repr__(self) -> str:  # noqa: N807
        inner = ', '.join(f'{f}={getattr(self, f)!r}' for f in field_types)
        return f'{name.replace("/", ".")}({inner})'

    ns: dict[str, Any] = {
        '__slots__': slots, '__init__': __init__, '__eq__': __eq__, '__repr__': __repr__,
        '__hash__': None, '_type': name, '_fields_and_field_types': dict(fields),
        'get_fields_and_field_types': classmethod(lambda cls: dict(cls._fields_and_field_types)),
    }
    for cname, _ctype, cvalue in consts:
        ns[cname] = cvalue
    for f, ftype in fields:
        ns[f] = _property(short, f, ftype)
    cls = type(short, (), ns)
    _CLASSES[name] = cls
    return cls


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _property(cls_name: str, field: str, ftype: tuple) -> property:
    attr = f'_f_{field}'

    def fget(self: Any) -> Any:
        return getattr(self, attr)

    def fset(self: Any, value: Any) -> None:
        _check(cls_name, field, ftype, value)
        kind = ftype[0]
        if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and isinstance(value, tuple):
            value = list(value)
        setattr(self, attr, value)

    return property(fget, fset)


def service_class(name: str) -> type:
    """A service type with ``Request`` and ``Response`` classes, like rosidl's."""
    short = name.split('/')[-1]
    req, resp = _SERVICE_KEYS[name]
    return type(short, (), {'Request': message_class(req), 'Response': message_class(resp),
                            '_type': name})


def to_rosbags(msg: Any) -> Any:
    """The rosbags dataclass of a message (for serialisation with the real definition)."""
    name = msg._type
    _, fields = TYPESTORE.fielddefs[name]
    cls = TYPESTORE.types[name]
    kwargs = {}
    for f, (kind, spec) in fields:
        v = getattr(msg, f)
        if kind == Nodetype.NAME:
            kwargs[f] = to_rosbags(v)
        elif kind in (Nodetype.ARRAY, Nodetype.SEQUENCE):
            inner_kind, inner_spec = spec[0]
            if inner_kind == Nodetype.NAME:
                kwargs[f] = [to_rosbags(x) for x in v]
            else:
                base = inner_spec[0]
                dtype = {'float32': np.float32, 'float64': np.float64, 'int8': np.int8,
                         'uint8': np.uint8, 'int16': np.int16, 'uint16': np.uint16,
                         'int32': np.int32, 'uint32': np.uint32, 'int64': np.int64,
                         'uint64': np.uint64, 'byte': np.uint8, 'char': np.uint8,
                         'bool': np.bool_}.get(base)
                if isinstance(v, (bytes, bytearray, array.array)):
                    v = np.frombuffer(bytes(v), dtype=np.uint8)
                kwargs[f] = np.asarray(v, dtype=dtype) if dtype is not None else list(v)
        else:
            kwargs[f] = v
    return cls(**kwargs)


def to_cdr(msg: Any) -> bytes:
    """Serialise a message to CDR with rosbags and the real ROS 2 definition."""
    return bytes(TYPESTORE.serialize_cdr(to_rosbags(msg), msg._type))


def install_message_modules() -> dict[str, types.ModuleType]:
    """Modules ``<pkg>.msg`` and ``<pkg>.srv`` for every package in the typestore."""
    modules: dict[str, types.ModuleType] = {}
    names = list(TYPESTORE.fielddefs)
    for name in names:
        parts = name.split('/')
        if len(parts) != 3 or parts[1] != 'msg':
            continue
        pkg, _, short = parts
        mod = modules.setdefault(f'{pkg}.msg', _LazyModule(f'{pkg}.msg', 'msg'))
        mod.__dict__.setdefault('_names', set()).add(short)
        modules.setdefault(pkg, types.ModuleType(pkg))
    for name in SERVICES:
        pkg, _, short = name.split('/')
        mod = modules.setdefault(f'{pkg}.srv', types.ModuleType(f'{pkg}.srv'))
        setattr(mod, short, service_class(name))
        modules.setdefault(pkg, types.ModuleType(pkg))
    for key, mod in modules.items():
        if '.' in key:
            pkg, sub = key.split('.')
            setattr(modules[pkg], sub, mod)
    return modules


class _LazyModule(types.ModuleType):
    """A ``<pkg>.msg`` module whose classes are built on first use."""

    def __init__(self, name: str, kind: str) -> None:
        super().__init__(name)
        self._kind = kind

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith('__'):
            raise AttributeError(attr)
        pkg = self.__name__.split('.')[0]
        full = f'{pkg}/{self._kind}/{attr}'
        if full not in TYPESTORE.fielddefs:
            raise AttributeError(f"module '{self.__name__}' has no attribute '{attr}'")
        cls = message_class(full)
        setattr(self, attr, cls)
        return cls


__all__ = ['install_message_modules', 'message_class', 'service_class', 'to_cdr']
