"""Writing a plan: GeoJSON of the path, its parts and the figures (ENU metres)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mower_coverage.metrics import PlanMetrics
from mower_coverage.planner import Plan
from mower_coverage.route import KINDS


def _round(points: np.ndarray) -> list[list[float]]:
    return np.round(np.asarray(points, dtype=float), 4).tolist()


def plan_to_geojson(plan: Plan, metrics: PlanMetrics | None = None) -> dict[str, Any]:
    """The plan as a GeoJSON FeatureCollection (same local ENU frame as the map)."""
    pts, kinds = plan.path.points, plan.path.kinds
    features: list[dict[str, Any]] = [
        {
            'type': 'Feature',
            'properties': {'role': 'path', 'length_m': round(plan.path.length_m, 3)},
            'geometry': {'type': 'LineString', 'coordinates': _round(pts)},
        }
    ]
    for k, name in enumerate(KINDS):
        sel = np.flatnonzero(kinds == k)
        if len(sel) == 0:
            continue
        # consecutive segments of one kind form one line
        breaks = np.flatnonzero(np.diff(sel) > 1) + 1
        lines = [_round(pts[np.r_[run, run[-1] + 1]]) for run in np.split(sel, breaks)]
        features.append(
            {
                'type': 'Feature',
                'properties': {'role': name, 'count': len(lines)},
                'geometry': {'type': 'MultiLineString', 'coordinates': lines},
            }
        )
    features.append(
        {
            'type': 'Feature',
            'properties': {'role': 'start'},
            'geometry': {
                'type': 'Point',
                'coordinates': _round([[plan.area.start.x, plan.area.start.y]])[0],
            },
        }
    )
    props: dict[str, Any] = {
        'name': plan.lawn.name,
        'frame': 'enu',
        'units': 'm',
        'stripe_angle_deg': round(plan.angle_deg, 4),
        'cells': len(plan.cells),
        'params': plan.params.to_dict(),
        'warnings': list(plan.warnings),
    }
    if metrics is not None:
        props['metrics'] = {
            k: (round(v, 6) if isinstance(v, float) else v) for k, v in metrics.to_dict().items()
        }
    return {'type': 'FeatureCollection', 'properties': props, 'features': features}


def write_plan(plan: Plan, metrics: PlanMetrics | None, path: str | Path) -> Path:
    """Write the plan's GeoJSON; the same plan always gives the same bytes."""
    path = Path(path)
    path.write_text(
        json.dumps(plan_to_geojson(plan, metrics), separators=(',', ':'), sort_keys=True) + '\n',
        encoding='utf-8',
    )
    return path
