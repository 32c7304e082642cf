"""Every ``@pytest.mark.<name>`` used in tests/ is registered (a typo would select nothing)."""

import re

from conftest import ROOT

# Registered by launch_testing's pytest plugin, which is installed only on a ROS machine.
ROS_PLUGIN_MARKS = {'launch_test'}


def test_the_marks_used_in_the_tests_are_registered(pytestconfig):
    registered = {
        line.split(':')[0].split('(')[0].strip() for line in pytestconfig.getini('markers')
    }
    assert 'slow' in registered
    used: dict[str, str] = {}
    for path in sorted((ROOT / 'tests').rglob('*.py')):
        for name in re.findall(r'\bpytest\.mark\.([A-Za-z_]\w*)', path.read_text()):
            used.setdefault(name, str(path.relative_to(ROOT)))
    unknown = {
        name: where for name, where in used.items() if name not in registered | ROS_PLUGIN_MARKS
    }
    assert not unknown, f'marks not registered (pyproject.toml markers): {unknown}'
