"""Lifecycle transitions in the double: a callback that raises gives ERROR, as in rclpy.

rclpy/lifecycle/node.py (``__execute_callback``, ``__change_state``; humble and jazzy) and
rcl_lifecycle's default state machine.
"""

from __future__ import annotations

import pytest


def managed(**behaviour):
    """A lifecycle node whose on_<name> callbacks return (or raise) what ``behaviour`` says."""
    from rclpy.lifecycle import Node

    class Managed(Node):
        def __init__(self) -> None:
            super().__init__('managed')
            self.calls: list[str] = []

        def outcome(self, name: str):
            self.calls.append(f'on_{name}')
            result = behaviour[name]
            if isinstance(result, Exception):
                raise result
            return result

    for name in behaviour:
        setattr(Managed, f'on_{name}', lambda self, state, name=name: self.outcome(name))
    return Managed()


def test_an_exception_in_configure_is_an_error_result_not_a_crash(ros):
    from rclpy.lifecycle import TransitionCallbackReturn as R

    node = managed(configure=RuntimeError('boom'))
    assert node.trigger_configure() == R.ERROR
    assert node.current_state.label == 'unconfigured'  # the default on_error: SUCCESS


def test_on_error_decides_unconfigured_or_finalized(ros):
    from rclpy.lifecycle import TransitionCallbackReturn as R

    node = managed(activate=ValueError('no device'), error=R.SUCCESS)
    assert node.trigger_configure() == R.SUCCESS
    assert node.trigger_activate() == R.ERROR
    assert node.calls == ['on_activate', 'on_error']
    assert node.current_state.label == 'unconfigured'
    broken = managed(configure=R.ERROR, error=RuntimeError('worse'))
    assert broken.trigger_configure() == R.ERROR
    assert broken.current_state.label == 'finalized'


def test_failure_keeps_the_state_and_shutdown_finalizes(ros):
    from rclpy.lifecycle import TransitionCallbackReturn as R

    node = managed(configure=R.FAILURE)
    assert node.trigger_configure() == R.FAILURE
    assert node.current_state.label == 'unconfigured'
    assert node.trigger_shutdown() == R.SUCCESS
    assert node.current_state.label == 'finalized'
    with pytest.raises(RuntimeError):
        node.trigger_shutdown()
    odd = managed(configure=None)
    with pytest.raises(TypeError):
        odd.trigger_configure()  # not a TransitionCallbackReturn: rclpy fails too
