"""Parameters of the control nodes: declared once from the core's dataclasses, documented here.

Each node declares the fields of its core's parameter dataclass (FollowerParams, SafetyParams,
MissionParams, DriverParams) plus its own, with the descriptions below, read-only, and builds the
dataclass from the values; a bad value fails start-up with the dataclass's own message. The
simulator's closed loop builds the same dataclasses from the same config/*.yaml files.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from mower_control.driver import DriverParams
from mower_control.kinematics import DiffDrive

#: name -> description (units in the names, as in the dataclasses).
DESCRIPTIONS: dict[str, str] = {
    # follower
    'desired_speed_mps': 'cruising speed on the path',
    'max_speed_mps': 'hard limit on the linear speed',
    'lookahead_time_s': 'lookahead distance = speed x this, clamped',
    'min_lookahead_m': 'shortest lookahead distance',
    'max_lookahead_m': 'longest lookahead distance',
    'regulated_min_radius_m': 'curves tighter than this radius are driven slower',
    'min_regulated_speed_mps': 'floor of the curvature and obstacle slowing',
    'approach_distance_m': 'slow down over this distance before a stop',
    'min_approach_speed_mps': 'floor of the approach slowing',
    'goal_tolerance_m': 'a stop point counts as reached within this distance',
    'pivot_angle_rad': 'path corners sharper than this are pivots: stop, turn in place',
    'rotate_to_heading_rad': 'rotate in place when the heading error is larger',
    'heading_tolerance_rad': 'a rotation in place ends within this error',
    'rotate_speed_radps': 'speed of rotations in place',
    'max_angular_speed_radps': 'hard limit on the angular speed',
    'max_linear_accel_mps2': 'linear acceleration limit',
    'max_angular_accel_radps2': 'angular acceleration limit',
    'obstacle_slow_distance_m': 'slow down when an obstacle ahead is nearer than this',
    'reverse_speed_mps': 'speed on paths driven backwards (docking)',
    'search_window_m': 'how far along the path to look for the robot each step',
    # safety
    'cmd_timeout_s': 'no velocity command for longer stops the wheels',
    'imu_timeout_s': 'an older IMU sample stops wheels and blade',
    'odom_timeout_s': 'an older odometry sample stops wheels and blade',
    'tilt_limit_rad': 'tilt from level that stops everything (latched)',
    'lift_speed_mps': 'upward speed (integrated IMU acceleration) that means a lift',
    'lift_leak_s': 'time constant of the leaky vertical-speed integrator',
    'lift_hold_s': 'the upward speed must last this long to count as a lift',
    'footprint_radius_m': 'the robot is a disc of this radius around base_link',
    'geofence_margin_m': 'how far the footprint may reach past the lawn edge',
    'obstacle_margin_m': 'clearance kept from obstacle cells of the semantic map',
    'max_decel_mps2': 'braking deceleration the stopping distance assumes',
    'reaction_time_s': 'latency the stopping distance assumes',
    # mission
    'return_battery_pct': 'return to the dock below this charge',
    'resume_battery_pct': 'leave the dock again at or above this charge',
    'dry_wait_s': 'rain must have stopped this long before mowing resumes',
    'undock_distance_m': "distance of the dock's approach point from the dock",
    'resume_overlap_m': 'mowing restarts this far before the first unmowed point',
    'resume_sample_m': "spacing of the plan's points checked against the coverage layer",
    'blocked_replan_s': 'an obstacle stop lasting this long asks the planner for a new plan',
    'max_replans': 'replans per blockage before giving up (ERROR)',
    'link_lost_error_s': 'motor board lost for this long: ERROR',
    'manoeuvre_timeout_s': 'undocking or docking taking longer: ERROR',
    'contact_timeout_s': 'on the dock without charging for this long: ERROR',
    # driver
    'wheel_radius_m': 'drive wheel radius',
    'track_m': 'distance between the drive wheel centres',
    'ticks_per_rev': 'encoder ticks per wheel revolution',
    'max_wheel_speed_mps': 'wheel rim speed limit; commands are scaled down together',
    'blade_rpm': 'blade speed when on',
    'link_timeout_s': 'no frame from the board for longer: disconnected',
    'reconnect_period_s': 'time between reconnection attempts',
    'low_battery_pct': 'battery below this is reported as a warning',
}


def defaults(cls: type) -> dict[str, Any]:
    """Field name -> default of a parameter dataclass (DriverParams flattened)."""
    if cls is DriverParams:
        out = {f.name: getattr(DiffDrive(), f.name) for f in fields(DiffDrive)}
        out.update({f.name: getattr(DriverParams(), f.name) for f in fields(DriverParams)
                    if f.name != 'drive'})
        return out
    inst = cls()
    return {f.name: getattr(inst, f.name) for f in fields(cls)}


def build(cls: type, values: dict[str, Any]) -> Any:
    """The dataclass from a dict of parameter values (other keys are ignored)."""
    if cls is DriverParams:
        drive = DiffDrive(**{f.name: values[f.name] for f in fields(DiffDrive)
                             if f.name in values})
        rest = {f.name: values[f.name] for f in fields(DriverParams)
                if f.name in values and f.name != 'drive'}
        return DriverParams(drive=drive, **rest)
    return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def key_matches(key: str, fqn: str) -> bool:
    r"""Whether a parameter file's node key applies to the node ``fqn``.

    As rclpy and rclcpp decide (rclpy ``src/rclpy/node.cpp``, rclcpp ``parameter_map.cpp``;
    Humble and Jazzy): a leading ``/`` added, each ``/*`` read as ``(/\w+)``, the whole name
    matched. So ``/**/mapping_node`` applies in any namespace, ``mapping_node`` in the root
    namespace only.
    """
    name = key if key.startswith('/') else '/' + key
    return re.fullmatch(name.replace('/*', r'(/\w+)'), fqn, flags=re.ASCII) is not None


def node_yaml(path: str | Path, node: str, namespace: str = '/') -> dict[str, Any]:
    """The ``ros__parameters`` a file gives one node, merged over its matching keys in order."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    fqn = namespace.rstrip('/') + '/' + node
    out: dict[str, Any] = {}
    found = False
    for key, body in (data.items() if isinstance(data, dict) else ()):
        if isinstance(body, dict) and 'ros__parameters' in body and \
                key_matches(str(key), fqn):
            out.update(body['ros__parameters'] or {})
            found = True
    if not found:
        raise ValueError(f'{path}: no ros__parameters section for {fqn}')
    return out


def declare(node: Any, cls: type | None, extra: dict[str, tuple[Any, str]]) -> dict[str, Any]:
    """Declare a node's parameters (read-only, described); return name -> value."""
    from rcl_interfaces.msg import ParameterDescriptor

    specs = {name: (value, DESCRIPTIONS[name]) for name, value in defaults(cls).items()} \
        if cls is not None else {}
    specs.update(extra)
    for name, (value, text) in specs.items():
        node.declare_parameter(name, value, ParameterDescriptor(name=name, description=text,
                                                                read_only=True))
    return {name: node.get_parameter(name).value for name in specs}
