"""Discovery in the simulator: a small hidden lawn found from its dock, scored; the faults."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from mower_control.mission import Mission, MissionInputs
from mower_mapping.discovery import ExploreStep
from mower_maps import parse_map
from mower_offline.discover_run import DiscoverConfig, DiscoveryRun, score_discovery


def small_lawn(bed: bool = True) -> str:
    """A 6 x 5 m lawn, its dock on the west edge facing in, and a 1.2 x 1 m bed."""
    feats = [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'small lawn'},
            'geometry': {
                'type': 'Polygon',
                'coordinates': [[[0, 0], [6, 0], [6, 5], [0, 5], [0, 0]]],
            },
        },
        {
            'type': 'Feature',
            'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0.0},
            'geometry': {'type': 'Point', 'coordinates': [0.3, 2.5]},
        },
    ]
    if bed:
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'keepout', 'name': 'bed'},
                'geometry': {
                    'type': 'Polygon',
                    'coordinates': [[[3.5, 3.0], [4.7, 3.0], [4.7, 4.0], [3.5, 4.0], [3.5, 3.0]]],
                },
            }
        )
    doc = {
        'type': 'FeatureCollection',
        'properties': {'name': 'small lawn', 'frame': 'enu', 'units': 'm'},
        'features': feats,
    }
    return json.dumps(doc)


def test_score_of_a_perfect_and_a_shrunk_discovery():
    truth = parse_map(small_lawn())
    exact = score_discovery(truth.mowable_area(), truth, 120.0)
    assert exact['iou'] == pytest.approx(1.0)
    assert exact['hausdorff_m'] == pytest.approx(0.0, abs=1e-6)
    assert exact['holes_found'] == exact['holes_scored'] == 1
    assert exact['time_per_100m2_s'] == pytest.approx(
        120.0 / truth.mowable_area().area * 100, abs=0.1
    )
    shrunk = box(0.3, 0.3, 5.7, 4.7)  # 0.3 m short all round, the bed not cut out
    s = score_discovery(shrunk, truth, 120.0)
    assert s['hausdorff_m'] == pytest.approx(0.3 * 2**0.5, abs=0.01)  # at the corners
    assert s['holes_found'] == 0 and not s['goals_met']['holes iou>=0.8']
    assert s['iou'] < 0.97


def test_mission_discovering_follows_the_explorer_blade_off_and_ends_idle_or_error():
    steps = iter(
        [
            ExploreStep('explore', np.array([[0.0, 0.0], [1.0, 0.0]]), message='goal 1'),
            None,
            ExploreStep('done', None, message='discovery complete'),
        ]
    )

    class Fake:
        resets = 0

        def __call__(self, pose, time_s, follower_done):
            return next(steps)

        def reset(self):
            Fake.resets += 1

    m = Mission(dock_pose=(0.0, 0.0, 0.0))
    inp = MissionInputs(0.0, (0.0, 0.0, 0.0))
    m.tick(inp)
    assert m.request('discover') == (False, 'no explorer: discovery needs the camera in the loop')
    m.explore = Fake()
    assert m.request('discover')[0] and Fake.resets == 1
    out = m.tick(inp)
    assert out.state == 'DISCOVERING' and out.path is not None and not out.blade
    assert m.tick(inp).state == 'DISCOVERING'
    out = m.tick(inp)
    assert out.state == 'IDLE' and 'discovery complete' in out.message
    # no lawn: ERROR with the explorer's message; 'discover' again is accepted (starts over)

    class NoLawn(Fake):
        def __call__(self, pose, time_s, follower_done):
            return ExploreStep('no_lawn', None, message='no lawn seen from the dock')

    m.explore = NoLawn()
    assert m.request('discover')[0]
    out = m.tick(inp)
    assert out.state == 'ERROR' and out.message == 'no lawn seen from the dock'
    assert m.request('discover') == (True, 'discovering the lawn')
    assert Fake.resets == 3


@pytest.mark.slow
def test_discovery_of_a_small_lawn_in_the_simulator(tmp_path):
    truth = parse_map(small_lawn())
    run = DiscoveryRun(truth, DiscoverConfig(limit_s=600.0))
    result = run.discover(tmp_path)
    s = result.score
    assert result.outcome == 'done', result.message
    assert run.final_state == 'IDLE'
    assert s['boundary_exits'] == 0 and s['keepout_entries'] == 0 and s['collisions'] == 0
    assert s['iou'] >= 0.95, s
    assert s['hausdorff_m'] <= 0.35, s
    assert result.draft is not None and result.draft.ok and result.draft.path.exists()
    assert (tmp_path / 'discovered.png').exists()
    assert isinstance(result.found.polygon, Polygon)


@pytest.mark.slow
def test_no_lawn_seen_from_the_dock(tmp_path):
    truth = parse_map(small_lawn(bed=False))
    # the dock turned to face out of the lawn and pushed to its edge: nothing but the
    # surroundings in view
    run = DiscoveryRun(truth, DiscoverConfig(limit_s=60.0))
    run.sim.set_pose(0.05, 2.5, np.pi)
    run.explorer.dock = (0.05, 2.5, np.pi)
    result = run.discover(tmp_path)
    assert result.outcome == 'no_lawn'
    assert 'no lawn seen from the dock' in result.message
    assert run.final_state == 'ERROR'


@pytest.mark.slow
def test_a_discovery_sent_home_to_charge_goes_on_and_finds_the_whole_lawn(tmp_path):
    from conftest import MAPS

    from mower_maps import load_map

    run = DiscoveryRun(load_map(MAPS / 'demo_lawn.geojson'), DiscoverConfig(limit_s=3600.0))
    battery = run.loop.board.battery
    battery.charge_pct = 27.0  # the mission returns below 25 %: soon after leaving the dock
    battery.charge_rate_pct_s = 0.5  # a quick charger: the test's time
    states: list[str] = []
    mission = run.loop.mission
    original = mission.tick

    def tick(inp):  # the mission's states, as the run goes
        out = original(inp)
        if not states or states[-1] != out.state:
            states.append(out.state)
        return out

    mission.tick = tick
    result = run.discover(tmp_path)
    assert run.explorer.recharges == 1
    i = states.index('CHARGING')
    assert states[i - 1] == 'DISCOVERING' and 'DISCOVERING' in states[i + 1 :]  # went on
    assert states[-1] == 'IDLE' and result.outcome == 'done'
    assert result.score['iou'] >= 0.97 and result.score['hausdorff_m'] <= 0.25
    assert (tmp_path / 'discovered.geojson').exists()
