"""A 3 ha lawn costs memory where the deck went, not over the whole lawn (issue 16, defect 15).

The simulator's ground truth (the cut cells and their passes) and the mapping's mowed layer
are 2 cm rasters over the lawn: about a hundred million cells for 3 ha. They keep only the
tiles the deck reached, and the run's figures (coverage of the reachable area, mowed area and
share) are counted from those tiles without a raster of the lawn's size.
"""

from __future__ import annotations

import os
import tracemalloc

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mower_coverage import CoveragePlanner, PlannerParams  # noqa: E402
from mower_mapping.mapper import Mapper, defaults, grid_extent  # noqa: E402
from mower_maps.tiles import TILE_CELLS  # noqa: E402
from mower_offline.ground_truth import GroundTruth  # noqa: E402
from mower_sim.scenario import large_lawn  # noqa: E402
from mower_sim.sim import LawnSim  # noqa: E402


@pytest.fixture(scope='module')
def drove():
    """A 3 ha lawn after 5 s of mowing from its centre: simulator, ground truth, mapping."""
    lawn = large_lawn(30000.0)
    sim = LawnSim(lawn, render=False)
    truth = GroundTruth(sim, lawn, CoveragePlanner(PlannerParams()), (), 0.1, 0.22)
    values = defaults()
    mapper = Mapper(values, grid_extent(values, lawn.boundary.bounds))
    mapper.blade_on = True
    sim.command(0.4, 0.0, blade=True)
    while sim.time_s < 5.0:
        sim.run(0.02)
        mapper.sweep(*sim.pose[:2])
        if round(sim.time_s / 0.02) % 10 == 0:  # passes at 5 Hz, as MowingRun stamps them
            truth.stamp_passes()
    return lawn, sim, truth, mapper


def test_the_rasters_span_the_lawn_but_hold_only_the_tiles_driven_over(drove):
    lawn, sim, truth, mapper = drove
    cells = sim.mowed.shape[0] * sim.mowed.shape[1]
    assert cells > 75e6  # a dense bool raster: 75 MB; the pass counts of old (float32): 300 MB
    layer = mapper.coverage.cells
    assert layer.shape[0] * layer.shape[1] > 75e6
    driven = sim.mowed_area_m2()
    assert 0.3 < driven < 1.0  # 1.6-2 m of 0.22 m swath
    # the swath's bounding box, 2 m by 0.22 m, overlaps at most 2 x 2 tiles of 4.8 m
    for raster in (sim.mowed, truth.passes, layer):
        assert 1 <= raster.n_tiles <= 4, raster.n_tiles
        assert raster.nbytes <= 4 * TILE_CELLS**2 * raster.dtype.itemsize
    assert 0 < truth.passes.count_nonzero() <= sim.mowed.count_nonzero()
    assert mapper.coverage.mowed_area_m2() == pytest.approx(driven, rel=0.1)


def test_the_run_figures_need_no_raster_of_the_lawn(drove):
    """Coverage, mowed area and share: counted tile by tile, far below one dense raster."""
    lawn, sim, truth, mapper = drove
    cells = sim.mowed.shape[0] * sim.mowed.shape[1]
    mowable = lawn.mowable_area()
    tracemalloc.start()
    try:
        pct = truth.coverage_pct()  # the reachable area rasterised once, tile by tile
        again = truth.coverage_pct()
        mowed = sim.mowed_area_m2(mowable)
        share = mapper.mowed_share(mowable)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < cells / 4, f'{peak / 1e6:.1f} MB for a raster of {cells / 1e6:.0f} M cells'
    reachable = truth.reachable.area
    assert pct == again == pytest.approx(100 * mowed / reachable, rel=0.02)
    assert share == pytest.approx(mowed / mowable.area, rel=0.1) and share > 0


def test_the_published_grid_is_as_coarse_as_it_says(drove):
    """map/coverage (what the mission reads): one byte per coarse cell, no 2 cm copy."""
    _, sim, _, mapper = drove
    factor = mapper.coverage_factor()
    layer = mapper.coverage
    fine = layer.shape[0] * layer.shape[1]
    tracemalloc.start()
    try:
        grid = mapper.published_coverage()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert grid.mowed.shape == (layer.shape[0] // factor, layer.shape[1] // factor)
    assert peak < 2.5 * fine / factor**2  # the counts and the grid, one byte a cell each
    x, y, _ = sim.pose
    behind = np.array([[x - 0.8, y], [x - 0.4, y], [x + 2.0, y]])  # it drove east
    assert grid(behind).tolist() == [True, True, False]
