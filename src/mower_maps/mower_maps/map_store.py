"""Versions of the lawn map the owner edits: every save a new version, checked before it is kept.

:class:`MapStore` keeps, in one folder, ``v0001.geojson``, ``v0002.geojson``, ... and
``index.json`` (version, time, note, sha256 of each). A save is checked with the map checks
(:func:`mower_maps.lawn_map.map_from_geojson`: closed rings, no self-intersections, keep-outs
inside the boundary, ...) before anything is written; a failed check raises :class:`MapError`
naming the feature at fault (:func:`feature_at_fault` reads its index back for the app), and
the current version stays as it was. Every file is written atomically (temporary file, fsync,
rename), the index last, so an interrupted save leaves the previous version current. A save
must say which version it was made from: if another save came in between (two browsers), it
is refused with :class:`MapConflictError` rather than silently overwriting the other's work.
Restoring an old version makes it the newest (nothing is ever lost); :meth:`MapStore.get`
gives any version's GeoJSON for download.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mower_maps.lawn_map import LawnMap, MapError, map_from_geojson, map_to_geojson
from mower_maps.safe_files import atomic_write_bytes, quarantine

#: Largest map document accepted (bytes of JSON): a garden's map is a few kB to a few MB.
MAX_MAP_BYTES = 20 * 1024 * 1024
INDEX = 'index.json'
_FEATURE = re.compile(r'\bfeature (\d+)\b')


class MapConflictError(RuntimeError):
    """A save made from a version that is no longer the current one."""

    def __init__(self, base: int, current: int) -> None:
        """Say which version the save was made from and which is current."""
        super().__init__(
            f'the map was changed (version {current}) since this edit started from version '
            f'{base}: reload it and edit again'
        )
        self.base, self.current = base, current


@dataclass(frozen=True)
class MapVersion:
    """One saved version."""

    version: int
    saved: str  # ISO time
    note: str
    sha256: str

    def as_dict(self) -> dict:
        """JSON-able."""
        return {'version': self.version, 'saved': self.saved, 'note': self.note}


def feature_at_fault(error: MapError) -> int | None:
    """The index of the feature a map check names (None: the map as a whole)."""
    found = _FEATURE.search(str(error))
    return int(found.group(1)) if found else None


def parse_document(data: bytes | str) -> Any:
    """A map document from uploaded text; MapError when it is not JSON (or too large)."""
    if len(data) > MAX_MAP_BYTES:
        raise MapError(f'the map is {len(data)} bytes, more than {MAX_MAP_BYTES}')
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MapError(f'not GeoJSON: {exc}') from None


class MapStore:
    """The versions of one lawn's map in ``folder`` (thread-safe)."""

    def __init__(self, folder: str | Path, initial: LawnMap) -> None:
        """Open the store; a new (or unreadable) one starts with ``initial`` as version 1.

        A damaged index is kept aside (``quarantine``) and the store starts again from
        ``initial``: the old version files stay in the folder.
        """
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._versions: list[MapVersion] = []
        self.damaged = ''  # why the index found was unusable ('' when it was fine)
        index = self.folder / INDEX
        if index.exists():
            try:
                self._versions = self._read_index(index)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                kept = quarantine(index)
                self.damaged = f'{index}: damaged ({exc}); kept as {kept.name}'
        if not self._versions:
            self._write(map_to_geojson(initial), 'the map the mower started with')
        self._lawn = self._load(self._versions[-1].version)

    @staticmethod
    def _read_index(path: Path) -> list[MapVersion]:
        rows = json.loads(path.read_text(encoding='utf-8'))
        versions = [MapVersion(int(r['version']), str(r['saved']), str(r['note']), r['sha256'])
                    for r in rows]  # fmt: skip
        if not versions:
            raise ValueError('no versions')
        return versions

    def _path(self, version: int) -> Path:
        return self.folder / f'v{version:04d}.geojson'

    def _load(self, version: int) -> LawnMap:
        return map_from_geojson(self.get(version), source=f'map version {version}')

    def _first_free(self) -> int:
        """After every version file in the folder (a damaged index's files are kept)."""
        numbers = [
            int(p.stem[1:]) for p in self.folder.glob('v[0-9]*.geojson') if p.stem[1:].isdigit()
        ]
        return max(numbers, default=0) + 1

    def _write(self, doc: dict, note: str) -> int:
        version = self._versions[-1].version + 1 if self._versions else self._first_free()
        data = (json.dumps(doc, indent=1) + '\n').encode()
        atomic_write_bytes(self._path(version), data)
        saved = datetime.datetime.now().astimezone().isoformat(timespec='seconds')
        entry = MapVersion(version, saved, note[:200], hashlib.sha256(data).hexdigest())
        rows = [
            {**v.as_dict(), 'sha256': v.sha256} for v in (*self._versions, entry)
        ]  # the index last: until it is written, the previous version is current
        atomic_write_bytes(self.folder / INDEX, (json.dumps(rows, indent=1) + '\n').encode())
        self._versions.append(entry)
        return version

    # -- reading ---------------------------------------------------------------------------
    @property
    def current(self) -> int:
        """The current version."""
        with self._lock:
            return self._versions[-1].version

    def lawn(self) -> LawnMap:
        """The current map."""
        with self._lock:
            return self._lawn

    def versions(self) -> list[dict]:
        """Every version, oldest first."""
        with self._lock:
            return [v.as_dict() for v in self._versions]

    def get(self, version: int) -> dict:
        """A version's GeoJSON; KeyError for one that does not exist."""
        entry = next((v for v in self._versions if v.version == version), None)
        if entry is None:
            raise KeyError(f'no map version {version}')
        data = self._path(version).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise MapError(f'map version {version}: the file was changed outside the app')
        return json.loads(data)

    # -- changing --------------------------------------------------------------------------
    def save(self, doc: Any, base_version: int, note: str = '') -> tuple[int, LawnMap]:
        """Check ``doc`` and keep it as the newest version; (version, map).

        Raises :class:`MapConflictError` when ``base_version`` is not the current version and
        :class:`MapError` when the map checks fail; nothing is written then.
        """
        lawn = map_from_geojson(doc, source='the edited map')
        with self._lock:
            current = self._versions[-1].version
            if base_version != current:
                raise MapConflictError(base_version, current)
            version = self._write(map_to_geojson(lawn), note or 'edited in the app')
            self._lawn = lawn
            return version, lawn

    def restore(self, version: int, base_version: int) -> tuple[int, LawnMap]:
        """Make an old version the newest again (a new version; nothing is lost)."""
        doc = self.get(version)
        return self.save(doc, base_version, f'restored version {version}')
