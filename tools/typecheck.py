#!/usr/bin/env python3
"""Type-check gate: mypy against a baseline of error counts that may only shrink.

`python tools/typecheck.py` runs mypy (configured in pyproject.toml, [tool.mypy]), counts the
errors per file and compares them with tools/mypy_baseline.json ({file: count}). It fails
(exit 1) when a file has more errors than its baseline or a file not in the baseline has
errors; it prints the files whose count went down. `--update` rewrites the baseline with the
current counts, which is only allowed when no count went up (`--force` allows that too).

The comparison and update helpers are shared by tools/complexity.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / 'tools' / 'mypy_baseline.json'


@dataclass(frozen=True)
class Change:
    """The count of one key (a file, a function) in the baseline and now."""

    key: str
    before: int
    now: int


@dataclass
class Comparison:
    """How the current counts compare with the baseline."""

    worse: list[Change] = field(default_factory=list)
    better: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no count went up and no new key has a count."""
        return not self.worse


def compare(baseline: Mapping[str, int], current: Mapping[str, int]) -> Comparison:
    """Compare current counts with the baseline; a key missing from either counts as 0."""
    result = Comparison()
    for key in sorted(set(baseline) | set(current)):
        before, now = baseline.get(key, 0), current.get(key, 0)
        if now > before:
            result.worse.append(Change(key, before, now))
        elif now < before:
            result.better.append(Change(key, before, now))
    return result


def updated_baseline(
    baseline: Mapping[str, int], current: Mapping[str, int], force: bool = False
) -> dict[str, int]:
    """Return the new baseline (the current counts, zeros dropped).

    Raises ValueError when a count went up (or a new key appeared) and `force` is not set.
    """
    worse = compare(baseline, current).worse
    if worse and not force:
        raise ValueError(
            'counts went up (use --force to accept them):\n'
            + '\n'.join(_describe(c) for c in worse)
        )
    return {key: count for key, count in sorted(current.items()) if count > 0}


def _describe(change: Change) -> str:
    if change.before == 0:
        return f'  {change.key}: {change.now} (new; not in the baseline)'
    return f'  {change.key}: {change.before} -> {change.now}'


def _relative(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def load_baseline(path: Path) -> dict[str, int]:
    """Read a {key: count} baseline; a missing file is an empty baseline."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding='utf-8'))
    return {str(key): int(count) for key, count in data.items()}


def save_baseline(path: Path, counts: Mapping[str, int]) -> None:
    """Write a baseline as sorted, indented JSON."""
    text = json.dumps(dict(sorted(counts.items())), indent=2) + '\n'
    path.write_text(text, encoding='utf-8')


def count_mypy_errors(lines: Iterable[str]) -> dict[str, int]:
    """Count the errors per file in mypy's `--output json` lines (notes are not counted)."""
    counts: dict[str, int] = {}
    for line in lines:
        line = line.strip()
        if not line.startswith('{'):
            continue
        record = json.loads(line)
        if record.get('severity') == 'error':
            name = Path(record['file']).as_posix()
            counts[name] = counts.get(name, 0) + 1
    return counts


def run_mypy() -> dict[str, int]:
    """Run mypy on the files in pyproject.toml and return the error count per file."""
    proc = subprocess.run(
        [sys.executable, '-m', 'mypy', '--output', 'json'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f'mypy failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}')
    return count_mypy_errors(proc.stdout.splitlines())


def gate(
    name: str,
    baseline_path: Path,
    current: Mapping[str, int],
    update: bool,
    force: bool,
    what: str = 'errors',
) -> int:
    """Compare (or, with `update`, rewrite) a baseline, print the outcome, return the exit code."""
    baseline = load_baseline(baseline_path)
    result = compare(baseline, current)
    rel = _relative(baseline_path)
    for change in result.better:
        print(f'{name}: {change.key}: {what} {change.before} -> {change.now} (down)')
    if update:
        try:
            new = updated_baseline(baseline, current, force=force)
        except ValueError as exc:
            print(f'{name}: not updating {rel}: {exc}', file=sys.stderr)
            return 1
        save_baseline(baseline_path, new)
        print(f'{name}: wrote {rel} ({sum(new.values())} {what} in {len(new)} entries)')
        return 0
    if not result.ok:
        print(f'{name}: FAILED, more {what} than the baseline {rel} allows:', file=sys.stderr)
        for change in result.worse:
            print(_describe(change), file=sys.stderr)
        print(
            f'{name}: fix them: the baseline may only shrink (accepting more takes '
            f'`python tools/{name}.py --update --force` and a reason in review)',
            file=sys.stderr,
        )
        return 1
    if result.better:
        print(f'{name}: lower than the baseline; lock it in with --update')
    print(
        f'{name}: ok ({sum(current.values())} {what} in {len(current)} entries; '
        f'baseline {sum(baseline.values())} in {len(baseline)})'
    )
    return 0


def parse_args(argv: Sequence[str] | None, description: str) -> argparse.Namespace:
    """Parse the options shared by the gates (--update, --force, --baseline)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        '--update',
        action='store_true',
        help='rewrite the baseline with the current counts (may only lower them)',
    )
    parser.add_argument(
        '--force', action='store_true', help='with --update, also accept counts that went up'
    )
    parser.add_argument('--baseline', type=Path, default=None, help='baseline JSON file')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mypy gate."""
    args = parse_args(argv, 'mypy against tools/mypy_baseline.json (may only shrink)')
    try:
        current = run_mypy()
    except RuntimeError as exc:
        print(f'typecheck: {exc}', file=sys.stderr)
        return 2
    return gate('typecheck', args.baseline or BASELINE, current, args.update, args.force)


if __name__ == '__main__':
    sys.exit(main())
