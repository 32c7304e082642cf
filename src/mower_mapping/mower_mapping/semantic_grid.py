"""The semantic grid: per-class log-odds evidence in the map frame, fused frame by frame.

Each labelled frame votes once per grid cell (the majority of its pixels there). The winning
class's log-odds rise by ``hit``, the others fall by ``miss``, all clamped; a cell is an obstacle
only once its obstacle evidence passes ``obstacle_threshold``, so a leaf or a shadow seen in one
frame does not stop the mower, while anything seen again and again does; evidence of a cell that
is later seen as ground decays the same way.

Ground seen again and again does not rule out a small obstacle: the foot of a thin post or a
toy is a pixel or two at 3 m, and the network misses it there. So the obstacle evidence goes no
lower than ``obstacle_floor`` (-1, where the other classes stop at ``-clamp``), and an obstacle
is found in four sightings as the mower comes near. Without the floor, a 6 cm post on lawn that
the mower had seen for minutes from 3-4 m (evidence at -6) was not found before the mower drove
into it (random garden 1); the cost is more phantom obstacles to plan around. The floor is for
what planning and the safety stop use (:meth:`SemanticGrid.obstacle_mask`). The class map
(``map/semantic``, discovery's draft) is drawn from the obstacle evidence without it
(``obstacle_history``, clamped like the other classes), the long-run share of sightings: with
the floor there too, two obstacle sightings made a trunk's rim, seen far more often as lawn,
doubtful or an obstacle, and discovery on large_lawn drew its trees about a fifth too large
(a 0.7 m tree at IoU 0.75).

The class map calls a cell lawn only where the lawn evidence is the strongest and, next to an
obstacle, the obstacle evidence is not above ``lawn_doubt`` (0: seen as an obstacle in about a
third of its sightings): under a pose error of a few centimetres the rim of a trunk collects
both, and a draft map (from discovery) should not call it lawn. Such a cell is other ground
there; it is an obstacle only past ``obstacle_threshold``. A lone doubtful cell, away from any
obstacle (a network's phantom), stays lawn: with the shipped network on the demo lawn, the
rule without that condition cost discovery 0.015 of area IoU.

A found obstacle (past the threshold) is cleared only by a near look: ground seen farther than
``clear_range_m`` (1.5 m) does not lower its evidence, as from afar the network misses a thin
obstacle (a green hose is a few pixels wide at 2-3 m). Without this, a hose mapped whole as the
mower passed it was cleared again by later passes that saw its cells as lawn from 2-4 m, and
the mower drove into it (random garden 0's discovered map). Cells not found yet are lowered by
far ground as before, so a phantom seen once or twice decays as it did.

Short of the threshold, a cell whose obstacle evidence is above ``caution_level`` (0.5: two
sightings on long-seen lawn, one on fresh ground) is a suspected obstacle
(:meth:`SemanticGrid.obstacle_values`: 50 on map/obstacle_cells, found ones 100). The follower
slows near it as near a found one; the safety stop and planning ignore it. A thin obstacle is
resolved only from about 1 m, and at cruising speed the mower covers that in two seconds: with
the camera at 10 Hz, the step 7 network and no suspected cells, back_garden's hidden hose went
from -0.22 at 1.2 m to 1.79 at the touch. Slowing gives the camera the looks it needs.

Obstacle pixels need care: a pixel on the side of a standing object does not lie on the ground, so
only the lowest obstacle pixel of each run in an image column (where the object meets the ground)
is projected; the pixels above it give no ground evidence at all. That lowest sample lies at or
beyond the foot, by up to a LUT row (at stride 3, 0.09 m of ground at 1.5 m, 0.16 m at 2 m), so the
contacts of frames 0.25 m apart land a cell or two apart and a thin post's foot cell is hit in few
of them. The obstacle layer therefore counts the hit of a standing object's contact (its obstacle
run rises ``STANDING_ROWS`` image rows or more) along the interval back to the ground sample below
it, where that interval is no longer than ``foot_spread_m`` (0.2 m: nearer than about 2.2 m); the
class map counts the sample point alone. Without it, random garden 1's 6 cm post (drawn well by the
network from 3 m) was found 0.26 m from the mower, too late to stop; with it, 1.4 m away. A flat
blob (a phantom) keeps its point alone: spreading every contact (0.1 m) found 16 obstacles on that
garden instead of 6, and it mowed 39 % longer (``STANDING_ROWS`` gives the rest of that trade).

The segmenter's per-pixel confidence (its largest softmax probability), when given, is fused
too, so that one doubtful frame does not make an obstacle:

- a projected pixel whose confidence is below ``min_confidence`` is dropped, as if it had not
  been seen;
- the others vote with their confidence as a weight: each class's vote in a cell is the sum of
  its pixels' confidences (not their count), and the winner's log-odds rise by ``hit`` times
  the mean confidence of its pixels in that cell, the others' fall by ``miss`` times the same;
- an obstacle contact pixel takes the larger of its own confidence and that of the obstacle
  pixel just above it in the same column: the contact lies on the class boundary, where a
  segmenter is least sure of *where* the class changes, not of *whether* an object is there.

Without a confidence every pixel weighs 1: the rule above then reduces exactly to the plain
vote (counts, ``hit`` and ``miss``).

A whole frame's obstacle evidence may weigh less than 1 too (``fuse``'s ``weight``): the mapper
weighs a frame by the time since the last one over its ``fuse_period_s``, so that a cell gathers
obstacle evidence per second seen, not per frame (frames 0.1 s apart are not independent
sightings, and a phantom the network shows for half a second must not pass
``obstacle_threshold`` at 10 Hz when it does not at 2 Hz). Lawn and other ground are not
weighted: they decide between each other by which is larger, which a faster camera does not
change, and weighting them slowed discovery (camera at 4 Hz) by a quarter (random gardens 0-2,
pose seeds 0-2: 665 s per 100 m² on average against 559 with only the obstacle evidence
weighted; README, mapping_node's ``fuse_period_s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import cv2
import numpy as np

from mower_maps.geometry import cell_index, in_grid
from mower_node_kit.params import check_ranges, param
from mower_perception.camera_model import GroundLut

LAWN, OTHER, OBSTACLE, SKY = range(4)
N_GROUND = 3  # classes with ground evidence: lawn, other, obstacle
#: map/obstacle_cells values (:meth:`SemanticGrid.obstacle_values`): a found obstacle, one
#: suspected (evidence above ``caution_level``), nothing
FOUND, SUSPECTED = 100, 50


#: Image rows an obstacle run must rise above its contact to count as standing: only those
#: spread their foot (``foot_spread_m``). Counted in LUT samples (``standing_samples``: 8 at
#: ``lut_stride`` 3, 12 at 2), within the LUT (ground up to ``max_range_m``). At stride 3 a
#: post or a trunk rises 8 samples from 2 m in (14 at 1.5 m), a 0.2 m toy 9 at 1.5 m; a flat
#: phantom (a shadow or a worn patch called an obstacle) a sample or two. At 4 samples (12
#: rows) the network's taller phantoms spread too: the demo lawn took 5,196 s and 62 replans
#: instead of 3,212 s and 42 (at 8), and large_lawn mowed 11.10 % of its true map in the first
#: hour instead of 12.49 % (13.18 % without spread).
STANDING_ROWS = 24


def standing_samples(lut: GroundLut) -> int:
    """:data:`STANDING_ROWS` in LUT samples of ``lut``'s stride (rounded up)."""
    return -(-STANDING_ROWS // lut.stride)


def standing(obst: np.ndarray, lut: GroundLut) -> np.ndarray:
    """Per LUT sample: an obstacle whose run in its column rises :func:`standing_samples` up."""
    rows = np.arange(obst.shape[0])[:, None]
    last_free = np.maximum.accumulate(np.where(obst, -1, rows), axis=0)
    return ((rows - last_free) >= standing_samples(lut)).ravel()[lut.grid_index]


@dataclass(frozen=True)
class GridParams:
    """Fusion settings: mapping_node's parameters (config/mapping.yaml, README table).

    Each field's metadata holds the parameter's ``description`` and its ``range`` (inclusive),
    from which the node declares it.
    """

    resolution_m: float = param(0.05, 'semantic grid resolution (m)', 0.001, 100.0)
    hit: float = param(0.85, 'log-odds added to the class seen in a cell', 0.0, 10.0)
    miss: float = param(0.4, 'log-odds taken from the other classes', 0.0, 10.0)
    clamp: float = param(6.0, 'log-odds limit, so old evidence can be overturned', 0.1, 100.0)
    obstacle_threshold: float = param(
        2.0, 'obstacle log-odds threshold (about three sightings)', 0.0, 100.0
    )
    caution_level: float = param(
        0.5,
        'obstacle log-odds above this, short of obstacle_threshold, marks a suspected obstacle '
        '(50 on map/obstacle_cells, found ones 100): the follower slows near it as near a '
        'found one, so that the camera gets more looks before the mower is on it; the safety '
        'stop and planning ignore it (at or above obstacle_threshold: no suspected cells)',
        -100.0,
        100.0,
    )
    obstacle_floor: float = param(
        -1.0,
        'lowest obstacle log-odds: ground seen again and again does not rule out a small '
        'obstacle (from afar a thin post or a toy is a pixel or two), so one there is found in '
        'four sightings as the mower comes near (the obstacle layer; the class map uses the '
        'evidence without the floor)',
        -100.0,
        0.0,
    )
    clear_range_m: float = param(
        1.5,
        'ground seen farther than this from the mower does not lower the evidence of a cell '
        'found to be an obstacle (past obstacle_threshold, the obstacle layer): from afar the '
        'network misses a thin obstacle (a hose is a few pixels wide at 2-3 m), so only a near '
        'look clears it; cells not found are lowered as before (0: no limit)',
        0.0,
        100.0,
    )
    foot_spread_m: float = param(
        0.2,
        'the foot of a standing object (its obstacle run rises STANDING_ROWS image rows) lies '
        'between its lowest obstacle sample and the ground sample below it; the obstacle layer '
        'counts the hit along that interval where it is no longer than this (a LUT row of 3 '
        'pixels spans 0.09 m of ground at 1.5 m, 0.16 m at 2 m), so that frames whose contacts '
        'land a cell or two apart add up on the foot; the class map and flat blobs count the '
        'sample point alone (0: off)',
        0.0,
        1.0,
    )
    lawn_doubt: float = param(
        0.0,
        'a cell next to an obstacle whose obstacle log-odds is above this is not lawn (other '
        'ground in the class map) even where its lawn evidence is stronger: seen as an '
        'obstacle in about a third of its sightings (discovery leaves it out of the lawn)',
        -100.0,
        100.0,
    )
    min_confidence: float = param(
        0.5,
        'pixels whose segmentation confidence is below this are not fused; the others '
        'weigh by their confidence (used only when a confidence is given)',
        0.0,
        1.0,
    )

    def __post_init__(self) -> None:
        """Reject values outside the declared ranges, naming the field."""
        check_ranges(self)

    @classmethod
    def from_values(cls, values: dict[str, Any], **changes: Any) -> GridParams:
        """The fields found in ``values`` (mapping_node's parameters), then ``changes``."""
        own = {f.name: values[f.name] for f in fields(cls) if f.name in values}
        own.update(changes)
        return cls(**own)


class SemanticGrid:
    """A fixed-size grid (origin at its lower-left corner) of per-class log-odds."""

    def __init__(
        self,
        origin_xy: tuple[float, float],
        width_m: float,
        height_m: float,
        params: GridParams | None = None,
    ) -> None:
        """Cover ``width_m`` x ``height_m`` metres from ``origin_xy``."""
        self.p = params or GridParams()
        self.origin = np.asarray(origin_xy, dtype=np.float64)
        self.res = self.p.resolution_m
        self.shape = (int(math.ceil(height_m / self.res)), int(math.ceil(width_m / self.res)))
        self.logodds = np.zeros((N_GROUND, *self.shape), dtype=np.float32)
        # the obstacle log-odds without the floor (clamped at -clamp like the other classes):
        # the long-run evidence the class map is drawn from (module docstring)
        self.obstacle_history = np.zeros(self.shape, dtype=np.float32)
        self.frames = 0
        # cells a flat keep-out of the owner's map explains (set_known_ground): never on the
        # obstacle layer
        self.known_ground: np.ndarray | None = None

    def cells_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell indices of map points, and which fall inside the grid."""
        ij = cell_index(xy, self.origin, self.res)
        inside = in_grid(ij, self.shape)
        return ij[:, 1] * self.shape[1] + ij[:, 0], inside

    def fuse(
        self,
        labels: np.ndarray,
        lut: GroundLut,
        pose: tuple[float, float, float],
        roll_rad: float = 0.0,
        pitch_rad: float = 0.0,
        confidence: np.ndarray | None = None,
        weight: float = 1.0,
    ) -> int:
        """Fuse one label image; returns the number of cells seen.

        ``pose`` is x, y, yaw of base_link at the image's time; roll and pitch are the body's.
        ``confidence``, when given, is the segmenter's per-pixel confidence in [0, 1] at the
        label image's size: pixels below ``min_confidence`` are dropped and the others weigh by
        it (the module's docstring gives the rule). None fuses every pixel at full weight.
        ``weight`` (0-1) scales the frame's obstacle evidence (the obstacle layer's and its
        history's ``hit`` and ``miss``): a frame taken soon after the last is part of one
        sighting (the mapper's ``fuse_period_s``). Lawn and other ground take the whole frame.
        """
        if (
            labels.ndim != 2
            or labels.shape[0] <= lut.rows.max()
            or labels.shape[1] <= lut.cols.max()
        ):
            size = f'{lut.grid_shape[0] * lut.stride}x{lut.grid_shape[1] * lut.stride}'
            raise ValueError(f'label image {labels.shape} does not match the camera ({size})')
        if confidence is not None and (
            confidence.shape != labels.shape or not np.issubdtype(confidence.dtype, np.floating)
        ):
            raise ValueError(
                f'confidence image {confidence.shape} {confidence.dtype} is not a '
                f'float image of the size of the labels {labels.shape}'
            )
        ground, valid = lut.ground_xy(roll_rad, pitch_rad)
        lab = labels[lut.rows, lut.cols]
        # obstacle pixels: keep only the lowest of each run in a column (ground contact)
        grid = np.full(lut.grid_shape, SKY, dtype=np.uint8)
        grid.ravel()[lut.grid_index] = lab
        obst = grid == OBSTACLE
        below = np.zeros_like(obst)
        below[:-1] = obst[1:]
        contact = (obst & ~below).ravel()[lut.grid_index]
        use = ((lab == LAWN) | (lab == OTHER) | contact) & valid
        conf = None
        if confidence is not None:
            conf = self._pixel_confidence(confidence, lut, obst)
            use &= conf >= self.p.min_confidence
        if not use.any():
            return 0
        base = ground[use]
        cls = lab[use].astype(np.int64)
        conf_used: np.ndarray | None = None if conf is None else conf[use]
        # the obstacle layer's extra hits between each contact and the ground sample below it
        extra, src = self._foot_points(lut, ground, valid, use & contact, obst)
        n_own = len(base)
        if len(extra):
            base = np.concatenate([base, extra])
            cls = np.concatenate([cls, np.full(len(extra), OBSTACLE, dtype=np.int64)])
            if conf is not None and conf_used is not None:
                conf_used = np.concatenate([conf_used, conf[src]])
        x, y, yaw = pose
        c, s = math.cos(yaw), math.sin(yaw)
        bx, by = base[:, 0], base[:, 1]
        world = np.column_stack([x + c * bx - s * by, y + s * bx + c * by])
        ij = cell_index(world, self.origin, self.res)
        inside = in_grid(ij, self.shape)
        if not inside.any():
            return 0
        own = (np.arange(len(base)) < n_own)[inside]
        ij = ij[inside]
        cls = cls[inside]
        # one vote per cell, counted in the window this frame covers (small and fast)
        (c0, r0), (c1, r1) = ij.min(axis=0), ij.max(axis=0)
        w = c1 - c0 + 1
        local = (ij[:, 1] - r0) * w + (ij[:, 0] - c0)
        n_local = int((r1 - r0 + 1) * w)
        bins = local * N_GROUND + cls
        counts: np.ndarray = np.bincount(bins, minlength=n_local * N_GROUND).reshape(
            n_local, N_GROUND
        )
        seen_local = np.flatnonzero(counts.any(axis=1))
        counts = counts[seen_local]
        votes: np.ndarray = counts
        if conf_used is not None:  # votes are sums of confidences; counts stay for the means
            votes = np.bincount(
                bins, weights=conf_used[inside], minlength=n_local * N_GROUND
            ).reshape(n_local, N_GROUND)
            votes = votes[seen_local]
        winner = np.where(votes[:, OBSTACLE] > 0, OBSTACLE, np.argmax(votes[:, :2], axis=1))
        seen = (seen_local // w + r0) * self.shape[1] + (seen_local % w + c0)
        far = None
        if self.p.clear_range_m > 0:  # cells seen from farther than clear_range_m
            reach = np.bincount(local, weights=np.hypot(bx, by)[inside], minlength=n_local)
            far = reach[seen_local] / counts.sum(axis=1) > self.p.clear_range_m
        # lawn and other ground take the whole frame, the obstacle layer the frame's weight
        ground_weight: float | np.ndarray = 1.0
        obstacle_weight: float | np.ndarray = float(weight)
        if conf is not None:  # the mean confidence of the winner's pixels in each cell
            rows = np.arange(len(winner))
            mean = votes[rows, winner] / np.maximum(counts[rows, winner], 1)
            ground_weight = mean.astype(np.float32)
            obstacle_weight = (mean * weight).astype(np.float32)
        flat = self.logodds.reshape(N_GROUND, -1)
        for k in range(N_GROUND):
            scale = obstacle_weight if k == OBSTACLE else ground_weight
            delta = np.where(winner == k, self.p.hit, -self.p.miss).astype(np.float32) * scale
            low = -self.p.clamp
            if k == OBSTACLE:
                self._fuse_history(
                    local[own],
                    cls[own],
                    None if conf_used is None else conf_used[inside][own],
                    (n_local, seen_local, seen),
                    (votes, counts),
                    weight,
                )
                low = max(low, self.p.obstacle_floor)
                if far is not None:  # far ground does not clear a found obstacle (clear_range_m)
                    found = flat[k, seen] > self.p.obstacle_threshold
                    delta = np.where(far & found & (winner != OBSTACLE), 0.0, delta)
            flat[k, seen] = np.clip(flat[k, seen] + delta, low, self.p.clamp)
        self.frames += 1
        return len(seen)

    def _foot_points(
        self,
        lut: GroundLut,
        ground: np.ndarray,
        valid: np.ndarray,
        contact: np.ndarray,
        obst: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points between each standing contact and the valid ground sample below it (base frame).

        Standing: :func:`standing` on ``obst``, the sample grid's obstacle cells. Every half cell
        along the interval, where the interval is no longer than ``foot_spread_m`` (nearer than
        about 2.2 m at the default 0.2 m); with the index of the contact sample each point comes
        from. Empty where the spread is off, or a contact has no valid sample below (the
        image's bottom edge).
        """
        empty = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        if self.p.foot_spread_m <= 0:
            return empty
        idx = np.flatnonzero(contact & standing(obst, lut))
        if not len(idx):
            return empty
        rows, cols = lut.grid_shape
        sample_at = np.full(rows * cols, -1, dtype=np.int64)
        sample_at[lut.grid_index] = np.arange(len(lut.grid_index))
        below_pos = lut.grid_index[idx] + cols
        ok = below_pos < rows * cols
        idx, below_pos = idx[ok], below_pos[ok]
        below = sample_at[below_pos]
        ok = below >= 0
        idx, below = idx[ok], below[ok]
        ok = valid[below]
        idx, below = idx[ok], below[ok]
        if not len(idx):
            return empty
        a, b = ground[idx], ground[below]
        length = np.hypot(*(b - a).T)
        step = self.res / 2
        s = step * np.arange(1, int(math.ceil(self.p.foot_spread_m / step)) + 1)
        # a longer interval (a contact far away) places the foot too loosely: its point alone
        keep = (s[None, :] < length[:, None]) & (length[:, None] <= self.p.foot_spread_m)
        k, j = np.nonzero(keep)
        unit = (b - a)[k] / length[k, None]
        return a[k] + unit * s[j, None], idx[k]

    def _fuse_history(
        self,
        local: np.ndarray,
        cls: np.ndarray,
        conf: np.ndarray | None,
        cells: tuple[int, np.ndarray, np.ndarray],
        tally: tuple[np.ndarray, np.ndarray],
        frame_weight: float = 1.0,
    ) -> None:
        """The obstacle evidence without the floor, from the frame's own points (no foot spread).

        ``local`` and ``cls`` are those points' window cells and classes, ``cells`` the window's
        size, its seen cells and their flat indices; ``tally`` the seen cells' votes and counts
        over all points (lawn and other ground are the same without the spread);
        ``frame_weight`` as :meth:`fuse`'s ``weight``.
        """
        n_local, seen_local, seen = cells
        votes, counts = tally
        obst = cls == OBSTACLE
        n_own = np.bincount(local, minlength=n_local)[seen_local]
        o_counts = np.bincount(local[obst], minlength=n_local)[seen_local]
        o_votes = o_counts
        if conf is not None:
            o_votes = np.bincount(local[obst], weights=conf[obst], minlength=n_local)[seen_local]
        winner = np.where(o_votes > 0, OBSTACLE, np.argmax(votes[:, :2], axis=1))
        weight: float | np.ndarray = 1.0
        if conf is not None:
            rows = np.arange(len(winner))
            mine = votes[rows, np.minimum(winner, OTHER)] / np.maximum(
                counts[rows, np.minimum(winner, OTHER)], 1
            )
            weight = np.where(winner == OBSTACLE, o_votes / np.maximum(o_counts, 1), mine).astype(
                np.float32
            )
        delta = np.where(winner == OBSTACLE, self.p.hit, -self.p.miss).astype(np.float32) * (
            weight * frame_weight
        )
        has = n_own > 0
        history = self.obstacle_history.reshape(-1)
        cells_seen = seen[has]
        history[cells_seen] = np.clip(
            history[cells_seen] + delta[has],
            -self.p.clamp,
            self.p.clamp,
        )

    @staticmethod
    def _pixel_confidence(confidence: np.ndarray, lut: GroundLut, obst: np.ndarray) -> np.ndarray:
        """Confidence of each projected pixel; a contact takes the obstacle pixel's above it."""
        conf = np.asarray(confidence, dtype=np.float32)[lut.rows, lut.cols]
        grid = np.zeros(lut.grid_shape, dtype=np.float32)
        grid.ravel()[lut.grid_index] = conf
        above = np.zeros_like(grid)
        above[1:] = np.where(obst[:-1], grid[:-1], 0.0)
        return np.where(obst, np.maximum(grid, above), grid).ravel()[lut.grid_index]

    def set_known_ground(self, mask: np.ndarray | None) -> None:
        """Cells that are known not to hold an obstacle to avoid (None: none).

        :meth:`obstacle_mask` and :meth:`obstacle_values` leave them out; the evidence and the
        class map keep what the camera saw. The mapping core sets the cells of the owner's
        flat keep-outs (:meth:`mower_mapping.mapper.Mapper.set_lawn`).
        """
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != self.shape:
                raise ValueError(f'known ground mask of shape {mask.shape}, grid {self.shape}')
        self.known_ground = mask

    def obstacle_mask(self) -> np.ndarray:
        """Cells whose obstacle evidence (with its floor) passed the threshold.

        Known ground (:meth:`set_known_ground`) excepted.
        """
        found = self.logodds[OBSTACLE] > self.p.obstacle_threshold
        if self.known_ground is not None:
            found &= ~self.known_ground
        return found

    def obstacle_values(self) -> np.ndarray:
        """The obstacle layer as map/obstacle_cells carries it (int8, the grid's shape).

        :data:`FOUND` (100) where :meth:`obstacle_mask` is set, :data:`SUSPECTED` (50) where
        the evidence is above ``caution_level`` but not past ``obstacle_threshold``, 0
        elsewhere, and 0 on known ground (:meth:`set_known_ground`). The controller slows near
        both (its ``obstacle_threshold`` 50), the safety stop acts on found cells only (90).
        """
        evidence = self.logodds[OBSTACLE]
        out = np.where(evidence > self.p.caution_level, SUSPECTED, 0).astype(np.int8)
        out[evidence > self.p.obstacle_threshold] = FOUND
        if self.known_ground is not None:
            out[self.known_ground] = 0
        return out

    def _doubtful(self, obstacle: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
        """Cells of the window with obstacle evidence above ``lawn_doubt`` next to an obstacle.

        Next to: one of the 8 neighbours (or the cell) passes ``obstacle_threshold``; the window
        is widened by a cell so that its edge sees its neighbours too. A lone doubtful cell (a
        network's phantom on open lawn or at the lawn's edge) stays lawn.
        """
        doubt = obstacle > self.p.lawn_doubt
        if not doubt.any():
            return doubt
        r0, r1, _ = rows.indices(self.shape[0])
        c0, c1, _ = cols.indices(self.shape[1])
        a0, a1 = max(r0 - 1, 0), min(r1 + 1, self.shape[0])
        b0, b1 = max(c0 - 1, 0), min(c1 + 1, self.shape[1])
        strong = (self.obstacle_history[a0:a1, b0:b1] > self.p.obstacle_threshold).view(np.uint8)
        near = cv2.dilate(strong, np.ones((3, 3), np.uint8))
        near = near[r0 - a0 : r0 - a0 + doubt.shape[0], c0 - b0 : c0 - b0 + doubt.shape[1]]
        return doubt & near.astype(bool)

    def class_map(self, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
        """Most likely class per cell (of a window, when given); 255 where nothing was seen.

        Drawn from the long-run evidence: the obstacle log-odds without ``obstacle_floor``
        (``obstacle_history``), so that a trunk's rim, seen as lawn far more often than as an
        obstacle, is not an obstacle or doubtful after two sightings. :meth:`obstacle_mask`
        (what planning and the safety stop use) keeps the floor.
        """
        # argmax over the classes (the first on a tie), plane by plane: a whole lawn's grid is
        # tens of millions of cells, and argmax along the first axis of (3, rows, cols) is slow
        lawn, other = (self.logodds[k, rows, cols] for k in (LAWN, OTHER))
        obstacle = self.obstacle_history[rows, cols]
        # LAWN 0 or OTHER 1; lawn the camera often saw an obstacle on, next to an obstacle (the
        # rim of a trunk, where a pose error of a few cm mixes both), is not called lawn
        ground = ((other > lawn) | self._doubtful(obstacle, rows, cols)).astype(np.uint8)
        # an obstacle wins only above its threshold; a weak one gives way to lawn or other
        strong = (obstacle > np.maximum(lawn, other)) & (obstacle > self.p.obstacle_threshold)
        out = np.where(strong, np.uint8(OBSTACLE), ground)
        out[(lawn == 0) & (other == 0) & (obstacle == 0)] = 255
        return out
