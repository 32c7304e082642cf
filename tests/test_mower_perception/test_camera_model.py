"""Camera model: a known pixel lands on the known ground point; horizon and range cuts."""

import math

import numpy as np
import pytest

from mower_perception.camera_model import CameraModel, Mounting, ground_lut


def camera(pitch_deg=30.0, dist=None):
    cam = CameraModel.from_fov(
        320, 240, 60.0, Mounting(0.2, 0.0, 0.5, 0.0, math.radians(pitch_deg), 0.0)
    )
    if dist is not None:
        cam = CameraModel(cam.k, 320, 240, np.asarray(dist, float), cam.mounting)
    return cam


def test_the_image_centre_lands_where_the_optical_axis_meets_the_ground():
    (xy,), (ok,) = camera().ground_points(np.array([160.0]), np.array([120.0]))
    assert ok
    assert xy == pytest.approx([0.2 + 0.5 / math.tan(math.radians(30.0)), 0.0], abs=1e-9)


def test_a_pixel_left_of_centre_lands_left():
    cam = camera()
    f = cam.k[0, 0]
    (xy,), _ = cam.ground_points(np.array([160.0 - f * 0.1]), np.array([120.0]))
    forward = 0.5 / math.tan(math.radians(30.0))
    slant = math.hypot(forward, 0.5)
    assert xy[1] == pytest.approx(0.1 * slant, rel=1e-9)  # y is left in base_link


def test_round_trip_with_distortion():
    cam = camera(dist=[-0.2, 0.05, 0.001, -0.001, 0.0])
    ground = np.array([[1.5, 0.3], [2.0, -0.8], [0.9, 0.0]])
    uv = cam.project_ground(ground)
    xy, ok = cam.ground_points(uv[:, 0], uv[:, 1])
    assert ok.all()
    assert xy == pytest.approx(ground, abs=1e-4)


def test_horizon_and_range_cuts():
    cam = camera(pitch_deg=10.0)  # the horizon is inside the image
    xy, ok = cam.ground_points(np.array([160.0, 160.0]), np.array([0.0, 239.0]), max_range_m=6.0)
    assert not ok[0] and ok[1]  # top row: above the horizon
    lut = ground_lut(cam, stride=4, max_range_m=3.0)
    assert np.hypot(*(lut.xy - [0.2, 0.0]).T).max() <= 3.0 + 1e-9
    assert lut.rows.min() > 0  # the top of the image is cut


def test_tilt_moves_far_points_the_way_geometry_says():
    lut = ground_lut(camera(), stride=8, max_range_m=10.0)
    xy, ok = lut.ground_xy(0.0, math.radians(1.0))  # nose down one degree
    level = lut.xy
    far = ok & (level[:, 0] > 2.5)
    assert far.any()
    assert np.all(xy[far, 0] < level[far, 0])  # the same pixel now sees nearer ground
