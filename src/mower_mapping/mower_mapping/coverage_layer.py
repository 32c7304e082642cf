"""The mowed-coverage layer.

The deck's footprint swept along the pose history while the blade runs, saved to disk so a run
resumes after a reboot or an emergency stop without re-mowing. The layer spans the whole lawn
at 2 cm, but is kept in tiles allocated where the deck went (mower_maps.tiles): a 3 ha lawn
costs nothing until it is mowed, and the mowed area, its share and the published coarser grid
walk the mowed tiles only.

Saving is atomic and durable (mower_maps.safe_files: temporary file, fsync, rename, folder
fsync). Restoring (:func:`restore_layer`) trusts nothing in the file:

- a file that is not a complete, consistent saved layer (unreadable, not an npz archive, a
  missing array, a shape that does not match the packed cells, a resolution, origin or cut
  width that is not a finite positive number, absurd sizes) is renamed aside to
  ``<name>.damaged-<UTC time stamp>``, never deleted, and the layer starts empty;
- a good file saved on another grid than the configured one (``origin_xy``/``size_m`` or the
  lawn's extent, and ``coverage_resolution_m``) does not override the configuration: with the
  same resolution its cells are copied into the configured grid where the two overlap (at the
  nearest whole-cell offset); when mowed cells fall outside the configured grid, a copy of the
  file as saved is kept as ``<name>.other-grid-<UTC time stamp>``. With another resolution
  the file is renamed aside to ``<name>.other-grid-<UTC time stamp>`` and the layer starts
  empty;
- the cut width is always the configured one.
"""

from __future__ import annotations

import io
import lzma
import math
import struct
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mower_maps.geometry import cell_index
from mower_maps.mowed import MowedGrid, mowed_share
from mower_maps.safe_files import DAMAGED, atomic_write_bytes, keep_copy, quarantine
from mower_maps.tiles import TiledRaster, TileRegion

#: the largest layer a file may hold (cells; 23 km² at 0.2 m, 21 ha at 0.02 m)
MAX_CELLS = 1 << 29
#: the largest cut radius, in cells (the deck's disc is (2r+1)² cells)
MAX_CUT_CELLS = 1000
#: the tag of a good file kept aside because it was saved on another grid
OTHER_GRID = 'other-grid'
_MAX_SMALL_MEMBER = 4096  # bytes of the npy of a small array (shape, origin, res, cut)
# what reading a damaged archive may raise (zipfile, zlib/lzma/bz2, numpy's npy header parser)
_READ_ERRORS = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    KeyError,
    IndexError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
    TypeError,
    MemoryError,
    SyntaxError,
)


class LayerFileError(ValueError):
    """A saved coverage layer that cannot be restored; the message names the file and the fault."""


def coverage_share(mowed: np.ndarray, factor: int) -> np.ndarray:
    """Mowed share (0..1) of each block of ``factor`` x ``factor`` cells (edges cut off)."""
    h, w = (mowed.shape[0] // factor) * factor, (mowed.shape[1] // factor) * factor
    return mowed[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


class CoverageLayer:
    """A boolean raster of mowed ground in the map frame, in tiles (:attr:`cells`)."""

    def __init__(
        self,
        origin_xy: tuple[float, float],
        width_m: float,
        height_m: float,
        resolution_m: float = 0.02,
        cut_width_m: float = 0.22,
    ) -> None:
        """A layer covering ``width_m`` x ``height_m`` from ``origin_xy`` (lower-left)."""
        self.origin = np.asarray(origin_xy, dtype=np.float64)
        self.res = float(resolution_m)
        self.cut_width_m = float(cut_width_m)
        self.shape = (int(math.ceil(height_m / self.res)), int(math.ceil(width_m / self.res)))
        self.cells = TiledRaster(self.shape, bool)
        r = int(math.ceil(cut_width_m / 2 / self.res))
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        self._disc = (xx**2 + yy**2) * self.res**2 <= (cut_width_m / 2) ** 2
        self._last: np.ndarray | None = None
        self._last_cell: tuple[int, int] | None = None
        self._region: TileRegion | None = None  # the last area asked about, its tiles cached

    def update(self, x_m: float, y_m: float, blade_on: bool) -> None:
        """Record the deck at a new pose; the segment from the last pose is swept.

        The disc is stamped centred on the cell holding each point along the segment (origin:
        the corner of cell (0, 0), mower_maps.geometry.cell_index); a cell just stamped is not
        stamped again (the same result, cheaper at a high pose rate).
        """
        if not blade_on or not (math.isfinite(x_m) and math.isfinite(y_m)):
            self._last = None
            self._last_cell = None
            return
        p = np.array([x_m, y_m], dtype=np.float64)
        if self._last is None:
            cells = cell_index(p[None], self.origin, self.res)
        else:
            start = self._last
            n = max(1, int(math.ceil(math.hypot(*(p - start)) / self.res)))
            f = np.linspace(0.0, 1.0, n + 1)[1:, None] if n > 1 else np.ones((1, 1))
            cells = cell_index(start + f * (p - start), self.origin, self.res)
        for col, row in cells.tolist():
            if (col, row) != self._last_cell:
                self._stamp(col, row)
                self._last_cell = (col, row)
        self._last = p

    def _stamp(self, col: int, row: int) -> None:
        r = self._disc.shape[0] // 2
        self.cells.or_mask(row - r, col - r, self._disc)  # clipped to the layer

    @property
    def mowed(self) -> np.ndarray:
        """The whole layer as one (rows, cols) boolean array: a copy, for files and tests."""
        return self.cells.to_dense()

    def mowed_area_m2(self, within=None) -> float:
        """Mowed area, optionally only of the cells whose centre lies inside a geometry.

        The count of mower_maps.mowed's :meth:`MowedGrid.area_m2`, tile by tile.
        """
        if within is None:
            return float(self.cells.count_nonzero()) * self.res**2
        return float(self.cells.count_within(self._region_of(within))) * self.res**2

    def _region_of(self, within) -> TileRegion:
        """The cells of ``within`` on this layer, kept for the next question about the same area.

        mapping_node asks for the mowed share of one lawn every second.
        """
        region = self._region
        if region is None or not (region.geometry is within or region.geometry == within):
            region = self._region = TileRegion(within, self.origin, self.res, self.cells.tile)
        return region

    def mowed_share(self, mowable) -> float:
        """Share of the mowable area already mowed (mower_maps.mowed's one formula)."""
        return mowed_share(self.mowed_area_m2(mowable), mowable)

    def grid(self) -> MowedGrid:
        """The layer as a :class:`MowedGrid` (a dense copy: for small layers and tests)."""
        return MowedGrid(self.mowed, (float(self.origin[0]), float(self.origin[1])), self.res)

    def block_share(self, factor: int) -> np.ndarray:
        """Mowed share (0..1) of each block of ``factor`` x ``factor`` cells (edges cut off).

        :func:`coverage_share` of the layer, from its mowed tiles.
        """
        h, w = self.shape[0] // factor, self.shape[1] // factor
        return self.cells.block_reduce(factor)[:h, :w] / float(factor * factor)

    def published(self, factor: int) -> MowedGrid:
        """The layer as map/coverage carries it (what the mission sees on the robot).

        Cells ``factor`` times larger, mowed where half or more of their fine cells are.
        """
        h, w = self.shape[0] // factor, self.shape[1] // factor
        counts = self.cells.block_reduce(factor)[:h, :w]
        return MowedGrid(
            counts >= (factor * factor + 1) // 2,  # a share of 0.5 or more, in whole cells
            (float(self.origin[0]), float(self.origin[1])),
            self.res * factor,
        )

    def save(self, path: str | Path) -> Path:
        """Write atomically and durably (a crash or power cut never leaves a half file)."""
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            mowed=np.packbits(self.mowed),
            shape=np.asarray(self.shape, dtype=np.int64),
            origin=np.asarray(self.origin, dtype=np.float64),
            res=np.float64(self.res),
            cut=np.float64(self.cut_width_m),
        )
        return atomic_write_bytes(path, buf.getvalue())

    @staticmethod
    def load(path: str | Path) -> CoverageLayer:
        """Restore a saved layer exactly; :class:`LayerFileError` for any damage.

        The file must be an npz archive with the arrays ``mowed`` (the packed cells), ``shape``
        (two whole numbers >= 1, at most :data:`MAX_CELLS` cells, matching the packed cells),
        ``origin`` (two finite numbers), ``res`` and ``cut`` (finite, > 0, the cut at most
        :data:`MAX_CUT_CELLS` cells in radius). Nothing else is raised, and the file is only
        read.
        """
        try:
            with open(path, 'rb') as fh:
                data = fh.read(MAX_CELLS // 8 + (1 << 20))
                if fh.read(1):
                    raise LayerFileError(f'{path}: too large for a saved coverage layer')
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return _layer_from_archive(zf, str(path))
        except LayerFileError:
            raise
        except _READ_ERRORS as exc:
            why = ' '.join(f'{type(exc).__name__}: {exc}'.split())
            raise LayerFileError(f'{path}: not a saved coverage layer ({why})') from None


def _member(zf: zipfile.ZipFile, name: str, where: str, max_bytes: int) -> np.ndarray:
    """The array ``name`` of an npz archive, its npy header checked against its data."""
    try:
        info = zf.getinfo(f'{name}.npy')
    except KeyError:
        raise LayerFileError(f'{where}: not a saved coverage layer (no {name!r} array)') from None
    if info.file_size > max_bytes:
        raise LayerFileError(f'{where}: the {name!r} array is too large ({info.file_size} bytes)')
    raw = zf.read(info)
    fp = io.BytesIO(raw)
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise LayerFileError(f'{where}: the {name!r} array has npy version {version}')
    count = math.prod(int(n) for n in shape)
    if dtype.hasobject or count * dtype.itemsize != len(raw) - fp.tell():
        raise LayerFileError(
            f'{where}: the {name!r} array does not match its header '
            f'({shape} {dtype} in {len(raw) - fp.tell()} bytes)'
        )
    return np.frombuffer(raw, dtype, count=count, offset=fp.tell()).reshape(
        shape, order='F' if fortran else 'C'
    )


def _number(zf: zipfile.ZipFile, name: str, where: str, size: int) -> np.ndarray:
    """``size`` finite real numbers (a scalar when ``size`` is 0) from the archive."""
    a = _member(zf, name, where, _MAX_SMALL_MEMBER)
    if a.shape != ((size,) if size else ()) or a.dtype.kind not in 'iuf':
        raise LayerFileError(
            f'{where}: {name} is not {size or 1} number(s) ({a.dtype} of shape {a.shape})'
        )
    out = a.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise LayerFileError(f'{where}: {name} {out.tolist()} is not finite')
    return out


def _layer_from_archive(zf: zipfile.ZipFile, where: str) -> CoverageLayer:
    """A layer from an open npz archive, every array checked (LayerFileError)."""
    shape = _member(zf, 'shape', where, _MAX_SMALL_MEMBER)
    if shape.shape != (2,) or shape.dtype.kind not in 'iu':
        raise LayerFileError(f'{where}: shape {shape.tolist()} is not two whole numbers')
    rows, cols = int(shape[0]), int(shape[1])
    if rows < 1 or cols < 1 or rows * cols > MAX_CELLS:
        raise LayerFileError(
            f'{where}: shape {rows}x{cols} is not a layer of 1 to {MAX_CELLS} cells'
        )
    res = float(_number(zf, 'res', where, 0))
    origin = _number(zf, 'origin', where, 2)
    cut = float(_number(zf, 'cut', where, 0))
    if res <= 0 or not math.isfinite(max(rows, cols) * res):
        raise LayerFileError(f'{where}: resolution {res} m is not a positive number')
    if not (0 < cut <= 2 * MAX_CUT_CELLS * res):
        raise LayerFileError(
            f'{where}: cut width {cut} m is not between 0 and {2 * MAX_CUT_CELLS} cells'
        )
    packed = _member(zf, 'mowed', where, MAX_CELLS // 8 + _MAX_SMALL_MEMBER)
    n = rows * cols
    if packed.dtype != np.uint8 or packed.shape != ((n + 7) // 8,):
        raise LayerFileError(
            f'{where}: {packed.size} packed cells ({packed.dtype}) for a '
            f'{rows}x{cols} layer ({(n + 7) // 8} bytes)'
        )
    bits = np.unpackbits(packed)
    if bits[n:].any():
        raise LayerFileError(f'{where}: mowed cells beyond the {rows}x{cols} layer')
    layer = CoverageLayer((float(origin[0]), float(origin[1])), cols * res, rows * res, res, cut)
    layer.shape = (rows, cols)
    layer.cells = TiledRaster.from_dense(bits[:n].reshape(rows, cols).astype(bool))
    return layer


class Restored(NamedTuple):
    """What :func:`restore_layer` found: the layer (None: start empty) and what to log."""

    layer: CoverageLayer | None
    message: str  # one line naming the file ('' when no file is configured)
    level: str  # how to log it: 'info', 'warning' or 'error'


def restore_layer(
    path: str | Path | None,
    origin: tuple[float, float],
    size: tuple[float, float],
    resolution_m: float,
    cut_width_m: float,
) -> Restored:
    """The saved layer at ``path`` on the configured grid; never raises.

    ``origin``, ``size``: the configured extent (mapper.Extent); ``resolution_m``,
    ``cut_width_m``: the configured cell size and deck width. A damaged file is renamed aside
    (``<name>.damaged-<UTC>``); a good one saved on another grid is copied into the configured
    one, or set aside when its resolution differs (see the module's docstring). The returned
    layer always lies on the configured grid with the configured cut width.
    """
    if not path:
        return Restored(None, '', 'info')
    path = Path(path)
    if not path.exists():
        return Restored(
            None, f'{path}: no saved coverage layer yet; starting an empty one', 'info'
        )
    if path.is_dir():
        return Restored(
            None,
            f'{path}: is a folder, not a saved coverage layer; starting an '
            'empty coverage layer (saves will fail)',
            'error',
        )
    try:
        saved = CoverageLayer.load(path)
    except LayerFileError as exc:
        return Restored(None, _set_aside(path, str(exc), DAMAGED), 'error')
    if not math.isclose(saved.res, resolution_m, rel_tol=1e-9):
        return Restored(
            None,
            _set_aside(
                path,
                f'{path}: saved with {saved.res:g} m cells, configured '
                f'coverage_resolution_m is {resolution_m:g} m',
                OTHER_GRID,
            ),
            'error',
        )
    layer = CoverageLayer(origin, size[0], size[1], resolution_m, cut_width_m)
    dropped, aligned = _paste(saved, layer)
    area = f'{layer.mowed_area_m2():.1f} m² already mowed'
    if aligned and saved.shape == layer.shape and (saved.origin == layer.origin).all():
        return Restored(layer, f'coverage restored from {path}: {area}', 'info')
    grids = (
        f'configured origin ({origin[0]:g}, {origin[1]:g}) size {size[0]:g} x '
        f'{size[1]:g} m, saved origin ({saved.origin[0]:g}, {saved.origin[1]:g}) size '
        f'{saved.shape[1] * saved.res:g} x {saved.shape[0] * saved.res:g} m'
    )
    message = f'coverage restored from {path} into the configured grid ({grids}): {area}'
    if not aligned:
        message += ' (cells shifted to the nearest whole cell)'
    if dropped:
        message += f'; {dropped * saved.res**2:.1f} m² mowed outside the configured grid '
        try:
            message += f'dropped, the file as saved kept as {keep_copy(path, OTHER_GRID)}'
        except OSError as exc:
            message += f'dropped and no copy of the file could be kept ({exc})'
    return Restored(layer, message, 'warning')


def _paste(src: CoverageLayer, dst: CoverageLayer) -> tuple[int, bool]:
    """Copy ``src``'s mowed cells into ``dst`` (same resolution) where they overlap.

    Returns the number of mowed cells that fell outside ``dst``, and whether the grids were
    aligned (else ``src`` was shifted to the nearest whole-cell offset).
    """
    off = (src.origin - dst.origin) / dst.res
    dc, dr = int(round(float(off[0]))), int(round(float(off[1])))
    aligned = bool(np.all(np.abs(off - (dc, dr)) < 1e-6))
    r0, r1 = max(0, dr), min(dst.shape[0], dr + src.shape[0])
    c0, c1 = max(0, dc), min(dst.shape[1], dc + src.shape[1])
    kept = 0
    if r0 < r1 and c0 < c1:
        part = src.cells.read(r0 - dr, c0 - dc, r1 - r0, c1 - c0)
        dst.cells.or_mask(r0, c0, part)
        kept = int(part.sum())
    return src.cells.count_nonzero() - kept, aligned


def _set_aside(path: Path, fault: str, tag: str) -> str:
    """Rename ``path`` aside; the one-line message saying so."""
    try:
        return f'{fault}; kept aside as {quarantine(path, tag)}; starting an empty coverage layer'
    except OSError as exc:
        return (
            f'{fault}; could not be kept aside ({exc}), the next save replaces it; '
            'starting an empty coverage layer'
        )
