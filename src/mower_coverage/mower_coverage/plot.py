"""A picture of a plan: lawn, holes, allowed area, stripes, turns, transits, missed ground."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from mower_coverage.geometry import polygons_of  # noqa: E402
from mower_coverage.metrics import PlanMetrics, uncovered  # noqa: E402
from mower_coverage.planner import Plan  # noqa: E402
from mower_coverage.route import KINDS  # noqa: E402

COLOURS = {'headland': '#1f5fa8', 'stripe': '#2a7a2a', 'turn': '#d98c00', 'transit': '#c0196b'}


def _patch(geom, **kw) -> list[PathPatch]:
    patches = []
    for poly in polygons_of(geom):
        verts, codes = [], []
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            verts.extend(xy)
            codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
        patches.append(PathPatch(MplPath(verts, codes), **kw))
    return patches


def plot_plan(plan: Plan, metrics: PlanMetrics | None, out: str | Path, dpi: int = 130) -> Path:
    """Write a PNG of the plan and return its path."""
    out = Path(out)
    lawn = plan.lawn
    minx, miny, maxx, maxy = lawn.boundary.bounds
    w, h = maxx - minx, maxy - miny
    scale = 10.0 / max(w, h)
    fig, ax = plt.subplots(figsize=(max(4.0, w * scale + 1.5), max(3.5, h * scale + 1.0)))
    for p in _patch(lawn.boundary, facecolor='#cfe8c0', edgecolor='#3b6d2a', lw=1.2):
        ax.add_patch(p)
    for f in lawn.features:
        if f.role == 'keepout':
            for p in _patch(f.geometry, facecolor='#e9b8c8', edgecolor='#a33', lw=0.8, hatch='//'):
                ax.add_patch(p)
        elif f.role == 'obstacle':
            for p in _patch(f.geometry, facecolor='#8a6a4a', edgecolor='#4a3a2a', lw=0.8):
                ax.add_patch(p)
    for p in _patch(plan.area.allowed, facecolor='none', edgecolor='#777', lw=0.5, ls='--'):
        ax.add_patch(p)
    pts, kinds = plan.path.points, plan.path.kinds
    for k, name in enumerate(KINDS):
        sel = kinds == k
        if not sel.any():
            continue
        segs = np.stack([pts[:-1][sel], pts[1:][sel]], axis=1)
        lw = 0.6 if name in ('stripe', 'headland') else 1.0
        ax.add_collection(LineCollection(segs, colors=COLOURS[name], lw=lw, label=name))
    missed = uncovered(plan.area, plan.path, plan.params.cut_width_m)
    for p in _patch(missed, facecolor='red', edgecolor='red', lw=0.3):
        ax.add_patch(p)
    ax.plot([plan.area.start.x], [plan.area.start.y], marker='o', color='k', ms=6, label='start')
    if lawn.dock is not None:
        ax.plot([lawn.dock.x_m], [lawn.dock.y_m], marker='s', color='#333', ms=7, label='dock')
    ax.plot([], [], color='red', lw=4, label='missed')
    ax.set_aspect('equal')
    ax.set_xlim(minx - 0.5, maxx + 0.5)
    ax.set_ylim(miny - 0.5, maxy + 0.5)
    ax.set_xlabel('east (m)')
    ax.set_ylabel('north (m)')
    title = f'{lawn.name}: stripes at {plan.angle_deg:.0f}°, {len(plan.cells)} cells'
    if metrics is not None:
        title += (
            f'\ncoverage {metrics.coverage_reachable_pct:.2f}% of reachable, '
            f'length {metrics.path_length_m:.0f} m ({metrics.length_ratio:.2f}x bound), '
            f'{metrics.turns} turns, {metrics.violations} violations'
        )
    ax.set_title(title, fontsize=9)
    ax.legend(loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
