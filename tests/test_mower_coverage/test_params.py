"""Planner parameters: ranges and cross-checks, one place."""

import pytest

from mower_coverage import ParameterError, PlannerParams
from mower_coverage.params import PARAMETER_SPECS


def test_defaults_match_the_issue():
    p = PlannerParams()
    assert (p.body_width_m, p.cut_width_m, p.stripe_spacing_m, p.headland_passes) == (
        0.40,
        0.22,
        0.20,
        2,
    )
    assert set(PARAMETER_SPECS) == set(p.to_dict())


@pytest.mark.parametrize(
    'change, word',
    [
        ({'cut_width_m': -1.0}, 'cut_width_m'),
        ({'headland_passes': 0}, 'headland_passes'),
        ({'stripe_angle': 'random'}, 'stripe_angle'),
        ({'stripe_spacing_m': 0.3}, 'must not exceed cut_width_m'),
        ({'turn_radius_m': float('nan')}, 'turn_radius_m'),
        ({'pose_spacing_m': '0.1'}, 'must be a number'),
    ],
)
def test_bad_values_are_rejected_with_the_name(change, word):
    with pytest.raises(ParameterError, match=word):
        PlannerParams().updated(**change)


def test_unknown_parameter_is_rejected():
    with pytest.raises(ParameterError, match='unknown planner parameter'):
        PlannerParams().updated(speed=1.0)
