"""'start' on a map of several zones: each zone in the map's order, with its own settings."""

from __future__ import annotations

import threading

import pytest
from test_operated_run import wait

from mower_maps import map_from_geojson
from mower_offline.operated_run import SimOperator
from mower_offline.out_dir import StopRequest
from mower_offline.run import MowingRun, RunConfig


def rect(x0: float, x1: float) -> dict:
    ring = [[x0, 0.0], [x1, 0.0], [x1, 2.0], [x0, 2.0], [x0, 0.0]]
    return {'type': 'Polygon', 'coordinates': [ring]}


def two_zones() -> dict:
    """West (second, stripes north-south) and east (first, stripes east-west, one headland)."""
    west = {'role': 'boundary', 'name': 'west', 'order': 2, 'mowing': {'stripe_angle_deg': 90}}
    east = {
        'role': 'boundary',
        'name': 'east',
        'order': 1,
        'mowing': {'stripe_angle_deg': 0, 'headland_passes': 1},
    }
    dock = {'role': 'dock', 'name': 'dock', 'heading_deg': 0}
    return {
        'type': 'FeatureCollection',
        'properties': {'name': 'two zones', 'mowing': {'headland_passes': 2}},
        'features': [
            {'type': 'Feature', 'properties': west, 'geometry': rect(0.0, 3.0)},
            {'type': 'Feature', 'properties': east, 'geometry': rect(3.0, 5.5)},
            {
                'type': 'Feature',
                'properties': dock,
                'geometry': {'type': 'Point', 'coordinates': [0.3, 1.0]},
            },
        ],
    }


def test_start_mows_every_zone_in_its_order_with_its_settings(tmp_path):
    lawn = map_from_geojson(two_zones())
    cfg = RunConfig(perception='truth', camera_hz=0.0, record=False, limit_s=3600.0, hidden=())
    run = MowingRun(lawn, tmp_path, cfg)
    op = SimOperator(run)
    stop = StopRequest()
    thread = threading.Thread(target=lambda: run.run(False, stop=stop, operator=op))
    thread.start()
    try:
        wait(lambda: op.status().state == 'IDLE', what='IDLE')
        ok, why = op.command('start')
        assert ok, why
        assert why.startswith('all zones, in their order (2): zone 1')
        assert run.zone == 1  # 'east': order 1
        assert run.plan.angle_deg == pytest.approx(0.0)
        assert len(run.plan.headlands.levels) == 1
        wait(lambda: op.status().zone == 2, timeout_s=600.0, what='zone 2 after zone 1')
        first = op.status().zones_mowed_pct  # zone 1's, as it was left (every 5 s)
        assert first[0] > 75.0 and first[1] < 5.0, first
        assert run.plan.angle_deg == pytest.approx(90.0)  # 'west': its own stripes
        assert len(run.plan.headlands.levels) == 2  # the map's headland passes
        assert [entry[1:4] for entry in op.log] == [('start', 0, True), ('start_zone', 2, True)]
        wait(
            lambda: op.status().state == 'IDLE' and op.status().zone == 2,
            timeout_s=600.0,
            what='zone 2 mowed and docked',
        )
        # each zone's share is the share the mission reports for its plan (one formula); the
        # edge the deck cannot reach weighs much on a 5 m² zone
        wait(
            lambda: (
                op.status().zones_mowed_pct[1] == pytest.approx(op.status().mowed_pct, abs=0.1)
            ),
            timeout_s=60.0,
            what="zone 2's share",
        )
        assert min(op.status().zones_mowed_pct) > 75.0, op.status()
        assert op.sequence.zone == 0  # over: nothing more starts
        assert op.status().message == 'mowing complete'
    finally:
        stop.signum = 2
        thread.join(60)
    assert not thread.is_alive()
