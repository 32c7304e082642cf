"""Stages 3 and 4b: boustrophedon decomposition of the inner area and its stripes.

The inner area is cut by parallel lines ``spacing`` apart (in a frame rotated so they are
horizontal); each maximal interval of a line inside the area is a *chord*, and each chord is
one stripe. Two chords on neighbouring lines belong to the same boustrophedon cell when their
left ends are neighbours along the area's boundary and so are their right ends: the robot
can then turn from one to the other along that boundary. Where that fails, a critical point
of the area lies between them (a hole starts or ends, the boundary folds back) and a new cell
begins. This is Choset's boustrophedon cellular decomposition, computed at stripe resolution
directly from the stripes, which makes it exact for the stripes that are actually driven and
free of the degenerate cases of the continuous version.

Positions of chord ends along rings (arc length) are kept, so turns and transits can follow the
ring between them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from mower_coverage.angle import line_positions
from mower_coverage.geometry import cumulative_length, rotate

MIN_CHORD_M = 1e-6  # chords shorter than this are touching points, not stripes


@dataclass(frozen=True)
class Chords:
    """All chords of an area at one angle.

    Arrays are indexed by chord ``c`` or by end ``e`` (``e = 2c`` left, ``2c + 1`` right in
    the rotated frame).
    """

    angle_rad: float
    line: np.ndarray  # (C,) line index of each chord
    end_ring: np.ndarray  # (2C,) ring of each end
    end_t: np.ndarray  # (2C,) arc length of each end along its ring
    end_xy: np.ndarray  # (2C, 2) world coordinates of each end
    ring_prev: np.ndarray  # (2C,) previous end along the same ring (or -1)
    ring_next: np.ndarray  # (2C,) next end along the same ring (or -1)

    @property
    def count(self) -> int:
        """Number of chords."""
        return len(self.line)


@dataclass(frozen=True)
class Cell:
    """A boustrophedon cell: chords on consecutive lines, bottom to top."""

    chords: tuple[int, ...]


def scan_chords(rings: list[np.ndarray], angle_rad: float, spacing_m: float) -> Chords:
    """Chords of the area bounded by ``rings`` on lines at ``angle_rad``, ``spacing_m`` apart.

    Lines are centred on the area so the margins at both sides are under half a spacing. Each
    ring edge counts a line when ``min(y0, y1) <= y < max(y0, y1)``, so every line meets every
    closed ring an even number of times and pairing sorted crossings gives the chords.
    """
    rot = [rotate(r, -angle_rad) for r in rings]
    all_y = np.concatenate([p[:, 1] for p in rot])
    y_first, _ = line_positions(float(all_y.min()), float(all_y.max()), spacing_m)
    js, xs, ring_ids, ts = [], [], [], []
    for ring_id, (world, p) in enumerate(zip(rings, rot, strict=True)):
        cum = cumulative_length(world)
        y0, y1 = p[:-1, 1], p[1:, 1]
        lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
        jlo = np.ceil((lo - y_first) / spacing_m).astype(np.int64)
        jhi = np.ceil((hi - y_first) / spacing_m).astype(np.int64) - 1
        counts = np.clip(jhi - jlo + 1, 0, None)
        if counts.sum() == 0:
            continue
        edge = np.repeat(np.arange(len(counts)), counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        j = jlo[edge] + offset
        yj = y_first + j * spacing_m
        f = (yj - y0[edge]) / (y1[edge] - y0[edge])
        x = p[edge, 0] + f * (p[edge + 1, 0] - p[edge, 0])
        t = cum[edge] + f * (cum[edge + 1] - cum[edge])
        js.append(j)
        xs.append(x)
        ring_ids.append(np.full(len(j), ring_id))
        ts.append(t)
    if not js:
        return _empty(angle_rad)
    j = np.concatenate(js)
    x = np.concatenate(xs)
    ring = np.concatenate(ring_ids)
    t = np.concatenate(ts)
    order = np.lexsort((x, j))
    j, x, ring, t = j[order], x[order], ring[order], t[order]
    # pair crossings line by line; an odd count (numerically degenerate line) drops its last
    starts = np.flatnonzero(np.r_[True, j[1:] != j[:-1]])
    ends = np.r_[starts[1:], len(j)]
    keep = np.zeros(len(j), dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        keep[s : s + ((e - s) // 2) * 2] = True
    j, x, ring, t = j[keep], x[keep], ring[keep], t[keep]
    left, right = np.arange(0, len(j), 2), np.arange(1, len(j), 2)
    long_enough = (x[right] - x[left]) > MIN_CHORD_M
    sel = np.column_stack([left[long_enough], right[long_enough]]).ravel()
    j, ring, t = j[sel], ring[sel], t[sel]
    line = j[0::2].copy()
    xy = np.empty((len(sel), 2))
    for r_id in np.unique(ring):
        m = ring == r_id
        world = rings[r_id]
        cum = cumulative_length(world)
        idx = np.clip(np.searchsorted(cum, t[m], side='right') - 1, 0, len(world) - 2)
        seg = cum[idx + 1] - cum[idx]
        f = np.where(seg > 0, (t[m] - cum[idx]) / np.where(seg > 0, seg, 1.0), 0.0)
        xy[m] = world[idx] + f[:, None] * (world[idx + 1] - world[idx])
    prev = np.full(len(sel), -1)
    nxt = np.full(len(sel), -1)
    for r_id in np.unique(ring):
        ids = np.flatnonzero(ring == r_id)
        ids = ids[np.argsort(t[ids], kind='stable')]
        nxt[ids] = np.roll(ids, -1)
        prev[ids] = np.roll(ids, 1)
    return Chords(angle_rad, line, ring, t, xy, prev, nxt)


def _empty(angle_rad: float) -> Chords:
    z = np.zeros(0, dtype=np.int64)
    return Chords(angle_rad, z, z, np.zeros(0), np.zeros((0, 2)), z, z)


class Decomposer(ABC):
    """Interface of the decomposition stage."""

    @abstractmethod
    def decompose(self, chords: Chords) -> list[Cell]:
        """Group chords into cells the robot can mow back and forth without leaving them."""


class BoustrophedonDecomposition(Decomposer):
    """Boustrophedon cells at stripe resolution (see the module docstring)."""

    def decompose(self, chords: Chords) -> list[Cell]:
        """Cells in a deterministic order (by their first chord)."""
        n = chords.count
        succ = np.full(n, -1)
        has_pred = np.zeros(n, dtype=bool)
        line = chords.line
        for c in range(n):
            up = []
            for end in (2 * c, 2 * c + 1):
                cand = [
                    e
                    for e in (chords.ring_prev[end], chords.ring_next[end])
                    if e >= 0 and e != end and line[e // 2] == line[c] + 1 and e % 2 == end % 2
                ]
                up.append({e // 2 for e in cand})
            common = sorted(up[0] & up[1])
            if len(common) == 1 and not has_pred[common[0]]:
                succ[c] = common[0]
                has_pred[common[0]] = True
        cells = []
        for c in range(n):
            if has_pred[c]:
                continue
            chain = [c]
            while succ[chain[-1]] >= 0:
                chain.append(int(succ[chain[-1]]))
            cells.append(Cell(tuple(chain)))
        return cells
