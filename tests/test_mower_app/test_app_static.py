"""The app's front end: vendored npm builds match the lockfile; nothing loads from elsewhere."""

from __future__ import annotations

import hashlib
import json
import re

from conftest import ROOT

STATIC = ROOT / 'src' / 'mower_app' / 'mower_app' / 'static'
LOCK = ROOT / 'web' / 'package-lock.json'


def test_vendored_files_are_the_locked_packages_unchanged():
    manifest = json.loads((STATIC / 'vendor' / 'MANIFEST.json').read_text())
    lock = json.loads(LOCK.read_text())
    package = json.loads((ROOT / 'web' / 'package.json').read_text())
    assert set(manifest) == set(package['dependencies'])
    for name, entry in manifest.items():
        locked = lock['packages'][f'node_modules/{name}']
        assert entry['version'] == locked['version'] == package['dependencies'][name]
        assert entry['integrity'] == locked['integrity']
        assert entry['files'], name
        for rel, digest in entry['files'].items():
            data = (STATIC / 'vendor' / rel).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, f'{rel} was changed by hand'
    on_disk = {
        str(p.relative_to(STATIC / 'vendor'))
        for p in (STATIC / 'vendor').rglob('*')
        if p.is_file() and p.name != 'MANIFEST.json'
    }
    listed = {rel for entry in manifest.values() for rel in entry['files']}
    assert on_disk == listed  # nothing vendored that the manifest does not account for


def test_the_page_loads_nothing_from_elsewhere():
    html = (STATIC / 'index.html').read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(not re.match(r'^(?:[a-z]+:)?//', r) for r in refs), refs
    for name in ('app.js', 'style.css', 'index.html'):
        text = (STATIC / name).read_text()
        assert not re.search(r'https?://|//cdn|@import', text), name
    assert (STATIC / 'vendor' / 'leaflet' / 'LICENSE').is_file()  # BSD-2-Clause: ship it
