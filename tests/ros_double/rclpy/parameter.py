"""rclpy.parameter double: Parameter and its Type enum, with rclpy's type rules."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Parameter:
    """A named, typed parameter value."""

    class Type(IntEnum):
        """Parameter types (rcl_interfaces/ParameterType)."""

        NOT_SET = 0
        BOOL = 1
        INTEGER = 2
        DOUBLE = 3
        STRING = 4
        BYTE_ARRAY = 5
        BOOL_ARRAY = 6
        INTEGER_ARRAY = 7
        DOUBLE_ARRAY = 8
        STRING_ARRAY = 9

        @classmethod
        def from_parameter_value(cls, value: Any) -> Parameter.Type:
            """The type rclpy infers for a Python value."""
            if value is None:
                return cls.NOT_SET
            if isinstance(value, bool):
                return cls.BOOL
            if isinstance(value, int):
                return cls.INTEGER
            if isinstance(value, float):
                return cls.DOUBLE
            if isinstance(value, str):
                return cls.STRING
            if isinstance(value, (list, tuple)):
                if not value:
                    raise TypeError('cannot infer the type of an empty list')
                if all(isinstance(v, bytes) for v in value):
                    return cls.BYTE_ARRAY
                if all(isinstance(v, bool) for v in value):
                    return cls.BOOL_ARRAY
                if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                    return cls.INTEGER_ARRAY
                if all(isinstance(v, float) for v in value):
                    return cls.DOUBLE_ARRAY
                if all(isinstance(v, str) for v in value):
                    return cls.STRING_ARRAY
            raise TypeError(f'The given value is not one of the allowed types {value!r}.')

        def check(self, parameter_value: Any) -> bool:
            """Whether a value has this type."""
            if self == Parameter.Type.NOT_SET:
                return parameter_value is None
            try:
                return Parameter.Type.from_parameter_value(parameter_value) == self
            except TypeError:
                return False

    def __init__(self, name: str, type_: Parameter.Type | None = None, value: Any = None) -> None:
        """As rclpy: the type is inferred from the value when not given."""
        if type_ is None:
            type_ = Parameter.Type.from_parameter_value(value)
        if not isinstance(type_, Parameter.Type):
            raise TypeError('type must be an instance of Parameter.Type')
        if not type_.check(value):
            raise ValueError(f'Type {type_} and value {value!r} do not agree')
        self._name = name
        self._type_ = type_
        self._value = value

    @property
    def name(self) -> str:
        """Parameter name."""
        return self._name

    @property
    def type_(self) -> Parameter.Type:
        """Parameter type."""
        return self._type_

    @property
    def value(self) -> Any:
        """Parameter value."""
        return self._value

    def __repr__(self) -> str:
        """For messages."""
        return f'Parameter({self._name!r}, {self._type_.name}, {self._value!r})'
