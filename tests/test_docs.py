"""The README documents every parameter in config/ and the two set-up commands come first."""

import re

import yaml
from conftest import ROOT


def test_every_config_parameter_is_in_the_readme_tables():
    readme = (ROOT / 'README.md').read_text()
    rows = set(re.findall(r'^\| `([a-z0-9_]+)` \|', readme, flags=re.M))
    for path in sorted((ROOT / 'config').glob('*.yaml')):
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, dict):
            continue
        for node, body in doc.items():
            if isinstance(body, dict) and 'ros__parameters' in body:
                missing = set(body['ros__parameters']) - rows
                assert not missing, f'{path.name} {node}: {sorted(missing)} not in README'


def test_readme_starts_with_the_two_commands():
    head = (ROOT / 'README.md').read_text().splitlines()[:4]
    assert any(line.startswith('make demo') for line in head)
    assert any(line.startswith('make test') for line in head)
