"""Teach mode in the simulator: the scripted owner's drive gives the true lawn, faults are kept."""

from __future__ import annotations

import json
import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import MAPS  # noqa: E402
from shapely.geometry import LineString  # noqa: E402

from mower_maps import load_map  # noqa: E402
from mower_maps.teach import INTERRUPTED, TeachRecorder  # noqa: E402
from mower_offline.closed_loop import ClosedLoop, LoopConfig  # noqa: E402
from mower_offline.teach_run import (  # noqa: E402
    Owner,
    TeachConfig,
    TeachRun,
    _ring_from,
    owner_track,
    summary_lines,
)
from mower_sim.pose_error import PoseErrorParams  # noqa: E402
from mower_sim.sim import LawnSim  # noqa: E402


@pytest.mark.slow
def test_teaching_the_demo_lawn_gives_its_boundary_within_10_cm(tmp_path):
    run = TeachRun(load_map(MAPS / 'demo_lawn.geojson'), tmp_path, TeachConfig(seed=0))
    outcome = run.run()
    s = outcome.summary
    assert s['checks_pass'], s['faults']
    assert s['rtk_dropouts'] >= 1  # judged with the localisation error model on
    (boundary,) = s['boundaries']
    assert boundary['hausdorff_m'] <= 0.10
    (bed,) = s['keepouts']
    assert bed['hausdorff_m'] <= 0.10
    assert s['collisions'] == 0
    assert (tmp_path / 'draft_map.geojson').exists() and (tmp_path / 'draft_map.png').exists()
    doc = json.loads((tmp_path / 'draft_map.geojson').read_text())
    roles = sorted(f['properties']['role'] for f in doc['features'])
    assert roles == ['boundary', 'dock', 'keepout']
    assert json.loads((tmp_path / 'teach_summary.json').read_text())['checks_pass']
    lines = summary_lines(s)
    assert lines[-2] == '  map checks: pass' and 'boundary 1: Hausdorff' in lines[1]
    # the blade never ran, the mission was TEACHING throughout and is IDLE after finishing
    assert not run.sim.blade_on and run.loop.mission.state.name == 'IDLE'


def test_an_emergency_stop_mid_recording_keeps_it_and_teaching_resumes(tmp_path):
    run = TeachRun(
        load_map(MAPS / 'demo_lawn.geojson'),
        tmp_path,
        TeachConfig(pose_error=PoseErrorParams(dropout_rate_per_min=0.0)),
    )
    loop, mission = run.loop, run.loop.mission
    loop.step()
    assert run.request('teach/start')[0]
    kind, area = run.areas[0]
    ring = LineString(_ring_from(owner_track(kind, area, 0.11), np.asarray(run.sim.pose[:2])))
    route = np.array([ring.interpolate(v).coords[0] for v in (0.0, 1.0, 2.0, 2.5)])
    run.go_to(route[0])
    run.request('teach/boundary')
    assert run.drive(route[:3])  # two metres of the edge
    loop.safety.emergency_stop(True, run.sim.time_s)
    loop.step()
    assert mission.state.name == 'ERROR'
    assert mission.message.startswith('safety stop: emergency stop while recording boundary 1')
    rec = mission.teach.recordings[0]
    assert rec.status == INTERRUPTED and len(rec.poses) > 20
    saved = TeachRecorder.load(tmp_path / 'teach_recording.json')
    assert len(saved.recordings[0].poses) == len(rec.poses)
    assert loop.safety.reset()[0]
    loop.step()
    assert run.request('resume')[0]
    assert mission.state.name == 'TEACHING'
    run.drive(np.vstack([np.asarray(run.sim.pose[:2]), route[3:]]))
    assert rec.status == 'recording' and len(rec.poses) > len(saved.recordings[0].poses)


def test_the_owner_turns_on_the_spot_at_corners():
    owner = Owner(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]), 0.3)
    assert owner.command((0.0, 0.0, 0.0))[0] > 0  # straight on
    owner.s = 0.99
    v, w = owner.command((0.995, 0.0, 0.0))  # on the corner: the next leg is to the left
    assert v == 0.0 and w > 0
    back = Owner(np.array([[1.0, 0.0], [0.0, 0.0]]), 0.3, reverse=True)
    v, w = back.command((1.0, 0.0, 0.0))  # facing away from the goal: reverses onto it
    assert v < 0 and abs(w) < 1e-9


def test_the_loop_sees_the_true_pose_unless_the_error_model_is_on():
    lawn = load_map(MAPS / 'demo_lawn.geojson')
    plain = ClosedLoop(LawnSim(lawn, seed=0, render=False), LoopConfig())
    assert plain.pose() == plain.sim.pose and plain.pose_error is None
    noisy = ClosedLoop(
        LawnSim(lawn, seed=0, render=False), LoopConfig(pose_error=PoseErrorParams()), seed=2
    )
    x, y, yaw = noisy.pose()
    tx, ty, tyaw = noisy.sim.pose
    assert 0 < np.hypot(x - tx, y - ty) < 0.1 and noisy.pose() == (x, y, yaw)


def test_mower_teach_refuses_bad_input_in_one_line(tmp_path, capsys):
    from mower_cli.main import main

    assert main(['teach', str(tmp_path / 'missing.geojson'), '--out', str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing.geojson' in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exc:
        main(['teach', str(MAPS / 'demo_lawn.geojson'), '--speed', '0'])
    assert exc.value.code == 2
