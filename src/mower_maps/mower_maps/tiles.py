"""Rasters over a whole lawn that cost memory and time only where something was written.

A 3 ha lawn at 2 cm is more than a hundred million cells. The mowed layer, the simulator's ground
truth and its pass counts are zero almost everywhere for most of a run, so they are kept in
square tiles of :data:`TILE_CELLS` cells a side, each allocated when first written
(:class:`TiledRaster`); counting, listing and reducing them walk the allocated tiles only.

Which cells of such a raster lie inside a shape (a lawn, the reachable area) is answered tile by
tile as well (:class:`TileRegion`): a tile inside the shape or outside it is one test, and only
the tiles on its edge are split down to blocks of a few cells whose centres are tested one by
one. A cell lies inside when its centre does, ``shapely.contains_xy``, as in mower_maps.mowed.

The grid convention is mower_maps.geometry's: cell ``(row, col)`` covers ``origin + (col, row) *
res`` to ``origin + (col + 1, row + 1) * res``; indices here are ``(row, col)`` as in numpy.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely

#: cells per tile side: 240 = 2^4 * 3 * 5, so blocks of 2, 3, 4, 5, 6, 8, 10, 12 ... cells tile
#: it exactly (the coarser grids that are published and drawn)
TILE_CELLS = 240
_LEAF_CELLS = 30  # region blocks at most this many cells a side are tested cell by cell

Key = tuple[int, int]  # (tile row, tile column)


class TiledRaster:
    """A ``(rows, cols)`` raster of zeros, stored in tiles allocated when first written.

    Cells outside ``shape`` read as zero and writes to them are dropped, so the tiles on the
    right and top edges hold zeros where they reach past the raster.
    """

    def __init__(
        self, shape: tuple[int, int], dtype: np.typing.DTypeLike = bool, tile: int = TILE_CELLS
    ) -> None:
        """An all-zero raster; nothing is allocated yet."""
        if len(shape) != 2 or min(shape) < 0:
            raise ValueError(f'raster shape {shape} is not two whole numbers >= 0')
        if tile < 1:
            raise ValueError(f'tile size {tile} is not a whole number >= 1')
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.tile = int(tile)
        self.tiles_shape = (-(-self.shape[0] // self.tile), -(-self.shape[1] // self.tile))
        self._tiles: dict[Key, np.ndarray] = {}

    @classmethod
    def from_dense(cls, values: np.ndarray, tile: int = TILE_CELLS) -> TiledRaster:
        """The raster of a dense array; only tiles holding a non-zero cell are allocated."""
        values = np.asarray(values)
        if values.ndim != 2:
            raise ValueError(f'a raster is two-dimensional, not of shape {values.shape}')
        out = cls((values.shape[0], values.shape[1]), values.dtype, tile)
        for key in out.keys_all():
            rows, cols = out.tile_span(key)
            part = values[rows, cols]
            if part.any():
                out._tile(key)[: part.shape[0], : part.shape[1]] = part
        return out

    # -- tiles -------------------------------------------------------------------------------
    @property
    def n_tiles(self) -> int:
        """Tiles allocated so far."""
        return len(self._tiles)

    @property
    def nbytes(self) -> int:
        """Bytes of the tiles allocated so far."""
        return self.n_tiles * self.tile * self.tile * self.dtype.itemsize

    def keys_all(self) -> Iterator[Key]:
        """Every tile position of the raster, allocated or not, row by row."""
        for tr in range(self.tiles_shape[0]):
            for tc in range(self.tiles_shape[1]):
                yield tr, tc

    def items(self) -> Iterator[tuple[Key, np.ndarray]]:
        """The allocated tiles (``tile`` x ``tile`` arrays, not copies), in key order."""
        for key in sorted(self._tiles):
            yield key, self._tiles[key]

    def get(self, key: Key) -> np.ndarray | None:
        """The tile at ``key`` (not a copy), or None where nothing was written."""
        return self._tiles.get(key)

    def tile_span(self, key: Key) -> tuple[slice, slice]:
        """The rows and columns of the raster that the tile at ``key`` holds (clipped)."""
        t = self.tile
        r0, c0 = key[0] * t, key[1] * t
        return slice(r0, min(r0 + t, self.shape[0])), slice(c0, min(c0 + t, self.shape[1]))

    def _tile(self, key: Key) -> np.ndarray:
        tile = self._tiles.get(key)
        if tile is None:
            tile = self._tiles[key] = np.zeros((self.tile, self.tile), self.dtype)
        return tile

    def _pieces(
        self, r0: int, r1: int, c0: int, c1: int
    ) -> Iterator[tuple[Key, slice, slice, slice, slice]]:
        """Where a window (clipped to the raster) lies in its tiles.

        For each tile: its key, the tile's rows and columns, the window's rows and columns.
        """
        t = self.tile
        rs, re = max(r0, 0), min(r1, self.shape[0])
        cs, ce = max(c0, 0), min(c1, self.shape[1])
        for tr in range(rs // t, (re - 1) // t + 1 if re > rs else 0):
            a, b = max(rs, tr * t), min(re, (tr + 1) * t)
            for tc in range(cs // t, (ce - 1) // t + 1 if ce > cs else 0):
                c, d = max(cs, tc * t), min(ce, (tc + 1) * t)
                yield (
                    (tr, tc),
                    slice(a - tr * t, b - tr * t),
                    slice(c - tc * t, d - tc * t),
                    slice(a - r0, b - r0),
                    slice(c - c0, d - c0),
                )

    # -- windows -----------------------------------------------------------------------------
    def read(self, r0: int, c0: int, rows: int, cols: int) -> np.ndarray:
        """A copy of the ``rows`` x ``cols`` window whose first cell is ``(r0, c0)``."""
        out = np.zeros((rows, cols), self.dtype)
        for key, tr, tc, wr, wc in self._pieces(r0, r0 + rows, c0, c0 + cols):
            tile = self._tiles.get(key)
            if tile is not None:
                out[wr, wc] = tile[tr, tc]
        return out

    def write(self, r0: int, c0: int, values: np.ndarray) -> None:
        """Set the window whose first cell is ``(r0, c0)`` to ``values`` (clipped)."""
        h, w = values.shape
        for key, tr, tc, wr, wc in self._pieces(r0, r0 + h, c0, c0 + w):
            part = values[wr, wc]
            tile = self._tiles.get(key)
            if tile is None:
                if not part.any():
                    continue
                tile = self._tile(key)
            tile[tr, tc] = part

    def or_mask(self, r0: int, c0: int, mask: np.ndarray) -> None:
        """Set the cells of a boolean raster where ``mask`` (its window at ``(r0, c0)``) is set."""
        h, w = mask.shape
        for key, tr, tc, wr, wc in self._pieces(r0, r0 + h, c0, c0 + w):
            self._tile(key)[tr, tc] |= mask[wr, wc]

    # -- whole-raster answers ----------------------------------------------------------------
    def count_nonzero(self) -> int:
        """Cells that are not zero."""
        return sum(int(np.count_nonzero(tile)) for tile in self._tiles.values())

    def nonzero(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns (int64) of the cells that are not zero, tile by tile."""
        rows: list[np.ndarray] = [np.zeros(0, np.int64)]
        cols: list[np.ndarray] = [np.zeros(0, np.int64)]
        for (tr, tc), tile in self.items():
            r, c = np.nonzero(tile)
            rows.append(r + tr * self.tile)
            cols.append(c + tc * self.tile)
        return np.concatenate(rows), np.concatenate(cols)

    def to_dense(self) -> np.ndarray:
        """The whole raster as one array (for small rasters and tests)."""
        out = np.zeros(self.shape, self.dtype)
        for key, tile in self.items():
            rows, cols = self.tile_span(key)
            out[rows, cols] = tile[: rows.stop - rows.start, : cols.stop - cols.start]
        return out

    def block_reduce(self, factor: int, how: str = 'sum') -> np.ndarray:
        """Each block of ``factor`` x ``factor`` cells reduced to one value.

        ``how``: the block's ``'sum'`` (the count of a boolean raster) or its ``'max'``. The
        result has ``ceil(rows / factor)`` x ``ceil(cols / factor)`` cells; blocks that reach
        past the raster count the cells beyond it as zero, blocks of untouched tiles are zero.
        Tile by tile when ``factor`` divides the tile size (else through a dense copy).
        """
        if factor < 1:
            raise ValueError(f'block factor {factor} is not a whole number >= 1')
        if how not in ('sum', 'max'):
            raise ValueError(f'unknown block reduction {how!r}')
        out_dtype = self.dtype if how == 'max' else _count_dtype(self.dtype, factor)
        f, t = factor, self.tile
        shape = (-(-self.shape[0] // f), -(-self.shape[1] // f))
        if t % f:
            dense = np.zeros((shape[0] * f, shape[1] * f), self.dtype)
            dense[: self.shape[0], : self.shape[1]] = self.to_dense()
            return _reduce(dense, f, how, out_dtype)
        n = t // f
        out = np.zeros(shape, out_dtype)
        for (tr, tc), tile in self.items():
            block = _reduce(tile, f, how, out_dtype)
            r0, c0 = tr * n, tc * n
            part = out[r0 : r0 + n, c0 : c0 + n]
            part[...] = block[: part.shape[0], : part.shape[1]]
        return out

    def count_within(self, region: TileRegion) -> int:
        """Cells that are not zero and whose centre lies inside ``region``'s shape."""
        self._check_region(region)
        total = 0
        for key, tile in self._tiles.items():
            inside = region.tile_mask(key)
            if inside is True:
                total += int(np.count_nonzero(tile))
            elif inside is not False:
                total += int(
                    np.count_nonzero(tile & inside if tile.dtype == bool else tile[inside])
                )
        return total

    def _check_region(self, region: TileRegion) -> None:
        if region.tile != self.tile:
            raise ValueError(f'region tiles of {region.tile} cells, raster of {self.tile}')


class TileRegion:
    """Which cells of a tiled raster on ``origin``/``res`` lie inside a shape, tile by tile.

    A cell lies inside when ``shapely.contains_xy(geometry, centre)`` holds for its centre
    (``origin + (col + 0.5, row + 0.5) * res``). :meth:`tile_mask` answers True (every cell of
    the tile), False (none) or a boolean ``tile`` x ``tile`` array, computed once per tile.
    """

    def __init__(
        self, geometry: object, origin: np.ndarray, res: float, tile: int = TILE_CELLS
    ) -> None:
        """The region of ``geometry`` on the grid of cell size ``res`` from ``origin``."""
        self.geometry = geometry
        self.origin = np.asarray(origin, dtype=np.float64)
        self.res = float(res)
        self.tile = int(tile)
        self._geom = _prepared_copy(geometry)
        self._masks: dict[Key, bool | np.ndarray] = {}

    def tile_mask(self, key: Key) -> bool | np.ndarray:
        """True, False, or which cells of the tile at ``key`` lie inside (cached)."""
        mask = self._masks.get(key)
        if mask is None:
            t = self.tile
            r0, c0 = key[0] * t, key[1] * t
            mask = self._masks[key] = self._block(r0, c0, t, t)
        return mask

    def count(self, shape: tuple[int, int]) -> int:
        """Cells of a ``shape`` raster (first cell at the origin) that lie inside."""
        total = 0
        t = self.tile
        for tr in range(-(-shape[0] // t)):
            for tc in range(-(-shape[1] // t)):
                h, w = min(t, shape[0] - tr * t), min(t, shape[1] - tc * t)
                inside = self.tile_mask((tr, tc))
                if inside is True:
                    total += h * w
                elif inside is not False:
                    total += int(np.count_nonzero(inside[:h, :w]))
        return total

    def _block(self, r0: int, c0: int, rows: int, cols: int) -> bool | np.ndarray:
        """True, False or the cell mask of a window, splitting it where the shape's edge runs."""
        x0, y0 = self.origin + (np.array([c0, r0]) + 0.5) * self.res
        x1, y1 = self.origin + (np.array([c0 + cols - 1, r0 + rows - 1]) + 0.5) * self.res
        if rows > 1 and cols > 1:  # the box through the outer cell centres holds every centre
            box = shapely.box(x0, y0, x1, y1)
            if not shapely.intersects(self._geom, box):
                return False
            if shapely.contains_properly(self._geom, box):
                return True
        if rows <= _LEAF_CELLS and cols <= _LEAF_CELLS or min(rows, cols) < 2:
            rr, cc = np.mgrid[r0 : r0 + rows, c0 : c0 + cols]
            xy = self.origin + (np.stack([cc, rr], axis=-1) + 0.5) * self.res
            return shapely.contains_xy(self._geom, xy[..., 0], xy[..., 1])
        out = np.zeros((rows, cols), bool)
        hr, hc = rows // 2, cols // 2
        for a, h in ((0, hr), (hr, rows - hr)):
            for b, w in ((0, hc), (hc, cols - hc)):
                part = self._block(r0 + a, c0 + b, h, w)
                if part is not False:
                    out[a : a + h, b : b + w] = part
        return out


def _prepared_copy(geometry: object) -> object:
    """``geometry`` prepared for many predicate tests (a copy: the caller's is left alone)."""
    geom = shapely.from_wkb(shapely.to_wkb(geometry))
    shapely.prepare(geom)
    return geom


def _count_dtype(dtype: np.dtype, factor: int) -> np.dtype:
    """A whole-number type that holds the sum of ``factor``² cells of ``dtype``."""
    if dtype.kind == 'f':
        return np.dtype(np.float64)
    top = factor * factor * (1 if dtype.kind == 'b' else int(np.iinfo(dtype).max))
    for candidate in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(candidate).max:
            return np.dtype(candidate)
    return np.dtype(np.int64)


def _reduce(values: np.ndarray, f: int, how: str, dtype: np.dtype) -> np.ndarray:
    """Blocks of ``f`` x ``f`` cells of ``values`` (whose sides ``f`` divides) reduced."""
    h, w = values.shape
    if f > 16:  # a few large blocks: numpy's reduction over the block axes
        blocks = values.reshape(h // f, f, w // f, f)
        if how == 'max':
            return blocks.max(axis=(1, 3)).astype(dtype, copy=False)
        return blocks.sum(axis=(1, 3), dtype=dtype)
    # small blocks: 2 f strided passes, columns then rows (ten times faster than the above)
    op = np.maximum if how == 'max' else np.add
    acc = values[:, 0::f].astype(dtype)
    for j in range(1, f):
        op(acc, values[:, j::f], out=acc)
    out = acc[0::f].copy()
    for i in range(1, f):
        op(out, acc[i::f], out=out)
    return out
