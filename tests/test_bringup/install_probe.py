"""Evaluate the installed launch files in this interpreter; print what they name, as JSON.

test_colcon_install.py runs it in a fresh interpreter whose PYTHONPATH and AMENT_PREFIX_PATH
are the install tree's, as ``source install/setup.bash`` sets them, with the ament_index double
(tests/ament_double) standing in for ROS's ament_index_python:

    python install_probe.py SCRATCH

It prints where our packages were imported from, the share directories ``share_dir`` found,
the shipped files that the ``mower`` command and the simulator's composition default to, and
for each launch file in the bringup's share directory the files it evaluated (itself and its
includes) and every absolute path it passes on (argument defaults, parameter files and values,
node arguments, commands), evaluated with the launch API double (``use_rviz:=true``).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from launch_graph import evaluate

PACKAGES = (
    'mower_bringup',
    'mower_maps',
    'mower_sim',
    'mower_description',
    'mower_offline',
    'mower_cli',
)
DEFAULTS = {  # module: the constants of the command line's defaults that name shipped files
    'mower_cli.main': ('DEMO_MAP',),
    'mower_offline.closed_loop': ('DEFAULT_MODEL',),
    'mower_offline.run': ('CONFIG',),
    'mower_offline.replay': ('CONFIG',),
}


def absolute_paths(value: Any) -> Iterator[str]:
    """Every whitespace-separated word starting with '/' in the strings inside ``value``."""
    if isinstance(value, str):
        yield from (w for w in value.split() if w.startswith('/'))
    elif isinstance(value, dict):
        for v in value.values():
            yield from absolute_paths(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from absolute_paths(v)


def probe(scratch: Path) -> dict[str, Any]:
    """What the installed packages and launch files resolve to."""
    from mower_bringup import share_dir

    share = share_dir()
    out: dict[str, Any] = {
        'modules': {p: importlib.import_module(p).__file__ for p in PACKAGES},
        'share': str(share),
        'description_share': str(share_dir('mower_description')),
        'defaults': {
            f'{m}.{name}': str(getattr(importlib.import_module(m), name))
            for m, names in DEFAULTS.items()
            for name in names
        },
        'launch': {},
    }
    for path in sorted((share / 'launch').glob('*.launch.py')):
        args = {
            'use_rviz': 'true',
            'world_dir': str(scratch / path.stem / 'gz'),
            'bag': str(scratch / path.stem / 'bag'),
        }
        ev = evaluate(path, args)
        named = set(absolute_paths([n.params for n in ev.nodes]))
        named |= set(absolute_paths([n.arguments for n in ev.nodes]))
        named |= set(absolute_paths(ev.processes))
        named |= set(
            absolute_paths(
                [
                    default
                    for file_args in ev.arguments.values()
                    for default, _ in file_args.values()
                ]
            )
        )
        out['launch'][path.name] = {'files': ev.files, 'named': sorted(named)}
    return out


if __name__ == '__main__':
    print(json.dumps(probe(Path(sys.argv[1]))))
