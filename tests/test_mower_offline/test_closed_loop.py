"""The simulator's closed loop hands the model's confidence to the grid as mapping_node does."""

from __future__ import annotations

import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import pytest  # noqa: E402
from conftest import MAPS  # noqa: E402

from mower_mapping.semantic_grid import SemanticGrid  # noqa: E402
from mower_maps import load_map  # noqa: E402
from mower_offline.closed_loop import ClosedLoop, LoopConfig  # noqa: E402
from mower_sim.sim import LawnSim  # noqa: E402


@pytest.mark.parametrize('use_confidence', [False, True])
def test_the_loop_fuses_the_confidence_when_mapping_uses_it(use_confidence, monkeypatch):
    fused = []
    real_fuse = SemanticGrid.fuse

    def spy(self, labels, lut, pose, roll_rad=0.0, pitch_rad=0.0, confidence=None, weight=1.0):
        fused.append(confidence)
        return real_fuse(self, labels, lut, pose, roll_rad, pitch_rad, confidence, weight)

    monkeypatch.setattr(SemanticGrid, 'fuse', spy)
    sim = LawnSim(load_map(MAPS / 'demo_lawn.geojson'), seed=1)
    loop = ClosedLoop(
        sim,
        LoopConfig(
            camera_hz=5.0,
            perception_latency_s=0.1,
            providers=('cpu',),
            mapping={'use_confidence': use_confidence},
        ),
    )
    try:
        loop.run(0.5)
    finally:
        loop.close()
    assert len(fused) >= 2
    if use_confidence:
        assert all(c is not None and c.shape == loop.last_labels.shape for c in fused)
    else:
        assert all(c is None for c in fused)
