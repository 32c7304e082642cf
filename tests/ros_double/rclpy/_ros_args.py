r"""rcl's ``--ros-args`` and parameter files, and how rclpy picks a node's parameters from them.

The rules, from the sources of Humble and Jazzy (the same code in both: the humble and jazzy
branches of rclpy and launch_ros, rcl's humble branch and its 9.2.0 release, Jazzy's):

* rcl ``src/rcl/arguments.c`` (``rcl_parse_arguments``) reads the ROS arguments in command-line
  order into ONE ``rcl_params_t``: ``-p name:=value`` through ``_rcl_parse_param_rule`` (a rule
  without a ``node:`` prefix is filed under the node key ``/**``; the value is read as YAML by
  ``rcl_parse_yaml_value``), ``--params-file`` through ``_rcl_parse_param_file``
  (``rcl_parse_yaml_file``).
* rcl ``rcl_yaml_param_parser/src/parse.c``: a node key is the chain of YAML keys above
  ``ros__parameters`` joined with ``/`` (``namespace.c``, ``add_name_to_ns``), kept as written
  (``mapping_node`` and ``/mapping_node`` are two keys). ``find_node`` compares keys as strings
  and appends a key it has not seen, so keys stay in the order of their FIRST appearance over
  all sources; ``find_parameter`` overwrites a parameter of a key already there, so a later
  source wins only within the same key.
* rclpy ``src/rclpy/node.cpp`` (``_populate_node_parameters_from_rcl_params``; rclcpp's
  ``parameter_map.cpp`` does the same for C++ nodes such as robot_localization) walks the keys in
  that order, adds a leading ``/``, turns every ``/*`` into the regular expression ``(/\w+)`` (so
  ``/**`` becomes ``(/\w+)*``) and matches it against the whole fully qualified node name; every
  matching key updates the node's parameters in turn. Of two keys that both match, the one that
  first appeared later wins, whatever order the files come in: a ``/**`` key that appeared first
  (for example from launch_ros' ``SetParameter``, passed as ``-p`` before every file) loses to a
  node's own key even when the ``/**`` file is given after the node's file.
* rclpy ``node.py`` (``Node.__init__``): the global arguments (``rclpy.init(args=...)``) are read
  before the node's ``cli_args``, and the ``parameter_overrides`` argument updates the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARAMS_KEY = 'ros__parameters'
#: ROS arguments that take a value, and flags, that rcl knows (arguments.c); others are errors
_WITH_VALUE = {
    '-p',
    '--param',
    '--params-file',
    '-r',
    '--remap',
    '--log-level',
    '-e',
    '--enclave',
    '--log-config-file',
}
_FLAGS = {
    '--enable-rosout-logs',
    '--disable-rosout-logs',
    '--enable-stdout-logs',
    '--disable-stdout-logs',
    '--enable-external-lib-logs',
    '--disable-external-lib-logs',
}


@dataclass
class RosArgs:
    """What rcl keeps of a command line: the parameter table and the remapping rules."""

    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # node key -> name -> value
    remaps: list[tuple[str, str]] = field(default_factory=list)


def _value(value: Any, where: str) -> Any:
    """A YAML value as rcl keeps it: bool, int, float, str or a list of one of those."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        kinds = {type(v) for v in value}
        if len(kinds) > 1 or kinds - {bool, int, float, str}:
            raise ValueError(f'{where}: a parameter array holds one type only, got {value!r}')
        return value
    raise ValueError(f'{where}: {value!r} is not a parameter value')


def _flatten(body: dict, prefix: str, out: dict[str, Any], where: str) -> None:
    """Nested parameter names are joined with '.' (parse.c: PARAMETER_NS_SEPERATOR)."""
    for name, value in body.items():
        full = f'{prefix}.{name}' if prefix else str(name)
        if isinstance(value, dict):
            _flatten(value, full, out, where)
        else:
            out[full] = _value(value, f'{where}: {full}')


def add_document(args: RosArgs, doc: Any, where: str = '<yaml>') -> None:
    """Merge one parameter file's YAML document into the table (rcl_parse_yaml_file)."""

    def walk(node_key: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValueError(f'{where}: expected a map under {node_key!r}')
        for key, sub in body.items():
            if key == PARAMS_KEY:
                if not node_key:
                    raise ValueError(f'{where}: there are no node names before {PARAMS_KEY}')
                _flatten(sub or {}, '', args.params.setdefault(node_key, {}), where)
            else:
                sep = '' if not node_key or node_key.endswith('/') else '/'
                walk(f'{node_key}{sep}{key}', sub)

    walk('', doc or {})


def add_file(args: RosArgs, path: str | Path) -> None:
    """``--params-file PATH``."""
    add_document(args, yaml.safe_load(Path(path).read_text()), str(path))


def add_rule(args: RosArgs, rule: str) -> None:
    """``-p [node:]name:=value``; without a node prefix the key is ``/**``."""
    name, sep, text = rule.partition(':=')
    if not sep or not name:
        raise ValueError(f'invalid parameter rule {rule!r}')
    node_key = '/**'
    if ':' in name:
        node_key, name = name.rsplit(':', 1)
    args.params.setdefault(node_key, {})[name] = _value(yaml.safe_load(text), rule)


def parse(argv: list[str] | None) -> RosArgs:
    """The ROS arguments of a command line (between ``--ros-args`` and ``--`` or the end)."""
    args = RosArgs()
    argv = list(argv or [])
    i, ros = 0, False
    while i < len(argv):
        a = argv[i]
        if a == '--ros-args':
            ros = True
        elif a == '--':
            ros = False
        elif ros and a in _WITH_VALUE:
            if i + 1 >= len(argv):
                raise ValueError(f'{a} needs a value')
            v = argv[i + 1]
            if a in ('-p', '--param'):
                add_rule(args, v)
            elif a == '--params-file':
                add_file(args, v)
            elif a in ('-r', '--remap'):
                src, sep, dst = v.partition(':=')
                if not sep:
                    raise ValueError(f'invalid remapping rule {v!r}')
                args.remaps.append((src, dst))
            i += 1
        elif ros and a not in _FLAGS:
            raise ValueError(f'unknown ROS argument {a!r} (rclpy: UnknownROSArgsError)')
        i += 1
    return args


def key_matches(node_key: str, fqn: str) -> bool:
    """Whether a parameter file's node key applies to the node ``fqn`` (rclpy node.cpp)."""
    name = node_key if node_key.startswith('/') else '/' + node_key
    return re.fullmatch(name.replace('/*', r'(/\w+)'), fqn, flags=re.ASCII) is not None


def node_overrides(sources: list[RosArgs], fqn: str) -> dict[str, Any]:
    """The parameters a node named ``fqn`` starts with: each source's matching keys in order."""
    out: dict[str, Any] = {}
    for args in sources:
        for node_key, params in args.params.items():
            if key_matches(node_key, fqn):
                out.update(params)
    return out


def remapped_name(sources: list[RosArgs], name: str, namespace: str) -> tuple[str, str]:
    """The node's name and namespace after ``__node:=`` and ``__ns:=`` (node args win).

    A rule with a node prefix (``talker:__ns:=/x``) applies to that node only (rcl remap.c).
    """
    original = name
    for args in sources:
        for src, dst in args.remaps:
            prefix, _, key = src.rpartition(':')
            if prefix and prefix != original:
                continue
            if key == '__node':
                name = dst
            elif key == '__ns':
                namespace = dst
    return name, namespace


def fully_qualified_name(name: str, namespace: str) -> str:
    """``/ns/name`` (rcl_node_get_fully_qualified_name)."""
    ns = namespace if namespace.startswith('/') else '/' + namespace
    return ns.rstrip('/') + '/' + name
