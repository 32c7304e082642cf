"""app_node: the owner's app, served by the robot on the local network.

A thin adapter: the robot's operator,
:class:`~mower_integrations.operator_node.RosOperator` (the stack's topics and services, the
lawn map of ``map_file`` and the plan on ``coverage/plan``; the same one Home Assistant's
bridge uses), handed to the app (:func:`~mower_app.server.create_app`), which
:class:`~mower_app.serve.AppServer` serves from a background thread from construction on, at
``host:port``, until the node is destroyed. The operator also subscribes to what the app
draws besides the status (``views``: ``segmentation/overlay``, ``map/coverage``,
``map/obstacles``). Commands from the page are queued by the server's thread and carried out
on the operator's timer; their results are logged. A map the owner saves goes out on
``map/lawn`` (latched), which the stack's nodes follow; at start, the last saved version is
sent again when it differs from ``map_file``'s map, so a restart keeps the owner's map.

A taken address or no owner password in ``password_file`` (``mower app password --file``)
ends the node at start with one line and exit status 1.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rclpy.node import Node

from mower_app.auth import PasswordError, PasswordNotSetError, password_is_set
from mower_app.node_params import NODE_PARAMETERS, AppParams
from mower_app.serve import AppServer, AppServerError
from mower_app.server import create_app
from mower_control.parameters import build, declare
from mower_integrations.operator_node import RosOperator
from mower_maps import MapError
from mower_node_kit.main import run_node
from mower_node_kit.params import Spec

EXTRA = {name: Spec(*raw) for name, raw in NODE_PARAMETERS.items()}


class AppNode(Node):
    """The owner's app over the stack's topics and services."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, check the password file, create the operator, serve the app.

        Raises PasswordNotSetError (no password file), MapError (a bad ``map_file``) and
        AppServerError (the address is taken or cannot be served).
        """
        super().__init__('app_node', **kwargs)
        self.p = p = declare(self, AppParams, EXTRA)
        # the owner's last saved map is put in force at start (map/lawn): it outlives map_file
        settings = replace(build(AppParams, p).settings(), saved_map_first=True)
        path = settings.password_file
        if not password_is_set(path):
            raise PasswordNotSetError(
                f'no owner password in {path}: set one with `mower app password --file {path}`'
            )
        self.operator = RosOperator(self, p['pose_topic'], p['map_file'], p['poll_s'], views=True)
        self.server = AppServer(
            create_app(self.operator, settings), settings.host, settings.port, settings.tls
        )
        url = self.server.start()
        self.get_logger().info(
            f"the owner's app: {url} (listening on {settings.host}:{self.server.port})"
        )

    def destroy_node(self) -> None:
        """Stop serving (open live sockets are closed), then go."""
        self.server.stop()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_app app_node``."""
    return run_node(AppNode, args, startup_errors=(PasswordError, MapError, AppServerError))


if __name__ == '__main__':
    main()
