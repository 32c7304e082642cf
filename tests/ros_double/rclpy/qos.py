"""rclpy.qos double: profiles, policies and the presets of Humble and Jazzy."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class HistoryPolicy(IntEnum):
    """rmw history policy."""

    SYSTEM_DEFAULT = 0
    KEEP_LAST = 1
    KEEP_ALL = 2
    UNKNOWN = 3


class ReliabilityPolicy(IntEnum):
    """rmw reliability policy."""

    SYSTEM_DEFAULT = 0
    RELIABLE = 1
    BEST_EFFORT = 2
    UNKNOWN = 3


class DurabilityPolicy(IntEnum):
    """rmw durability policy."""

    SYSTEM_DEFAULT = 0
    TRANSIENT_LOCAL = 1
    VOLATILE = 2
    UNKNOWN = 3


class LivelinessPolicy(IntEnum):
    """rmw liveliness policy."""

    SYSTEM_DEFAULT = 0
    AUTOMATIC = 1
    MANUAL_BY_TOPIC = 3
    UNKNOWN = 4


class InvalidQoSProfileException(Exception):
    """Raised when constructing a QoSProfile with invalid arguments (rclpy/qos.py)."""

    def __init__(self, *args: Any) -> None:
        """As rclpy: 'Invalid QoSProfile' and the reason."""
        Exception.__init__(self, 'Invalid QoSProfile', *args)


QoSHistoryPolicy = HistoryPolicy
QoSReliabilityPolicy = ReliabilityPolicy
QoSDurabilityPolicy = DurabilityPolicy
QoSLivelinessPolicy = LivelinessPolicy

_FIELDS = (
    'history',
    'depth',
    'reliability',
    'durability',
    'lifespan',
    'deadline',
    'liveliness',
    'liveliness_lease_duration',
    'avoid_ros_namespace_conventions',
)


class QoSProfile:
    """A QoS profile; like rclpy, history or depth must be given."""

    __slots__ = tuple(f'_{f}' for f in _FIELDS)

    def __init__(self, **kwargs: Any) -> None:
        """Keyword construction only, as in rclpy."""
        unknown = set(kwargs) - set(_FIELDS)
        if unknown:
            raise AssertionError(f'Invalid arguments passed to constructor: {sorted(unknown)}')
        # rclpy/qos.py QoSProfile.__init__ (humble and jazzy): depth, or a history other than
        # KEEP_LAST, is required
        if 'history' not in kwargs and 'depth' not in kwargs:
            raise InvalidQoSProfileException('History and/or depth settings are required.')
        history = kwargs.get('history', HistoryPolicy.KEEP_LAST)
        self._history = HistoryPolicy(history)
        if self._history == HistoryPolicy.KEEP_LAST and 'depth' not in kwargs:
            raise InvalidQoSProfileException('History set to KEEP_LAST without a depth setting.')
        self._depth = int(kwargs.get('depth', 0))
        if self._history == HistoryPolicy.KEEP_LAST and 'depth' in kwargs and self._depth < 0:
            raise ValueError('depth must be non-negative')
        self._reliability = ReliabilityPolicy(
            kwargs.get('reliability', ReliabilityPolicy.RELIABLE)
        )
        self._durability = DurabilityPolicy(kwargs.get('durability', DurabilityPolicy.VOLATILE))
        self._lifespan = kwargs.get('lifespan')
        self._deadline = kwargs.get('deadline')
        self._liveliness = LivelinessPolicy(
            kwargs.get('liveliness', LivelinessPolicy.SYSTEM_DEFAULT)
        )
        self._liveliness_lease_duration = kwargs.get('liveliness_lease_duration')
        self._avoid_ros_namespace_conventions = bool(
            kwargs.get('avoid_ros_namespace_conventions', False)
        )

    history = property(lambda self: self._history)
    depth = property(lambda self: self._depth)
    reliability = property(lambda self: self._reliability)
    durability = property(lambda self: self._durability)
    liveliness = property(lambda self: self._liveliness)

    def __eq__(self, other: object) -> bool:
        """Equal when every policy is equal."""
        return isinstance(other, QoSProfile) and all(
            getattr(self, f'_{f}') == getattr(other, f'_{f}') for f in _FIELDS
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """Readable policies."""
        return (
            f'QoSProfile(history={self._history.name}, depth={self._depth}, '
            f'reliability={self._reliability.name}, durability={self._durability.name})'
        )


qos_profile_sensor_data = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=5,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
qos_profile_system_default = QoSProfile(
    history=HistoryPolicy.SYSTEM_DEFAULT,
    depth=0,
    reliability=ReliabilityPolicy.SYSTEM_DEFAULT,
    durability=DurabilityPolicy.SYSTEM_DEFAULT,
)
qos_profile_services_default = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
qos_profile_parameters = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1000,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
qos_profile_parameter_events = qos_profile_parameters


def compatible(publisher: QoSProfile, subscription: QoSProfile) -> tuple[bool, str]:
    """Whether a subscription can receive from a publisher (the rules DDS applies)."""
    if (
        publisher.reliability == ReliabilityPolicy.BEST_EFFORT
        and subscription.reliability == ReliabilityPolicy.RELIABLE
    ):
        return False, 'best-effort publisher, reliable subscription'
    if (
        publisher.durability == DurabilityPolicy.VOLATILE
        and subscription.durability == DurabilityPolicy.TRANSIENT_LOCAL
    ):
        return False, 'volatile publisher, transient-local subscription'
    return True, ''
