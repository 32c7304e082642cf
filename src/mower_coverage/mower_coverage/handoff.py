"""The plan as the mission receives it: points, segment kinds and the transit region.

One object for the robot and the simulator. coverage_node publishes it on ``coverage/plan``
(std_msgs/String holding :meth:`PlanHandoff.to_json`, transient local) beside the
``coverage/path`` that rviz draws; mission_node decodes it with :meth:`PlanHandoff.from_json`;
the simulator hands :meth:`PlanHandoff.from_plan` to its mission directly. Either way the
mission gets the same three things: so on the robot, too, the resume point skips transit legs
and transits keep to the region that knows the detected obstacles.

JSON keeps every float exactly (Python writes the shortest repr that reads back the same), so
the decoded plan is the planner's, bit for bit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from mower_coverage.planner import Plan
from mower_coverage.route import KINDS
from mower_maps.geometry import cumulative_length

FORMAT = 'mower_coverage/plan/1'


class HandoffError(ValueError):
    """A plan message that cannot be used (says what is wrong with it)."""


@dataclass(frozen=True)
class PlanHandoff:
    """A coverage plan for the mission."""

    points: np.ndarray  # (N, 2) float, map frame, m
    kinds: np.ndarray  # (N - 1,) int: KINDS index of the segment from point i to i + 1
    region: Any  # shapely geometry where the robot's centre may go on transits (or None)
    frame_id: str = 'map'
    zone: int = 0  # the map's zone the plan mows (1-based; 0: every zone)

    @classmethod
    def from_plan(cls, plan: Plan, frame_id: str = 'map', zone: int = 0) -> PlanHandoff:
        """What the mission needs of a planner's plan (of zone ``zone``; 0: all)."""
        return cls(
            np.asarray(plan.path.points, dtype=float),
            np.asarray(plan.path.kinds, dtype=np.int64),
            plan.area.drive_region,
            frame_id,
            zone,
        )

    def mission_args(self) -> tuple[np.ndarray, np.ndarray, Any]:
        """``Mission.set_plan``'s arguments."""
        return self.points, self.kinds, self.region

    def remaining(self, progress_m: float) -> np.ndarray:
        """The points of the plan after arc length ``progress_m`` (what is left to drive)."""
        return remaining(self.points, progress_m)

    def to_json(self) -> str:
        """The message text (see the module docstring)."""
        region = (
            None
            if self.region is None or self.region.is_empty
            else shapely.geometry.mapping(self.region)
        )
        return json.dumps(
            {
                'format': FORMAT,
                'frame_id': self.frame_id,
                'kinds_legend': list(KINDS),
                'points': self.points.tolist(),
                'kinds': self.kinds.tolist(),
                'region': region,
                'zone': self.zone,
            },
            separators=(',', ':'),
        )

    @classmethod
    def from_json(cls, text: str) -> PlanHandoff:
        """Decode :meth:`to_json`; HandoffError says what is wrong with a bad message."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise HandoffError(f'not JSON: {exc}') from exc
        if not isinstance(data, dict) or data.get('format') != FORMAT:
            raise HandoffError(f'not a {FORMAT} message')
        if data.get('kinds_legend') != list(KINDS):
            raise HandoffError(f'segment kinds {data.get("kinds_legend")} are not {list(KINDS)}')
        try:
            pts = np.asarray(data['points'], dtype=float).reshape(-1, 2)
            kinds = np.asarray(data['kinds'], dtype=np.int64).reshape(-1)
            region = None if data['region'] is None else shapely.geometry.shape(data['region'])
            frame = str(data['frame_id'])
            zone = data.get('zone', 0)  # absent in plans of older stacks
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as exc:
            raise HandoffError(f'malformed plan: {exc}') from exc
        if not isinstance(zone, int) or isinstance(zone, bool) or zone < 0:
            raise HandoffError(f'zone {zone!r} is not a zone number')
        if len(pts) < 2:
            raise HandoffError(f'a plan needs two points or more, this one has {len(pts)}')
        if not np.isfinite(pts).all():
            raise HandoffError('a plan point is not finite')
        if len(kinds) != len(pts) - 1:
            raise HandoffError(f'{len(kinds)} segment kinds for {len(pts)} points')
        if len(kinds) and (kinds.min() < 0 or kinds.max() >= len(KINDS)):
            raise HandoffError('a segment kind is out of range')
        return cls(pts, kinds, region, frame, zone)


def arc_lengths(points: np.ndarray) -> np.ndarray:
    """Cumulative arc length at each point of an (N, 2) polyline (starts at 0)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])


def remaining(points: np.ndarray, progress_m: float) -> np.ndarray:
    """The points of a polyline after arc length ``progress_m``."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    s = progress_m if math.isfinite(progress_m) else 0.0
    return pts[np.searchsorted(cumulative_length(pts), s) :]
