"""``mower sim --mqtt``: the simulated mower in Home Assistant (the options and the bridge).

The simulated run waits on the dock for commands from Home Assistant and goes on until Ctrl-C
(or ``--limit-s``); the bridge is the robot's (:class:`mower_integrations.ha_mqtt.HaBridge`),
its settings read from the node's parameter file (``--mqtt-config``, default
config/mqtt_bridge.yaml), then the options here.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mower_cli.arg_types import host_port

__all__ = ['add_mqtt_options', 'mqtt_bridge', 'mqtt_settings']


def add_mqtt_options(p: argparse.ArgumentParser) -> None:
    """``--mqtt``, ``--mqtt-config``, ``--mqtt-prefix``, ``--mqtt-name``."""
    p.add_argument(
        '--mqtt',
        nargs='?',
        const=('', 0),
        type=host_port('', 0),  # '' / 0: the --mqtt-config file's
        default=None,
        metavar='HOST[:PORT]',
        help='Home Assistant over MQTT: wait on the dock for commands from the broker '
        "(default: the --mqtt-config file's host and port) until Ctrl-C",
    )
    p.add_argument(
        '--mqtt-config',
        default=None,
        metavar='FILE',
        help="the bridge's parameter file (default: config/mqtt_bridge.yaml)",
    )
    p.add_argument('--mqtt-prefix', default=None, help="this mower's topic prefix")
    p.add_argument('--mqtt-name', default=None, help='the device name Home Assistant shows')


def mqtt_settings(args: argparse.Namespace) -> Any:
    """The bridge settings: the parameter file, then the options; BridgeError / ConfigError."""
    from mower_bringup import share_dir
    from mower_control.parameters import node_yaml
    from mower_integrations.ha_mqtt import MqttSettings
    from mower_node_kit.params import from_values

    path = Path(args.mqtt_config or share_dir() / 'config' / 'mqtt_bridge.yaml')
    values = dict(node_yaml(path, 'mqtt_bridge_node'))
    host, port = args.mqtt
    overrides = {
        'host': host or None,
        'port': port or None,
        'topic_prefix': args.mqtt_prefix,
        'device_name': args.mqtt_name,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return from_values(MqttSettings, values, path)


@contextlib.contextmanager
def mqtt_bridge(args: argparse.Namespace, operator: Any) -> Iterator[Any]:
    """With ``--mqtt``: ``operator`` bridged to the broker while the block runs.

    ``operator``: the run's SimOperator. Yields the bridge (None without ``--mqtt``).
    """
    if args.mqtt is None:
        yield None
        return
    from mower_integrations.ha_mqtt import HaBridge

    settings = mqtt_settings(args)
    bridge = HaBridge(settings, operator)
    bridge.start()
    print(
        f'Home Assistant: MQTT broker {settings.host}:{settings.port}, topics '
        f'{settings.topic_prefix}/..., discovery under {settings.discovery_prefix}/ '
        f'(device {settings.device_name!r}); waiting on the dock for commands (Ctrl-C ends)',
        flush=True,
    )
    try:
        yield bridge
    finally:
        bridge.stop()
