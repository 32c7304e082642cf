"""The may-only-shrink baselines of tools/typecheck.py (mypy) and tools/complexity.py (C901).

Only the comparison logic on small fake inputs: mypy and ruff themselves run in `make lint`.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from conftest import ROOT


def _load(name: str):
    path = ROOT / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'gate_{name}', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


typecheck = _load('typecheck')
complexity = _load('complexity')
Change = typecheck.Change

BASE = {'src/a.py': 3, 'src/b.py': 1}


def test_a_count_going_up_fails():
    result = typecheck.compare(BASE, {'src/a.py': 4, 'src/b.py': 1})
    assert not result.ok
    assert result.worse == [Change('src/a.py', 3, 4)]


def test_a_count_going_down_passes_and_is_reported():
    result = typecheck.compare(BASE, {'src/a.py': 2})  # b.py fixed (or deleted): 1 -> 0
    assert result.ok
    assert result.better == [Change('src/a.py', 3, 2), Change('src/b.py', 1, 0)]


def test_a_new_file_with_errors_fails():
    result = typecheck.compare(BASE, {**BASE, 'src/new.py': 1})
    assert not result.ok
    assert result.worse == [Change('src/new.py', 0, 1)]


def test_the_same_counts_pass():
    assert typecheck.compare(BASE, dict(BASE)).ok
    assert typecheck.compare({}, {}).ok


def test_update_may_only_lower_counts_unless_forced():
    assert typecheck.updated_baseline(BASE, {'src/a.py': 1, 'src/b.py': 0}) == {'src/a.py': 1}
    with pytest.raises(ValueError, match='src/a.py: 3 -> 5'):
        typecheck.updated_baseline(BASE, {'src/a.py': 5})
    with pytest.raises(ValueError, match='src/c.py'):
        typecheck.updated_baseline(BASE, {**BASE, 'src/c.py': 2})
    assert typecheck.updated_baseline(BASE, {'src/a.py': 5}, force=True) == {'src/a.py': 5}


def test_gate_fails_naming_the_file_and_counts(tmp_path: Path, capsys):
    baseline = tmp_path / 'baseline.json'
    baseline.write_text(json.dumps(BASE))
    assert (
        typecheck.gate(
            'typecheck', baseline, {'src/a.py': 4, 'src/b.py': 1}, update=False, force=False
        )
        == 1
    )
    err = capsys.readouterr().err
    assert 'FAILED' in err and 'src/a.py: 3 -> 4' in err

    assert (
        typecheck.gate(
            'typecheck', baseline, {'src/a.py': 2, 'src/b.py': 1}, update=False, force=False
        )
        == 0
    )
    assert 'src/a.py: errors 3 -> 2 (down)' in capsys.readouterr().out
    assert json.loads(baseline.read_text()) == BASE  # only --update writes


def test_gate_update_writes_lower_counts_and_refuses_higher(tmp_path: Path, capsys):
    baseline = tmp_path / 'baseline.json'
    baseline.write_text(json.dumps(BASE))
    assert typecheck.gate('typecheck', baseline, {'src/a.py': 2}, update=True, force=False) == 0
    assert json.loads(baseline.read_text()) == {'src/a.py': 2}
    assert typecheck.gate('typecheck', baseline, {'src/a.py': 3}, update=True, force=False) == 1
    assert json.loads(baseline.read_text()) == {'src/a.py': 2}
    assert typecheck.gate('typecheck', baseline, {'src/a.py': 3}, update=True, force=True) == 0
    assert json.loads(baseline.read_text()) == {'src/a.py': 3}


def test_mypy_json_lines_are_counted_per_file_errors_only():
    lines = [
        json.dumps({'file': 'src/a.py', 'line': 1, 'severity': 'error', 'message': 'x'}),
        json.dumps({'file': 'src/a.py', 'line': 2, 'severity': 'error', 'message': 'y'}),
        json.dumps({'file': 'src/a.py', 'line': 2, 'severity': 'note', 'message': 'hint'}),
        json.dumps({'file': 'src/b.py', 'line': 9, 'severity': 'error', 'message': 'z'}),
        'Success: no issues found',
    ]
    assert typecheck.count_mypy_errors(lines) == {'src/a.py': 2, 'src/b.py': 1}


def test_ruff_c901_records_are_keyed_by_file_and_function():
    records = [
        {
            'code': 'C901',
            'filename': str(ROOT / 'src' / 'a.py'),
            'message': '`plan` is too complex (17 > 15)',
        },
        {
            'code': 'C901',
            'filename': str(ROOT / 'src' / 'a.py'),
            'message': '`run` is too complex (16 > 15)',
        },
        {
            'code': 'C901',
            'filename': str(ROOT / 'src' / 'a.py'),  # another `run` in a.py
            'message': '`run` is too complex (18 > 15)',
        },
        {'code': 'E501', 'filename': str(ROOT / 'src' / 'a.py'), 'message': 'Line too long'},
    ]
    assert complexity.count_complexity(records) == {'src/a.py::plan': 17, 'src/a.py::run': 34}
    with pytest.raises(ValueError, match='unexpected C901 message'):
        complexity.count_complexity([{'code': 'C901', 'filename': 'a.py', 'message': '?'}])
