"""mqtt_bridge_node: the robot in Home Assistant, over MQTT.

A thin adapter: the robot's :class:`~mower_control.operator.Operator`,
:class:`~mower_integrations.operator_node.RosOperator` (the stack's topics and services, shared
with the owner's app), handed to :class:`~mower_integrations.ha_mqtt.HaBridge` (the same bridge
``mower sim --mqtt`` runs against the simulator).

The operator subscribes to ``mower/state``, the pose (``pose_topic``), ``battery``,
``mower/blade``, ``safety/status`` and ``coverage/plan``; commands from the broker are queued
by the MQTT thread and carried out on the operator's timer (``mower/start|pause|resume|dock``,
``mower/emergency_stop``, a zone through ``coverage/zone``); what became of each goes to
``<topic_prefix>/command_result``.
"""

from __future__ import annotations

from typing import Any

from rclpy.node import Node

from mower_control.parameters import build, declare
from mower_integrations.ha_mqtt import NODE_PARAMETERS, BridgeError, HaBridge, MqttSettings
from mower_integrations.operator_node import RosOperator
from mower_maps import MapError
from mower_node_kit.main import run_node
from mower_node_kit.params import Spec

EXTRA = {name: Spec(*raw) for name, raw in NODE_PARAMETERS.items()}


class MqttBridgeNode(Node):
    """The robot's operator for Home Assistant: topics and services in, MQTT out."""

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        """Declare parameters, create the operator's endpoints, connect (in the background).

        ``client``: a paho-mqtt client to use instead of one made from the parameters.
        """
        super().__init__('mqtt_bridge_node', **kwargs)
        self.p = p = declare(self, MqttSettings, EXTRA)
        settings = build(MqttSettings, p)
        try:
            self.operator = RosOperator(self, p['pose_topic'], p['map_file'], p['poll_s'])
        except MapError as exc:
            raise SystemExit(f'mqtt_bridge_node: {exc}') from exc
        self.bridge = HaBridge(settings, self.operator, client=client, log=_Logger(self))
        self.operator.on_result = self.bridge.publish_result
        self.bridge.start(p['poll_s'])

    def destroy_node(self) -> None:
        """Say offline to the broker, then go."""
        self.bridge.stop()
        super().destroy_node()


class _Logger:
    """The node's logger with the standard library's method names the bridge calls."""

    def __init__(self, node: Node) -> None:
        self._log = node.get_logger()

    def info(self, msg: str) -> None:
        self._log.info(msg)

    def warning(self, msg: str) -> None:
        self._log.warning(msg)


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_integrations mqtt_bridge_node``."""
    return run_node(MqttBridgeNode, args, startup_errors=(BridgeError,))


if __name__ == '__main__':
    main()
