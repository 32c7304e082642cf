"""Semantic grid fusion: evidence rises and decays as designed; obstacles need repetition."""

import math

import numpy as np
import pytest

from mower_mapping.obstacles import extract_obstacles, obstacle_core_centre
from mower_mapping.semantic_grid import GridParams, SemanticGrid
from mower_perception.camera_model import CameraModel, Mounting, ground_lut

CAM = CameraModel.from_fov(320, 240, 60.0, Mounting(0.15, 0.0, 0.38, 0.0, math.radians(25), 0))
LUT = ground_lut(CAM, stride=3, max_range_m=4.5)


def labels_with_block(u0=150, u1=170, v0=150, v1=180):
    lab = np.zeros((240, 320), np.uint8)
    lab[:20] = 3
    lab[v0:v1, u0:u1] = 2
    return lab


def test_one_sighting_is_not_an_obstacle_three_are_and_ground_clears_it():
    grid = SemanticGrid((-5, -5), 10, 10, GridParams())
    lab = labels_with_block()
    grid.fuse(lab, LUT, (0.0, 0.0, 0.0))
    assert not grid.obstacle_mask().any()  # a leaf or a shadow: once is not enough
    for _ in range(2):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0))
    mask = grid.obstacle_mask()
    assert mask.any()
    # where the block meets the ground: the bottom edge of the block, projected
    uv = np.array([[160.0, 180.0]])
    ((gx, gy),), _ = CAM.ground_points(uv[:, 0], uv[:, 1])
    (polys) = extract_obstacles(mask, grid.origin, grid.res, margin_m=0.0)
    assert len(polys) == 1
    cx, cy = obstacle_core_centre(polys[0], 0.0)
    assert abs(cx - gx) < 0.1 and abs(cy - gy) < 0.1
    lawn = np.zeros((240, 320), np.uint8)
    for _ in range(8):  # seen again and again as lawn: the evidence decays away
        grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert not grid.obstacle_mask().any()


def test_evidence_is_clamped_and_pose_moves_the_footprint():
    p = GridParams(hit=1.0, miss=0.5, clamp=3.0)
    grid = SemanticGrid((-5, -5), 10, 10, p)
    lawn = np.zeros((240, 320), np.uint8)
    for _ in range(10):
        grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert grid.logodds.max() == pytest.approx(3.0) and grid.logodds.min() == pytest.approx(-3.0)
    other = SemanticGrid((-5, -5), 10, 10, p)
    other.fuse(lawn, LUT, (0.0, 0.0, math.pi))  # facing the other way
    seen_a = np.argwhere(grid.logodds[0] > 0)[:, 1].mean()
    seen_b = np.argwhere(other.logodds[0] > 0)[:, 1].mean()
    assert seen_a > 100 > seen_b  # in front of the robot, then behind its first position


def test_a_label_image_of_the_wrong_size_is_rejected():
    grid = SemanticGrid((-5, -5), 10, 10)
    with pytest.raises(ValueError, match='does not match the camera'):
        grid.fuse(np.zeros((120, 160), np.uint8), LUT, (0.0, 0.0, 0.0))
    assert grid.frames == 0
