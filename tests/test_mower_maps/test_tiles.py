"""Tiled rasters and tile regions: the same answers as a dense raster, from the touched tiles."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from mower_maps.tiles import TiledRaster, TileRegion

SHAPE = (97, 131)  # not a multiple of the tile size: edge tiles reach past the raster
TILE = 20


def stamped(seed: int, n: int = 40) -> tuple[TiledRaster, np.ndarray]:
    """A tiled raster and its dense twin with ``n`` random discs stamped, some off the edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[-5:6, -5:6]
    disc = xx**2 + yy**2 <= 25
    tiled, dense = TiledRaster(SHAPE, bool, TILE), np.zeros(SHAPE, bool)
    for r0, c0 in rng.integers(-10, 140, (n, 2)).tolist():
        tiled.or_mask(r0, c0, disc)
        rs, cs = max(r0, 0), max(c0, 0)
        re, ce = min(r0 + 11, SHAPE[0]), min(c0 + 11, SHAPE[1])
        if rs < re and cs < ce:
            dense[rs:re, cs:ce] |= disc[rs - r0 : re - r0, cs - c0 : ce - c0]
    return tiled, dense


def centres_inside(geom, origin: np.ndarray, res: float, shape: tuple[int, int]) -> np.ndarray:
    """The brute-force answer: ``contains_xy`` at every cell centre."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    xy = origin + (np.stack([cols, rows], axis=-1) + 0.5) * res
    return shapely.contains_xy(geom, xy[..., 0], xy[..., 1])


def test_nothing_is_allocated_until_written():
    raster = TiledRaster((12_000, 11_000), np.uint8)
    assert raster.n_tiles == 0 and raster.nbytes == 0 and raster.count_nonzero() == 0
    assert raster.read(500, 500, 3, 3).sum() == 0
    raster.write(5000, 5000, np.zeros((30, 30), np.uint8))  # zeros allocate nothing
    assert raster.n_tiles == 0
    raster.write(5000, 5000, np.ones((30, 30), np.uint8))
    assert raster.n_tiles == 1 and raster.nbytes == 240 * 240
    assert raster.count_nonzero() == 900


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_a_tiled_raster_answers_as_its_dense_twin(seed):
    tiled, dense = stamped(seed)
    assert np.array_equal(tiled.to_dense(), dense)
    assert tiled.count_nonzero() == np.count_nonzero(dense)
    rows, cols = tiled.nonzero()
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == sorted(
        zip(*(a.tolist() for a in np.nonzero(dense)), strict=True)
    )
    assert np.array_equal(tiled.read(-4, 120, 30, 30)[4:, :11], dense[:26, 120:])
    assert np.array_equal(TiledRaster.from_dense(dense, TILE).to_dense(), dense)


@pytest.mark.parametrize('factor', [1, 2, 3, 4, 7])  # 3 and 7 do not divide the tile of 20
def test_block_sums_and_maxima_match_the_dense_reduction(factor):
    tiled, dense = stamped(1)
    h, w = -(-SHAPE[0] // factor) * factor, -(-SHAPE[1] // factor) * factor
    padded = np.zeros((h, w), np.int64)
    padded[: SHAPE[0], : SHAPE[1]] = dense
    blocks = padded.reshape(h // factor, factor, w // factor, factor)
    assert np.array_equal(tiled.block_reduce(factor), blocks.sum(axis=(1, 3)))
    assert np.array_equal(tiled.block_reduce(factor, 'max'), blocks.max(axis=(1, 3)) > 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_a_region_holds_the_cells_whose_centre_is_inside(seed, x0, y0):
    """Exactly the cells of contains_xy at their centres, holes and edges through cells too."""
    rng = np.random.default_rng(seed)
    res = 0.05
    origin = np.array([x0, y0])
    cx, cy = rng.uniform(1.0, 5.0, 2)
    shape = shapely.Point(x0 + cx, y0 + cy).buffer(rng.uniform(0.5, 3.0), quad_segs=5)
    c0, r0 = int(cx / res), int(cy / res)  # a hole whose edges run through cell centres
    (hx0, hy0), (hx1, hy1) = origin + (np.array([[c0 - 7, r0 - 5], [c0 + 6, r0 + 9]]) + 0.5) * res
    shape = shape.difference(shapely.box(hx0, hy0, hx1, hy1))
    truth = centres_inside(shape, origin, res, SHAPE)
    region = TileRegion(shape, origin, res, TILE)
    assert region.count(SHAPE) == np.count_nonzero(truth)
    for key in TiledRaster(SHAPE, bool, TILE).keys_all():
        inside = region.tile_mask(key)
        rows = slice(key[0] * TILE, (key[0] + 1) * TILE)
        cols = slice(key[1] * TILE, (key[1] + 1) * TILE)
        part = truth[rows, cols]
        if isinstance(inside, bool):
            assert (part == inside).all()
        else:
            assert np.array_equal(inside[: part.shape[0], : part.shape[1]], part)
    tiled = TiledRaster.from_dense(truth & (rng.random(SHAPE) < 0.5), TILE)
    assert tiled.count_within(region) == np.count_nonzero(tiled.to_dense() & truth)


def test_a_region_leaves_the_callers_geometry_alone():
    lawn = shapely.box(0, 0, 3, 3)
    TileRegion(lawn, np.zeros(2), 0.1, TILE).count((40, 40))
    assert not shapely.is_prepared(lawn)
