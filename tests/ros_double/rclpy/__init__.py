"""A strict test double of rclpy: only API that exists in both Humble and Jazzy.

Signatures follow rclpy's own source (rclpy/node.py, qos.py, parameter.py of the humble and
jazzy branches); a keyword that only one distribution has (Jazzy's ``enable_logger_service``,
``autostart``) is left out, so a node written against the double runs on both. Anything not
defined here raises AttributeError or TypeError, as calling a missing API would.

Instead of DDS, everything a node creates is recorded on the node (``node.publishers`` etc.),
and tests drive it: ``sub.deliver(msg)``, ``srv.call(request)``, ``timer.fire()``.
"""

from __future__ import annotations

from typing import Any

from rclpy.context import Context, default_context

__all__ = ['create_node', 'init', 'ok', 'shutdown', 'spin', 'spin_once', 'try_shutdown']


def init(
    *,
    args: list[str] | None = None,
    context: Context | None = None,
    domain_id: int | None = None,
    signal_handler_options: Any = None,
) -> None:
    """Initialise the (default) context."""
    (context or default_context()).init(args)


def ok(*, context: Context | None = None) -> bool:
    """Whether the context is initialised and not shut down."""
    return (context or default_context()).ok()


def shutdown(*, context: Context | None = None, uninstall_handlers: bool | None = None) -> None:
    """Shut the context down; raises if it was not initialised, like rclpy."""
    (context or default_context()).shutdown()


def try_shutdown(*, context: Context | None = None) -> None:
    """Shut down if still running (rclpy/utilities.py: no ``uninstall_handlers`` here)."""
    ctx = context or default_context()
    if ctx.ok():
        ctx.shutdown()


def create_node(
    node_name: str,
    *,
    context: Context | None = None,
    cli_args: list[str] | None = None,
    namespace: str | None = None,
    use_global_arguments: bool = True,
    enable_rosout: bool = True,
    start_parameter_services: bool = True,
    parameter_overrides: list | None = None,
    allow_undeclared_parameters: bool = False,
    automatically_declare_parameters_from_overrides: bool = False,
):
    """Create a plain Node."""
    from rclpy.node import Node

    return Node(
        node_name,
        context=context,
        cli_args=cli_args,
        namespace=namespace,
        use_global_arguments=use_global_arguments,
        enable_rosout=enable_rosout,
        start_parameter_services=start_parameter_services,
        parameter_overrides=parameter_overrides,
        allow_undeclared_parameters=allow_undeclared_parameters,
        automatically_declare_parameters_from_overrides=(
            automatically_declare_parameters_from_overrides
        ),
    )


def spin(node, executor=None) -> None:
    """The double has no middleware: spinning returns at once (tests drive callbacks).

    A signal set with ``Context.signal_on_spin`` ends it as in rclpy: KeyboardInterrupt for
    SIGINT, ``rclpy.executors.ExternalShutdownException`` for SIGTERM.
    """
    if not ok(context=node.context):
        raise RuntimeError('rclpy.spin called without rclpy.init')
    from rclpy.executors import _wait

    _wait(node.context)


def spin_once(node, *, executor=None, timeout_sec: float | None = None) -> None:
    """Returns at once (see :func:`spin`)."""
    spin(node, executor)
