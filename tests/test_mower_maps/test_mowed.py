"""MowedGrid: one cell convention and one mowed-share formula."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from mower_maps.mowed import MowedGrid


def test_a_point_belongs_to_the_cell_whose_square_holds_it():
    mowed = np.zeros((3, 4), bool)
    mowed[1, 2] = True  # the cell from (1.0 + 2 * 0.5, 2.0 + 0.5) to (2.5, 3.0)
    grid = MowedGrid(mowed, (1.0, 2.0), 0.5)
    xy = np.array([[2.0, 2.5], [2.49, 2.99], [1.99, 2.7], [2.2, 3.0], [-5.0, 0.0], [9.0, 9.0]])
    assert grid(xy).tolist() == [True, True, False, False, False, False]


@given(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.01, 2.0))
def test_cell_centres_map_back_to_their_cell(x0, y0, res):
    grid = MowedGrid(np.ones((4, 5), bool), (x0, y0), res)
    cols, rows = np.meshgrid(np.arange(5), np.arange(4))
    centres = np.column_stack([x0 + (cols.ravel() + 0.5) * res, y0 + (rows.ravel() + 0.5) * res])
    assert np.array_equal(grid.cells(centres), np.column_stack([cols.ravel(), rows.ravel()]))


def test_share_counts_cell_centres_inside_the_area():
    mowed = np.zeros((10, 10), bool)
    mowed[:, :5] = True  # the left half of a 1 m square
    grid = MowedGrid(mowed, (0.0, 0.0), 0.1)
    assert grid.share(shapely.box(0, 0, 1, 1)) == pytest.approx(0.5)
    assert grid.share(shapely.box(0, 0, 0.5, 1)) == pytest.approx(1.0)
    assert grid.share(shapely.Polygon()) == 0.0
    assert grid.area_m2() == pytest.approx(0.5)


def test_from_values_thresholds_and_refuses_bad_geometry():
    values = np.array([[0, 49], [50, 100]], np.int8)
    grid = MowedGrid.from_values(values, (0.0, 0.0), 1.0)
    assert grid.mowed.tolist() == [[False, False], [True, True]]
    with pytest.raises(ValueError, match='resolution'):
        MowedGrid.from_values(values, (0.0, 0.0), 0.0)
    with pytest.raises(ValueError, match='origin'):
        MowedGrid.from_values(values, (float('nan'), 0.0), 1.0)
