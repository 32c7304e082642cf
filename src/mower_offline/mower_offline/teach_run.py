"""Teach mode in the simulator: a scripted owner drives the lawn's edges, the stack records them.

``mower teach MAP --out DIR`` (its parser: :mod:`mower_cli.teach_cli`). The world is built
from MAP (the truth); the stack does not get it. The owner drives by teleop
(``ClosedLoop.manual = (v, w)``) as a person would, looking at the mower, not at its pose
estimate (:class:`Owner` steers on the simulator's true pose): from the dock to the lawn's
edge, once around it with the deck's edge on the lawn's edge (the wheel track half the cut
width inside the boundary), then around each keep-out (half the cut width outside it), and
back onto the dock. It calls the mission's teach requests as mission_node's ``teach/*``
services would (``teach/start``, ``teach/boundary`` at the start of the boundary,
``teach/keepout`` at each bed, ``teach/dock`` on the dock, ``teach/finish``); the mission
(TEACHING) hands the pose the stack sees, with the localisation error model on
(:mod:`mower_sim.pose_error`: RTK noise, RTK dropouts with odometry drift), to the
:class:`~mower_maps.teach.TeachRecorder`.

Written to DIR: ``draft_map.geojson`` and ``draft_map.png`` (or ``draft_map.rejected.*`` when
the map checks fail: :class:`~mower_maps.draft_map.DraftMap`), ``teach_summary.json`` (the
figures below) and the session's recording (``teach_recording.json``, renamed aside once
taught). Printed: the Hausdorff distance of each taught boundary and keep-out to the true one,
and whether the draft passed the map checks.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.polygon import orient

from mower_control.parameters import build, node_yaml
from mower_coverage.transit import TransitPlanner
from mower_maps import LawnMap, load_map
from mower_maps.dock import approach_point
from mower_maps.safe_files import atomic_write_bytes
from mower_maps.teach import TeachParams, TeachRecorder, TeachResult
from mower_offline.closed_loop import ClosedLoop
from mower_offline.run import CONFIG, RunConfig, loop_config
from mower_sim.pose_error import PoseErrorParams
from mower_sim.sim import LawnSim

__all__ = [
    'Owner',
    'TeachConfig',
    'TeachOutcome',
    'TeachRun',
    'cmd_teach',
    'owner_areas',
    'owner_track',
    'summary_lines',
    'ring_hausdorff',
]

#: The owner turns on the spot where the track turns more than this (a lawn's corner).
CORNER_RAD = math.radians(20.0)
#: The owner drives this far past the start of a ring (the recorder closes it at the start).
OVERSHOOT_M = 0.4
#: The owner keeps the body this far off an obstacle driven around with a keep-out (m).
TRANSIT_CLEARANCE_M = 0.25
#: Between recordings the owner keeps the mower's centre this far from the lawn's edge, the
#: keep-outs and obstacles (the body's radius and a margin for steering by eye), metres.
OWNER_CLEARANCE_M = 0.35
#: The owner looks for the route's nearest point at most this far ahead of the last one.
SEARCH_M = 1.0
#: The owner gives a route up after this long without progress (simulated seconds).
STUCK_S = 30.0


@dataclass
class TeachConfig:
    """How a teach run is done. Units are in the names."""

    seed: int = 0
    speed_mps: float = 0.3  # the owner's driving speed along the edges
    pose_error: PoseErrorParams | None = field(default_factory=PoseErrorParams)
    teach: TeachParams | None = None  # None: mission.yaml's
    limit_s: float = 3600.0  # simulated time limit
    camera_hz: float = 2.0  # the camera in the loop: obstacles it finds join the draft (0: off)
    config_dir: Path = CONFIG


@dataclass
class TeachOutcome:
    """What a teach run produced."""

    result: TeachResult
    summary: dict[str, Any]
    draft_path: Path | None


def ring_hausdorff(a: Polygon, b: Polygon, step_m: float = 0.02) -> float:
    """Hausdorff distance (m) between the outlines of two areas, sampled every ``step_m``."""
    return float(
        shapely.hausdorff_distance(
            shapely.segmentize(shapely.boundary(a), step_m),
            shapely.segmentize(shapely.boundary(b), step_m),
        )
    )


def owner_areas(lawn: LawnMap, offset_m: float) -> list[tuple[str, Polygon]]:
    """What the owner drives around, in order: (kind, area) for each boundary and keep-out.

    A keep-out with an obstacle too close to drive between (closer than the body's width
    plus ``offset_m``: a bed against a shed) is driven around together with it, as an owner
    would, keeping the body :data:`TRANSIT_CLEARANCE_M` off the obstacle: that area is what
    the keep-out's recording stands for.
    """
    out: list[tuple[str, Polygon]] = []
    for f in lawn.by_role('boundary'):
        out += [('boundary', part) for part in getattr(f.geometry, 'geoms', [f.geometry])]
    obstacles = [f.geometry for f in lawn.by_role('obstacle')]
    gap = 2 * TRANSIT_CLEARANCE_M + offset_m
    for f in lawn.by_role('keepout'):
        for part in getattr(f.geometry, 'geoms', [f.geometry]):
            area = Polygon(part.exterior)
            near = [g for g in obstacles if g.distance(area) < gap]
            if near:
                clear = max(0.0, TRANSIT_CLEARANCE_M - offset_m)
                solid = [g.buffer(clear, join_style='mitre') for g in near]
                area = shapely.union_all([area, *solid]).buffer(gap / 2).buffer(-gap / 2)
                area = Polygon(max(getattr(area, 'geoms', [area]), key=lambda g: g.area).exterior)
            out.append(('keepout', area))
    return out


def owner_track(kind: str, area: Polygon, offset_m: float) -> np.ndarray:
    """The wheel track the owner drives around ``area``, a closed (N, 2) ring.

    A boundary's ``offset_m`` inside, a keep-out's ``offset_m`` outside. Corners stay sharp:
    the owner drives on until the deck's edge reaches the next edge, stops and turns on the
    spot.
    """
    offset = -offset_m if kind == 'boundary' else offset_m
    ring = area.buffer(offset, join_style='mitre', mitre_limit=10.0)
    ring = max(getattr(ring, 'geoms', [ring]), key=lambda g: g.area)
    return np.asarray(orient(ring, 1.0).exterior.coords)


def _ring_from(ring: np.ndarray, near: np.ndarray) -> np.ndarray:
    """The closed ring as a route, once around and :data:`OVERSHOOT_M` on.

    It starts at the ring's point nearest ``near``, moved off a corner.
    """
    line = LineString(ring)
    total = line.length
    s0 = line.project(shapely.Point(near))
    corners = _corner_s(ring)
    if len(corners):
        gap = (s0 - corners) % total
        k = int(np.argmin(np.minimum(gap, total - gap)))
        if min(gap[k], total - gap[k]) < 0.6:
            s0 = (corners[k] + 0.6) % total
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(ring, axis=0).T))])
    laps = np.concatenate([cum[:-1], cum[:-1] + total])
    end = s0 + total + OVERSHOOT_M
    s = np.concatenate([[s0], laps[(laps > s0) & (laps < end)], [end]])
    return np.array([line.interpolate(v % total).coords[0] for v in s])


def _corner_s(ring: np.ndarray) -> np.ndarray:
    """Arc lengths of the ring's vertices that turn more than :data:`CORNER_RAD`."""
    pts = ring[:-1] if np.allclose(ring[0], ring[-1]) else ring
    d_in = pts - np.roll(pts, 1, axis=0)
    d_out = np.roll(pts, -1, axis=0) - pts
    turn = np.abs(
        np.arctan2(d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0], (d_in * d_out).sum(axis=1))
    )
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(ring, axis=0).T))])
    return cum[: len(pts)][turn > CORNER_RAD]


class Owner:
    """A person with a gamepad following a route on the mower's true pose.

    Pure pursuit along the route at ``speed_mps``, with a short look-ahead that never passes a
    corner: there the owner slows down, stops on it, turns on the spot and drives on, so the
    track keeps the lawn's corners. ``reverse``: the whole route backwards (onto a dock).
    """

    def __init__(
        self, route: np.ndarray, speed_mps: float, reverse: bool = False, lookahead_m: float = 0.25
    ) -> None:
        """Follow ``route`` ((N, 2), N >= 2)."""
        pts = np.asarray(route, dtype=float)
        keep = np.concatenate([[True], np.hypot(*np.diff(pts, axis=0).T) > 1e-6])
        self.pts = pts[keep] if keep.sum() >= 2 else pts[[0, -1]]
        self.cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(self.pts, axis=0).T))])
        self.speed, self.reverse, self.lookahead = speed_mps, reverse, lookahead_m
        self.stops = np.append(_open_corner_s(self.pts, self.cum), self.cum[-1])
        self.s = 0.0
        self.done = self.cum[-1] < 1e-3

    def _at(self, s: float) -> np.ndarray:
        i = int(np.clip(np.searchsorted(self.cum, s, side='right') - 1, 0, len(self.pts) - 2))
        seg = max(self.cum[i + 1] - self.cum[i], 1e-12)
        return self.pts[i] + (self.pts[i + 1] - self.pts[i]) * (s - self.cum[i]) / seg

    def _project(self, xy: np.ndarray, upto: float) -> float:
        """Arc length of the route point nearest ``xy``, searched from here to ``upto``.

        At most :data:`SEARCH_M` ahead: a ring's route passes its start twice.
        """
        upto = min(upto, self.s + SEARCH_M)
        lo = int(np.searchsorted(self.cum, self.s, side='right')) - 1
        hi = int(np.searchsorted(self.cum, upto, side='left'))
        best, best_d = self.s, math.inf
        for i in range(max(lo, 0), min(hi + 1, len(self.pts) - 1)):
            a, b = self.pts[i], self.pts[i + 1]
            ab = b - a
            t = float(np.clip((xy - a) @ ab / max(ab @ ab, 1e-12), 0.0, 1.0))
            d = float(np.hypot(*(a + t * ab - xy)))
            s = min(max(self.cum[i] + t * float(np.hypot(*ab)), self.s), upto)
            if d < best_d:
                best, best_d = s, d
        return best

    def command(self, pose: tuple[float, float, float]) -> tuple[float, float]:
        """(v, w) for the true pose now; ``done`` once the route's end is reached."""
        if self.done:
            return 0.0, 0.0
        x, y, yaw = pose
        if self.reverse:
            yaw += math.pi
        stop = float(self.stops[np.searchsorted(self.stops, self.s + 0.02)])
        self.s = self._project(np.array([x, y]), stop)
        if self.s >= self.cum[-1] - 0.02:
            self.done = True
            return 0.0, 0.0
        if self.s >= stop - 0.02:  # on the corner: the look-ahead may pass it now
            stop = float(self.stops[np.searchsorted(self.stops, stop + 1e-6)])
        target = self._at(min(self.s + self.lookahead, stop))
        err = math.atan2(target[1] - y, target[0] - x) - yaw
        err = math.atan2(math.sin(err), math.cos(err))
        w = float(np.clip(2.5 * err, -1.0, 1.0))
        if abs(err) > 0.3:  # turn on the spot first
            return 0.0, w
        v = min(self.speed, 0.04 + 1.2 * (stop - self.s)) * (1.0 - abs(err) / 0.3 * 0.5)
        return (-v, w) if self.reverse else (v, w)


def _open_corner_s(pts: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Arc lengths of an open route's inner vertices that turn more than :data:`CORNER_RAD`."""
    if len(pts) < 3:
        return np.zeros(0)
    d_in, d_out = pts[1:-1] - pts[:-2], pts[2:] - pts[1:-1]
    turn = np.abs(
        np.arctan2(d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0], (d_in * d_out).sum(axis=1))
    )
    return cum[1:-1][turn > CORNER_RAD]


class TeachRun:
    """One scripted teach session in the MuJoCo world of a lawn map."""

    def __init__(self, lawn: LawnMap, out_dir: str | Path, config: TeachConfig | None = None):
        """Build the world and the loop (no plan, no map for the stack)."""
        self.truth = lawn
        self.cfg = cfg = config or TeachConfig()
        self.out = Path(out_dir)
        self.sim = LawnSim(lawn, seed=cfg.seed, render=cfg.camera_hz > 0)
        lc = loop_config(
            RunConfig(camera_hz=cfg.camera_hz, perception='truth', config_dir=cfg.config_dir)
        )
        self.loop = ClosedLoop(self.sim, replace(lc, pose_error=cfg.pose_error), seed=cfg.seed)
        self.loop.record = False
        values = node_yaml(cfg.config_dir / 'mission.yaml', 'mission_node')
        self.params = cfg.teach or build(TeachParams, values)
        self.loop.mission.teach = TeachRecorder(self.params, self.out / 'teach_recording.json')
        self.log: list[str] = []
        c = OWNER_CLEARANCE_M
        lawn_in = lawn.boundary.buffer(-c)
        solid = [f.geometry.buffer(c) for f in lawn.by_role('obstacle')]
        beds = [f.geometry.buffer(c) for f in lawn.by_role('keepout')]
        self.region = lawn_in.difference(shapely.union_all(solid + beds))
        # where a keep-out cuts the lawn in two (a paved path), the owner drives across it
        self.transits = [
            TransitPlanner(self.region),
            TransitPlanner(lawn_in.difference(shapely.union_all(solid))),
        ]
        self.areas = owner_areas(lawn, self.params.edge_offset_m)

    # -- the owner ------------------------------------------------------------------------------
    def request(self, name: str) -> tuple[bool, str]:
        """A teach request, as the service would make it; logged."""
        ok, message = self.loop.mission.request(name)
        self.log.append(f'{self.sim.time_s:7.1f} s  {name}: {message}')
        self.loop.step()  # the mission takes pending requests on its next tick
        return ok, message

    def drive(self, route: np.ndarray, reverse: bool = False) -> bool:
        """Drive ``route`` as the owner (true pose); False when stuck or out of time."""
        owner = Owner(route, self.cfg.speed_mps, reverse)
        loop, sim = self.loop, self.sim
        best, since = -1.0, sim.time_s
        while not owner.done and sim.time_s < self.cfg.limit_s:
            loop.manual = owner.command(sim.pose)
            loop.step()
            if owner.s > best + 0.05:
                best, since = owner.s, sim.time_s
            elif sim.time_s - since > STUCK_S:
                x, y, _ = sim.pose
                self.log.append(f'{sim.time_s:7.1f} s  owner stuck at ({x:.2f}, {y:.2f}) m')
                break
        loop.manual = (0.0, 0.0)
        for _ in range(10):  # come to rest
            loop.step()
        return owner.done

    def go_to(self, xy: np.ndarray) -> bool:
        """Drive to ``xy`` on the lawn around obstacles and keep-outs; False if stuck.

        Across a keep-out only when there is no other way (a paved path cutting the lawn).
        """
        here, goal = np.asarray(self.sim.pose[:2]), np.asarray(xy, dtype=float)
        for planner in self.transits:
            path = planner.plan(here, goal)
            if path is not None:
                return self.drive(path)
        return self.drive(np.vstack([here, goal]))

    def record(self, kind: str, ring: np.ndarray) -> bool:
        """Drive to the ring, mark ``kind`` there and drive once around; False if stuck."""
        route = _ring_from(ring, np.asarray(self.sim.pose[:2]))
        if not self.go_to(route[0]):
            self.log.append(f'{self.sim.time_s:7.1f} s  {kind} not recorded: did not get there')
            return False
        self.request(f'teach/{kind}')
        return self.drive(route)

    def dock(self) -> None:
        """Back onto the dock along its axis and mark it."""
        d = self.truth.dock
        if d is None:
            return
        a, reverse = approach_point(d.x_m, d.y_m, d.heading_rad, 0.6, self.region)
        self.go_to(a)
        self.drive(np.vstack([a, [d.x_m, d.y_m]]), reverse=reverse)
        self.request('teach/dock')

    # -- the session ----------------------------------------------------------------------------
    def run(self) -> TeachOutcome:
        """The whole session: start, boundary, keep-outs, dock, finish; the draft written."""
        wall0 = time.monotonic()
        self.loop.step()
        ok, why = self.request('teach/start')
        if not ok:
            raise RuntimeError(f'the mission did not start teaching: {why}')
        offset = self.params.edge_offset_m
        for kind, area in self.areas:
            self.record(kind, owner_track(kind, area, offset))
        self.dock()
        if self.loop.grid is not None:  # what mission_node takes from map/obstacles
            self.loop.mission.teach.set_obstacles(self.loop.mapper.obstacles())
        _, message = self.request('teach/finish')
        result = self.loop.mission.teach_result
        if result is None:
            raise RuntimeError(f'teach/finish gave no result: {message}')
        draft_path = None
        if result.draft is not None:
            written = result.draft.write(self.out / 'draft_map.geojson')
            draft_path = written.path
        summary = self.summary(result, draft_path, time.monotonic() - wall0)
        text = json.dumps(summary, indent=1, allow_nan=False) + '\n'
        atomic_write_bytes(self.out / 'teach_summary.json', text.encode())
        return TeachOutcome(result, summary, draft_path)

    def summary(self, result: TeachResult, draft_path: Path | None, wall_s: float) -> dict:
        """The figures of the session (see the module)."""
        truth = self.truth
        taught = result.polygons if result is not None else {}

        def score(kind: str) -> list[dict]:
            rows = []
            trues = [area for k, area in self.areas if k == kind]
            for i, geom in enumerate(trues, start=1):
                poly = taught.get(f'{kind} {i}')
                rows.append(
                    {
                        'name': f'{kind} {i}',
                        'hausdorff_m': None
                        if poly is None
                        else round(ring_hausdorff(poly, geom), 4),
                        'area_error_pct': None
                        if poly is None
                        else round(100 * (poly.area - geom.area) / geom.area, 2),
                    }
                )
            return rows

        model = self.loop.pose_error
        found = list(result.draft.obstacles) if result is not None and result.draft else []
        trues = [f.geometry for f in truth.by_role('obstacle')]
        seen = [any(o.polygon.intersects(t) for o in found) for t in trues]
        return {
            'map': truth.source or truth.name,
            'checks_pass': bool(result is not None and result.ok),
            'faults': list(result.faults) if result is not None else ['no result'],
            'boundaries': score('boundary'),
            'keepouts': score('keepout'),
            'draft': str(draft_path) if draft_path else None,
            'simulated_s': round(self.sim.time_s, 1),
            'wall_s': round(wall_s, 1),
            'rtk_dropouts': len(model.dropouts) if model is not None else 0,
            'collisions': self.sim.events.collisions,
            'camera_obstacles': len(found),
            'map_obstacles_found': sum(seen),
            'map_obstacles': len(trues),
            'log': self.log,
        }


def summary_lines(summary: dict) -> list[str]:
    """The printed report of a teach run."""
    lines = [
        f'teach {summary["map"]}: {summary["simulated_s"]:.0f} s simulated, '
        f'{summary["rtk_dropouts"]} RTK dropouts, {summary["wall_s"]:.0f} s wall'
    ]
    for row in summary['boundaries'] + summary['keepouts']:
        h = row['hausdorff_m']
        lines.append(
            f'  {row["name"]}: Hausdorff {"-" if h is None else f"{h:.3f} m"}'
            + ('' if row['area_error_pct'] is None else f', area {row["area_error_pct"]:+.2f} %')
        )
    if summary.get('map_obstacles'):
        lines.append(
            f'  obstacles the camera found: {summary["camera_obstacles"]}, covering '
            f"{summary['map_obstacles_found']} of the map's {summary['map_obstacles']}"
        )
    lines.append('  map checks: ' + ('pass' if summary['checks_pass'] else 'FAIL'))
    lines += [f'    - {f}' for f in summary['faults']]
    if summary['draft']:
        lines.append(f'  draft: {summary["draft"]}')
    return lines


def cmd_teach(args: argparse.Namespace) -> int:
    """``mower teach``: 0 when the draft passes the map checks, 1 otherwise (README).

    Bad input (a map, config/mission.yaml, an output folder) is one ``error:`` line on stderr.
    """
    cfg = TeachConfig(
        seed=args.seed,
        speed_mps=args.speed,
        pose_error=None if args.true_pose else PoseErrorParams(),
    )
    from mower_offline.out_dir import claim_output

    try:  # OutputError (a RuntimeError): a folder another run holds, a file, an input
        with claim_output(args.out, [args.map]):
            outcome = TeachRun(load_map(args.map), args.out, cfg).run()
    except (ValueError, OSError, RuntimeError) as exc:  # MapError, ConfigError too
        print(f'error: {" ".join(str(exc).split())}', file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(outcome.summary))
    else:
        print('\n'.join(summary_lines(outcome.summary)))
    return 0 if outcome.summary['checks_pass'] else 1
