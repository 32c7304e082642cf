"""From a lawn grid to lawn polygons: clean-up, outlines with holes, simplification, confidence.

Teach mode and discovery both end with a raster of lawn cells (the semantic grid's lawn class, or
the cells the camera saw as lawn along a taught edge) and need the polygons of a map:

1. **Clean-up** (:func:`clean_mask`, settings in :class:`ExtractionParams`): a majority
   filter over ``majority_cells`` x ``majority_cells`` flips a cell when at least three
   quarters of its neighbours disagree (isolated noise flips; edges and corners stay); lawn
   specks below ``min_area_m2`` are dropped and holes below ``min_hole_m2`` filled; a
   morphological *closing* then an *opening* with a disc of diameter ``clean_m`` (rounded to
   an odd number of cells) fills gaps, inlets and edge dents narrower than the disc and
   removes lawn strips, necks and edge bumps narrower than it; then specks and small holes
   once more. So a part of the lawn joined to the rest only by a neck narrower than the disc
   comes out as a part of its own (kept or dropped by ``keep``); a wider neck is kept. With the
   defaults (``clean_m`` 0.15 m on a 5 cm grid: a 3 x 3 cell disc) axis-aligned corners stay
   exact.
2. **Outlines** (:func:`mask_to_polygons`): pixel-exact. Every cell is the square between its
   corners (the grid convention of :mod:`mower_maps.geometry`: ``origin`` is the map x, y of the
   lower-left corner of cell ``(0, 0)``, row = y, column = x), so the polygons of a mask cover
   exactly its cells: their area is the number of cells times ``res**2``. Cells that touch only
   at a corner are separate parts (lawn is 4-connected).
3. **Selection** (``keep``): every part, the largest, or those at the seed point (the dock).
4. **Simplification**: ``shapely.simplify(..., preserve_topology=True)`` with ``simplify_m``
   (no vertex moves farther than that) for the outer edge and ``hole_simplify_m`` for the holes
   (a tree of 0.6 m simplified at 5 cm loses up to a tenth of its area), then
   ``shapely.make_valid``.
5. **Holes** become keep-outs, or obstacles where most of their cells are obstacle cells
   (when an obstacle mask is given).
6. **Edge confidence** (:func:`edge_confidence`, settings in :class:`ConfidenceParams`): for
   every segment of every simplified ring, how often and how closely the cells on both sides
   of it were seen, in [0, 1], from a ``seen`` count grid and/or a grid of the distance from
   which each cell was seen (the caller's; either may be left out).

ROS-free: numpy, OpenCV and shapely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from mower_maps.geometry import cell_index, in_grid

__all__ = [
    'KEEP_CHOICES',
    'ConfidenceParams',
    'EdgedPolygon',
    'ExtractionError',
    'ExtractionParams',
    'LawnPolygons',
    'clean_mask',
    'edge_confidence',
    'lawn_polygons',
    'mask_to_polygons',
]

#: What :class:`ExtractionParams` ``keep`` may be: every part, the largest, those at the seed.
KEEP_CHOICES = ('all', 'largest', 'seed')
#: A hole is an obstacle (not a keep-out) when at least this share of its cells are obstacles.
OBSTACLE_SHARE = 0.5
#: A keep-out hole with less than this share of obstacle cells was seen as flat ground: its
#: ``kind`` is :data:`GROUND_KIND` (mapping's ``keepout_explains_m`` then treats obstacle
#: cells on it as the network's errors, as on a mapped pond or patio)
FLAT_SHARE = 0.1
#: The ``kind`` of a keep-out the camera saw as flat ground (paving, soil, water: not standing)
GROUND_KIND = 'ground'
#: The majority filter flips a cell when at least this share of its neighbours disagree.
MAJORITY_SHARE = 0.75


class ExtractionError(ValueError):
    """A grid that gives no lawn polygon, with a message saying why."""


@dataclass(frozen=True)
class ExtractionParams:
    """How a lawn mask becomes polygons (the module docstring gives the order of the steps)."""

    #: Diameter (m) of the disc of the morphological closing and opening: lawn narrower than it
    #: (strips, necks) is cut, gaps and inlets narrower than it are filled. Rounded to an odd
    #: number of cells; below 3 cells there is no closing or opening.
    clean_m: float = 0.15
    #: Side (cells, odd) of the majority filter against salt-and-pepper noise: a cell flips when
    #: at least three quarters of its neighbours in the window disagree; 0 or 1: none.
    majority_cells: int = 3
    #: Lawn parts smaller than this (m²) are dropped, before and after simplification.
    min_area_m2: float = 0.5
    #: Holes in the lawn smaller than this (m²) are filled (not a keep-out).
    min_hole_m2: float = 0.02
    #: Simplification tolerance (m): no vertex of the outline moves farther than this; 0: none.
    simplify_m: float = 0.05
    #: The same for the holes (beds, trees, obstacles), at most ``simplify_m``: they are small,
    #: and a tolerance that is nothing on a lawn's edge cuts a tree's outline (a perfect 5 cm
    #: grid of a 0.6 m tree with discovery's clean-up, 20 offsets: IoU mean 0.91, worst 0.87
    #: simplified at 5 cm; 0.92 and 0.91 at 3.5 cm).
    hole_simplify_m: float = 0.035
    #: Which lawn parts are kept: 'all', the 'largest', or those at the 'seed' point.
    keep: str = 'all'
    #: With keep='seed': when no part contains the seed, the nearest part within this (m).
    seed_max_distance_m: float = 1.0

    def __post_init__(self) -> None:
        """Reject values that make no sense, naming the field."""
        for name in (
            'clean_m',
            'min_area_m2',
            'min_hole_m2',
            'simplify_m',
            'hole_simplify_m',
            'seed_max_distance_m',
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f'ExtractionParams.{name} must be a number >= 0, not {value!r}')
        if (
            not isinstance(self.majority_cells, int)
            or self.majority_cells < 0
            or (self.majority_cells > 1 and self.majority_cells % 2 == 0)
        ):
            raise ValueError(
                'ExtractionParams.majority_cells must be 0, 1 or an odd number of cells, '
                f'not {self.majority_cells!r}'
            )
        if self.keep not in KEEP_CHOICES:
            raise ValueError(
                f'ExtractionParams.keep must be one of {KEEP_CHOICES}, not {self.keep!r}'
            )


@dataclass(frozen=True)
class ConfidenceParams:
    """How sightings become an edge's confidence in [0, 1] (see :func:`edge_confidence`)."""

    #: A cell seen this many times (or more) counts as fully seen; fewer count pro rata.
    seen_full: float = 5.0
    #: A cell seen from this close (m) or closer counts as seen closely (score 1).
    near_m: float = 1.0
    #: A cell seen only from this far (m) or farther scores 0; linear in between.
    far_m: float = 5.0

    def __post_init__(self) -> None:
        """Reject values that make no sense, naming the field."""
        for name in ('seen_full', 'near_m', 'far_m'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f'ConfidenceParams.{name} must be a number >= 0, not {value!r}')
        if self.seen_full <= 0:
            raise ValueError('ConfidenceParams.seen_full must be > 0')
        if self.far_m <= self.near_m:
            raise ValueError(
                f'ConfidenceParams.far_m ({self.far_m}) must be greater than near_m '
                f'({self.near_m})'
            )


@dataclass(frozen=True)
class EdgedPolygon:
    """A polygon and, optionally, a confidence in [0, 1] for every segment of its rings.

    ``edge_confidence`` holds one array per ring, in the order of the polygon's rings (the
    exterior, then the interiors, as in GeoJSON); each has one value per segment, that is the
    ring's number of coordinates (closing one included) minus one. ``None``: not known.
    """

    polygon: Polygon
    edge_confidence: tuple[np.ndarray, ...] | None = field(default=None, compare=False)
    #: what it is, where known (a map feature's ``kind``): :data:`GROUND_KIND` for a keep-out
    #: the camera saw as flat ground; '' not known
    kind: str = ''

    def __post_init__(self) -> None:
        """Check that the confidences match the polygon's rings."""
        if not isinstance(self.polygon, Polygon):
            raise TypeError(f'EdgedPolygon needs a shapely Polygon, not {type(self.polygon)}')
        if self.edge_confidence is None:
            return
        rings = _rings(self.polygon)
        conf = tuple(np.asarray(c, dtype=float).reshape(-1) for c in self.edge_confidence)
        if len(conf) != len(rings):
            raise ValueError(
                f'edge_confidence has {len(conf)} rings, the polygon has {len(rings)}'
            )
        for i, (c, r) in enumerate(zip(conf, rings, strict=True)):
            if len(c) != len(r) - 1:
                raise ValueError(
                    f'edge_confidence of ring {i} has {len(c)} values, the ring has '
                    f'{len(r) - 1} segments'
                )
            if np.any(~np.isfinite(c)) or np.any((c < 0) | (c > 1)):
                raise ValueError(f'edge_confidence of ring {i} must lie in [0, 1]')
        object.__setattr__(self, 'edge_confidence', conf)

    @property
    def confidence(self) -> float | None:
        """The length-weighted mean of the edge confidences (None when not known)."""
        if self.edge_confidence is None:
            return None
        lengths = np.concatenate([np.hypot(*np.diff(r, axis=0).T) for r in _rings(self.polygon)])
        values = np.concatenate(self.edge_confidence)
        total = float(lengths.sum())
        return float((values * lengths).sum() / total) if total > 0 else None


@dataclass(frozen=True)
class LawnPolygons:
    """What :func:`lawn_polygons` found, in the grid's map frame (metres).

    ``polygon`` is the lawn itself: the outlines minus the holes. ``boundaries`` are the
    outlines of its parts with the holes filled (a map's ``boundary`` features), ``keepouts``
    and ``obstacles`` the holes (its ``keepout`` and ``obstacle`` features), each with the
    confidence of its edges when sightings were given. A hole with another lawn part in it
    (an island in a pond) stays a hole of its boundary, so that boundaries never overlap.
    ``warnings`` say what was dropped.
    """

    polygon: Polygon | MultiPolygon
    boundaries: tuple[EdgedPolygon, ...]
    keepouts: tuple[EdgedPolygon, ...] = ()
    obstacles: tuple[EdgedPolygon, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def area_m2(self) -> float:
        """The lawn's area (holes excluded), m²."""
        return float(self.polygon.area)


# -- the steps --------------------------------------------------------------------------------


def clean_mask(mask: np.ndarray, res: float, params: ExtractionParams | None = None) -> np.ndarray:
    """The lawn mask after the clean-up of :class:`ExtractionParams` (boolean, same shape).

    In order: the majority filter; lawn specks below ``min_area_m2`` dropped (4-connected
    parts) and holes below ``min_hole_m2`` filled (8-connected, not reaching the grid's edge),
    which removes isolated noise without touching corners; the closing, then the opening with a
    disc of diameter ``clean_m`` (cells beyond the grid count as not lawn), which removes what
    noise clings to the edges and cuts necks narrower than the disc; specks and small holes
    once more.
    """
    p = params or ExtractionParams()
    img = np.asarray(mask).astype(bool).astype(np.uint8)
    if p.majority_cells > 1:
        img = _majority(img, p.majority_cells)
    img = _drop_small(img, res, p)
    k = _kernel_cells(p.clean_m, res)
    if k >= 3:
        padded = cv2.copyMakeBorder(img, k, k, k, k, cv2.BORDER_CONSTANT, value=0)
        padded = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, _disc(k))
        padded = cv2.morphologyEx(padded, cv2.MORPH_OPEN, _disc(k))
        img = _drop_small(padded[k:-k, k:-k], res, p)
    return img.astype(bool)


def _majority(img: np.ndarray, k: int) -> np.ndarray:
    """Cells that disagree with at least MAJORITY_SHARE of their k x k neighbours flip (uint8).

    Isolated noise flips; the corner cell of a rectangle (3 of its 8 neighbours agree) does
    not, nor does an edge cell: edges and corners stay where they are.
    """
    n = k * k - 1
    window = np.ones((k, k), dtype=np.float32)
    window[k // 2, k // 2] = 0.0
    lawn_nb = cv2.filter2D(img.astype(np.float32), -1, window, borderType=cv2.BORDER_REPLICATE)
    need = math.ceil(MAJORITY_SHARE * n - 1e-9)
    out = img.copy()
    out[(img == 1) & (n - lawn_nb >= need)] = 0
    out[(img == 0) & (lawn_nb >= need)] = 1
    return out


def _drop_small(img: np.ndarray, res: float, p: ExtractionParams) -> np.ndarray:
    """Lawn specks below ``min_area_m2`` dropped, holes below ``min_hole_m2`` filled (uint8)."""
    img = img.copy()
    cell_m2 = res * res
    n, labels, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=4)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] * cell_m2 < p.min_area_m2)
    small = small[small > 0]
    if len(small):
        img[np.isin(labels, small)] = 0
    # holes: not-lawn parts that do not reach the grid's edge (the padding joins those)
    outside = cv2.copyMakeBorder(1 - img, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(outside, connectivity=8)
    holes = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] * cell_m2 < p.min_hole_m2)
    holes = holes[(holes > 0) & (holes != labels[0, 0])]
    if len(holes):
        img[np.isin(labels[1:-1, 1:-1], holes)] = 1
    return img


def _disc(k: int) -> np.ndarray:
    """A disc of diameter ``k`` cells (odd): the cells whose centres lie within k / 2."""
    r = np.arange(k) - k // 2
    return (np.hypot(*np.meshgrid(r, r)) <= k / 2).astype(np.uint8)


def mask_to_polygons(
    mask: np.ndarray, origin: tuple[float, float] | np.ndarray, res: float
) -> Polygon | MultiPolygon:
    """The exact outline of a mask's cells: polygons (with holes) through the cell corners.

    Row ``iy``, column ``ix`` is the square ``[ox + ix * res, ox + (ix + 1) * res) x
    [oy + iy * res, ...)``; the result covers exactly the true cells (area = count * res²),
    with no collinear vertices. An empty mask gives an empty Polygon. The time grows with the
    number of runs of lawn cells in the rows (clean the mask first).
    """
    m = np.asarray(mask).astype(bool)
    if m.ndim != 2:
        raise ValueError(f'the mask must be 2-D (rows, cols), not {m.shape}')
    if not m.any():
        return Polygon()
    edges = np.zeros((m.shape[0], m.shape[1] + 2), dtype=np.int8)
    edges[:, 1:-1] = m
    step = np.diff(edges, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    rows, starts, ends = _merge_equal_runs(rows, starts, ends)
    # union in cell units (integers: exact), then to metres
    merged = shapely.union_all(shapely.box(starts, rows[:, 0], ends, rows[:, 1]))
    merged = shapely.simplify(merged, 0.0)  # drop the collinear vertices between runs
    ox, oy = (float(v) for v in np.asarray(origin, dtype=float).reshape(2))
    scale = np.array([res, res], dtype=float)
    offset = np.array([ox, oy], dtype=float)
    return shapely.transform(merged, lambda xy: xy * scale + offset)


def _merge_equal_runs(
    rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack runs with the same columns in consecutive rows into rectangles.

    Returns (row span (N, 2): first row, last row + 1), starts, ends: fewer boxes to union.
    """
    order = np.lexsort((rows, ends, starts))  # by start, end, then row
    r, s, e = rows[order], starts[order], ends[order]
    new = np.ones(len(r), dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (e[1:] != e[:-1]) | (r[1:] != r[:-1] + 1)
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(r)) - 1
    span = np.column_stack([r[first], r[last] + 1])
    return span, s[first], e[first]


def edge_confidence(
    ring: np.ndarray,
    origin: tuple[float, float] | np.ndarray,
    res: float,
    *,
    seen: np.ndarray | None = None,
    distance_m: np.ndarray | None = None,
    params: ConfidenceParams | None = None,
) -> np.ndarray:
    """Confidence in [0, 1] of every segment of a ring: how often and how closely it was seen.

    ``ring`` is an ``(N, 2)`` array of map x, y (a closed ring has N - 1 segments); ``seen``
    (times each cell was seen) and ``distance_m`` (the distance from which each cell was seen
    closest; NaN or inf: never) are grids of the lawn grid's shape. Each segment is sampled
    every half cell, half a cell to either side of it (the cells on both sides of the edge);
    a sample scores ``min(seen / seen_full, 1)`` times ``(far_m - d) / (far_m - near_m)``
    clipped to [0, 1] (a grid not given scores 1; off the grid scores 0), and the segment gets
    its samples' mean. With neither grid the result is all ones.
    """
    p = params or ConfidenceParams()
    pts = np.asarray(ring, dtype=float).reshape(-1, 2)
    if len(pts) < 2:
        return np.zeros(0)
    a, b = pts[:-1], pts[1:]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    n = np.maximum(1, np.ceil(length / (0.5 * res)).astype(np.int64))
    seg = np.repeat(np.arange(len(a)), n)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    t = (np.arange(int(n.sum())) - np.repeat(first, n) + 0.5) / np.repeat(n, n)
    normal = np.zeros_like(d)
    ok = length > 0
    normal[ok] = np.column_stack([-d[ok, 1], d[ok, 0]]) / length[ok, None]
    along = a[seg] + t[:, None] * d[seg]
    samples = np.concatenate([along + 0.5 * res * normal[seg], along - 0.5 * res * normal[seg]])
    seg2 = np.concatenate([seg, seg])
    score: np.ndarray = np.ones(len(samples))
    given = [np.asarray(g) for g in (seen, distance_m) if g is not None]
    if given:
        rows, cols = given[0].shape[:2]
        ij = cell_index(samples, np.asarray(origin, dtype=float), res)
        inside = in_grid(ij, (rows, cols))
        iy = np.where(inside, ij[:, 1], 0)
        ix = np.where(inside, ij[:, 0], 0)
        if seen is not None:
            count = np.asarray(seen, dtype=float)[iy, ix]
            score *= np.clip(np.nan_to_num(count, nan=0.0) / p.seen_full, 0.0, 1.0)
        if distance_m is not None:
            dist = np.asarray(distance_m, dtype=float)[iy, ix]
            dist = np.where(np.isfinite(dist), dist, np.inf)
            score *= np.clip((p.far_m - dist) / (p.far_m - p.near_m), 0.0, 1.0)
        score = np.where(inside, score, 0.0)
    total = np.bincount(seg2, weights=score, minlength=len(a))
    count = np.bincount(seg2, minlength=len(a))
    return total / np.maximum(count, 1)


def lawn_polygons(
    mask: np.ndarray,
    origin: tuple[float, float] | np.ndarray,
    res: float,
    params: ExtractionParams | None = None,
    *,
    seed_xy: tuple[float, float] | None = None,
    seen: np.ndarray | None = None,
    distance_m: np.ndarray | None = None,
    obstacle_mask: np.ndarray | None = None,
    confidence_params: ConfidenceParams | None = None,
) -> LawnPolygons:
    """The lawn polygons of a grid: clean-up, exact outlines, selection, simplification.

    ``mask`` is a ``(rows, cols)`` boolean or uint8 raster (non-zero: lawn), row = y and
    column = x, ``origin`` the map x, y of the lower-left corner of cell ``(0, 0)`` and ``res``
    the cell size (m). ``seed_xy`` (the dock) is used with ``params.keep == 'seed'``. ``seen``
    and ``distance_m`` (grids of the mask's shape, see :func:`edge_confidence`) give every
    edge a confidence (scored by ``confidence_params``); ``obstacle_mask`` (same shape) makes
    holes that are mostly obstacle cells obstacles rather than keep-outs, and gives keep-outs
    with few (under :data:`FLAT_SHARE`) the kind :data:`GROUND_KIND`.

    Raises :class:`ExtractionError` when the grid holds no lawn, when the clean-up leaves none,
    or when no lawn part lies at the seed; ValueError for arguments that do not fit.
    """
    p = params or ExtractionParams()
    m = np.asarray(mask)
    origin_xy = _check_inputs(
        m, origin, res, {'seen': seen, 'distance_m': distance_m, 'obstacle_mask': obstacle_mask}
    )
    if p.keep == 'seed' and seed_xy is None:
        raise ValueError("keep='seed' needs seed_xy (the dock's x, y)")
    lawn = m.astype(bool)
    if not lawn.any():
        raise ExtractionError(
            f'no lawn in the grid ({m.shape[0]} x {m.shape[1]} cells of {res:g} m, none lawn): '
            'nothing to outline'
        )
    cleaned = clean_mask(lawn, res, p)
    if not cleaned.any():
        raise ExtractionError(
            f'no lawn left after the clean-up: the {int(lawn.sum())} lawn cells '
            f'({lawn.sum() * res * res:.2f} m²) form no part wider than clean_m={p.clean_m:g} m '
            f'and larger than min_area_m2={p.min_area_m2:g} m²'
        )
    warnings: list[str] = []
    parts = _parts(mask_to_polygons(cleaned, origin_xy, res))
    parts = _select(parts, p, seed_xy, warnings)
    parts = _simplify(parts, p.simplify_m, p.min_area_m2, p.hole_simplify_m)
    if not parts:
        raise ExtractionError(
            f'no lawn left after simplifying with simplify_m={p.simplify_m:g} m '
            f'(every part is below min_area_m2={p.min_area_m2:g} m²)'
        )

    def edged(poly: Polygon, kind: str = '') -> EdgedPolygon:
        if seen is None and distance_m is None:
            return EdgedPolygon(poly, kind=kind)
        conf = tuple(
            edge_confidence(
                r, origin_xy, res, seen=seen, distance_m=distance_m, params=confidence_params
            )
            for r in _rings(poly)
        )
        return EdgedPolygon(poly, conf, kind)

    boundaries, keepouts, obstacles = [], [], []
    for part in parts:
        outline, holes = _outline_and_holes(part, parts)
        boundaries.append(edged(outline))
        for hole in holes:
            share = None
            if obstacle_mask is not None:
                share = _obstacle_share(hole, obstacle_mask, origin_xy, res)
            if share is not None and share >= OBSTACLE_SHARE:
                obstacles.append(edged(hole))
            else:
                flat = share is not None and share < FLAT_SHARE
                keepouts.append(edged(hole, GROUND_KIND if flat else ''))
    polygon = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return LawnPolygons(
        polygon, tuple(boundaries), tuple(keepouts), tuple(obstacles), tuple(warnings)
    )


def _check_inputs(
    mask: np.ndarray,
    origin: tuple[float, float] | np.ndarray,
    res: float,
    grids: dict[str, np.ndarray | None],
) -> np.ndarray:
    """The origin as a (2,) array; ValueError naming what does not fit."""
    if mask.ndim != 2 or mask.size == 0:
        raise ValueError(f'the lawn mask must be a non-empty 2-D array, not shape {mask.shape}')
    if not (isinstance(res, (int, float)) and math.isfinite(res) and res > 0):
        raise ValueError(f'the grid resolution must be a positive number of metres, not {res!r}')
    origin_xy = np.asarray(origin, dtype=float).reshape(-1)
    if origin_xy.shape != (2,) or not np.all(np.isfinite(origin_xy)):
        raise ValueError(f'the grid origin must be two finite numbers (x, y), not {origin!r}')
    for name, grid in grids.items():
        if grid is not None and np.shape(grid) != mask.shape:
            raise ValueError(f'{name} has shape {np.shape(grid)}, the lawn mask {mask.shape}')
    return origin_xy


def _outline_and_holes(part: Polygon, parts: list[Polygon]) -> tuple[Polygon, list[Polygon]]:
    """A part's boundary and its holes as polygons of their own (keep-outs or obstacles).

    A hole with another part in it (an island) stays a hole of the boundary instead, so that
    the boundaries do not overlap.
    """
    islands = [q.representative_point() for q in parts if q is not part]
    kept_rings = []
    holes = []
    for ring in part.interiors:
        hole = Polygon(ring.coords)
        if any(hole.contains(pt) for pt in islands):
            kept_rings.append(ring.coords)
        else:
            holes.append(hole)
    return Polygon(part.exterior.coords, kept_rings), holes


# -- helpers ----------------------------------------------------------------------------------


def _kernel_cells(size_m: float, res: float) -> int:
    """``size_m`` in cells, rounded, then up to an odd number."""
    k = int(round(size_m / res))
    return k + 1 if k % 2 == 0 and k > 0 else k


def _rings(poly: Polygon) -> list[np.ndarray]:
    """The (N, 2) coordinates of a polygon's rings: exterior, then interiors."""
    return [np.asarray(poly.exterior.coords)[:, :2]] + [
        np.asarray(r.coords)[:, :2] for r in poly.interiors
    ]


def _parts(geom: shapely.Geometry) -> list[Polygon]:
    """The non-empty polygons in a geometry (a collection's polygonal members)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    out: list[Polygon] = []
    for g in getattr(geom, 'geoms', []):
        out.extend(_parts(g))
    return out


def _select(
    parts: list[Polygon],
    p: ExtractionParams,
    seed_xy: tuple[float, float] | None,
    warnings: list[str],
) -> list[Polygon]:
    """The parts that ``p.keep`` keeps; a warning for what is dropped."""
    if p.keep == 'all' or (p.keep == 'largest' and len(parts) <= 1):
        return parts
    if p.keep == 'largest':
        kept = [max(parts, key=lambda g: g.area)]
        why = 'smaller than the largest'
    else:
        assert seed_xy is not None  # lawn_polygons checks it
        seed = shapely.Point(float(seed_xy[0]), float(seed_xy[1]))
        kept = [g for g in parts if g.covers(seed)]
        if not kept:
            near = min(parts, key=lambda g: g.distance(seed))
            dist = near.distance(seed)
            if dist > p.seed_max_distance_m:
                raise ExtractionError(
                    f'no lawn at the seed ({seed.x:.2f}, {seed.y:.2f}): the nearest lawn part '
                    f'is {dist:.2f} m away (seed_max_distance_m={p.seed_max_distance_m:g} m)'
                )
            kept = [near]
        why = 'not connected to the seed'
    dropped = [g for g in parts if all(g is not k for k in kept)]
    if dropped:
        area = sum(g.area for g in dropped)
        warnings.append(f'dropped {len(dropped)} lawn part(s) {why} ({area:.2f} m²)')
    return kept


def _simplify(
    parts: list[Polygon], tolerance_m: float, min_area_m2: float, hole_tolerance_m: float = 0.0
) -> list[Polygon]:
    """Simplified, valid parts (Douglas-Peucker keeping topology, then made valid).

    The outer edge is simplified with ``tolerance_m`` and the holes with the smaller of the two
    tolerances; where the finer holes would not fit the coarser edge (a hole within a tolerance
    of it), the part is simplified with ``tolerance_m`` throughout.
    """
    hole_tolerance_m = min(hole_tolerance_m, tolerance_m)
    if tolerance_m <= 0:
        return parts
    out: list[Polygon] = []
    for part in parts:
        simple = shapely.simplify(part, tolerance_m, preserve_topology=True)
        if (
            part.interiors
            and hole_tolerance_m < tolerance_m
            and isinstance(simple, Polygon)
            and not simple.is_empty
        ):
            fine = shapely.simplify(part, hole_tolerance_m, preserve_topology=True)
            both = Polygon(simple.exterior.coords, [r.coords for r in fine.interiors])
            if both.is_valid:
                simple = both
        simple = shapely.make_valid(simple)
        out.extend(g for g in _parts(simple) if g.area >= min_area_m2)
    return out


def _obstacle_share(
    hole: Polygon, obstacle_mask: np.ndarray, origin: np.ndarray, res: float
) -> float | None:
    """The share of the cells whose centres lie in ``hole`` that are obstacles (None: none)."""
    grid = np.asarray(obstacle_mask).astype(bool)
    minx, miny, maxx, maxy = hole.bounds
    (c0, r0), (c1, r1) = cell_index(np.array([[minx, miny], [maxx, maxy]]), origin, res)
    c0, r0 = max(int(c0), 0), max(int(r0), 0)
    c1, r1 = min(int(c1), grid.shape[1] - 1), min(int(r1), grid.shape[0] - 1)
    if c1 < c0 or r1 < r0:
        return None
    cols, rows = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
    xs = origin[0] + (cols + 0.5) * res
    ys = origin[1] + (rows + 0.5) * res
    inside = shapely.contains_xy(hole, xs, ys)
    if not inside.any():
        return None
    return float(grid[rows[inside], cols[inside]].mean())
