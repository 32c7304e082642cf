"""The coverage planner's parameters: one typed object, validated in one place."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


class ParameterError(ValueError):
    """A planner parameter outside its documented range."""


#: name -> (description, minimum, maximum); the single source for validation, the ROS parameter
#: descriptors and the README table. ``None`` bounds mark a string parameter.
PARAMETER_SPECS: dict[str, tuple[str, float | None, float | None]] = {
    'body_width_m': ('robot body width; half of it is kept clear of every edge (m)', 0.05, 5.0),
    'cut_width_m': ('width of the cutting deck (m)', 0.02, 5.0),
    'stripe_spacing_m': (
        'distance between neighbouring stripes and headland passes (m)',
        0.01,
        5.0,
    ),
    'headland_passes': ('perimeter passes around the boundary and every hole', 1, 20),
    'stripe_angle': ("'auto' (fewest turns), 'fixed' or 'rotating'", None, None),
    'stripe_angle_deg': (
        'fixed stripe angle, or base angle when rotating (deg, ENU)',
        -360.0,
        360.0,
    ),
    'angle_increment_deg': (
        'rotating: added to the angle on every mowing run (deg)',
        -180.0,
        180.0,
    ),
    'run_index': ('rotating: number of this mowing run', 0, 1_000_000),
    'auto_angle_step_deg': ('auto: step of the brute-force angle search (deg)', 0.5, 90.0),
    'turn_radius_m': ('0: pivot in place; > 0: arcs of this radius where they fit (m)', 0.0, 20.0),
    'pose_spacing_m': ('spacing of the poses of the published path (m)', 0.01, 5.0),
    'safety_margin_m': ('clearance kept inside the allowed area against rounding (m)', 1e-6, 0.5),
    'passage_margin_m': (
        'a passage is driven only if this much wider than the body on each side (m)',
        0.0,
        0.5,
    ),
}


@dataclass(frozen=True)
class PlannerParams:
    """Everything the coverage planner can be told. Units are in the names.

    The robot footprint is modelled as a disc of diameter ``body_width_m`` centred on the
    wheel axle: a differential-drive mower pivoting in place sweeps that disc anyway.
    """

    body_width_m: float = 0.40  # robot body width; its half is the clearance to every edge
    cut_width_m: float = 0.22  # width of the cutting deck
    stripe_spacing_m: float = 0.20  # distance between neighbouring stripes and headland passes
    headland_passes: int = 2  # perimeter passes around the boundary and every hole (>= 1)
    stripe_angle: str = 'auto'  # 'auto' (fewest turns), 'fixed' or 'rotating'
    stripe_angle_deg: float = 0.0  # fixed angle (ENU, from east); base angle when rotating
    angle_increment_deg: float = 30.0  # rotating: added on each mowing run
    run_index: int = 0  # rotating: which mowing run this is
    auto_angle_step_deg: float = 5.0  # auto: brute-force step over [0, 180)
    turn_radius_m: float = 0.0  # 0: pivot in place; > 0: arcs of this radius where they fit
    pose_spacing_m: float = 0.10  # spacing of the output poses along the path
    safety_margin_m: float = 1e-4  # clearance kept inside the allowed area against rounding
    # a neck or strip of lawn narrower than the body plus twice this is not driven: beside a
    # shed or a wall the safety stop (footprint plus its margin, on a 5 cm grid, under a pose
    # error of a few cm) halts the mower there, and in a dead end it cannot turn back
    passage_margin_m: float = 0.05

    def __post_init__(self) -> None:
        """Validate every field; raise :class:`ParameterError` naming the first bad one."""
        for name, (_, lo, hi) in PARAMETER_SPECS.items():
            if lo is None:
                continue
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f'{name} must be a number, got {value!r}')
            if not math.isfinite(value) or not lo <= value <= hi:
                raise ParameterError(f'{name} = {value} is outside [{lo}, {hi}]')
        if self.stripe_angle not in ('auto', 'fixed', 'rotating'):
            raise ParameterError(
                f"stripe_angle must be 'auto', 'fixed' or 'rotating', got {self.stripe_angle!r}"
            )
        if self.stripe_spacing_m > self.cut_width_m:
            raise ParameterError(
                f'stripe_spacing_m ({self.stripe_spacing_m}) must not exceed cut_width_m '
                f'({self.cut_width_m}): neighbouring stripes would leave uncut grass'
            )

    @property
    def clearance_m(self) -> float:
        """Distance the robot centre keeps from every edge: half the body width."""
        return self.body_width_m / 2.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON reports and ROS parameters)."""
        return asdict(self)

    def updated(self, **changes: Any) -> PlannerParams:
        """A validated copy with some fields changed; unknown names raise."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ParameterError(f'unknown planner parameter(s): {", ".join(unknown)}')
        return replace(self, **changes)


#: coverage_node's parameters besides the planner's and the replanning policy's:
#: name -> (default, description, min, max)
NODE_PARAMETERS: dict[str, tuple[Any, str, float | None, float | None]] = {
    'map_file': ('', 'lawn map (GeoJSON) to plan', None, None),
    'frame_id': ('map', 'frame of the map, the path and the markers', None, None),
    'use_map_settings': (True, "apply the map's own mowing settings over these", None, None),
}
