"""The mapping core: labelled frames and poses in; semantic grid, obstacles, mowed layer out.

One object, called by mapping_node on the robot, by the simulated run and by the replay of a
field bag, so all three map the same way:

- the camera mounting and the ground projection table, built from the calibration (K, size,
  distortion: camera_info on the robot, the simulator's intrinsics in simulation);
- the pose at a frame's exposure time, interpolated from the pose history (the odometry);
- fusion of the labels (and their confidence, when given) into the semantic grid;
- obstacles: connected obstacle cells, buffered by a margin (what map/obstacles carries and the
  planner goes around);
- the mowed layer, swept along the poses while the blade runs, and the mowed share.

Its settings are mapping_node's parameters (config/mapping.yaml), given as a dict of values;
:data:`PARAMETERS` holds those besides :class:`GridParams`' with their descriptions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely

from mower_mapping.coverage_layer import CoverageLayer
from mower_mapping.obstacles import cells_inside, extract_obstacles, position_key
from mower_mapping.pose_buffer import PoseBuffer, PoseSource
from mower_mapping.semantic_grid import GridParams, SemanticGrid
from mower_maps.draft_map import DISCOVERY_EXTRACTION
from mower_maps.lawn_polygons import GROUND_KIND
from mower_maps.mowed import MowedGrid
from mower_perception.camera_model import CameraModel, GroundLut, Mounting, ground_lut

#: name -> (default, description[, low, high]) of the mapping settings besides GridParams'
#: fields; the node declares its parameters from this table and GridParams' field metadata
#: the farthest any keep-out explains obstacle cells (keepout_explains_m's upper bound)
MAX_EXPLAINS_M = 0.1
#: obstacle cells whose centre lies this close to what the lawn map already keeps the mower
#: off (beyond the boundary, on a keep-out or a mapped obstacle) take ``known_margin_m``: the
#: camera's cells of a wall or a tree's trunk reach past the mapped outline by a cell, a few
#: centimetres of pose error and the network's edge. What the camera or the wheels drew (a
#: draft's boundary, keep-out or obstacle, ``draft`` or ``detected`` in its properties)
#: explains nothing: its outline may be smaller than the object or off a wall
KNOWN_REACH_M = 0.1

PARAMETERS: dict[str, tuple[Any, ...]] = {
    'frame_id': ('map', 'frame of the grids'),
    'pose_topic': ('odom', 'nav_msgs/Odometry of base_link in the map frame'),
    'origin_xy': (
        [-5.0, -5.0],
        'lower-left corner of the grids in the map frame (m), when no '
        'map_file is given (with one, the grids cover the lawn and 2 m around it)',
    ),
    'size_m': ([30.0, 30.0], 'width and height of the grids (m), when no map_file is given'),
    'coverage_resolution_m': (0.02, 'mowed layer resolution (m)', 0.001, 10.0),
    'cut_width_m': (0.22, 'deck cut width (m)', 0.02, 5.0),
    'obstacle_margin_m': (0.1, 'safety margin around extracted obstacles (m)', 0.0, 5.0),
    # 0: every cell over the threshold, as the safety stop sees it; a region the stop halts for
    # but the planner ignores would end a run blocked (ERROR)
    'min_obstacle_area_m2': (0.0, 'smaller obstacle regions are ignored (m²)', 0.0, 100.0),
    'camera_x_m': (0.15, 'camera mounting in base_link: x (m)', -5.0, 5.0),
    'camera_y_m': (0.0, 'camera mounting: y (m)', -5.0, 5.0),
    'camera_z_m': (0.38, 'camera mounting: height above the ground (m)', 0.01, 5.0),
    'camera_pitch_deg': (25.0, 'camera mounting: pitch, down positive (deg)', -90.0, 90.0),
    'max_range_m': (4.5, 'ignore ground farther than this from the camera (m)', 0.1, 100.0),
    # 2: every label of the segmenter's 160x120 grid (the runtime repeats each 2x2 to the
    # camera's 320x240); at 3 every third label row and column was never read, and a hose one
    # or two labels high 1.5-2 m away could lie on one of them (back_garden, 2026-12-05)
    'lut_stride': (
        2,
        'project every n-th pixel in each direction (2: each of the 160x120 labels once)',
        1,
        64,
    ),
    'publish_period_s': (1.0, 'grid publishing period (s)', 0.01, 3600.0),
    'save_period_s': (30.0, 'coverage layer saving period (s)', 0.1, 86400.0),
    'coverage_file': ('', 'where the coverage layer is saved and restored ("" = not saved)'),
    'map_file': (
        '',
        'lawn map: the grids cover it, and the mowed share of its mowable area '
        'is reported ("" = origin_xy and size_m, no share)',
    ),
    # a view already fused counts once: a mower standing still (charging, waiting) sees the
    # same frame again and again, and a small false obstacle in it grew, frame by frame, into
    # obstacle cells that kept it on its dock (random garden 0, after a 1,300 s charge); the
    # mapping updates of gmapping (linearUpdate, angularUpdate) and slam_toolbox
    # (minimum_travel_distance, minimum_travel_heading) follow the same rule
    'still_travel_m': (
        0.05,
        'a frame taken less than this from where the view was first fused, and turned less '
        'than still_turn_deg, is the same view: past still_frames it is fused only when its '
        'labels changed (still_change_share) (0: every frame is fused)',
        0.0,
        10.0,
    ),
    'still_turn_deg': (3.0, 'see still_travel_m (deg)', 0.0, 180.0),
    'still_frames': (
        2,
        'a view is fused up to this many sightings while it stays the same (the mower within '
        'still_travel_m and still_turn_deg, its labels unchanged; frames weigh as '
        'fuse_period_s says, so at 2 Hz two frames, at 10 Hz six): with hit 0.85 and '
        'obstacle_threshold 2.0, two sightings (1.7) never make an obstacle, so the same view '
        'alone never does; a second near look at a stop still lowers a false one (1: every '
        'view once; the demo lawn then took 6,321 s instead of 3,471)',
        1,
        1000,
    ),
    'still_change_share': (
        0.01,
        'a frame of the same view is fused when at least this share of its pixels has another '
        'label than when the view was first fused (then it is a new view: something came into '
        'or left it; a 0.3 m '
        'pet 2 m ahead is about 1.5 % of the frame; from a still camera the labels of the '
        'simulated garden flicker by 0.35 %, 0.5 % in one frame of 100)',
        0.0,
        1.0,
    ),
    # frames 0.1 s apart are not independent evidence: a phantom (a shadow, a worn patch called
    # an obstacle) that a 2 Hz camera saw once or twice, a 10 Hz camera saw in five to ten
    # frames in a row, past obstacle_threshold; the demo lawn at 10 Hz replanned 346 times
    # where it did 44 at 2 Hz. Each frame weighs the time since the last one over this period
    # (at most 1), so a cell gathers obstacle evidence per second seen, not per frame; lawn
    # and other ground are not weighted (they decide by which is larger; weighting them slowed
    # discovery at 4 Hz by a quarter)
    'fuse_period_s': (
        0.45,
        "the time one sighting takes (s): a frame's obstacle evidence weighs the time since "
        'the last fused frame over this (at most 1), so that it does not grow with the '
        "camera's rate; 0.45: every frame of a 2 Hz camera (0.5 s apart, with jitter) is a "
        "whole sighting, a 10 Hz camera's weigh 0.22 each (0: every frame a whole sighting); "
        'lawn and other ground take every frame whole',
        0.0,
        60.0,
    ),
    # a pond's water or a path's paving that the network calls an obstacle ringed it with
    # obstacle cells plus obstacle_margin_m, which the planner kept clear of on top of the
    # keep-out's own clearance: back_garden's pond, 1.27 m² of lawn never mowed (2026-12-05)
    'keepout_explains_m': (
        0.025,
        'obstacle cells whose centre lies in a flat keep-out of the lawn map (map_file, '
        'map/lawn; kind pond, water, paving, patio, path, gravel, soil, sand or a discovered '
        'ground) or within this of one (of a discovered ground keep-out 0.035 m more, its '
        "outline's simplification, at most 0.1 in all) are left off the obstacle layer: the "
        'keep-out already keeps the mower off (0.025: the cells the keep-out reaches into by '
        'half a 5 cm cell; negative: off; '
        'beds, hedges and keep-outs of no kind are never explained; at most 0.1: farther '
        'out, an object on the lawn beside a keep-out would lose its cells)',
        -1.0,
        MAX_EXPLAINS_M,
    ),
    # the cells of the mapped shed, bench and trees plus obstacle_margin_m kept the planner
    # 0.1 m farther off them than their mapped outline does: back_garden's lawn above the shed
    # (a corridor 0.44-0.67 m wide) and a ring round the bench and each tree never mowed
    # (2026-12-05: 2.5 m² of its 3.1 m² of misses)
    'known_margin_m': (
        0.03,
        'margin around obstacle cells whose centre lies within 0.1 m of what the lawn map '
        '(map_file, map/lawn) already keeps the mower off: beyond its boundaries and navigation '
        'areas, on a keep-out or a mapped obstacle, where none of these was drawn by the camera '
        "or the wheels (a draft's, or an obstacle detected while mowing) (m); the rest keep "
        'obstacle_margin_m. Such '
        'cells are the camera seeing what the map has; the planner keeps half the body from '
        'the outline anyway. The safety stop reaches obstacle_margin_m (0.02) past the body '
        "from the cells' centres, half a 5 cm cell inside their edge: 0.03 leaves 3.5 cm for "
        'the path follower (negative: off, obstacle_margin_m everywhere)',
        -1.0,
        5.0,
    ),
    'use_confidence': (
        True,
        'subscribe to segmentation/confidence and fuse it with the labels '
        'of the same stamp (segmentation_node publish_confidence)',
    ),
}

#: keep-out kinds with nothing on them to run into: obstacle cells there are the network's
#: errors (water, paving) or lie where the mower never goes (``keepout_explains_m``);
#: GROUND_KIND (``ground``) is a discovered keep-out the camera saw as flat ground
FLAT_KEEPOUT_KINDS = (
    'pond',
    'water',
    'paving',
    'patio',
    'path',
    'gravel',
    'soil',
    'sand',
    GROUND_KIND,
)
#: how much farther a discovered ``ground`` keep-out explains obstacle cells: its outline
#: may lie this far inside the cells it was drawn from (discovery's hole_simplify_m).
#: back_garden's discovered pond: the true rim lay up to 0.034 m outside it, and the cells
#: on the rim ringed it with obstacles (2026-12-05: 97.38 % mowed; with 0.06 in all 97.83 %)
GROUND_EDGE_M = DISCOVERY_EXTRACTION.hole_simplify_m

#: what :meth:`Mapper.fuse` answers, and the counters it keeps
FUSED, NO_CAMERA_INFO, NO_POSE, BAD_LABELS = 'frames', 'no_camera_info', 'no_pose', 'bad_labels'
#: a frame of a view fused ``still_frames`` times already, its labels unchanged: not fused
SAME_VIEW = 'same_view'


def _camera_drawn(feature: Any) -> bool:
    """Whether a map feature's outline is the camera's own (or the wheels').

    A discovered or taught draft's boundary, keep-out or obstacle, or an obstacle found while
    mowing: its outline may be smaller than the object, or a few centimetres off a wall the
    lawn ends at, so it explains no obstacle cells (they keep the full margin).
    """
    props = feature.properties
    return bool(props.get('draft') or props.get('detected'))


def defaults() -> dict[str, Any]:
    """Every mapping setting at its default."""
    out = {name: spec[0] for name, spec in PARAMETERS.items()}
    out.update({k: v for k, v in vars(GridParams()).items()})
    return out


@dataclass(frozen=True)
class Extent:
    """Where the grids lie: lower-left corner and size (m)."""

    origin: tuple[float, float]
    size: tuple[float, float]

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], margin_m: float) -> Extent:
        """The bounds (minx, miny, maxx, maxy) grown by ``margin_m`` on every side."""
        minx, miny, maxx, maxy = bounds
        return cls(
            (minx - margin_m, miny - margin_m),
            (maxx - minx + 2 * margin_m, maxy - miny + 2 * margin_m),
        )


GRID_MARGIN_M = 2.0  # the grids cover the lawn with this much around it


def grid_extent(values: Mapping[str, Any], lawn_bounds: tuple | None = None) -> Extent:
    """Where the grids lie (one rule for the robot, the simulator and the replay).

    The lawn's bounds with :data:`GRID_MARGIN_M` around them when a lawn map is known, else
    the settings' ``origin_xy`` and ``size_m``.
    """
    if lawn_bounds is not None:
        return Extent.around(lawn_bounds, GRID_MARGIN_M)
    return Extent(tuple(values['origin_xy']), tuple(values['size_m']))


class Mapper:
    """Semantic grid, obstacles and mowed layer from labelled frames and poses."""

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        extent: Extent | None = None,
        coverage: CoverageLayer | None = None,
        poses: PoseSource | None = None,
    ) -> None:
        """Mapping with the settings ``values`` (missing ones at their defaults).

        ``extent``: where the grids lie (default: ``origin_xy`` and ``size_m`` of the
        settings); ``coverage``: a mowed layer restored from disk, else an empty one;
        ``poses``: where the pose of a frame's time comes from (default: a live
        :class:`PoseBuffer` that :meth:`add_pose` fills; the replay gives its bag's timeline).
        """
        v = defaults()
        v.update(values or {})
        self.values = v
        ext = extent or Extent(tuple(v['origin_xy']), tuple(v['size_m']))
        self.extent = ext
        self.grid = SemanticGrid(ext.origin, ext.size[0], ext.size[1], GridParams.from_values(v))
        self.coverage = coverage or CoverageLayer(
            ext.origin, ext.size[0], ext.size[1], v['coverage_resolution_m'], v['cut_width_m']
        )
        self.poses: PoseSource = PoseBuffer() if poses is None else poses
        self.lut: GroundLut | None = None
        self._camera_key: tuple | None = None
        self.blade_on = False
        self.counts = {FUSED: 0, BAD_LABELS: 0, NO_POSE: 0, NO_CAMERA_INFO: 0, SAME_VIEW: 0}
        self._fused_t: float | None = None  # exposure time of the last fused frame
        self._last_view: tuple[np.ndarray, np.ndarray] | None = None  # pose, labels last fused
        self._view_fused = 0.0  # sightings (frame weights) of the view of _last_view fused
        self.last_problem = ''  # why the last frame skipped as BAD_LABELS was
        self._version = 0  # grows with every fused frame
        self._obstacles: tuple[int, list] | None = None
        self._known: np.ndarray | None = None  # cells the lawn map explains (known_margin_m)

    # -- inputs ----------------------------------------------------------------------------
    def set_camera(
        self, k: np.ndarray, width: int, height: int, distortion: np.ndarray | None = None
    ) -> bool:
        """The camera's calibration; the projection table is rebuilt when it changes.

        Returns True when it was (re)built.
        """
        d = np.zeros(5) if distortion is None else np.asarray(distortion, dtype=float)
        key = (
            int(width),
            int(height),
            tuple(np.asarray(k, dtype=float).ravel()),
            tuple(d.ravel()),
        )
        if self.lut is not None and key == self._camera_key:
            return False
        v = self.values
        cam = CameraModel(
            np.asarray(k, dtype=float),
            int(width),
            int(height),
            d,
            Mounting(
                v['camera_x_m'],
                v['camera_y_m'],
                v['camera_z_m'],
                0.0,
                math.radians(v['camera_pitch_deg']),
                0.0,
            ),
        )
        self.lut = ground_lut(cam, int(v['lut_stride']), float(v['max_range_m']))
        self._camera_key = key
        return True

    def add_pose(
        self, t: float, x: float, y: float, yaw: float, roll: float = 0.0, pitch: float = 0.0
    ) -> bool:
        """A pose of base_link in the map frame at ``t`` (s).

        The deck sweeps the mowed layer while the blade runs. False (nothing recorded) for a
        pose older than the last one, or not finite.
        """
        if not isinstance(self.poses, PoseBuffer):
            raise TypeError('add_pose needs the live pose history (this mapper has a timeline)')
        if not self.poses.add(t, x, y, yaw, roll, pitch):
            return False
        self.sweep(x, y)
        return True

    def sweep(self, x: float, y: float, blade_on: bool | None = None) -> None:
        """Move the deck to (x, y): it mows on the way while the blade runs.

        ``blade_on``: whether it does (default: :attr:`blade_on`).
        """
        self.coverage.update(x, y, self.blade_on if blade_on is None else blade_on)

    def fuse(self, t: float, labels: np.ndarray, confidence: np.ndarray | None = None) -> str:
        """Fuse a label image exposed at ``t`` with the pose of that time.

        Returns :data:`FUSED`, or why it was skipped (:data:`NO_CAMERA_INFO`,
        :data:`NO_POSE`, :data:`BAD_LABELS`, :data:`SAME_VIEW`); each is counted in
        :attr:`counts`. The frame's obstacle evidence is weighted by :meth:`frame_weight`
        (:meth:`SemanticGrid.fuse`'s ``weight``); a frame with the last fused frame's stamp
        (weight 0) is :data:`SAME_VIEW`, not projected.
        """
        if self.lut is None:
            return self.count(NO_CAMERA_INFO)
        pose = self.poses.lookup(t)
        if pose is None:
            return self.count(NO_POSE)
        same = self.same_view(pose, labels)
        if same and self._view_fused >= int(self.values['still_frames']) - 1e-6:
            return self.count(SAME_VIEW)
        weight = self.frame_weight(t)
        if weight <= 0.0:  # the last fused instant again (a duplicated message): nothing to add
            return self.count(SAME_VIEW)
        try:
            self.grid.fuse(labels, self.lut, pose[:3], pose[3], pose[4], confidence, weight)
        except ValueError as exc:
            self.last_problem = str(exc)
            return self.count(BAD_LABELS)
        if same:  # the view stays the one it was first fused as
            self._view_fused += weight
        else:
            self._last_view = (np.asarray(pose[:3], dtype=float), np.array(labels, copy=True))
            self._view_fused = weight
        self._version += 1
        self._fused_t = float(t)
        return self.count(FUSED)

    def frame_weight(self, t: float) -> float:
        """How much of a sighting a frame at ``t`` is (0-1).

        The time since the last fused frame over ``fuse_period_s``, at most 1 (1 for the first
        frame, or with the period 0); a frame older than the last fused one weighs its distance
        in time alike.
        """
        period = float(self.values['fuse_period_s'])
        if period <= 0.0 or self._fused_t is None:
            return 1.0
        return min(1.0, abs(float(t) - self._fused_t) / period)

    def same_view(self, pose: Any, labels: np.ndarray) -> bool:
        """Whether a frame at ``pose`` (x, y, yaw) repeats the view last fused.

        Past ``still_frames`` fusions of that view it is not fused again.

        It does when the camera moved less than ``still_travel_m``, turned less than
        ``still_turn_deg`` and less than ``still_change_share`` of the labels changed.
        """
        v, last = self.values, self._last_view
        if last is None or float(v['still_travel_m']) <= 0.0:
            return False
        before, seen = last
        x, y, yaw = (float(a) for a in pose[:3])
        turn = abs((yaw - before[2] + math.pi) % (2.0 * math.pi) - math.pi)
        if math.hypot(x - before[0], y - before[1]) >= float(v['still_travel_m']) or turn >= (
            math.radians(float(v['still_turn_deg']))
        ):
            return False
        labels = np.asarray(labels)
        if labels.shape != seen.shape:
            return False
        return float(np.mean(labels != seen)) < float(v['still_change_share'])

    def set_lawn(self, lawn: Any) -> int:
        """The owner's map (a LawnMap; None: none): what it explains of the obstacle cells.

        Cells whose centre lies inside a keep-out of a :data:`FLAT_KEEPOUT_KINDS` kind, or
        within ``keepout_explains_m`` of one (of a discovered ``ground`` keep-out, whose
        outline is the camera's own, simplified by up to :data:`GROUND_EDGE_M`, that much
        farther, at most :data:`MAX_EXPLAINS_M` in all), are known ground (:meth:`SemanticGrid.
        set_known_ground`): not on the obstacle layer, so the planner keeps the keep-out's own
        clearance there rather than that plus ``obstacle_margin_m``, and the safety stop does
        not halt beside it. Returns how many cells that is.

        Obstacle cells within :data:`KNOWN_REACH_M` of what the map keeps the mower off
        (outside its drivable area) stay obstacles but take ``known_margin_m``
        (:meth:`obstacles`).
        """
        self._version += 1  # the obstacles change
        self._known = self._known_cells(lawn)
        tol = float(self.values['keepout_explains_m'])
        flat = (
            []
            if lawn is None or tol < 0
            else [
                (f.geometry, kind)
                for f in lawn.features
                if f.role == 'keepout'
                and (kind := str(f.properties.get('kind', '')).lower()) in FLAT_KEEPOUT_KINDS
            ]
        )
        if not flat:
            self.grid.set_known_ground(None)
            return 0
        grown = [
            g.buffer(min(tol + GROUND_EDGE_M, MAX_EXPLAINS_M) if kind == GROUND_KIND else tol)
            for g, kind in flat
        ]
        mask = cells_inside(self.grid.shape, self.grid.origin, self.grid.res, grown)
        self.grid.set_known_ground(mask if mask.any() else None)
        return int(mask.sum())

    def _known_cells(self, lawn: Any) -> np.ndarray | None:
        """Cells within :data:`KNOWN_REACH_M` of what ``lawn`` keeps the mower off (or None).

        None without a map, with ``known_margin_m`` off (negative) or not below
        ``obstacle_margin_m``, or where the map knows nothing better than the camera (a draft:
        :func:`_camera_drawn`). A drawn boundary explains nothing beyond it (seed 8 of
        back_garden's discovered map: the corridor above the shed, planned from the draft's
        boundary beside the shed, ended in three touches of its wall).
        """
        v = self.values
        margin = float(v['known_margin_m'])
        if lawn is None or margin < 0 or margin >= float(v['obstacle_margin_m']):
            return None
        kept = replace(lawn, features=tuple(f for f in lawn.features if not _camera_drawn(f)))
        edges = [f for f in lawn.features if f.role in ('boundary', 'navigation')]
        grid = self.grid
        if edges and not any(_camera_drawn(f) for f in edges):  # the lawn's edge is known too
            free = kept.drivable_area().buffer(-KNOWN_REACH_M)
            return ~cells_inside(grid.shape, grid.origin, grid.res, [free])
        if kept.holes.is_empty:  # a draft: nothing in it is known better than the camera saw it
            return None
        reach = kept.holes.buffer(KNOWN_REACH_M)  # its mapped keep-outs and obstacles only
        return cells_inside(grid.shape, grid.origin, grid.res, list(shapely.get_parts(reach)))

    def count(self, what: str) -> str:
        """Count ``what`` (one of the answers of :meth:`fuse`) and return it."""
        self.counts[what] += 1
        return what

    # -- outputs ---------------------------------------------------------------------------
    def obstacles(self) -> list:
        """Obstacles in the grid now: buffered polygons, sorted by position (cached).

        Cells the lawn map explains (:meth:`set_lawn`) are buffered by ``known_margin_m``, the
        rest by ``obstacle_margin_m``.
        """
        if self._obstacles is None or self._obstacles[0] != self._version:
            v = self.values
            mask = self.grid.obstacle_mask()
            parts = [(mask, float(v['obstacle_margin_m']))]
            if self._known is not None and self._known.shape == mask.shape:
                parts = [(mask & ~self._known, parts[0][1])]
                parts.append((mask & self._known, float(v['known_margin_m'])))
            found = [
                poly
                for cells, margin in parts
                for poly in extract_obstacles(
                    cells, self.grid.origin, self.grid.res, margin, v['min_obstacle_area_m2']
                )
            ]
            found.sort(key=position_key)
            self._obstacles = (self._version, found)
        return list(self._obstacles[1])

    def coverage_factor(self) -> int:
        """How many mowed-layer cells make one cell of the published coverage grid."""
        return max(1, int(round(self.grid.res / self.coverage.res)))

    def published_coverage(self) -> MowedGrid:
        """The mowed layer as map/coverage carries it (what the mission reads)."""
        return self.coverage.published(self.coverage_factor())

    def mowed_share(self, mowable) -> float:
        """Share (0..1) of the mowable area mowed, on the mowed layer."""
        return self.coverage.mowed_share(mowable)
