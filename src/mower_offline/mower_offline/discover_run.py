"""Discovery in the simulator: from the dock with no map, explore, outline the lawn, score it.

The world is built from a map (the truth), but the stack does not get it: no plan, no region,
no geofence from the map. The control chain is :class:`~mower_offline.closed_loop.ClosedLoop`
with perception in the loop (the simulator's labels, or the shipped model); the
:class:`~mower_mapping.discovery.Explorer` says where to drive (blade off), the semantic grid's
lawn cells become polygons (:func:`~mower_maps.lawn_polygons.lawn_polygons`, seeded at the
explorer's first safe point) and a draft map (:class:`~mower_maps.draft_map.DraftMap`,
provenance ``discovery``) with its preview.

The score (:func:`score_discovery`) compares the discovered lawn with the true mowable area:
area IoU, boundary Hausdorff distance, each keep-out (or obstacle) wider than
``MIN_HOLE_WIDTH_M`` found (best IoU with a discovered hole), the simulator's boundary exits,
keep-out entries and collisions during discovery (the counts ``mower sim`` reports), and the
time to discover per 100 m² of lawn.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from mower_control.safety import SafetySupervisor
from mower_mapping.discovery import (
    DiscoveryDriver,
    Explorer,
    ExplorerParams,
    ExploreStep,
    with_obstacles,
)
from mower_mapping.semantic_grid import SemanticGrid
from mower_maps import LawnMap
from mower_maps.draft_map import DISCOVERY_EXTRACTION, DraftMap, DraftWrite, discovery_draft
from mower_maps.lawn_polygons import ExtractionError, ExtractionParams, LawnPolygons
from mower_maps.safe_files import atomic_write_bytes
from mower_offline.closed_loop import ClosedLoop
from mower_offline.run import CONFIG, RunConfig, loop_config
from mower_sim.sim import LawnSim
from mower_sim.world import HiddenObstacle, WorldConfig

__all__ = [
    'MIN_HOLE_WIDTH_M',
    'DiscoverConfig',
    'DiscoveryResult',
    'DiscoveryRun',
    'cmd_discover',
    'discover_map',
    'reachable_lawn',
    'score_discovery',
    'summary_line',
    'write_result',
    'write_score',
]

#: Keep-outs and obstacles at least this wide (minimum rotated rectangle's short side) are scored.
MIN_HOLE_WIDTH_M = 0.5
LAWN = 0


@dataclass
class DiscoverConfig:
    """How a discovery run is done. Units are in the names."""

    seed: int = 0
    hidden: tuple[HiddenObstacle, ...] = ()
    camera_hz: float = 4.0
    perception: str = 'labels'  # 'labels' (the simulator's) or 'model' (the shipped network)
    pose_error: bool = True  # the localisation error model on the pose (False: the true pose)
    limit_s: float = 7200.0  # simulated time limit (the explorer goes home at 90 % of it)
    check_s: float = 0.5  # how often the explorer is asked / the path checked
    explorer: ExplorerParams | None = None  # None: footprint from safety.yaml, defaults else
    extraction: ExtractionParams = DISCOVERY_EXTRACTION
    config_dir: Path = CONFIG


@dataclass
class DiscoveryResult:
    """What a discovery produced."""

    outcome: str  # 'done', 'no_lawn', 'error', 'time_limit', 'extraction_failed'
    message: str
    found: LawnPolygons | None
    draft: DraftWrite | None
    score: dict[str, Any]
    trajectory: np.ndarray  # (N, 2) true positions, sampled


class DiscoveryRun:
    """The stack discovering one (hidden) lawn in the MuJoCo world."""

    def __init__(self, lawn: LawnMap, config: DiscoverConfig | None = None) -> None:
        """Build the world from ``lawn`` and the loop without it (no plan, no geofence)."""
        self.truth = lawn
        self.cfg = cfg = config or DiscoverConfig()
        if lawn.dock is None:
            raise ValueError(f'{lawn.source or lawn.name}: discovery starts at the dock; no dock')
        perception = {'labels': 'truth', 'truth': 'truth', 'model': 'model'}.get(cfg.perception)
        if perception is None:
            raise ValueError(f"perception must be 'labels' or 'model', not {cfg.perception!r}")
        self.sim = LawnSim(lawn, WorldConfig(hidden=cfg.hidden), seed=cfg.seed)
        lc = loop_config(
            RunConfig(camera_hz=cfg.camera_hz, perception=perception, config_dir=cfg.config_dir)
        )
        if cfg.pose_error:
            from mower_sim.pose_error import PoseErrorParams

            lc.pose_error = PoseErrorParams()
        self.loop = ClosedLoop(self.sim, lc, seed=cfg.seed)
        self.loop.record = False
        # the stack knows no lawn yet: a supervisor without a geofence
        self.loop.safety = SafetySupervisor(lc.safety, None)
        d = lawn.dock
        self.dock = (d.x_m, d.y_m, d.heading_rad)
        ep = cfg.explorer or ExplorerParams(
            footprint_radius_m=lc.safety.footprint_radius_m, time_limit_s=0.9 * cfg.limit_s
        )
        self.explorer = Explorer(ep, self.dock)
        grid, mapper = self._grid(), self.loop.mapper
        self.driver = DiscoveryDriver(
            self.explorer,
            lambda: (
                with_obstacles(grid.class_map(), grid.origin, grid.res, mapper.obstacles()),
                grid.origin,
                grid.res,
            ),
            cfg.check_s,
        )
        self.loop.mission.explore = self.driver
        self.final_state = 'IDLE'

    def run(self, progress: bool = False) -> ExploreStep:
        """Ask the mission to discover; step until it is done (or the limit); the last step.

        The mission's DISCOVERING state feeds the explorer's paths to the follower (blade off)
        through the :class:`~mower_mapping.discovery.DiscoveryDriver` the robot uses too.
        """
        cfg, loop, sim = self.cfg, self.loop, self.sim
        mission = loop.mission
        loop.step()  # the first tick: the mission sees its inputs
        ok, why = mission.request('discover')
        if not ok:
            raise RuntimeError(f'the mission did not start discovering: {why}')
        traj = []
        shown: ExploreStep | None = None
        wall0 = time.monotonic()
        next_sample = 0.0
        while sim.time_s < cfg.limit_s:
            tick = loop.step()
            if sim.time_s >= next_sample:
                next_sample = sim.time_s + cfg.check_s
                traj.append(sim.pose[:2])
            last = self.driver.last
            if progress and last is not None and last is not shown and last.path is not None:
                shown = last
                print(
                    f'  t={sim.time_s:7.1f} s  {last.phase:8s} {last.message}  '
                    f'(wall {time.monotonic() - wall0:.0f} s)',
                    flush=True,
                )
            if tick.mission.state in ('IDLE', 'ERROR'):
                break
        self.final_state = mission.state.name
        self.trajectory = np.asarray(traj)
        loop.close()
        last = self.driver.last
        return last if last is not None else ExploreStep('start', None, message='no step')

    def _grid(self) -> SemanticGrid:
        """The loop's semantic grid (discovery runs with the camera in the loop)."""
        grid = self.loop.grid
        if grid is None:
            raise RuntimeError('discovery needs the camera in the loop (camera_hz > 0)')
        return grid

    def extract(self) -> tuple[LawnPolygons, DraftMap]:
        """The grid's lawn as polygons (seeded at the explorer's first safe point), the draft."""
        grid = self._grid()
        # how often a cell was seen, from its evidence (the grid keeps no count): strongest
        # class log-odds over the log-odds one sighting adds
        seen = np.ceil(np.abs(grid.logodds).max(axis=0) / max(grid.p.hit, 1e-6))
        seed = self.explorer.entry if self.explorer.entry is not None else self.dock[:2]
        return discovery_draft(
            grid.class_map(),
            grid.origin,
            grid.res,
            seed_xy=(float(seed[0]), float(seed[1])),
            dock=self.dock,
            params=self.cfg.extraction,
            seen=seen.astype(np.int32),
            obstacle_mask=grid.obstacle_mask(),
        )

    def discover(self, out_dir: str | Path, progress: bool = False) -> DiscoveryResult:
        """Run, extract, write the draft (``discovered.geojson`` + preview) and score."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        wall0 = time.monotonic()
        last = self.run(progress)
        wall = time.monotonic() - wall0
        ev = self.sim.events
        base = {
            'map': self.truth.source or self.truth.name,
            'perception': self.cfg.perception,
            'pose_error': self.cfg.pose_error,
            'sim_time_s': round(self.sim.time_s, 1),
            'wall_time_s': round(wall, 1),
            'goals': self.explorer.goals,
            'edge_tours': self.explorer.tours,
            'boundary_exits': ev.boundary_exits,
            'keepout_entries': ev.keepout_entries,
            'collisions': ev.collisions,
            'final_state': self.final_state,
        }
        if last.phase == 'no_lawn':
            return DiscoveryResult('no_lawn', last.message, None, None, base, self.trajectory)
        if self.final_state == 'ERROR':
            outcome = 'error'
        else:
            outcome = 'done' if last.phase == 'done' else 'time_limit'
        try:
            found, draft_map = self.extract()
        except ExtractionError as e:
            return DiscoveryResult('extraction_failed', str(e), None, None, base, self.trajectory)
        draft = draft_map.write(out / 'discovered.geojson')
        start = self.explorer.entry if self.explorer.entry is not None else self.dock[:2]
        reach = reachable_lawn(
            self.truth, (float(start[0]), float(start[1])), self.explorer.params.clearance_m
        )
        score = {**base, **score_discovery(found.polygon, self.truth, self.sim.time_s, reach)}
        score['outcome'] = outcome
        score['draft'] = str(draft.path)
        score['draft_faults'] = list(draft.faults)
        return DiscoveryResult(outcome, last.message, found, draft, score, self.trajectory)


def _width(poly: Polygon) -> float:
    """Short side of the minimum rotated rectangle (m)."""
    rect = shapely.minimum_rotated_rectangle(poly)
    xy = np.asarray(rect.exterior.coords)
    sides = np.hypot(*np.diff(xy, axis=0).T)
    return float(sides.min()) if len(sides) else 0.0


def _outer(geom: Any) -> Any:
    """The outer rings of a (multi)polygon, holes filled."""
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return shapely.union_all([Polygon(p.exterior) for p in parts])


def reachable_lawn(truth: LawnMap, start_xy: tuple[float, float], clearance_m: float) -> Any:
    """The true mowable area the mower can see by driving from ``start_xy``.

    The parts of the mowable area its centre can reach keeping ``clearance_m`` from every edge
    (opened by it), the one nearest to the start, grown back by the clearance plus what the
    camera sees beyond it is not modelled: this is the lawn reachable by driving.
    """
    area = truth.mowable_area()
    inner = area.buffer(-clearance_m)
    parts = list(inner.geoms) if isinstance(inner, MultiPolygon) else [inner]
    parts = [q for q in parts if not q.is_empty]
    if not parts:
        return Polygon()
    pt = shapely.Point(start_xy)
    near = min(parts, key=lambda q: q.distance(pt))
    return shapely.intersection(near.buffer(clearance_m, join_style='mitre'), area)


def score_discovery(
    found: Any, truth: LawnMap, time_s: float, reachable: Any = None
) -> dict[str, Any]:
    """IoU, boundary Hausdorff, holes found and time per 100 m² of the ``found`` lawn.

    The Hausdorff distance is between the outer edges of the found lawn and of the true
    mowable area (``hausdorff_all_edges_m``: every edge, the holes' too). A keep-out or obstacle
    counts as found when what was left out of the lawn around it (0.5 m) has IoU >= 0.8 with it.

    ``found`` is the discovered lawn (holes cut out); ``truth`` the map the world was built
    from, whose mowable area (boundary less keep-outs and obstacles) is the reference.
    """
    true_area = truth.mowable_area()
    inter = shapely.intersection(found, true_area).area
    union = shapely.union(found, true_area).area
    iou = inter / union if union > 0 else 0.0
    # the outer edge of the lawn (a keep-out touching the boundary is part of it), and every
    # edge (holes too)
    hausdorff = shapely.hausdorff_distance(
        _outer(found).boundary, _outer(true_area).boundary, densify=0.05
    )
    hausdorff_all = shapely.hausdorff_distance(found.boundary, true_area.boundary, densify=0.05)
    holes = []
    for feat in truth.features:
        if feat.role not in ('keepout', 'obstacle'):
            continue
        poly = feat.geometry
        if not isinstance(poly, Polygon) or _width(poly) < MIN_HOLE_WIDTH_M:
            continue
        # what discovery left out of the lawn around it (within the true boundary)
        near = shapely.difference(shapely.intersection(poly.buffer(0.5), truth.boundary), found)
        u = shapely.union(near, poly).area
        h_iou = shapely.intersection(near, poly).area / u if u > 0 else 0.0
        holes.append(
            {
                'role': feat.role,
                'name': feat.name,
                'width_m': round(_width(poly), 2),
                'iou': round(h_iou, 3),
                'found': bool(h_iou >= 0.8),
            }
        )
    lawn_m2 = float(truth.mowable_area().area)
    extra: dict[str, Any] = {}
    if reachable is not None and not reachable.is_empty:
        u = shapely.union(found, reachable).area
        extra = {
            'reachable_lawn_m2': round(float(reachable.area), 1),
            'iou_reachable': round(shapely.intersection(found, reachable).area / u, 4)
            if u > 0
            else 0.0,
            'hausdorff_reachable_m': round(
                float(
                    shapely.hausdorff_distance(
                        _outer(found).boundary, _outer(reachable).boundary, densify=0.05
                    )
                ),
                3,
            ),
        }
    return {
        **extra,
        'true_lawn_m2': round(lawn_m2, 1),
        'found_lawn_m2': round(float(found.area), 1),
        'iou': round(iou, 4),
        'hausdorff_m': round(float(hausdorff), 3),
        'hausdorff_all_edges_m': round(float(hausdorff_all), 3),
        'holes': holes,
        'holes_found': sum(h['found'] for h in holes),
        'holes_scored': len(holes),
        'time_per_100m2_s': round(time_s / max(lawn_m2, 1e-9) * 100.0, 1),
        'goals_met': {
            'iou>=0.97': bool(iou >= 0.97),
            'hausdorff<=0.25m': bool(hausdorff <= 0.25),
            'holes iou>=0.8': all(h['found'] for h in holes),
        },
    }


def write_score(score: dict[str, Any], path: str | Path) -> Path:
    """Write ``score`` as JSON (atomically: never half-written); the path."""
    return atomic_write_bytes(path, (json.dumps(score, indent=2, default=str) + '\n').encode())


def write_result(result: DiscoveryResult, out_dir: str | Path) -> tuple[dict[str, Any], Path]:
    """The run's score with its outcome and message, written to ``out_dir/discovery.json``."""
    score = {**result.score, 'outcome': result.outcome, 'message': result.message}
    return score, write_score(score, Path(out_dir) / 'discovery.json')


def summary_line(score: dict[str, Any]) -> str:
    """One line of the figures."""
    if 'iou' not in score:
        return f'{score.get("map")}: {score.get("outcome")}: {score.get("message", "")}'
    return (
        f'{score["map"]}: IoU {score["iou"]:.3f}, Hausdorff {score["hausdorff_m"]:.2f} m, '
        f'holes found {score["holes_found"]}/{score["holes_scored"]}, '
        f'{score["boundary_exits"]} boundary exits, {score["keepout_entries"]} keep-out entries, '
        f'{score["collisions"]} collisions, {score["time_per_100m2_s"]:.0f} s per 100 m² '
        f'({score["sim_time_s"]:.0f} s simulated, {score["wall_time_s"]:.0f} s wall)'
    )


def cmd_discover(args: Any) -> int:
    """``mower discover MAP --out DIR``: 0 when discovery ended on the dock with a draft."""
    import sys

    from mower_maps import MapError, load_map
    from mower_sim.scenario import random_hidden

    try:
        lawn = load_map(args.map)
    except MapError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    hidden = random_hidden(lawn, args.hidden, args.seed) if args.hidden else ()
    cfg = DiscoverConfig(
        seed=args.seed,
        hidden=hidden,
        camera_hz=args.camera_hz,
        perception=args.perception,
        limit_s=args.limit_s,
        pose_error=not args.true_pose,
    )
    from mower_offline.out_dir import claim_output

    try:  # OutputError (a RuntimeError): a folder another run holds, a file, an input
        with claim_output(args.out, [args.map]):
            result = DiscoveryRun(lawn, cfg).discover(args.out, progress=not args.json)
            score, path = write_result(result, args.out)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f'error: {" ".join(str(exc).split())}', file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(score, default=str))
    else:
        print(summary_line(score))
        if result.draft is not None:
            print(f'  draft: {result.draft.path}  preview: {result.draft.preview}  score: {path}')
    if result.outcome != 'done':
        print(f'error: discovery {result.outcome}: {result.message}', file=sys.stderr)
        return 1
    return 0


def discover_map(
    truth: LawnMap, out_dir: str | Path, config: DiscoverConfig | None = None
) -> tuple[LawnMap, DiscoveryResult]:
    """Discover the lawn of ``truth`` (the world) and return the checked draft map to mow.

    For ``mower sim MAP --discover``: the draft, its preview and discovery.json go to
    ``out_dir``. Raises RuntimeError with the reason when discovery gave no usable map.
    """
    result = DiscoveryRun(truth, config).discover(out_dir)
    write_result(result, out_dir)
    if result.outcome != 'done' or result.draft is None:
        raise RuntimeError(f'discovery {result.outcome}: {result.message}')
    if not result.draft.ok or result.draft.lawn is None:
        raise RuntimeError(
            f'the discovered map fails the map checks ({"; ".join(result.draft.faults)}); '
            f'see {result.draft.path}'
        )
    return result.draft.lawn, result
