"""The localisation error model: bounded with RTK, growing through dropouts, recovering after."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mower_node_kit.params import ConfigError
from mower_sim.pose_error import PoseErrorModel, PoseErrorParams

DT = 0.02  # s, the control period


def drive(model: PoseErrorModel, duration_s: float, speed_mps: float = 0.3):
    """A long serpentine at ``speed_mps``: (times, true poses, estimates, RTK fixed)."""
    times = np.arange(0.0, duration_s, DT)
    x = speed_mps * times
    y = 3.0 * np.sin(times / 20.0)
    yaw = np.arctan2(np.gradient(y), np.gradient(x))
    true = np.stack([x, y, yaw], axis=1)
    est = np.array([model.observe(t, tuple(p)) for t, p in zip(times, true)])
    fixed = np.zeros(len(times), dtype=bool)
    for k, t in enumerate(times):
        fixed[k] = not any(a <= t < b for a, b in model.dropouts)
    return times, true, est, fixed


def position_error(true: np.ndarray, est: np.ndarray) -> np.ndarray:
    return np.hypot(*(est[:, :2] - true[:, :2]).T)


def test_the_error_with_rtk_is_a_few_centimetres_and_bounded():
    model = PoseErrorModel(PoseErrorParams(dropout_rate_per_min=0.0), seed=1)
    _, true, est, _ = drive(model, 600.0)
    err = est[:, :2] - true[:, :2]
    assert model.dropouts == [] and model.rtk_fixed
    assert np.abs(err.mean(axis=0)).max() < 0.01  # unbiased
    assert 0.012 < err[:, 0].std() < 0.03 and 0.012 < err[:, 1].std() < 0.03  # 0.02 m
    assert np.hypot(*err.T).max() < 0.12  # bounded: no drift
    yaw_err = np.angle(np.exp(1j * (est[:, 2] - true[:, 2])))
    assert np.abs(yaw_err).max() < 0.03


def test_the_error_grows_through_a_dropout_with_the_distance_driven_and_recovers():
    params = PoseErrorParams(
        dropout_rate_per_min=1.0,
        dropout_min_s=8.0,
        dropout_max_s=8.0,
        odom_xy_walk_m=0.02,
        odom_yaw_walk_rad=0.03,
        recover_s=1.0,
    )
    model = PoseErrorModel(params, seed=4)
    times, true, est, fixed = drive(model, 1200.0, speed_mps=0.5)
    err = position_error(true, est)
    assert len(model.dropouts) >= 8
    grew, recovered = [], []
    for start, end in model.dropouts:
        if end + 10.0 > times[-1]:
            continue
        i0, i1, i2 = (int(round(t / DT)) for t in (start + 0.5, end - DT, end + 6.0))
        grew.append(err[i1] - err[i0])
        recovered.append(err[i2])
    # on average the error at the end of a dropout is larger than at its start, and over
    # the dropouts it is larger than with the fix
    assert np.mean(grew) > 0.02
    assert err[~fixed].mean() > 2 * err[fixed].mean()
    # six time constants after the fix is back it is at the RTK level again
    assert np.median(recovered) < 0.05
    assert np.max(recovered) < 0.1


def test_the_model_is_deterministic_from_its_seed_and_idempotent_at_one_time():
    runs = [drive(PoseErrorModel(PoseErrorParams(), seed=s), 120.0)[2] for s in (3, 3, 4)]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    model = PoseErrorModel(PoseErrorParams(), seed=0)
    a = model.observe(1.0, (1.0, 2.0, 0.5))
    assert model.observe(1.0, (1.0, 2.0, 0.5)) == a  # asked twice at one time: the same
    assert model.observe(0.5, (1.0, 2.0, 0.5)) == a  # or earlier


def test_no_noise_and_no_dropouts_give_the_true_pose():
    params = PoseErrorParams(gnss_std_m=0.0, yaw_std_rad=0.0, dropout_rate_per_min=0.0)
    model = PoseErrorModel(params)
    for k in range(100):
        pose = (0.1 * k, 1.0, 0.3)
        assert model.observe(k * DT, pose) == pytest.approx(pose)


def test_the_settings_are_checked():
    with pytest.raises(ConfigError, match='gnss_std_m'):
        PoseErrorParams(gnss_std_m=-0.01)
    with pytest.raises(ConfigError, match='dropout_min_s'):
        PoseErrorParams(dropout_min_s=5.0, dropout_max_s=2.0)
    with pytest.raises(ConfigError, match='recover_s'):
        PoseErrorParams(recover_s=math.nan)
