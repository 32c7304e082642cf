"""Stage 2: headland passes at constant offsets, fill rings in thin parts."""

import numpy as np
import pytest
import shapely

from mower_coverage.headlands import ConstantOffsetHeadlands


def test_pass_k_lies_k_spacings_inside():
    region = shapely.box(0, 0, 10, 6).difference(shapely.Point(5, 3).buffer(1.0))
    h = ConstantOffsetHeadlands().generate(region, 0.2, 3)
    assert len(h.levels) == 3
    for k, rings in enumerate(h.levels):
        assert len(rings) == 2  # the boundary and the hole
        for ring in rings:
            d = shapely.distance(region.boundary, shapely.points(ring))
            assert np.allclose(d, 0.2 * k, atol=1e-3)
    assert h.inner.area == pytest.approx(shapely.buffer(region, -0.4).area)


def test_passes_stop_where_the_area_vanishes():
    h = ConstantOffsetHeadlands().generate(shapely.box(0, 0, 10, 0.5), 0.2, 5)
    assert len(h.levels) == 2  # at 0.4 m the 0.5 m strip is gone


def test_fill_ring_covers_a_thin_part_that_the_next_pass_misses():
    # a 0.3 m wide finger: pass 1 (0.2 m in) vanishes there, its middle is 0.15 m from pass 0
    region = shapely.union_all([shapely.box(0, 0, 4, 4), shapely.box(4, 1, 7, 1.3)])
    h = ConstantOffsetHeadlands().generate(region, 0.2, 2)
    assert h.fills and h.fills[0]
    fill = h.fills[0][0]
    assert fill[:, 0].max() > 6.5  # reaches into the finger
    assert shapely.covers(region, shapely.linestrings(fill))
