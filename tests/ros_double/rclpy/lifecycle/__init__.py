"""rclpy.lifecycle double: LifecycleNode, its states and transitions, lifecycle publishers.

Follows rclpy's managed-node semantics: ``trigger_configure()`` and friends run the
``on_<transition>`` callbacks; the default callbacks activate and deactivate the node's
lifecycle publishers (so an override must call ``super()``); a lifecycle publisher drops what
it is given while inactive. An exception raised in a callback does not propagate: it makes the
transition's result ERROR, then ``on_error`` decides between unconfigured and finalized
(rclpy/lifecycle/node.py ``__execute_callback`` and ``__change_state``, humble and jazzy; the
states of rcl_lifecycle/src/default_state_machine.c).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple

from rclpy.node import Node as _Node
from rclpy.node import Publisher as _Publisher


class TransitionCallbackReturn(IntEnum):
    """What an on_<transition> callback returns."""

    SUCCESS = 97
    FAILURE = 98
    ERROR = 99


class LifecycleState(NamedTuple):
    """A primary state."""

    label: str
    state_id: int


UNCONFIGURED = LifecycleState('unconfigured', 1)
INACTIVE = LifecycleState('inactive', 2)
ACTIVE = LifecycleState('active', 3)
FINALIZED = LifecycleState('finalized', 4)


class LifecyclePublisher(_Publisher):
    """Publishes only while activated (a message given while inactive is dropped)."""

    def __init__(self, *args: Any) -> None:
        """Inactive until the node activates."""
        super().__init__(*args)
        self.activated = False
        self.dropped = 0

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start publishing."""
        self.activated = True
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop publishing."""
        self.activated = False
        return TransitionCallbackReturn.SUCCESS

    def publish(self, msg: Any) -> None:
        """Publish when active, else drop."""
        if not self.activated:
            self.dropped += 1
            return
        super().publish(msg)


class LifecycleNode(_Node):
    """A managed node."""

    def __init__(
        self, node_name: str, *, enable_communication_interface: bool = True, **kwargs: Any
    ) -> None:
        """As rclpy.node.Node, starting unconfigured."""
        super().__init__(node_name, **kwargs)
        self._state = UNCONFIGURED
        self._managed: list[LifecyclePublisher] = []

    @property
    def current_state(self) -> LifecycleState:
        """Test helper: the primary state."""
        return self._state

    def create_lifecycle_publisher(
        self,
        msg_type: type,
        topic: str,
        qos_profile: Any,
        *,
        callback_group: Any = None,
        event_callbacks: Any = None,
        qos_overriding_options: Any = None,
        **kwargs: Any,
    ) -> LifecyclePublisher:
        """A publisher managed by the node's activation."""
        # rclpy/lifecycle/node.py (humble and jazzy) passes its own publisher_class
        if 'publisher_class' in kwargs:
            raise TypeError(
                "create_publisher() got an unexpected keyword argument 'publisher_class'"
            )
        if kwargs:
            raise TypeError(f'create_publisher() got unexpected keyword arguments {kwargs}')
        pub = self.create_publisher(
            msg_type, topic, qos_profile, publisher_class=LifecyclePublisher
        )
        pub.__class__ = LifecyclePublisher
        pub.activated = False
        pub.dropped = 0
        self._managed.append(pub)
        return pub

    def destroy_lifecycle_publisher(self, publisher: LifecyclePublisher) -> bool:
        """No longer managed, and destroyed (rclpy/lifecycle/node.py)."""
        if publisher in self._managed:
            self._managed.remove(publisher)
        return self.destroy_publisher(publisher)

    # default callbacks, as rclpy: activate/deactivate the managed entities
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Default: succeed."""
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Default: succeed."""
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Default: succeed."""
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Default: activate the lifecycle publishers."""
        for p in self._managed:
            p.on_activate(state)
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Default: deactivate the lifecycle publishers."""
        for p in self._managed:
            p.on_deactivate(state)
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Default: succeed (back to unconfigured)."""
        return TransitionCallbackReturn.SUCCESS

    def _run(self, name: str, previous: LifecycleState) -> TransitionCallbackReturn:
        # rclpy's __execute_callback: any Exception from the callback is ERROR (not logged)
        try:
            result = getattr(self, f'on_{name}')(previous)
        except Exception:
            return TransitionCallbackReturn.ERROR
        if not isinstance(result, TransitionCallbackReturn):
            raise TypeError(f'on_{name} must return a TransitionCallbackReturn')
        return result

    def _change_state(
        self,
        name: str,
        sources: tuple[LifecycleState, ...],
        on_success: LifecycleState,
        on_failure: LifecycleState,
    ) -> TransitionCallbackReturn:
        previous = self._state
        if previous not in sources:
            raise RuntimeError(f'{name} transition not possible from {previous.label}')
        result = self._run(name, previous)
        if result == TransitionCallbackReturn.SUCCESS:
            self._state = on_success
        elif result == TransitionCallbackReturn.FAILURE:
            self._state = on_failure
        else:  # errorprocessing: on_error SUCCESS -> unconfigured, else finalized
            recovered = self._run('error', previous) == TransitionCallbackReturn.SUCCESS
            self._state = UNCONFIGURED if recovered else FINALIZED
        return result

    def _trigger(
        self, name: str, source: LifecycleState, target: LifecycleState
    ) -> TransitionCallbackReturn:
        return self._change_state(name, (source,), target, source)

    def trigger_configure(self) -> TransitionCallbackReturn:
        """Unconfigured -> inactive."""
        return self._trigger('configure', UNCONFIGURED, INACTIVE)

    def trigger_activate(self) -> TransitionCallbackReturn:
        """Inactive -> active."""
        return self._trigger('activate', INACTIVE, ACTIVE)

    def trigger_deactivate(self) -> TransitionCallbackReturn:
        """Active -> inactive."""
        return self._trigger('deactivate', ACTIVE, INACTIVE)

    def trigger_cleanup(self) -> TransitionCallbackReturn:
        """Inactive -> unconfigured."""
        return self._trigger('cleanup', INACTIVE, UNCONFIGURED)

    def trigger_shutdown(self) -> TransitionCallbackReturn:
        """Unconfigured, inactive or active -> finalized (ERROR: through on_error)."""
        return self._change_state(
            'shutdown', (UNCONFIGURED, INACTIVE, ACTIVE), FINALIZED, FINALIZED
        )


Node = LifecycleNode
State = LifecycleState
Publisher = LifecyclePublisher

__all__ = ['LifecycleNode', 'LifecyclePublisher', 'LifecycleState']
