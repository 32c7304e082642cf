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
    SAME_VIEW,
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
    # every frame fused as a whole sighting (still_travel_m 0, fuse_period_s 0): the mower
    # creeps 1 cm a frame past one obstacle
    mapper = Mapper(
        {'still_travel_m': 0.0, 'fuse_period_s': 0.0}, Extent((0.0, 0.0), (10.0, 10.0))
    )
    assert mapper.fuse(1.0, frame()) == NO_CAMERA_INFO
    assert mapper.set_camera(K, 320, 240) and not mapper.set_camera(K, 320, 240)
    assert mapper.fuse(1.0, frame()) == NO_POSE
    for i in range(11):
        mapper.add_pose(1.0 + 0.1 * i, 2.0 + 0.01 * i, 3.0, 0.0)
    assert mapper.fuse(1.5, frame()[:100]) == BAD_LABELS and mapper.last_problem
    assert [mapper.fuse(1.2 + 0.1 * i, frame()) for i in range(3)] == [FUSED] * 3
    assert mapper.counts == {
        FUSED: 3,
        BAD_LABELS: 1,
        NO_POSE: 1,
        NO_CAMERA_INFO: 1,
        SAME_VIEW: 0,
    }
    (obstacle,) = mapper.obstacles()
    cx, cy = obstacle.centroid.x, obstacle.centroid.y
    assert 2.5 < cx < 4.0 and abs(cy - 3.0) < 0.3  # ahead of the mower
    assert mapper.obstacles()[0].equals(obstacle)  # cached until the next frame


def still_mapper(**values) -> Mapper:
    mapper = Mapper(values, Extent((0.0, 0.0), (10.0, 10.0)))
    mapper.set_camera(K, 320, 240)
    return mapper


def seen(mapper: Mapper, t: float, labels: np.ndarray, yaw: float = 0.0) -> str:
    """A frame at ``t`` from (2, 3), the pose of that time given first."""
    mapper.add_pose(t, 2.0, 3.0, yaw)
    return mapper.fuse(t, labels)


def test_a_still_view_alone_never_makes_an_obstacle():
    # random garden 0: charging 1,300 s on its dock, the mower fused the same small false
    # obstacle at every frame, and the obstacle cells it grew kept it on the dock
    lab = np.zeros((240, 320), np.uint8)
    lab[:20] = 3
    lab[200:204, 100:104] = 2  # a blob of 16 pixels the network gets wrong in every frame
    still = still_mapper()
    answers = [seen(still, float(t), lab) for t in range(200)]
    assert answers[:2] == [FUSED, FUSED] and set(answers[2:]) == {SAME_VIEW}  # still_frames 2
    assert not still.grid.obstacle_mask().any() and still.obstacles() == []
    assert still.counts[SAME_VIEW] == 198
    every = still_mapper(still_travel_m=0.0)  # the rule off: the blob becomes an obstacle
    assert {seen(every, float(t), lab) for t in range(200)} == {FUSED}
    assert len(every.obstacles()) == 1
    once = still_mapper(still_frames=1)
    assert [seen(once, float(t), lab) for t in range(3)] == [FUSED, SAME_VIEW, SAME_VIEW]


def test_a_still_mower_still_maps_what_comes_into_view_and_what_leaves_it():
    mapper = still_mapper()
    lawn = np.zeros((240, 320), np.uint8)
    lawn[:20] = 3
    pet = lawn.copy()
    pet[150:190, 140:180] = 2  # 1,600 pixels, 2 % of the frame
    moved = lawn.copy()
    moved[150:190, 160:200] = 2  # the pet a little to the side: 4 % of the pixels change
    assert [seen(mapper, float(t), lawn) for t in range(3)] == [FUSED, FUSED, SAME_VIEW]
    assert [seen(mapper, float(t), pet) for t in (3, 4, 5)] == [FUSED, FUSED, SAME_VIEW]
    assert not mapper.obstacles()  # two sightings are not an obstacle
    assert [seen(mapper, float(t), (moved, pet)[t % 2]) for t in range(6, 10)] == [FUSED] * 4
    assert len(mapper.obstacles()) == 1  # it moves about in front of the mower: found
    gone = [seen(mapper, float(t), lawn) for t in range(10, 20)]
    assert gone[:2] == [FUSED, FUSED] and set(gone[2:]) == {SAME_VIEW}
    assert mapper.grid.obstacle_mask().any()  # two looks at the lawn have not cleared it
    turned = still_mapper()
    yaws = (0.0, 0.01, 0.02, 0.1)  # 0.6 and 1.1 deg: the same view; 5.7 deg: a new one
    answers = [seen(turned, float(t), lawn, yaw) for t, yaw in enumerate(yaws)]
    assert answers == [FUSED, FUSED, SAME_VIEW, FUSED]
    far = still_mapper()
    assert [seen(far, float(t), lawn) for t in range(3)] == [FUSED, FUSED, SAME_VIEW]
    far.add_pose(3.0, 2.06, 3.0, 0.0)  # 6 cm on: a new view
    assert far.fuse(3.0, lawn) == FUSED


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


def test_a_faster_camera_makes_no_more_evidence_than_a_slower_one():
    # frames 0.1 s apart are not independent sightings: a phantom (a shadow the network calls
    # an obstacle) in 0.4 s of frames is one sighting at 2 Hz, five at 10 Hz without the rule
    lab = frame()

    def watch(hz: float, seconds: float, **values) -> Mapper:
        mapper = still_mapper(still_travel_m=0.0, **values)  # the still-view rule off
        answers = [seen(mapper, 10.0 + k / hz, lab) for k in range(int(seconds * hz) + 1)]
        assert set(answers) == {FUSED}  # every frame is fused, with its weight
        return mapper

    assert watch(10.0, 0.4).frame_weight(10.5) == pytest.approx(0.1 / 0.45)
    assert not watch(10.0, 0.4).obstacles()  # 1 + 4 x 0.22 sightings
    assert len(watch(10.0, 0.4, fuse_period_s=0.0).obstacles()) == 1  # five whole ones
    # over a second, a cell's obstacle evidence at 10 Hz is within one sighting of that at 2 Hz
    fast, slow = watch(10.0, 1.0).grid, watch(2.0, 1.0).grid
    hit = slow.obstacle_history > 0
    assert hit.any() and np.allclose(slow.obstacle_history[hit], 3 * 0.85)  # three 2 Hz frames
    assert np.all(np.abs(fast.obstacle_history[hit] - 3 * 0.85) <= 0.85 / 2)  # 1 + 10 x 0.22
    assert np.all(np.abs(fast.logodds[2][hit] - slow.logodds[2][hit]) <= 0.85 / 2)
    # lawn and other ground take every frame whole: eleven 10 Hz frames, clamped at 6
    lawn = slow.logodds[0] > 0
    assert lawn.sum() > 1000 and np.allclose(slow.logodds[0][lawn], 3 * 0.85)
    assert np.allclose(fast.logodds[0][lawn], min(11 * 0.85, 6.0))
    assert np.array_equal(
        watch(2.0, 1.0).grid.logodds, watch(2.0, 1.0, fuse_period_s=0.0).grid.logodds
    )
    # a 2 Hz camera's frames are whole sightings, with stamp jitter too
    jitter = still_mapper(still_travel_m=0.0)
    for t in (10.0, 10.48, 11.0, 11.46):
        assert jitter.frame_weight(t) == 1.0
        seen(jitter, t, lab)
    # the same stamp again (a duplicated message) weighs 0: a view already mapped, adds nothing
    before, frames = jitter.grid.logodds.copy(), jitter.grid.frames
    assert jitter.frame_weight(11.46) == 0.0 and jitter.fuse(11.46, lab) == SAME_VIEW
    assert np.array_equal(jitter.grid.logodds, before) and jitter.grid.frames == frames
    assert seen(jitter, 11.96, lab) == FUSED  # the next frame is fused as before
    # a frame older than the last fused one (out of order) weighs its distance in time alike
    late = still_mapper(still_travel_m=0.0)
    for t in (9.5, 9.8, 10.0):
        late.add_pose(t, 2.0, 3.0, 0.0)
    assert late.fuse(10.0, lab) == FUSED and late.frame_weight(9.8) == pytest.approx(0.2 / 0.45)
    assert late.fuse(9.8, lab) == FUSED and late.frame_weight(9.5) == pytest.approx(0.3 / 0.45)
    # a still view is fused until it has two sightings' worth (still_frames), then no more
    still = still_mapper()
    answers = [seen(still, 10.0 + k / 10, lab) for k in range(12)]
    assert answers == [FUSED] * 6 + [SAME_VIEW] * 6  # 1 + 5 x 0.22 >= 2


def keepout_map(kind: str, x0: float = 2.2) -> str:
    """A 10 m lawn with one keep-out of ``kind`` from ``x0`` to 4.6 m, 2.3-3.7 m."""
    import json

    def poly(x_0, y_0, x_1, y_1):
        ring = [[x_0, y_0], [x_1, y_0], [x_1, y_1], [x_0, y_1], [x_0, y_0]]
        return {'type': 'Polygon', 'coordinates': [ring]}

    def feature(props, geometry):
        return {'type': 'Feature', 'properties': props, 'geometry': geometry}

    return json.dumps(
        {
            'type': 'FeatureCollection',
            'properties': {'name': 'keep-out test', 'frame': 'enu', 'units': 'm'},
            'features': [
                feature({'role': 'boundary'}, poly(0.0, 0.0, 10.0, 10.0)),
                feature({'role': 'keepout', 'kind': kind}, poly(x0, 2.3, 4.6, 3.7)),
            ],
        }
    )


def test_a_flat_keepout_explains_the_obstacle_cells_on_it():
    """A pond's water that the network calls an obstacle is no obstacle to plan or stop for.

    The cells whose centre lies in a flat keep-out (or within ``keepout_explains_m``) leave the
    obstacle layer and the outlines; the evidence stays. A bed (plants) explains nothing, and
    cells beyond the tolerance stay obstacles.
    """
    from mower_maps import parse_map

    mapper = Mapper(
        {'still_travel_m': 0.0, 'fuse_period_s': 0.0}, Extent((0.0, 0.0), (10.0, 10.0))
    )
    mapper.set_camera(K, 320, 240)
    for i in range(11):
        mapper.add_pose(1.0 + 0.1 * i, 2.0, 3.0, 0.0)
    for i in range(3):
        assert mapper.fuse(1.2 + 0.1 * i, frame()) == FUSED
    grid = mapper.grid
    found = grid.obstacle_mask().copy()
    evidence = grid.logodds.copy()
    assert found.any() and len(mapper.obstacles()) == 1
    rows, cols = np.nonzero(found)
    xs = grid.origin[0] + (cols + 0.5) * grid.res
    assert 2.2 < xs.min() and xs.max() < 4.6  # the block lies in the keep-out below

    assert mapper.set_lawn(parse_map(keepout_map('pond'))) > 0
    assert not grid.obstacle_mask().any() and mapper.obstacles() == []
    assert not (grid.obstacle_values() > 0).any()
    assert np.array_equal(grid.logodds, evidence)  # what the camera saw is kept

    # a discovered keep-out the camera saw as flat ground (mower_maps.lawn_polygons) as well
    mapper.set_lawn(None)
    assert mapper.set_lawn(parse_map(keepout_map('ground'))) > 0
    assert not grid.obstacle_mask().any()

    assert mapper.set_lawn(parse_map(keepout_map('flower_bed'))) == 0
    assert np.array_equal(grid.obstacle_mask(), found) and len(mapper.obstacles()) == 1

    # the pond begins 0.1 m into the block: the cells before it (beyond 0.025 m) stay
    start = xs.min() + 0.1
    mapper.set_lawn(parse_map(keepout_map('pond', x0=start)))
    left = grid.obstacle_mask()
    left_xs = grid.origin[0] + (np.nonzero(left)[1] + 0.5) * grid.res
    assert left.any() and left_xs.max() < start - 0.025
    assert np.array_equal(left, found & (xs_grid(grid) < start - 0.025))

    # a discovered keep-out's outline is the camera's own, simplified: it reaches farther
    from mower_mapping.mapper import GROUND_EDGE_M

    # the block's cells 0.045 m from the keep-out: a pond leaves them, a discovered one not
    near = xs.min() + 0.045
    assert 0.025 < near - xs.min() < 0.025 + GROUND_EDGE_M
    mapper.set_lawn(parse_map(keepout_map('pond', x0=near)))
    assert np.array_equal(grid.obstacle_mask(), found & (xs_grid(grid) < near - 0.025))
    assert grid.obstacle_mask().any()
    mapper.set_lawn(parse_map(keepout_map('ground', x0=near)))
    assert not grid.obstacle_mask().any()

    mapper.set_lawn(None)
    assert np.array_equal(grid.obstacle_mask(), found)
    off = Mapper({'keepout_explains_m': -1.0}, Extent((0.0, 0.0), (10.0, 10.0)))
    assert off.set_lawn(parse_map(keepout_map('pond'))) == 0 and off.grid.known_ground is None


def xs_grid(grid) -> np.ndarray:
    """The x of every cell centre (the grid's shape)."""
    cols = np.arange(grid.shape[1])
    return np.broadcast_to(grid.origin[0] + (cols + 0.5) * grid.res, grid.shape)
