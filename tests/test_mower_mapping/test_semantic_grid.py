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


def test_lawn_often_seen_as_an_obstacle_next_to_one_is_not_lawn_in_the_class_map():
    """A trunk's rim under a pose error: more lawn evidence, an obstacle a third of the time."""
    grid = SemanticGrid((0, 0), 1.0, 1.0, GridParams())  # 20 x 20 cells
    lawn, obstacle = grid.logodds[0], grid.obstacle_history  # the class map's evidence
    lawn[:] = 5.0
    obstacle[:] = -5.0
    obstacle[10, 10], lawn[10, 10] = 4.0, -2.0  # the trunk: a sure obstacle
    obstacle[10, 11] = 0.5  # its rim: lawn evidence stronger, but obstacles seen too
    obstacle[10, 9] = -0.5  # the other side: obstacles seen less than a third of the time
    obstacle[3, 3] = 0.5  # the same doubt on open lawn, far from any obstacle (a phantom)
    cm = grid.class_map()
    assert cm[10, 10] == 2 and cm[10, 11] == 1  # the rim: other ground, not lawn
    assert cm[10, 9] == 0 and cm[3, 3] == 0  # lawn
    assert (cm == 0).sum() == 400 - 2
    # a window whose edge falls between the rim and the trunk sees the trunk all the same
    window = grid.class_map(slice(5, 15), slice(11, 20))
    assert (window == cm[5:15, 11:20]).all() and window[5, 0] == 1
    # a setting that trusts the lawn evidence: the rim is lawn again
    trusting = SemanticGrid((0, 0), 1.0, 1.0, GridParams(lawn_doubt=1.0))
    trusting.logodds[:] = grid.logodds
    trusting.obstacle_history[:] = grid.obstacle_history
    assert trusting.class_map()[10, 11] == 0


def test_fused_lawn_and_an_obstacle_seen_once_is_lawn_again_after_three_sightings():
    lab = labels_with_block()
    lawn = np.zeros((240, 320), np.uint8)
    grid = SemanticGrid((-5, -5), 10, 10, GridParams())
    for _ in range(3):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0))  # a sure obstacle
    grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    block = grid.obstacle_mask()
    assert block.any() and (grid.class_map()[block] == 2).all()
    once = SemanticGrid((-5, -5), 10, 10, GridParams())
    once.fuse(lab, LUT, (0.0, 0.0, 0.0))
    for _ in range(3):
        once.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert (once.class_map()[once.logodds[0] > 0] == 0).all()


def sightings_to_find(params: GridParams) -> int:
    """Lawn seen 30 times, then the block: how many frames of it until it is an obstacle.

    The lawn frames step back 3 mm each, so that every cell ahead is sampled.
    """
    lab, lawn = labels_with_block(), np.zeros((240, 320), np.uint8)
    grid = SemanticGrid((-5, -5), 10, 10, params)
    for i in range(30):
        grid.fuse(lawn, LUT, (-0.003 * i, 0.0, 0.0))
    for n in range(1, 20):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0))
        if grid.obstacle_mask().any():
            return n
    return 99


def test_an_obstacle_seen_once_is_suspected_and_found_after_three_sightings():
    """map/obstacle_cells: 50 where the evidence passed ``caution_level``, 100 once found."""
    from mower_mapping.semantic_grid import FOUND, SUSPECTED

    grid = SemanticGrid((-5, -5), 10, 10, GridParams())
    lab, lawn = labels_with_block(), np.zeros((240, 320), np.uint8)
    for _ in range(20):  # lawn seen for long: the evidence at the floor, nothing suspected
        grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert not grid.obstacle_values().any()
    values = []
    for _ in range(4):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0))
        v = grid.obstacle_values()
        assert v.dtype == np.int8 and v.shape == grid.shape
        assert set(np.unique(v)) <= {0, SUSPECTED, FOUND}
        assert np.array_equal(v == FOUND, grid.obstacle_mask())
        values.append(v)
    # -1 + 0.85 = -0.15: not yet; -1 + 1.7 = 0.7 passes caution_level 0.5; 4 x 0.85: found
    assert not values[0].any()
    assert (values[1] == SUSPECTED).any() and not (values[1] == FOUND).any()
    suspected = values[1] == SUSPECTED
    assert (values[3][suspected] == FOUND).mean() > 0.8  # the same cells, found
    for _ in range(8):  # ground seen after it: nothing suspected or found is left
        grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert not grid.obstacle_values().any()
    # a caution level at the threshold: found cells only, as before suspected cells existed
    only = SemanticGrid((-5, -5), 10, 10, GridParams(caution_level=2.0))
    for _ in range(2):
        only.fuse(lab, LUT, (0.0, 0.0, 0.0))
    assert only.logodds[2].max() > 0.5 and not only.obstacle_values().any()


def test_lawn_seen_again_and_again_still_turns_into_an_obstacle_in_four_sightings():
    """A toy on lawn seen for minutes: the obstacle evidence stops at the floor, not the clamp."""
    p = GridParams()  # floor -1
    assert p.obstacle_floor == -1.0
    assert sightings_to_find(p) == 4  # -1 + 4 x 0.85 = 2.4 passes 2.0; three do not
    assert sightings_to_find(GridParams(obstacle_floor=-6.0)) == 10  # the clamp: -6 + 10 x 0.85
    assert sightings_to_find(GridParams(obstacle_floor=0.0)) == 3  # as on unseen ground
    grid = SemanticGrid((-5, -5), 10, 10, p)
    lawn = np.zeros((240, 320), np.uint8)
    for _ in range(30):
        grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    seen = grid.logodds[0] > 0
    assert seen.sum() > 1000
    assert grid.logodds[2][seen].min() == pytest.approx(-1.0)  # the floor
    assert grid.logodds[1][seen].min() == pytest.approx(-6.0)  # other ground: the clamp
    assert grid.logodds[0][seen].max() == pytest.approx(6.0)
    block = labels_with_block()
    for _ in range(4):
        grid.fuse(block, LUT, (0.0, 0.0, 0.0))
    assert grid.obstacle_mask().any()
    # the class map (drawn maps, discovery's draft) keeps the long-run evidence: four
    # sightings after thirty of lawn are not an obstacle there, or a doubt (-6 + 4 x 0.85)
    assert grid.obstacle_history[grid.obstacle_mask()].max() == pytest.approx(-6.0 + 4 * 0.85)
    assert not (grid.class_map() == 2).any()
    assert (grid.class_map()[grid.obstacle_mask()] == 0).all()
    for _ in range(8):  # and ground seen after it clears it again
        grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert not grid.obstacle_mask().any()
    with pytest.raises(ValueError, match='obstacle_floor'):
        GridParams(obstacle_floor=0.5)


def test_a_label_image_of_the_wrong_size_is_rejected():
    grid = SemanticGrid((-5, -5), 10, 10)
    with pytest.raises(ValueError, match='does not match the camera'):
        grid.fuse(np.zeros((120, 160), np.uint8), LUT, (0.0, 0.0, 0.0))
    assert grid.frames == 0


# -- the segmenter's confidence ---------------------------------------------------------------


def confidence_like(lab, ground=0.95, obstacle=0.95):
    conf = np.full(lab.shape, ground, np.float32)
    conf[lab == 2] = obstacle
    return conf


def test_a_doubtful_frame_of_phantom_obstacles_adds_nothing_a_sure_one_does():
    lab = labels_with_block()
    # a threshold one sighting passes: the doubtful frame alone decides
    p = GridParams(obstacle_threshold=0.5)
    doubtful, sure = SemanticGrid((-5, -5), 10, 10, p), SemanticGrid((-5, -5), 10, 10, p)
    doubtful.fuse(lab, LUT, (0.0, 0.0, 0.0), confidence=confidence_like(lab, obstacle=0.4))
    sure.fuse(lab, LUT, (0.0, 0.0, 0.0), confidence=confidence_like(lab, obstacle=0.9))
    assert not doubtful.obstacle_mask().any() and doubtful.logodds[2].max() <= 0.0
    assert sure.obstacle_mask().any()
    assert (doubtful.logodds[0] > 0).sum() > 1000  # the sure lawn around it still counts
    # the default threshold: two sure sightings, then a doubtful third is not the third
    for third, found in ((0.4, False), (0.95, True)):
        grid = SemanticGrid((-5, -5), 10, 10, GridParams())
        for conf in (0.95, 0.95, third):
            grid.fuse(lab, LUT, (0.0, 0.0, 0.0), confidence=confidence_like(lab, obstacle=conf))
        assert grid.obstacle_mask().any() == found
        plain = SemanticGrid((-5, -5), 10, 10, GridParams())
        for _ in range(3):
            plain.fuse(lab, LUT, (0.0, 0.0, 0.0))
        assert plain.obstacle_mask().any()  # without confidence the doubtful frame counts


def test_without_confidence_or_at_full_confidence_nothing_changes():
    rng = np.random.default_rng(3)
    a, b = SemanticGrid((-5, -5), 10, 10), SemanticGrid((-5, -5), 10, 10)
    for _ in range(12):
        lab = rng.integers(0, 4, (30, 40)).astype(np.uint8).repeat(8, 0).repeat(8, 1)
        pose = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-3, 3))
        n_a = a.fuse(lab, LUT, pose, 0.01, -0.02)
        n_b = b.fuse(lab, LUT, pose, 0.01, -0.02, np.ones(lab.shape, np.float32))
        assert n_a == n_b
    assert np.array_equal(a.logodds, b.logodds) and a.frames == b.frames == 12


def test_votes_weigh_by_confidence_and_doubtful_pixels_are_dropped():
    lawn = np.zeros((240, 320), np.uint8)
    full, weighed = SemanticGrid((-5, -5), 10, 10), SemanticGrid((-5, -5), 10, 10)
    full.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    weighed.fuse(lawn, LUT, (0.0, 0.0, 0.0), confidence=np.full(lawn.shape, 0.8, np.float32))
    np.testing.assert_allclose(weighed.logodds, 0.8 * full.logodds, rtol=1e-6)
    # the upper half of the image doubtful: only the lower half's ground is seen
    conf = np.ones(lawn.shape, np.float32)
    conf[:120] = 0.3
    half = SemanticGrid((-5, -5), 10, 10)
    half.fuse(lawn, LUT, (0.0, 0.0, 0.0), confidence=conf)
    seen_full, seen_half = (full.logodds[0] > 0).sum(), (half.logodds[0] > 0).sum()
    assert 0 < seen_half < seen_full
    far = np.argwhere(full.logodds[0] > 0)[:, 1].max()
    assert np.argwhere(half.logodds[0] > 0)[:, 1].max() < far  # the far ground went
    # a cell's winner is the class with the larger sum of confidences, not the larger count
    mixed = np.zeros((240, 320), np.uint8)
    mixed[:, ::2] = 1  # as many other-ground pixels as lawn pixels ...
    conf = np.where(mixed == 1, 0.99, 0.55).astype(np.float32)  # ... and surer
    grid = SemanticGrid((-5, -5), 10, 10)
    grid.fuse(mixed, LUT, (0.0, 0.0, 0.0), confidence=conf)
    assert (grid.logodds[1] > 0).sum() > (grid.logodds[0] > 0).sum()


def test_an_obstacle_contact_on_a_doubtful_boundary_still_counts():
    lab = labels_with_block()
    conf = confidence_like(lab)
    conf[177:180, 150:170] = 0.45  # the block's bottom rows: the class boundary
    p = GridParams(obstacle_threshold=0.5)
    grid = SemanticGrid((-5, -5), 10, 10, p)
    grid.fuse(lab, LUT, (0.0, 0.0, 0.0), confidence=conf)
    plain = SemanticGrid((-5, -5), 10, 10, p)
    plain.fuse(lab, LUT, (0.0, 0.0, 0.0))
    assert np.array_equal(grid.obstacle_mask(), plain.obstacle_mask())


def test_a_bad_confidence_image_or_setting_is_rejected():
    grid = SemanticGrid((-5, -5), 10, 10)
    lab = labels_with_block()
    with pytest.raises(ValueError, match='confidence image'):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0), confidence=np.ones((120, 160), np.float32))
    with pytest.raises(ValueError, match='confidence image'):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0), confidence=np.full(lab.shape, 255, np.uint8))
    assert grid.frames == 0
    with pytest.raises(ValueError, match=r'min_confidence = 1.5 is outside \[0.0, 1.0\]'):
        GridParams(min_confidence=1.5)
    p = GridParams.from_values({'hit': 0.7, 'min_confidence': 0.6, 'frame_id': 'map'})
    assert (p.hit, p.min_confidence, p.miss) == (0.7, 0.6, 0.4)


@pytest.mark.parametrize('clear_range_m', [1.5, 0.0])
def test_only_a_near_look_clears_an_obstacle(clear_range_m: float) -> None:
    """A hose mapped whole, then passed again at 2-3 m where the network misses it as lawn."""
    grid = SemanticGrid((-5, -5), 10, 10, GridParams(clear_range_m=clear_range_m))
    lab, lawn = labels_with_block(), np.zeros((240, 320), np.uint8)
    for _ in range(6):
        grid.fuse(lab, LUT, (0.0, 0.0, 0.0))  # seen near: found, evidence at the clamp
    found = grid.obstacle_mask().copy()
    assert found.any()
    ys, xs = np.nonzero(found)
    centre_x = grid.origin[0] + (xs.mean() + 0.5) * grid.res
    assert 0.4 < centre_x < 1.0  # the block is about 0.7 m ahead of the mower
    back = centre_x - 2.5  # the same cells, 2.5 m ahead: seen as lawn from afar
    for _ in range(30):
        grid.fuse(lawn, LUT, (back, 0.0, 0.0))
    assert grid.logodds[0][found].min() > 0  # those cells were seen (as lawn)
    if clear_range_m:
        assert (grid.obstacle_mask() == found).all()  # still an obstacle
        assert grid.obstacle_history[found].max() < 0  # the class map's evidence did fall
        for _ in range(30):  # seen as lawn from 0.7 m: cleared
            grid.fuse(lawn, LUT, (0.0, 0.0, 0.0))
    assert not grid.obstacle_mask().any()


def test_far_ground_still_lowers_an_obstacle_not_found_yet() -> None:
    """A phantom seen twice (below the threshold) decays under far lawn as it always did."""
    grid = SemanticGrid((-5, -5), 10, 10, GridParams())
    for _ in range(2):
        grid.fuse(labels_with_block(), LUT, (0.0, 0.0, 0.0))
    doubt = (grid.logodds[2] > 1.0) & ~grid.obstacle_mask()
    assert doubt.any() and not grid.obstacle_mask().any()
    ys, xs = np.nonzero(doubt)
    back = grid.origin[0] + (xs.mean() + 0.5) * grid.res - 2.5
    before = grid.logodds[2][doubt].copy()
    grid.fuse(np.zeros((240, 320), np.uint8), LUT, (back, 0.0, 0.0))
    assert grid.logodds[2][doubt] == pytest.approx(before - 0.4)  # lowered by the far look


def test_clear_range_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match='clear_range_m'):
        GridParams(clear_range_m=-1.0)


def thin_post_labels(d_m: float, y_m: float = 0.02, width_m: float = 0.06) -> np.ndarray:
    """A thin post standing ``d_m`` ahead on lawn, its foot a pixel high as a network draws it."""
    lab = np.zeros((240, 320), np.uint8)
    lab[:20] = 3
    (ua, va), (ub, vb) = CAM.project_ground(
        np.array([[d_m, y_m - width_m / 2], [d_m, y_m + width_m / 2]])
    )
    foot = int(math.floor((va + vb) / 2)) - 1
    lab[20 : foot + 1, int(math.floor(min(ua, ub))) : int(math.ceil(max(ua, ub)))] = 2
    return lab


def approach_post(params: GridParams, phase_m: float) -> tuple[float, SemanticGrid, np.ndarray]:
    """Lawn seen for long, then a 6 cm post approached at 0.25 m a frame (2 Hz at 0.5 m/s).

    Returns the distance at which the post's foot (within 0.08 m) became an obstacle (0 when
    never, down to 0.45 m), the grid, and the post's foot in the map.
    """
    grid = SemanticGrid((-5, -5), 10, 10, params)
    lawn = np.zeros((240, 320), np.uint8)
    lawn[:20] = 3
    for i in range(30):
        grid.fuse(lawn, LUT, (-0.003 * i, 0.0, 0.0))
    foot = np.array([3.0, 0.02])
    d = 4.0 - phase_m
    while d > 0.45:
        grid.fuse(thin_post_labels(d), LUT, (foot[0] - d, 0.0, 0.0))
        r, c = np.nonzero(grid.obstacle_mask())
        xy = np.stack([c, r], axis=1) * grid.res + grid.origin + grid.res / 2
        if (np.hypot(*(xy - foot).T) < 0.08).any():
            return d, grid, foot
        d -= 0.25
    return 0.0, grid, foot


def test_a_thin_posts_foot_is_found_sooner_by_counting_its_hit_back_to_the_row_below() -> None:
    """Random garden 1's 6 cm post: contacts of frames 0.25 m apart land a cell or two apart.

    The lowest obstacle sample of a column lies at or beyond the foot, by up to a LUT row (0.09
    m of ground at 1.5 m, 0.16 m at 2 m); the obstacle layer counts the hit back to the ground
    sample below it, so successive frames add up on the foot. The class map keeps the sample
    points alone, frame for frame as without the spread.
    """
    found, alone = [], []
    for phase_m in (0.0, 0.06, 0.12, 0.18):  # where the frames fall relative to the LUT rows
        d, grid, foot = approach_post(GridParams(), phase_m)
        found.append(d)
        alone.append(approach_post(GridParams(foot_spread_m=0.0), phase_m)[0])
        r, c = np.nonzero(grid.obstacle_mask())
        xy = np.stack([c, r], axis=1) * grid.res + grid.origin + grid.res / 2
        assert np.hypot(*(xy - foot).T).max() < 0.2  # at the foot, not a streak along the ray
        # the class map's evidence: the sample points alone, as without the spread
        same = SemanticGrid((-5, -5), 10, 10, GridParams(foot_spread_m=0.0))
        lawn = np.zeros((240, 320), np.uint8)
        lawn[:20] = 3
        for i in range(30):
            same.fuse(lawn, LUT, (-0.003 * i, 0.0, 0.0))
        at = 4.0 - phase_m
        while at >= d - 1e-9:
            same.fuse(thin_post_labels(at), LUT, (foot[0] - at, 0.0, 0.0))
            at -= 0.25
        np.testing.assert_allclose(grid.obstacle_history, same.obstacle_history, atol=1e-5)
        assert (grid.obstacle_history > 0).any()
    assert all(f >= a for f, a in zip(found, alone, strict=True))
    assert min(found) >= 1.5 > min(alone)  # 3 s at 0.5 m/s before the post, not 2.6 s
    assert sum(found) > sum(alone) + 0.2
    # a flat blob (a shadow called an obstacle) is not standing: its contact counts alone
    blob = labels_with_block(v0=71, v1=77)  # two LUT rows high, 1.7 m ahead
    flat = SemanticGrid((-5, -5), 10, 10, GridParams())
    plain = SemanticGrid((-5, -5), 10, 10, GridParams(foot_spread_m=0.0))
    tall = SemanticGrid((-5, -5), 10, 10, GridParams())
    for _ in range(3):
        flat.fuse(blob, LUT, (0.0, 0.0, 0.0))
        plain.fuse(blob, LUT, (0.0, 0.0, 0.0))
        tall.fuse(labels_with_block(v0=40, v1=77), LUT, (0.0, 0.0, 0.0))
    np.testing.assert_array_equal(flat.logodds, plain.logodds)
    assert flat.obstacle_mask().any()
    assert tall.obstacle_mask().sum() > flat.obstacle_mask().sum()  # the standing one spreads
    with pytest.raises(ValueError, match='foot_spread_m'):
        GridParams(foot_spread_m=-0.1)


def test_every_label_of_the_segmenters_grid_is_read_at_the_default_stride() -> None:
    """The runtime's labels are a 160x120 grid repeated 2x2; the LUT must read each of its rows.

    A hose one label high (two image rows) 1.5-2 m away: at stride 3 every third label row was
    never sampled, and such a hose left no evidence at all; at the default stride (2) every
    label row of the ground is read.
    """
    from mower_mapping.mapper import PARAMETERS
    from mower_mapping.semantic_grid import standing_samples

    stride = PARAMETERS['lut_stride'][0]
    lut = ground_lut(CAM, stride=stride, max_range_m=4.5)
    coarse = ground_lut(CAM, stride=3, max_range_m=4.5)
    assert standing_samples(coarse) == 8 and standing_samples(lut) == -(-24 // stride)

    def seen(table, row: int) -> bool:
        lab = np.zeros((240, 320), np.uint8)
        lab[:20] = 3
        lab[2 * row : 2 * row + 2] = 2  # one label row of the 160x120 grid, repeated
        grid = SemanticGrid((-5, -5), 10, 10, GridParams())
        grid.fuse(lab, table, (0.0, 0.0, 0.0))
        return bool((grid.obstacle_history > 0).any())

    rows = range(int(lut.rows.min()) // 2 + 1, 120)  # label rows showing ground in range
    assert all(seen(lut, r) for r in rows)
    assert sum(not seen(coarse, r) for r in rows) > len(rows) // 4  # the rows stride 3 lost
