"""The mapping core that mapping_node, the simulated run and the replay share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mower_mapping.mapper import (
    BAD_LABELS,
    FUSED,
    NO_CAMERA_INFO,
    NO_POSE,
    Extent,
    Mapper,
    grid_extent,
)

F = 120 / math.tan(math.radians(30))
K = np.array([[F, 0, 160.0], [0, F, 120.0], [0, 0, 1.0]])


def frame():
    lab = np.zeros((240, 320), np.uint8)
    lab[:20] = 3
    lab[150:180, 150:170] = 2
    return lab


def test_frames_are_fused_at_the_pose_of_their_time_and_make_one_obstacle():
    mapper = Mapper({}, Extent((0.0, 0.0), (10.0, 10.0)))
    assert mapper.fuse(1.0, frame()) == NO_CAMERA_INFO
    assert mapper.set_camera(K, 320, 240) and not mapper.set_camera(K, 320, 240)
    assert mapper.fuse(1.0, frame()) == NO_POSE
    for i in range(11):
        mapper.add_pose(1.0 + 0.1 * i, 2.0 + 0.01 * i, 3.0, 0.0)
    assert mapper.fuse(1.5, frame()[:100]) == BAD_LABELS and mapper.last_problem
    assert [mapper.fuse(1.2 + 0.1 * i, frame()) for i in range(3)] == [FUSED] * 3
    assert mapper.counts == {FUSED: 3, BAD_LABELS: 1, NO_POSE: 1, NO_CAMERA_INFO: 1}
    (obstacle,) = mapper.obstacles()
    cx, cy = obstacle.centroid.x, obstacle.centroid.y
    assert 2.5 < cx < 4.0 and abs(cy - 3.0) < 0.3  # ahead of the mower
    assert mapper.obstacles()[0].equals(obstacle)  # cached until the next frame


def test_the_blade_sweeps_the_mowed_layer_and_the_published_grid_agrees():
    mapper = Mapper({}, Extent((0.0, 0.0), (10.0, 10.0)))
    mapper.add_pose(0.0, 1.0, 1.0, 0.0)
    mapper.blade_on = True
    for i in range(1, 31):
        mapper.add_pose(0.1 * i, 1.0 + 0.1 * i, 1.0, 0.0)
    assert mapper.coverage.mowed_area_m2() == pytest.approx(3.0 * 0.22, rel=0.1)
    published = mapper.published_coverage()
    assert mapper.coverage_factor() == 2 and published.res == pytest.approx(0.04)
    along = np.column_stack([np.linspace(1.2, 3.8, 20), np.full(20, 1.0)])
    assert published(along).all() and mapper.coverage.grid()(along).all()
    assert not published(along + [0, 0.5]).any()


def test_grid_extent_covers_the_lawn_when_known():
    assert grid_extent({'origin_xy': [-5.0, -5.0], 'size_m': [30.0, 30.0]}) == Extent(
        (-5.0, -5.0), (30.0, 30.0)
    )
    assert grid_extent({}, (0.0, 1.0, 10.0, 5.0)) == Extent((-2.0, -1.0), (14.0, 8.0))
