"""Launch files compile and name files that exist (full checks need the launch API)."""

import ast
import py_compile

from conftest import ROOT


def test_launch_files_compile_and_reference_existing_files():
    files = sorted((ROOT / 'launch').glob('*.launch.py'))
    assert len(files) >= 5  # the others are evaluated in tests/test_bringup
    for f in [ROOT / 'launch' / 'coverage.launch.py']:
        py_compile.compile(str(f), doraise=True)
        tree = ast.parse(f.read_text())
        names = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        for rel in ('demo_lawn.geojson', 'coverage.yaml'):
            if rel in names:
                assert list(ROOT.rglob(rel)), rel
        assert 'coverage_node' in names
        entry = ROOT / 'src' / 'mower_coverage' / 'setup.py'
        assert 'coverage_node = mower_coverage.coverage_node:main' in entry.read_text()
