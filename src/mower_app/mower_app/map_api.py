"""Editing the lawn map in the app: versions, save, restore, download, upload.

Routes (added to the app by :func:`add_map_routes`):

- ``GET /api/maps``: ``{"current": n, "versions": [{"version", "saved", "note"}, ...]}``;
- ``GET /api/maps/{version}``: that version's GeoJSON, as a download;
- ``POST /api/maps`` ``{"map": <GeoJSON>, "base_version": n, "note": "..."}``: the edited (or
  uploaded) map. It is checked with the map checks, handed to the mower (which plans on it and
  fences by it from then on), and only then kept as the newest version. Answers 200
  ``{"version", "message"}``; 422 ``{"error", "feature"}`` when a check fails (``feature``: the
  index of the feature at fault, or null) or the mower cannot use the map; 409 ``{"error",
  "current"}`` when another save came in since ``base_version`` (two browsers); 400 when the
  body is not a map at all. Nothing is saved or changed on any error;
- ``POST /api/maps/{version}/restore`` ``{"base_version": n}``: an old version becomes the
  newest (through the same checks).

Reading needs the viewer's rights, changing the controller's (session, CSRF token, same
origin), as the commands do. Saves are done one at a time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mower_maps import MapError, map_from_geojson, map_to_geojson
from mower_maps.map_store import MapConflictError, MapStore, feature_at_fault


class SaveBody(BaseModel):
    """``POST /api/maps``'s body."""

    map: Any
    base_version: int = Field(ge=1)
    note: str = Field(default='', max_length=200)


class RestoreBody(BaseModel):
    """``POST /api/maps/{version}/restore``'s body."""

    base_version: int = Field(ge=1)


def _error(status: int, text: str, **extra: Any) -> JSONResponse:
    return JSONResponse({'error': text, **extra}, status_code=status)


class MapApi:
    """The map routes' handlers around the app's operator and a :class:`MapStore`."""

    def __init__(self, api: Any, store: MapStore | None, off: str = '') -> None:
        """``api``: the app's handlers (their checks and the operator); ``off``: why not."""
        self.api, self._store, self.off = api, store, off
        self._saving = threading.Lock()

    @property
    def store(self) -> MapStore:
        """The versions (HTTP 503 when map editing is off)."""
        if self._store is None:
            raise HTTPException(503, self.off)
        return self._store

    def versions(self, request: Request) -> dict:
        """Every saved version and the current one."""
        self.api._viewer(request)
        return {'current': self.store.current, 'versions': self.store.versions()}

    def download(self, request: Request, version: int) -> JSONResponse:
        """One version's GeoJSON, as a file."""
        self.api._viewer(request)
        store = self.store
        try:
            doc = store.get(version)
        except KeyError as exc:
            return _error(404, str(exc.args[0]))
        except MapError as exc:
            return _error(500, str(exc))
        name = f'lawn_map_v{version}.geojson'
        return JSONResponse(doc, headers={'Content-Disposition': f'attachment; filename={name}'})

    def save(self, body: SaveBody) -> JSONResponse:
        """Check, apply to the mower, keep: the edited or uploaded map."""
        return self._save(body.map, body.base_version, body.note)

    def restore(self, version: int, body: RestoreBody) -> JSONResponse:
        """An old version becomes the newest."""
        try:
            doc = self.store.get(version)
        except KeyError as exc:
            return _error(404, str(exc.args[0]))
        except MapError as exc:
            return _error(500, str(exc))
        return self._save(doc, body.base_version, f'restored version {version}')

    def _save(self, doc: Any, base: int, note: str) -> JSONResponse:
        if not isinstance(doc, dict):
            return _error(400, 'not a map: expected a GeoJSON FeatureCollection object')
        with self._saving:  # one save at a time: the check, the mower, the store agree
            current = self.store.current
            if base != current:
                return _error(409, str(MapConflictError(base, current)), current=current)
            try:
                lawn = map_from_geojson(doc, source='the edited map')
            except MapError as exc:
                return _error(422, str(exc), feature=feature_at_fault(exc))
            ok, message = self.api.operator.set_map(lawn)
            if not ok:
                return _error(422, f'the mower cannot use this map: {message}', feature=None)
            try:
                version, _ = self.store.save(doc, base, note)
            except (MapError, OSError) as exc:  # the mower has it; say the store failed
                return _error(500, f'the map is in use but could not be kept: {exc}')
        return JSONResponse({'version': version, 'message': message})


def open_store(
    operator: Any, data_dir: str | Path, saved_first: bool = False
) -> tuple[MapStore | None, str]:
    """The map's versions in ``data_dir/maps``, in step with the map the mower uses.

    When the last saved version differs from the mower's map, ``saved_first`` hands it to the
    mower (the robot, after a restart: the owner's last save is in force again); otherwise, or
    when the mower refuses it, the mower's map becomes the newest version.
    (store, '') or (None, why map editing is off: the mower has no usable map).
    """
    try:
        lawn = map_from_geojson(operator.lawn_geojson(), source="the mower's map")
    except MapError as exc:
        return None, f'map editing is off: {exc}'
    store = MapStore(Path(data_dir).expanduser() / 'maps', lawn)
    if map_to_geojson(store.lawn()) != map_to_geojson(lawn):
        if not (saved_first and operator.set_map(store.lawn())[0]):
            store.save(map_to_geojson(lawn), store.current, 'the map the mower started with')
    return store, ''


def add_map_routes(
    app: FastAPI, api: Any, data_dir: str | Path, saved_first: bool = False
) -> MapApi:
    """Add the map routes; the versions live in ``data_dir/maps`` (``saved_first``: open_store)."""
    store, why = open_store(api.operator, data_dir, saved_first)
    handlers = MapApi(api, store, why)
    control = [Depends(api.controller)]
    app.add_api_route('/api/maps', handlers.versions, methods=['GET'], tags=['map'])
    app.add_api_route('/api/maps/{version}', handlers.download, methods=['GET'], tags=['map'])
    app.add_api_route(
        '/api/maps', handlers.save, methods=['POST'], tags=['map'], dependencies=control
    )
    app.add_api_route(
        '/api/maps/{version}/restore',
        handlers.restore,
        methods=['POST'],
        tags=['map'],
        dependencies=control,
    )
    return handlers
