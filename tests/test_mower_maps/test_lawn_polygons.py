"""Lawn polygons from grids made here: exact outlines, holes, necks, noise, seeds, confidence."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from mower_maps.lawn_polygons import (
    ConfidenceParams,
    EdgedPolygon,
    ExtractionError,
    ExtractionParams,
    clean_mask,
    edge_confidence,
    lawn_polygons,
    mask_to_polygons,
)

RES = 0.05  # m, the semantic grid's default
RAW = ExtractionParams(clean_m=0, majority_cells=0, min_area_m2=0, min_hole_m2=0, simplify_m=0)


def raster(geom, origin: tuple[float, float], shape: tuple[int, int], res: float = RES):
    """The cells (rows = y, cols = x) whose centres lie in ``geom``."""
    cols, rows = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]))
    return shapely.contains_xy(
        geom, origin[0] + (cols + 0.5) * res, origin[1] + (rows + 0.5) * res
    )


def iou(a, b) -> float:
    return a.intersection(b).area / a.union(b).area


# -- exact outlines ---------------------------------------------------------------------------


def test_a_full_resolution_mask_round_trips_to_its_cells():
    rng = np.random.default_rng(1)
    mask = rng.random((40, 60)) < 0.5
    origin = (-3.2, 5.1)
    poly = mask_to_polygons(mask, origin, RES)
    assert poly.is_valid
    assert poly.area == pytest.approx(mask.sum() * RES * RES, rel=1e-12)
    assert np.array_equal(raster(poly, origin, mask.shape), mask)


def test_the_grid_convention_origin_is_the_lower_left_corner_and_rows_are_y():
    mask = np.zeros((4, 6), dtype=np.uint8)
    mask[1, 2] = 1  # row 1 (y), column 2 (x)
    poly = mask_to_polygons(mask, (10.0, 20.0), 0.5)
    assert poly.equals(box(11.0, 20.5, 11.5, 21.0))


def test_raw_extraction_keeps_every_cell_and_every_hole():
    mask = np.ones((20, 30), dtype=bool)
    mask[5:8, 5:9] = False  # a 3 x 4 cell hole
    found = lawn_polygons(mask, (0.0, 0.0), RES, RAW)
    assert found.area_m2 == pytest.approx(mask.sum() * RES * RES)
    assert len(found.boundaries) == 1 and len(found.keepouts) == 1
    assert found.keepouts[0].polygon.equals(box(5 * RES, 5 * RES, 9 * RES, 8 * RES))
    assert found.boundaries[0].polygon.equals(box(0, 0, 30 * RES, 20 * RES))


# -- shapes -----------------------------------------------------------------------------------

ORIGIN = (-2.0, 3.0)
SHAPE = (160, 200)  # 8 m x 10 m
RECT = box(-1.0, 4.0, 7.0, 10.0)
POND = Point(2.0, 7.0).buffer(1.0, quad_segs=64)
LAWN_WITH_POND = RECT.difference(POND)


def test_rectangle_with_a_round_hole():
    found = lawn_polygons(raster(LAWN_WITH_POND, ORIGIN, SHAPE), ORIGIN, RES)
    assert len(found.boundaries) == 1
    assert found.boundaries[0].polygon.equals(RECT)  # corners kept, edges straight
    assert len(found.keepouts) == 1 and not found.obstacles
    pond = found.keepouts[0].polygon
    assert iou(pond, POND) >= 0.97
    assert pond.hausdorff_distance(POND) <= 1.5 * RES
    assert iou(found.polygon, LAWN_WITH_POND) >= 0.99
    assert found.polygon.is_valid
    # simplified: a rectangle and a polygon of a circle, not staircases
    assert shapely.get_num_coordinates(found.boundaries[0].polygon) == 5
    assert shapely.get_num_coordinates(pond) < 60


@pytest.mark.parametrize('radius_m, worst', [(0.25, 0.87), (0.3, 0.9)])
def test_a_small_tree_keeps_its_shape_through_discoverys_clean_up(radius_m, worst):
    """Holes are simplified finer than the edge: a 0.5-0.6 m trunk on a perfect 5 cm grid.

    Simplified at the edge's 5 cm (as before ``hole_simplify_m``), the worst of these offsets
    scores below ``worst``: too little margin for discovery's goal of 0.8 once a real grid's
    errors come on top. The outer edge is simplified as before.
    """
    import dataclasses

    from mower_maps.draft_map import DISCOVERY_EXTRACTION

    coarse = dataclasses.replace(DISCOVERY_EXTRACTION, hole_simplify_m=0.05)
    rng = np.random.default_rng(3)
    scores, coarse_scores = [], []
    for _ in range(12):
        tree = Point(2.5 + rng.uniform(0, RES), 2.5 + rng.uniform(0, RES)).buffer(
            radius_m, quad_segs=64
        )
        mask = ~raster(tree, (0.0, 0.0), (100, 100))
        found, before = (
            lawn_polygons(mask, (0.0, 0.0), RES, p, seed_xy=(1.0, 1.0))
            for p in (DISCOVERY_EXTRACTION, coarse)
        )
        scores.append(iou(found.keepouts[0].polygon, tree))
        coarse_scores.append(iou(before.keepouts[0].polygon, tree))
        assert found.boundaries[0].polygon.equals(before.boundaries[0].polygon)
    assert min(scores) >= worst > min(coarse_scores)


def test_l_shape_keeps_its_inner_corner():
    ell = box(0.0, 0.0, 6.0, 2.0).union(box(0.0, 0.0, 2.0, 5.0))
    found = lawn_polygons(raster(ell, (-1.0, -1.0), (140, 160)), (-1.0, -1.0), RES)
    (outline,) = found.boundaries
    assert outline.polygon.normalize().equals(ell.normalize())
    assert shapely.get_num_coordinates(outline.polygon) == 7


def _neck_lawn(neck_width_m: float) -> Polygon:
    left = box(0.0, 0.0, 3.0, 3.0)
    right = box(4.0, 0.5, 6.0, 2.5)  # smaller
    neck = box(2.9, 1.5 - neck_width_m / 2, 4.1, 1.5 + neck_width_m / 2)
    return shapely.union_all([left, right, neck])


def test_a_neck_wider_than_the_clean_up_disc_is_kept():
    lawn = _neck_lawn(0.3)
    mask = raster(lawn, (-0.5, -0.5), (80, 140))
    found = lawn_polygons(mask, (-0.5, -0.5), RES, ExtractionParams(clean_m=0.15))
    assert len(found.boundaries) == 1
    assert iou(found.polygon, lawn) >= 0.99


def test_a_neck_narrower_than_the_clean_up_disc_is_cut():
    lawn = _neck_lawn(0.3)
    mask = raster(lawn, (-0.5, -0.5), (80, 140))
    cut = lawn_polygons(mask, (-0.5, -0.5), RES, ExtractionParams(clean_m=0.4))
    assert len(cut.boundaries) == 2
    assert isinstance(cut.polygon, MultiPolygon)
    largest = lawn_polygons(mask, (-0.5, -0.5), RES, ExtractionParams(clean_m=0.4, keep='largest'))
    (kept,) = largest.boundaries
    assert kept.polygon.area == pytest.approx(9.0, rel=0.02)  # the 3 m x 3 m part
    assert any('smaller than the largest' in w for w in largest.warnings)


def test_salt_and_pepper_noise_gives_the_true_polygon():
    truth = raster(LAWN_WITH_POND, ORIGIN, SHAPE)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        noisy = truth ^ (rng.random(truth.shape) < 0.05)  # 5 % of the cells flipped
        found = lawn_polygons(noisy, ORIGIN, RES)
        assert iou(found.polygon, LAWN_WITH_POND) >= 0.97, seed
        assert found.polygon.hausdorff_distance(LAWN_WITH_POND) <= 2 * RES, seed
        assert len(found.boundaries) == 1 and len(found.keepouts) == 1, seed


def test_clean_mask_removes_isolated_noise_but_not_corners():
    mask = np.zeros((30, 30), dtype=bool)
    mask[5:25, 5:25] = True
    noisy = mask.copy()
    noisy[2, 2] = noisy[15, 15] = noisy[27, 10] = True
    noisy[10, 10] = False
    assert np.array_equal(clean_mask(noisy, RES), mask)


# -- faults -----------------------------------------------------------------------------------


def test_an_empty_grid_is_a_clear_error():
    with pytest.raises(ExtractionError, match='no lawn in the grid'):
        lawn_polygons(np.zeros((50, 50), dtype=np.uint8), (0.0, 0.0), RES)


def test_only_specks_is_a_clear_error():
    mask = np.zeros((50, 50), dtype=bool)
    mask[10:13, 10:13] = True  # 0.0225 m², below min_area_m2
    with pytest.raises(ExtractionError, match='no lawn left after the clean-up'):
        lawn_polygons(mask, (0.0, 0.0), RES)


@pytest.mark.parametrize(
    ('kwargs', 'match'),
    [
        ({'res': 0.0}, 'resolution'),
        ({'origin': (0.0, float('nan'))}, 'origin'),
        ({'seen': np.zeros((3, 3))}, 'seen has shape'),
        ({'params': ExtractionParams(keep='seed')}, 'needs seed_xy'),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    args = {'mask': np.ones((20, 20), dtype=bool), 'origin': (0.0, 0.0), 'res': RES}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        lawn_polygons(**args)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match='clean_m'):
        ExtractionParams(clean_m=-1.0)
    with pytest.raises(ValueError, match='hole_simplify_m'):
        ExtractionParams(hole_simplify_m=float('nan'))
    with pytest.raises(ValueError, match='majority_cells'):
        ExtractionParams(majority_cells=4)
    with pytest.raises(ValueError, match='keep'):
        ExtractionParams(keep='biggest')
    with pytest.raises(ValueError, match='far_m'):
        ConfidenceParams(near_m=3.0, far_m=2.0)


# -- selection by seed ------------------------------------------------------------------------

FRONT = box(0.0, 0.0, 4.0, 3.0)
BACK = box(6.0, 0.0, 8.0, 2.0)  # smaller, 2 m away


def _two_lawns() -> np.ndarray:
    return raster(FRONT.union(BACK), (-1.0, -1.0), (100, 200))


def test_two_components_keep_the_one_at_the_seed():
    mask = _two_lawns()
    at_back = lawn_polygons(
        mask, (-1.0, -1.0), RES, ExtractionParams(keep='seed'), seed_xy=(7.0, 1.0)
    )
    (kept,) = at_back.boundaries
    assert kept.polygon.equals(BACK)
    assert any('not connected to the seed' in w for w in at_back.warnings)
    # a dock just off the lawn's edge still picks the nearest lawn
    near_front = lawn_polygons(
        mask, (-1.0, -1.0), RES, ExtractionParams(keep='seed'), seed_xy=(-0.4, 1.5)
    )
    assert near_front.boundaries[0].polygon.equals(FRONT)
    both = lawn_polygons(mask, (-1.0, -1.0), RES)
    assert len(both.boundaries) == 2 and not both.warnings


def test_a_seed_far_from_any_lawn_is_a_clear_error():
    with pytest.raises(ExtractionError, match='no lawn at the seed'):
        lawn_polygons(
            _two_lawns(), (-1.0, -1.0), RES, ExtractionParams(keep='seed'), seed_xy=(5.0, 4.0)
        )


# -- holes: keep-outs and obstacles -----------------------------------------------------------


def test_holes_that_are_obstacle_cells_become_obstacles():
    bed = box(1.0, 1.0, 2.0, 2.0)
    tree = Point(5.0, 2.5).buffer(0.3)
    lawn = box(0.0, 0.0, 8.0, 4.0).difference(bed).difference(tree)
    origin, shape = (-0.5, -0.5), (100, 180)
    obstacle = raster(tree, origin, shape)
    found = lawn_polygons(raster(lawn, origin, shape), origin, RES, obstacle_mask=obstacle)
    assert len(found.keepouts) == 1 and len(found.obstacles) == 1
    assert iou(found.keepouts[0].polygon, bed) >= 0.97
    assert iou(found.obstacles[0].polygon, tree) >= 0.9


def test_a_keepout_seen_as_flat_ground_is_of_kind_ground():
    """A hole with (almost) no obstacle cells is flat ground; one with some is not known."""
    from mower_maps.lawn_polygons import FLAT_SHARE, GROUND_KIND

    patio = box(1.0, 1.0, 2.0, 2.0)  # no obstacle cell: flat
    bed = box(3.5, 1.0, 4.5, 2.0)  # a third of it obstacle cells (plants): not known
    tree = Point(6.5, 2.5).buffer(0.3)
    lawn = box(0.0, 0.0, 8.0, 4.0).difference(patio).difference(bed).difference(tree)
    origin, shape = (-0.5, -0.5), (100, 180)
    obstacle = raster(tree.union(box(3.5, 1.0, 4.5, 1.33)), origin, shape)
    obstacle |= raster(box(1.0, 1.0, 1.05, 1.05), origin, shape)  # one stray cell on the patio
    found = lawn_polygons(raster(lawn, origin, shape), origin, RES, obstacle_mask=obstacle)
    assert len(found.keepouts) == 2 and len(found.obstacles) == 1
    kinds = {round(k.polygon.centroid.x): k.kind for k in found.keepouts}
    assert kinds == {2: GROUND_KIND, 4: ''}
    assert found.obstacles[0].kind == '' and all(b.kind == '' for b in found.boundaries)
    # the patio's one stray cell is under FLAT_SHARE of its 400; the bed's third is not
    assert 1 / 400 < FLAT_SHARE < 1 / 3
    # without an obstacle mask nothing is known of any hole
    blind = lawn_polygons(raster(lawn, origin, shape), origin, RES)
    assert len(blind.keepouts) == 3 and {k.kind for k in blind.keepouts} == {''}


# -- edge confidence --------------------------------------------------------------------------


def test_well_seen_edges_are_more_confident():
    lawn = box(0.0, 0.0, 6.0, 4.0)
    origin, shape = (-1.0, -1.0), (120, 160)
    cols = np.arange(shape[1])[None, :].repeat(shape[0], axis=0)
    x = origin[0] + (cols + 0.5) * RES
    seen = np.where(x < 3.0, 8, 1)  # the west half seen 8 times, the east half once
    distance = np.where(x < 3.0, 0.8, 4.0)  # and from closer
    found = lawn_polygons(raster(lawn, origin, shape), origin, RES, seen=seen, distance_m=distance)
    (outline,) = found.boundaries
    ring = np.asarray(outline.polygon.exterior.coords)
    (conf,) = outline.edge_confidence
    mid_x = (ring[:-1, 0] + ring[1:, 0]) / 2
    west, east = conf[mid_x < 1.0], conf[mid_x > 5.0]
    assert west.size and east.size
    assert west.min() == pytest.approx(1.0)
    assert east.max() < 0.1  # seen once (0.2) from 4 m (0.25)
    assert 0.0 < outline.confidence < 1.0
    # only one kind of evidence: each is used alone
    only_seen = edge_confidence(ring, origin, RES, seen=seen)
    assert only_seen[mid_x > 5.0].max() == pytest.approx(0.2)
    none = edge_confidence(ring, origin, RES)
    assert np.all(none == 1.0)


def test_edges_off_the_grid_have_no_confidence():
    seen = np.full((10, 10), 10)
    ring = np.array([[0.1, 0.1], [0.4, 0.1], [0.4, 3.0], [0.1, 0.1]])  # runs off the grid
    conf = edge_confidence(ring, (0.0, 0.0), RES, seen=seen)
    assert conf[0] == pytest.approx(1.0)
    assert conf[1] < 0.5


def test_edged_polygon_checks_its_confidences():
    square = box(0, 0, 1, 1)
    with pytest.raises(ValueError, match='segments'):
        EdgedPolygon(square, (np.ones(3),))
    with pytest.raises(ValueError, match='rings'):
        EdgedPolygon(square, (np.ones(4), np.ones(4)))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        EdgedPolygon(square, (np.full(4, 1.5),))
    assert EdgedPolygon(square, ([1.0, 1.0, 0.0, 0.0],)).confidence == pytest.approx(0.5)
    assert EdgedPolygon(square).confidence is None
