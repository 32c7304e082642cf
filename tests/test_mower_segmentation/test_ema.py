"""A moving average of the weights as the trained model (``TrainConfig.ema_decay``)."""

from __future__ import annotations

import pytest
from test_soft_targets import _soft_shard


def _train(tmp_path, decay: float, epochs: int = 2, out: str = 'ck', minutes: float = 55.0):
    """Train a tiny LawnNet on the four bands; returns the last checkpoint."""
    torch = pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

    from mower_segmentation.train import TrainConfig, train

    if not (tmp_path / 'init.pt').exists():
        from mower_segmentation.model import LawnNet, save_model

        torch.manual_seed(0)
        save_model(LawnNet(width=4), tmp_path / 'init.pt')
        _soft_shard(tmp_path / 'd', None)
    cfg = TrainConfig(
        data=str(tmp_path / 'd'),
        val=str(tmp_path / 'd'),
        out=str(tmp_path / out),
        init=str(tmp_path / 'init.pt'),
        epochs=epochs,
        batch=8,
        lr=1e-2,
        threads=1,
        width=4,
        ema_decay=decay,
        minutes=minutes,
    )
    train(cfg, log=lambda m: None)
    return torch.load(tmp_path / out / 'last.pt', weights_only=False)


def _distance(a: dict, b: dict) -> float:
    """Summed absolute difference of the floating-point tensors two state dicts share."""
    return float(sum((a[k] - b[k]).abs().sum() for k in a if a[k].is_floating_point()))


def test_the_saved_model_is_the_average_and_the_trained_weights_are_kept(tmp_path):
    """The checkpoint's model is the average; the trained weights are kept to resume."""
    torch = pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

    plain = _train(tmp_path, 0.0, out='plain')
    assert 'trained' not in plain and 'ema' not in plain  # no average: as before
    init = torch.load(tmp_path / 'init.pt', weights_only=False)['state_dict']
    steps = plain['state']['step']
    assert steps == 8  # 32 frames, batch 8, two epochs

    slow = _train(tmp_path, 0.99, out='slow')
    # the same steps (the average draws no random numbers): the same trained weights
    assert _distance(slow['trained'], plain['model']) == 0.0
    assert int(slow['ema']['n_averaged']) == steps
    # a slow average stays near the start: 0.99 ** 7 of it is the first step's weights
    assert _distance(slow['model'], init) < 0.5 * _distance(slow['trained'], init)
    # a fast one is the trained weights
    fast = _train(tmp_path, 1e-6, out='fast')
    assert _distance(fast['model'], fast['trained']) < 1e-3 * _distance(fast['trained'], init)


def test_a_resumed_run_keeps_its_average(tmp_path):
    """A run stopped and resumed goes on averaging from where it was."""
    pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

    first = _train(tmp_path, 0.9, out='r', minutes=0.0)  # stopped by its budget at once
    assert first['state']['step'] == 1 and int(first['ema']['n_averaged']) == 1
    resumed = _train(tmp_path, 0.9, out='r')  # the same folder: resumes at step 1
    assert resumed['state']['step'] == 8 and int(resumed['ema']['n_averaged']) == 8
    assert _distance(resumed['model'], resumed['trained']) > 0


def test_a_decay_of_one_is_refused(tmp_path):
    pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

    with pytest.raises(ValueError, match='ema_decay 1'):
        _train(tmp_path, 1.0, epochs=1)
