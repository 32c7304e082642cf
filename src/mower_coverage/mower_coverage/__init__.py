"""Coverage path planning for lawns (ROS-free core): area, headlands, cells, route, path."""

from mower_coverage.area import PlanningError
from mower_coverage.params import ParameterError, PlannerParams
from mower_coverage.planner import CoveragePlanner, Plan, params_for_map

__all__ = [
    'CoveragePlanner',
    'ParameterError',
    'Plan',
    'PlannerParams',
    'PlanningError',
    'params_for_map',
]
