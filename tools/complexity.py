#!/usr/bin/env python3
"""Complexity gate: ruff's mccabe rule (C901) against a baseline that may only shrink.

`python tools/complexity.py` runs `ruff check --select C901` (the limit is
[tool.ruff.lint.mccabe] max-complexity in pyproject.toml) and compares the functions over the
limit with tools/complexity_baseline.json ({"file::function": complexity}). It fails (exit 1)
when a baselined function got more complex or a function not in the baseline is over the
limit; it prints the ones that went down. `--update` / `--force` work as in tools/typecheck.py
(same comparison code). Functions of the same name in one file add up under one key.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / 'tools' / 'complexity_baseline.json'
_MESSAGE = re.compile(r'`(?P<name>[^`]+)` is too complex \((?P<value>\d+) > \d+\)')


def _typecheck() -> ModuleType:
    """Load the sibling tools/typecheck.py (tools/ is not a package)."""
    path = Path(__file__).with_name('typecheck.py')
    spec = importlib.util.spec_from_file_location('mower_tools_typecheck', path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def count_complexity(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Map ruff's C901 JSON records to {"file::function": complexity}."""
    counts: dict[str, int] = {}
    for record in records:
        if record.get('code') != 'C901':
            continue
        match = _MESSAGE.search(record['message'])
        if match is None:
            raise ValueError(f'unexpected C901 message: {record["message"]!r}')
        path = Path(record['filename'])
        if path.is_absolute() and path.is_relative_to(ROOT):
            path = path.relative_to(ROOT)
        key = f'{path.as_posix()}::{match["name"]}'
        counts[key] = counts.get(key, 0) + int(match['value'])
    return counts


def run_ruff() -> dict[str, int]:
    """Run ruff's C901 check on the tree and return the complexity per offending function."""
    proc = subprocess.run(
        [
            sys.executable,
            '-m',
            'ruff',
            'check',
            '--select',
            'C901',
            '--output-format',
            'json',
            '--exit-zero',
            '.',
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f'ruff failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}')
    return count_complexity(json.loads(proc.stdout))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the complexity gate."""
    typecheck = _typecheck()
    args = typecheck.parse_args(
        argv, 'ruff C901 against tools/complexity_baseline.json (may only shrink)'
    )
    try:
        current = run_ruff()
    except (RuntimeError, ValueError) as exc:
        print(f'complexity: {exc}', file=sys.stderr)
        return 2
    return typecheck.gate(
        'complexity',
        args.baseline or BASELINE,
        current,
        args.update,
        args.force,
        what='complexity',
    )


if __name__ == '__main__':
    sys.exit(main())
