"""What the app shows besides the status: the camera image and the map's live layers.

Routes (added to the app by :func:`add_view_routes`; the viewer's rights, as ``/api/status``):

- ``GET /api/camera.jpg``: the latest camera image with the segmentation overlay (JPEG; the
  ``X-Frame`` header numbers it); 404 ``{"error"}`` while there is none (no camera, no frame
  yet);
- ``GET /api/coverage.png``: the mowed layer, mowed cells green and transparent elsewhere,
  north up, one pixel a cell (PNG; ``X-Coverage-Version`` and ``X-Coverage-Bounds: x0,y0,x1,y1``
  in the map frame, m); 404 ``{"error"}`` before the first;
- ``GET /api/overlay``: ``{"coverage": {"version", "bounds": [x0, y0, x1, y1]} or null,
  "obstacles": [GeoJSON geometry, ...]}``: what the page needs to place the layer (it fetches
  the PNG again when the version changes) and the obstacles the camera found.

Nothing is cached (``Cache-Control: no-store``, as every /api answer).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def _missing(text: str) -> JSONResponse:
    return JSONResponse({'error': text}, status_code=404)


def _bounds(bounds: tuple[float, float, float, float]) -> list[float]:
    return [round(float(v), 3) for v in bounds]


class ViewApi:
    """The handlers, around the app's handlers (their checks and the operator)."""

    def __init__(self, api: Any) -> None:
        """``api``: the app's handlers (``_viewer`` and ``operator``)."""
        self.api = api

    def camera(self, request: Request) -> Response:
        """The latest camera image with the segmentation overlay (JPEG)."""
        self.api._viewer(request)
        image = self.api.operator.camera_jpeg()
        if image is None:
            return _missing('no camera image yet')
        number, jpeg = image
        return Response(jpeg, media_type='image/jpeg', headers={'X-Frame': str(number)})

    def coverage(self, request: Request) -> Response:
        """The mowed layer (PNG), its version and bounds in headers."""
        self.api._viewer(request)
        image = self.api.operator.coverage_png()
        if image is None:
            return _missing('no mowed layer yet')
        version, png, bounds = image
        headers = {
            'X-Coverage-Version': str(version),
            'X-Coverage-Bounds': ','.join(str(v) for v in _bounds(bounds)),
        }
        return Response(png, media_type='image/png', headers=headers)

    def overlay(self, request: Request) -> dict:
        """The mowed layer's version and bounds, and the obstacles found."""
        self.api._viewer(request)
        image = self.api.operator.coverage_png()
        coverage = None if image is None else {'version': image[0], 'bounds': _bounds(image[2])}
        return {'coverage': coverage, 'obstacles': self.api.operator.obstacles()}


def add_view_routes(app: FastAPI, api: Any) -> ViewApi:
    """Add ``/api/camera.jpg``, ``/api/coverage.png`` and ``/api/overlay``."""
    handlers = ViewApi(api)
    png = {'content': {'image/png': {}}, 'description': 'the mowed layer'}
    jpeg = {'content': {'image/jpeg': {}}, 'description': 'the camera with the overlay'}
    app.add_api_route(
        '/api/camera.jpg',
        handlers.camera,
        methods=['GET'],
        tags=['mower'],
        response_class=Response,
        responses={200: jpeg, 404: {'description': 'no camera image yet'}},
    )
    app.add_api_route(
        '/api/coverage.png',
        handlers.coverage,
        methods=['GET'],
        tags=['mower'],
        response_class=Response,
        responses={200: png, 404: {'description': 'no mowed layer yet'}},
    )
    app.add_api_route('/api/overlay', handlers.overlay, methods=['GET'], tags=['mower'])
    return handlers
