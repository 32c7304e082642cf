"""Parameters of the control nodes: declared once from the core's dataclasses.

Each node declares the fields of its core's parameter dataclass (FollowerParams, SafetyParams,
MissionParams, DriverParams) plus its own, read-only, with the description of the dataclass's
field metadata (mower_node_kit.params), and builds the dataclass from the values; a bad value
fails start-up with the dataclass's own message. The simulator's closed loop builds the same
dataclasses from the same config/*.yaml files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mower_node_kit.params import declare as declare_specs
from mower_node_kit.params import field_specs, from_values


def build(cls: type, values: dict[str, Any]) -> Any:
    """The dataclass from a dict of parameter values (other keys are ignored)."""
    return from_values(cls, values)


def key_matches(key: str, fqn: str) -> bool:
    r"""Whether a parameter file's node key applies to the node ``fqn``.

    As rclpy and rclcpp decide (rclpy ``src/rclpy/node.cpp``, rclcpp ``parameter_map.cpp``;
    Humble and Jazzy): a leading ``/`` added, each ``/*`` read as ``(/\w+)``, the whole name
    matched. So ``/**/mapping_node`` applies in any namespace, ``mapping_node`` in the root
    namespace only.
    """
    name = key if key.startswith('/') else '/' + key
    return re.fullmatch(name.replace('/*', r'(/\w+)'), fqn, flags=re.ASCII) is not None


def node_yaml(path: str | Path, node: str, namespace: str = '/') -> dict[str, Any]:
    """The ``ros__parameters`` a file gives one node, merged over its matching keys in order."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    fqn = namespace.rstrip('/') + '/' + node
    out: dict[str, Any] = {}
    found = False
    for key, body in (data.items() if isinstance(data, dict) else ()):
        if isinstance(body, dict) and 'ros__parameters' in body and \
                key_matches(str(key), fqn):
            out.update(body['ros__parameters'] or {})
            found = True
    if not found:
        raise ValueError(f'{path}: no ros__parameters section for {fqn}')
    return out


def declare(node: Any, cls: type | None, extra: dict[str, tuple[Any, str]]) -> dict[str, Any]:
    """Declare a node's parameters (read-only, described); return name -> value."""
    return declare_specs(node, {**(field_specs(cls) if cls is not None else {}), **extra})
