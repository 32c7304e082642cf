"""rclpy.node double: Node with rclpy's parameter rules and recorded entities."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult

from rclpy import _ros_args
from rclpy.clock import Clock, ROSClock
from rclpy.context import Context, default_context
from rclpy.exceptions import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
    NotInitializedException,
    ParameterAlreadyDeclaredException,
    ParameterNotDeclaredException,
)
from rclpy.logging import get_logger
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, qos_profile_services_default
from rclpy.task import Future
from rclpy.time_source import TimeSource

_NODE_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_TOPIC = re.compile(r'^[~/]?([A-Za-z_][A-Za-z0-9_]*)?(/[A-Za-z_][A-Za-z0-9_]*)*$')


def _check_topic(name: str) -> None:
    if not isinstance(name, str) or not name or not _TOPIC.match(name) or name.endswith('/'):
        raise ValueError(f'invalid topic or service name {name!r}')


def _check_msg_type(msg_type: Any) -> None:
    if not isinstance(msg_type, type) or not hasattr(msg_type, '_type'):
        raise TypeError(f'{msg_type!r} is not a ROS 2 message or service type')


def _qos(qos_profile: QoSProfile | int) -> QoSProfile:
    if isinstance(qos_profile, QoSProfile):
        return qos_profile
    if isinstance(qos_profile, int) and not isinstance(qos_profile, bool):
        return QoSProfile(depth=qos_profile)
    raise TypeError('Expected QoSProfile or int, but received ' + str(type(qos_profile)))


class Publisher:
    """A recorded publisher: ``published`` lists every message."""

    def __init__(self, msg_type: type, topic: str, qos_profile: QoSProfile) -> None:
        """Record the endpoint."""
        self.msg_type = msg_type
        self.topic = topic
        self.qos_profile = qos_profile
        self.published: list[Any] = []

    @property
    def topic_name(self) -> str:
        """The topic."""
        return self.topic

    def publish(self, msg: Any) -> None:
        """Type-check like rclpy, serialise with the real definition, record."""
        if not isinstance(msg, self.msg_type):
            raise TypeError(f'Expected {self.msg_type}, got {type(msg)}')
        from ros_double.messages import to_cdr

        to_cdr(msg)
        self.published.append(msg)

    def get_subscription_count(self) -> int:
        """No middleware: nobody listens."""
        return 0


class Subscription:
    """A recorded subscription; tests call :meth:`deliver`."""

    def __init__(
        self, msg_type: type, topic: str, callback: Callable, qos: QoSProfile, raw: bool
    ) -> None:
        """Record the endpoint."""
        self.msg_type = msg_type
        self.topic = topic
        self.callback = callback
        self.qos_profile = qos
        self.raw = raw

    @property
    def topic_name(self) -> str:
        """The topic."""
        return self.topic

    def deliver(self, msg: Any) -> Any:
        """Test helper: hand a message to the callback."""
        if not isinstance(msg, self.msg_type):
            raise TypeError(f'Expected {self.msg_type}, got {type(msg)}')
        return self.callback(msg)


class Service:
    """A recorded service; tests call :meth:`call`."""

    def __init__(self, srv_type: type, srv_name: str, callback: Callable, qos: QoSProfile) -> None:
        """Record the endpoint."""
        self.srv_type = srv_type
        self.srv_name = srv_name
        self.callback = callback
        self.qos_profile = qos

    def call(self, request: Any) -> Any:
        """Test helper: what a client would get back."""
        if not isinstance(request, self.srv_type.Request):
            raise TypeError(f'Expected {self.srv_type.Request}, got {type(request)}')
        response = self.callback(request, self.srv_type.Response())
        if not isinstance(response, self.srv_type.Response):
            raise TypeError(
                f'service callback returned {type(response)}, not {self.srv_type.Response}'
            )
        return response


class Client:
    """A recorded service client; tests see ``requests`` and answer with :meth:`respond`."""

    def __init__(self, srv_type: type, srv_name: str, qos: QoSProfile) -> None:
        """Record the endpoint; ``ready`` says whether the service is available."""
        self.srv_type = srv_type
        self.srv_name = srv_name
        self.qos_profile = qos
        self.ready = True
        self.requests: list[tuple[Any, Future]] = []

    def call_async(self, request: Any) -> Future:
        """Send a request; the future completes when a test responds."""
        if not isinstance(request, self.srv_type.Request):
            raise TypeError(f'Expected {self.srv_type.Request}, got {type(request)}')
        future = Future()
        self.requests.append((request, future))
        return future

    def service_is_ready(self) -> bool:
        """Whether a server is there."""
        return self.ready

    def wait_for_service(self, timeout_sec: float | None = None) -> bool:
        """Never blocks in the double."""
        return self.ready

    def respond(self, **fields: Any) -> None:
        """Test helper: answer the oldest open request."""
        for _, future in self.requests:
            if not future.done():
                future.set_result(self.srv_type.Response(**fields))
                return
        raise AssertionError(f'no open request on {self.srv_name}')


class Timer:
    """A recorded timer; tests call :meth:`fire` where an executor would call it.

    rcl/src/rcl/timer.c (humble; jazzy alike): a timer is ready once its clock reaches its
    next call time, first one period after its creation, then moved on by whole periods per
    call. So a timer on the ROS clock of a node with use_sim_time, which stands at zero until
    /clock arrives (rclpy/time_source.py), never fires before the first /clock message. On a
    clock not following /clock the double leaves the timing to the test: fire() always runs.
    """

    def __init__(self, period_s: float, callback: Callable, clock: Clock) -> None:
        """Record period, callback and clock."""
        self.timer_period_ns = int(period_s * 1e9)
        self.callback = callback
        self.cancelled = False
        self._clock = clock
        self._next_call_ns = clock.now().nanoseconds + self.timer_period_ns

    @property
    def clock(self) -> Clock:
        """The clock the timer runs on."""
        return self._clock

    def _on_ros_time(self) -> bool:
        return isinstance(self._clock, ROSClock) and self._clock.ros_time_is_active

    def is_ready(self) -> bool:
        """Whether an executor would call it now (see the class docstring)."""
        if self.cancelled:
            return False
        return not self._on_ros_time() or self._clock.now().nanoseconds >= self._next_call_ns

    def is_canceled(self) -> bool:
        """Whether cancelled."""
        return self.cancelled

    def fire(self) -> Any:
        """Test helper: run the callback once if the timer is ready, else return None."""
        if not self.is_ready():
            return None
        if self._on_ros_time():  # rcl_timer_call: the next call time moves by whole periods
            now, period = self._clock.now().nanoseconds, self.timer_period_ns
            self._next_call_ns += period
            if self._next_call_ns < now:
                self._next_call_ns += (1 + (now - self._next_call_ns - 1) // period) * period
        return self.callback()

    def cancel(self) -> None:
        """Stop the timer."""
        self.cancelled = True


class Node:
    """The rclpy Node API common to Humble and Jazzy."""

    PARAM_REL_TOL = 1e-6

    def __init__(
        self,
        node_name: str,
        *,
        context: Context | None = None,
        cli_args: list[str] | None = None,
        namespace: str | None = None,
        use_global_arguments: bool = True,
        enable_rosout: bool = True,
        start_parameter_services: bool = True,
        parameter_overrides: list[Parameter] | None = None,
        allow_undeclared_parameters: bool = False,
        automatically_declare_parameters_from_overrides: bool = False,
    ) -> None:
        """Create the node; rclpy.init must have been called."""
        self._context = context or default_context()
        if not self._context.ok():
            raise NotInitializedException('cannot create node')
        if not _NODE_NAME.match(node_name):
            raise ValueError(f'invalid node name {node_name!r}')
        # rclpy node.py and node.cpp: --ros-args of rclpy.init (global) then of cli_args: name
        # and namespace remaps, and the parameters whose node key matches the remapped fully
        # qualified name (the rules and their sources: rclpy/_ros_args.py)
        sources = [_ros_args.parse(self._context.args)] if use_global_arguments else []
        sources.append(_ros_args.parse(cli_args))
        ns = namespace or '/'
        self._name, ns = _ros_args.remapped_name(
            sources, node_name, ns if ns.startswith('/') else '/' + ns
        )
        self._namespace = ns
        self._parameters: dict[str, Parameter] = {}
        self._descriptors: dict[str, Any] = {}
        fqn = _ros_args.fully_qualified_name(self._name, self._namespace)
        self._overrides = {
            k: Parameter(k, value=v) for k, v in _ros_args.node_overrides(sources, fqn).items()
        }
        self._overrides.update({p.name: p for p in (parameter_overrides or [])})
        self._allow_undeclared = allow_undeclared_parameters
        self._callbacks: list[Callable] = []
        self._publishers: list[Publisher] = []
        self._subscriptions: list[Subscription] = []
        self._services: list[Service] = []
        self._clients: list[Client] = []
        self._timers: list[Timer] = []
        self._clock = ROSClock()
        self._logger = get_logger(node_name)
        self.destroyed = False
        if automatically_declare_parameters_from_overrides:
            for name, p in self._overrides.items():
                if name not in self._parameters:
                    self.declare_parameter(name, p.value)
        # rclpy/node.py (humble and jazzy): a TimeSource declares use_sim_time and, when it is
        # true, drives the node clock from /clock (zero until the first message)
        self._time_source = TimeSource(node=self)
        self._time_source.attach_clock(self._clock)

    # -- identity --------------------------------------------------------------------------
    @property
    def context(self) -> Context:
        """The context."""
        return self._context

    def get_name(self) -> str:
        """Node name."""
        return self._name

    def get_namespace(self) -> str:
        """Node namespace."""
        return self._namespace

    def get_logger(self):
        """The node's logger."""
        return self._logger

    def get_clock(self) -> ROSClock:
        """The node's clock."""
        return self._clock

    # -- parameters ------------------------------------------------------------------------
    def declare_parameter(
        self,
        name: str,
        value: Any = None,
        descriptor: ParameterDescriptor | None = None,
        ignore_override: bool = False,
    ) -> Parameter:
        """Declare one parameter (overrides, types, ranges and callbacks as in rclpy)."""
        return self.declare_parameters(
            '', [(name, value, descriptor or ParameterDescriptor())], ignore_override
        )[0]

    def declare_parameters(
        self, namespace: str, parameters: list[tuple], ignore_override: bool = False
    ) -> list[Parameter]:
        """Declare several parameters."""
        out = []
        for entry in parameters:
            name = f'{namespace}.{entry[0]}' if namespace else entry[0]
            value = entry[1] if len(entry) > 1 else None
            descriptor = entry[2] if len(entry) > 2 else ParameterDescriptor()
            if name in self._parameters:
                raise ParameterAlreadyDeclaredException(name)
            if isinstance(value, Parameter.Type):
                type_, value = value, None
            else:
                type_ = Parameter.Type.from_parameter_value(value)
            if not ignore_override and name in self._overrides:
                override = self._overrides[name].value
                if (
                    not descriptor.dynamic_typing
                    and type_ != Parameter.Type.NOT_SET
                    and Parameter.Type.from_parameter_value(override) != type_
                ):
                    raise InvalidParameterTypeException(
                        f"Trying to set parameter '{name}' to '{override}' of type "
                        f"'{Parameter.Type.from_parameter_value(override).name}', expecting "
                        f"type '{type_.name}'"
                    )
                value = override
            param = Parameter(name, Parameter.Type.from_parameter_value(value), value)
            reason = self._range_error(descriptor, param)
            if reason:
                raise InvalidParameterValueException(f'{name}: {reason}')
            result = self._run_callbacks([param])
            if not result.successful:
                raise InvalidParameterValueException(f'{name}: {result.reason}')
            self._parameters[name] = param
            self._descriptors[name] = descriptor
            out.append(param)
        return out

    @staticmethod
    def _range_error(descriptor: Any, param: Parameter) -> str:
        v = param.value
        if descriptor.floating_point_range and isinstance(v, float):
            r = descriptor.floating_point_range[0]
            if not (
                r.from_value <= v <= r.to_value
                or math.isclose(v, r.from_value)
                or math.isclose(v, r.to_value)
            ):
                return f'{v} is outside [{r.from_value}, {r.to_value}]'
        if descriptor.integer_range and isinstance(v, int) and not isinstance(v, bool):
            r = descriptor.integer_range[0]
            if not r.from_value <= v <= r.to_value:
                return f'{v} is outside [{r.from_value}, {r.to_value}]'
        return ''

    def _run_callbacks(self, params: list[Parameter]) -> Any:
        for cb in self._callbacks:
            result = cb(params)
            if not isinstance(result, SetParametersResult):
                raise TypeError('on-set parameters callback must return SetParametersResult')
            if not result.successful:
                return result
        return SetParametersResult(successful=True)

    def has_parameter(self, name: str) -> bool:
        """Whether declared."""
        return name in self._parameters

    def get_parameter(self, name: str) -> Parameter:
        """A declared parameter."""
        if name not in self._parameters:
            raise ParameterNotDeclaredException(name)
        return self._parameters[name]

    def get_parameters(self, names: list[str]) -> list[Parameter]:
        """Several declared parameters."""
        return [self.get_parameter(n) for n in names]

    def get_parameter_or(self, name: str, alternative_value: Parameter | None = None) -> Parameter:
        """A parameter, or the alternative when undeclared."""
        if name in self._parameters:
            return self._parameters[name]
        return alternative_value if alternative_value is not None else Parameter(name)

    def describe_parameter(self, name: str) -> Any:
        """The descriptor given at declaration."""
        if name not in self._descriptors:
            raise ParameterNotDeclaredException(name)
        return self._descriptors[name]

    def set_parameters(self, parameter_list: list[Parameter]) -> list[Any]:
        """Set parameters one by one; each gets a SetParametersResult, as in rclpy."""
        results = []
        for p in parameter_list:
            if p.name not in self._parameters and not self._allow_undeclared:
                raise ParameterNotDeclaredException(p.name)
            old = self._parameters.get(p.name)
            desc = self._descriptors.get(p.name, ParameterDescriptor())
            if desc.read_only:
                results.append(
                    SetParametersResult(
                        successful=False, reason=f'Trying to set a read-only parameter: {p.name}.'
                    )
                )
                continue
            if (
                old is not None
                and not desc.dynamic_typing
                and old.type_ != Parameter.Type.NOT_SET
                and p.type_ != old.type_
            ):
                # rclpy node.py _apply_descriptor (humble and jazzy): a failed result, no raise
                # (only declare_parameter raises, through raise_on_failure)
                results.append(
                    SetParametersResult(
                        successful=False,
                        reason=f'Wrong parameter type, expected '
                        f"'Type.{old.type_.name}' got 'Type.{p.type_.name}'",
                    )
                )
                continue
            reason = self._range_error(desc, p)
            if reason:
                results.append(SetParametersResult(successful=False, reason=reason))
                continue
            result = self._run_callbacks([p])
            if result.successful:
                self._parameters[p.name] = p
            results.append(result)
        return results

    def add_on_set_parameters_callback(self, callback: Callable[[list[Parameter]], Any]) -> None:
        """Add a validation callback (run on declare and set)."""
        self._callbacks.insert(0, callback)

    def remove_on_set_parameters_callback(self, callback: Callable) -> None:
        """Remove a callback."""
        self._callbacks.remove(callback)

    # -- entities --------------------------------------------------------------------------
    def create_publisher(
        self,
        msg_type: type,
        topic: str,
        qos_profile: QoSProfile | int,
        *,
        callback_group: Any = None,
        event_callbacks: Any = None,
        qos_overriding_options: Any = None,
        publisher_class: type = Publisher,
    ) -> Publisher:
        """Record a publisher."""
        _check_msg_type(msg_type)
        _check_topic(topic)
        pub = Publisher(msg_type, topic, _qos(qos_profile))
        self._publishers.append(pub)
        return pub

    def create_subscription(
        self,
        msg_type: type,
        topic: str,
        callback: Callable,
        qos_profile: QoSProfile | int,
        *,
        callback_group: Any = None,
        event_callbacks: Any = None,
        qos_overriding_options: Any = None,
        raw: bool = False,
    ) -> Subscription:
        """Record a subscription."""
        _check_msg_type(msg_type)
        _check_topic(topic)
        if not callable(callback):
            raise TypeError('callback must be callable')
        sub = Subscription(msg_type, topic, callback, _qos(qos_profile), raw)
        self._subscriptions.append(sub)
        return sub

    def create_service(
        self,
        srv_type: type,
        srv_name: str,
        callback: Callable,
        *,
        qos_profile: QoSProfile = qos_profile_services_default,
        callback_group: Any = None,
    ) -> Service:
        """Record a service."""
        if not hasattr(srv_type, 'Request') or not hasattr(srv_type, 'Response'):
            raise TypeError(f'{srv_type!r} is not a service type')
        _check_topic(srv_name)
        srv = Service(srv_type, srv_name, callback, qos_profile)
        self._services.append(srv)
        return srv

    def create_client(
        self,
        srv_type: type,
        srv_name: str,
        *,
        qos_profile: QoSProfile = qos_profile_services_default,
        callback_group: Any = None,
    ) -> Client:
        """Record a service client."""
        if not hasattr(srv_type, 'Request') or not hasattr(srv_type, 'Response'):
            raise TypeError(f'{srv_type!r} is not a service type')
        _check_topic(srv_name)
        client = Client(srv_type, srv_name, qos_profile)
        self._clients.append(client)
        return client

    def create_timer(
        self,
        timer_period_sec: float,
        callback: Callable,
        callback_group: Any = None,
        clock: Any = None,
    ) -> Timer:
        """Record a timer, on the node's clock unless ``clock`` is given (as rclpy)."""
        if timer_period_sec <= 0:
            raise ValueError('timer period must be positive')
        if clock is not None and not isinstance(clock, Clock):
            raise TypeError(f'clock must be an rclpy.clock.Clock, got {type(clock)}')
        timer = Timer(timer_period_sec, callback, self._clock if clock is None else clock)
        self._timers.append(timer)
        return timer

    @property
    def publishers(self) -> list[Publisher]:
        """Publishers created on this node."""
        return list(self._publishers)

    @property
    def subscriptions(self) -> list[Subscription]:
        """Subscriptions created on this node."""
        return list(self._subscriptions)

    @property
    def services(self) -> list[Service]:
        """Services created on this node."""
        return list(self._services)

    @property
    def clients(self) -> list[Client]:
        """Service clients created on this node."""
        return list(self._clients)

    @property
    def timers(self) -> list[Timer]:
        """Timers created on this node."""
        return list(self._timers)

    def destroy_publisher(self, publisher: Publisher) -> bool:
        """Forget a publisher of this node; False if it is not one (rclpy node.py)."""
        if publisher not in self._publishers:
            return False
        self._publishers.remove(publisher)
        return True

    def destroy_subscription(self, subscription: Subscription) -> bool:
        """Forget a subscription of this node; False if it is not one (rclpy node.py)."""
        if subscription not in self._subscriptions:
            return False
        self._subscriptions.remove(subscription)
        return True

    def destroy_node(self) -> None:
        """Release everything."""
        self.destroyed = True
