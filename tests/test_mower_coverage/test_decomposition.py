"""Stages 3 and 4b: chords and boustrophedon cells."""

import numpy as np
import pytest
import shapely

from mower_coverage.decomposition import BoustrophedonDecomposition, scan_chords
from mower_coverage.geometry import rings_of


def chords_and_cells(region, angle=0.0, spacing=0.2):
    chords = scan_chords(rings_of(region), angle, spacing)
    return chords, BoustrophedonDecomposition().decompose(chords)


def test_rectangle_is_one_cell_with_evenly_spaced_stripes():
    chords, cells = chords_and_cells(shapely.box(0, 0, 10, 3))
    assert len(cells) == 1
    ys = np.unique(np.round(chords.end_xy[:, 1], 9))
    assert len(ys) == chords.count == 15  # 3 m at 0.2 m: 15 lines, 0.1 m margins
    assert np.allclose(np.diff(ys), 0.2)
    assert ys[0] == pytest.approx(3 - ys[-1]) == pytest.approx(0.1)  # centred


def test_a_hole_splits_the_lawn_into_four_cells():
    region = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6))
    chords, cells = chords_and_cells(region)
    assert len(cells) == 4
    assert sum(len(c.chords) for c in cells) == chords.count
    for cell in cells:  # chords of a cell are on consecutive lines
        assert np.all(np.diff(chords.line[list(cell.chords)]) == 1)


def test_chord_ends_lie_on_the_boundary_and_chords_inside():
    region = shapely.Point(0, 0).buffer(5.0).difference(shapely.Point(1, 1).buffer(1.5))
    chords, _ = chords_and_cells(region, angle=0.7)
    d = shapely.distance(region.boundary, shapely.points(chords.end_xy))
    assert np.all(d < 1e-9)
    segs = shapely.linestrings(chords.end_xy.reshape(-1, 2, 2))
    assert np.all(shapely.covers(region.buffer(1e-9), segs))


def test_stripes_are_spaced_at_the_spacing_at_any_angle():
    chords, _ = chords_and_cells(shapely.box(0, 0, 8, 8), angle=np.radians(30), spacing=0.25)
    c, s = np.cos(-np.radians(30)), np.sin(-np.radians(30))
    y_rot = chords.end_xy[:, 0] * s + chords.end_xy[:, 1] * c
    assert np.allclose(np.diff(np.unique(np.round(y_rot, 9))), 0.25)
