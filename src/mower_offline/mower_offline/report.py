"""The run's report picture: lawn, mowed passes as a heat map, path driven, obstacles, replans.

The 2 cm rasters of the ground truth are drawn cell for cell on a garden; on a large lawn (more
than :data:`MAX_DRAWN_CELLS` cells a side) in blocks of cells, tile by tile: the most passes of a
block, and a block is missed when one of its reachable cells is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from mower_maps.tiles import TiledRaster, TileRegion  # noqa: E402
from mower_sim.sim import COVERAGE_RES_M  # noqa: E402

MAX_DRAWN_CELLS = 1200  # larger rasters are drawn in blocks of cells (the plot is ~600 px wide)


def _outline(ax: Any, geom: Any, **kw: Any) -> None:
    for poly in getattr(geom, 'geoms', [geom]):
        if poly.is_empty:
            continue
        x, y = poly.exterior.xy
        ax.plot(x, y, **kw)
        kw = {k: v for k, v in kw.items() if k != 'label'}
        for ring in poly.interiors:
            x, y = ring.xy
            ax.plot(x, y, **kw)


def block_factor(shape: tuple[int, int], tile: int) -> int:
    """Cells a side of the blocks a raster of ``shape`` is drawn in (a divisor of ``tile``)."""
    need = -(-max(shape) // MAX_DRAWN_CELLS)
    return min((d for d in range(1, tile + 1) if tile % d == 0 and d >= need), default=tile)


def _missed(mowed: TiledRaster, region: TileRegion, factor: int) -> np.ndarray:
    """Blocks of ``factor`` cells a side holding a reachable cell that was not cut.

    ``mowed``: the simulator's cut cells; ``region``: the reachable area on them.
    """
    t, n = mowed.tile, mowed.tile // factor
    rows, cols = mowed.shape
    out = np.zeros((-(-rows // factor), -(-cols // factor)), bool)
    for key in mowed.keys_all():
        inside = region.tile_mask(key)
        if isinstance(inside, bool):
            if not inside:
                continue
            reach = np.ones((t, t), bool)
        else:
            reach = inside.copy()
        rs, cs = mowed.tile_span(key)  # cells past the raster are not on the lawn
        reach[rs.stop - rs.start :] = False
        reach[:, cs.stop - cs.start :] = False
        cut = mowed.get(key)
        left = reach & ~cut if cut is not None else reach
        block = np.asarray(left.reshape(n, factor, n, factor).any(axis=(1, 3)))
        part = out[key[0] * n : (key[0] + 1) * n, key[1] * n : (key[1] + 1) * n]
        part[...] = block[: part.shape[0], : part.shape[1]]
    return out


def write_report(run: Any, result: Any, path: str | Path) -> Path:
    """A PNG of the run: what was mowed how often, where it drove, what it found."""
    lawn, sim, s = run.lawn, run.sim, result.summary
    fig, ax = plt.subplots(figsize=(10, 7.5), dpi=110)
    factor = block_factor(run.passes.shape, run.passes.tile)
    h, w = -(-run.passes.shape[0] // factor), -(-run.passes.shape[1] // factor)
    x0, y0 = sim.coverage_origin  # the corner of cell (0, 0)
    cell = COVERAGE_RES_M * factor
    extent = (x0, x0 + w * cell, y0, y0 + h * cell)
    passes = np.minimum(run.passes.block_reduce(factor, 'max'), 4).astype(float)
    passes[passes == 0] = np.nan
    cmap = ListedColormap(['#b7e4a0', '#5cb85c', '#2e7d32', '#1b4d1e'])
    im = ax.imshow(
        passes,
        origin='lower',
        extent=extent,
        cmap=cmap,
        vmin=0.5,
        vmax=4.5,
        interpolation='nearest',
    )
    cbar = fig.colorbar(im, ax=ax, ticks=[1, 2, 3, 4], shrink=0.7)
    cbar.ax.set_yticklabels(['1 pass', '2', '3', '4+'])
    missed = np.where(_missed(sim.mowed, run.truth.region, factor), 1.0, np.nan)
    ax.imshow(
        missed,
        origin='lower',
        extent=extent,
        cmap=ListedColormap(['#e53935']),
        interpolation='nearest',
    )
    _outline(ax, lawn.boundary, color='black', lw=1.5, label='lawn boundary')
    for f in lawn.features:
        if f.role == 'keepout':
            ax.fill(*f.geometry.exterior.xy, color='#c8a27a', alpha=0.8, lw=0)
        elif f.role == 'obstacle':
            ax.fill(*f.geometry.exterior.xy, color='#6d4c41', lw=0)
    for k, poly in enumerate(result.found):
        _outline(ax, poly, color='#ff9800', lw=1.5, label='obstacles found' if k == 0 else None)
    for k, fp in enumerate(sim.world.hidden_footprints):
        ax.fill(
            *fp.exterior.xy,
            color='#212121',
            lw=0,
            label='hidden obstacles (truth)' if k == 0 else None,
        )
    t = result.trajectory
    if len(t):
        ax.plot(t[:, 0], t[:, 1], color='#1565c0', lw=0.5, alpha=0.7, label='path driven')
    if result.replan_xy:
        r = np.asarray(result.replan_xy)
        ax.scatter(
            r[:, 0], r[:, 1], marker='*', s=180, color='#d81b60', zorder=5, label='replanned here'
        )
    if lawn.dock is not None:
        ax.scatter(
            [lawn.dock.x_m],
            [lawn.dock.y_m],
            marker='s',
            s=60,
            color='#ffeb3b',
            edgecolor='black',
            zorder=5,
            label='dock',
        )
    ax.fill([], [], color='#e53935', label='reachable, not mowed')
    ax.set_aspect('equal')
    ax.set_xlabel('x (m, east)')
    ax.set_ylabel('y (m, north)')
    ax.set_title(
        f'{lawn.name}: {s["coverage_pct"]:.2f}% of the reachable lawn mowed, '
        f'{s["collisions"]} collisions, {s["boundary_exits"]} boundary exits, '
        f'{s["keepout_entries"]} keep-out entries\n{s["replans"]} replans, '
        f'{s["hidden_obstacles_found"]}/{s["hidden_obstacles"]} hidden obstacles found,'
        f' {s["distance_m"]:.0f} m in {s["sim_time_s"]:.0f} s simulated '
        f'({s["realtime_factor"]:.0f}x real time)',
        fontsize=9,
    )
    ax.legend(loc='upper left', bbox_to_anchor=(1.15, 1.0), fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
