"""The camera image, the mowed layer and the obstacles found, on the fake operator."""

from __future__ import annotations

import cv2
import numpy as np
from app_fakes import login, make_client
from shapely.geometry import Polygon

from mower_control.operator import CameraImage, MowedImage, obstacles_geojson
from mower_maps.mowed import MowedGrid, mowed_png


def jpeg_of(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode('.jpg', rgb)
    assert ok
    return data.tobytes()


def test_camera_image_needs_a_session_and_is_not_cached(tmp_path):
    client, fake = make_client(tmp_path)
    assert client.get('/api/camera.jpg').status_code == 401
    login(client)
    response = client.get('/api/camera.jpg')
    assert response.status_code == 404 and response.json() == {'error': 'no camera image yet'}
    fake.camera = (7, jpeg_of(np.full((24, 32, 3), 90, np.uint8)))
    response = client.get('/api/camera.jpg')
    assert response.status_code == 200
    assert response.headers['content-type'] == 'image/jpeg'
    assert response.headers['cache-control'] == 'no-store'
    assert response.headers['x-frame'] == '7'
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (24, 32, 3)


def test_mowed_layer_and_obstacles(tmp_path):
    client, fake = make_client(tmp_path, read_only_view=True)  # viewers may see them
    assert client.get('/api/coverage.png').status_code == 404
    assert client.get('/api/overlay').json() == {'coverage': None, 'obstacles': []}
    mowed = np.zeros((4, 6), bool)
    mowed[0, :3] = True  # the southern row, western half
    png, bounds = mowed_png(MowedGrid(mowed, (-1.0, 2.0), 0.5))
    fake.coverage = (3, png, bounds)
    fake.found = obstacles_geojson([Polygon([(1, 1), (2, 1), (2, 2)])])
    doc = client.get('/api/overlay').json()
    assert doc['coverage'] == {'version': 3, 'bounds': [-1.0, 2.0, 2.0, 4.0]}
    assert doc['obstacles'][0]['type'] == 'Polygon'
    response = client.get('/api/coverage.png')
    assert response.status_code == 200 and response.headers['content-type'] == 'image/png'
    assert response.headers['x-coverage-version'] == '3'
    assert response.headers['x-coverage-bounds'] == '-1.0,2.0,2.0,4.0'
    assert response.headers['cache-control'] == 'no-store'
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (4, 6, 4)
    alpha = image[..., 3] > 0
    assert alpha[3, :3].all() and alpha.sum() == 3  # north up: the southern row is the last
    assert tuple(image[3, 0, :3]) == (67, 160, 46)  # green (BGR)


def test_openapi_documents_the_routes(tmp_path):
    client, _ = make_client(tmp_path)
    paths = client.get('/api/openapi.json').json()['paths']
    assert {'/api/camera.jpg', '/api/coverage.png', '/api/overlay'} <= set(paths)


def test_mowed_image_versions_only_changes_and_camera_image_keeps_its_period():
    layer = MowedImage()
    assert layer.get() is None
    grid = MowedGrid(np.zeros((2, 2), bool), (0.0, 0.0), 0.25)
    assert layer.update(grid) and layer.get()[0] == 1
    assert not layer.update(MowedGrid(np.zeros((2, 2), bool), (0.0, 0.0), 0.25))
    more = grid.mowed.copy()
    more[1, 1] = True
    assert layer.update(MowedGrid(more, (0.0, 0.0), 0.25))
    version, _, bounds = layer.get()
    assert version == 2 and bounds == (0.0, 0.0, 0.5, 0.5)

    camera = CameraImage(period_s=1.0)
    assert camera.get() is None and camera.due(10.0)
    camera.set(10.0, b'a')
    assert not camera.due(10.5) and camera.due(11.0)
    assert camera.due(3.0)  # the clock went back (a restart of simulated time)
    camera.set(11.0, b'b')
    assert camera.get() == (2, b'b')
