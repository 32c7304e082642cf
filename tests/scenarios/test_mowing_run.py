"""Whole mowing runs in simulation (the main job's acceptance), on small lawns.

The whole stack, closed loop: camera -> int8 segmentation -> semantic grid -> replanning ->
mission -> follower -> safety -> motor driver -> simulated board -> MuJoCo, recorded.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from rosbags.rosbag2 import Reader  # noqa: E402

from mower_maps import load_map  # noqa: E402
from mower_offline.report import write_report  # noqa: E402
from mower_offline.run import MowingRun, RunConfig, write_summary  # noqa: E402
from mower_sim.world import HiddenObstacle  # noqa: E402

SMALL = {
    'type': 'FeatureCollection',
    'name': 'small lawn',
    'crs_note': 'ENU metres',
    'features': [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'lawn'},
            'geometry': {
                'type': 'Polygon',
                'coordinates': [[[0, 0], [6, 0], [6, 3.5], [0, 3.5], [0, 0]]],
            },
        },
        {
            'type': 'Feature',
            'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0},
            'geometry': {'type': 'Point', 'coordinates': [0.3, 1.75]},
        },
    ],
}

pytestmark = pytest.mark.slow  # whole runs in the module fixtures (minutes)


@pytest.fixture(scope='module')
def small_lawn(tmp_path_factory):
    path = tmp_path_factory.mktemp('maps') / 'small.geojson'
    path.write_text(json.dumps(SMALL))
    return load_map(path)


def stripe_point(run):
    """A point in the middle of a stripe of the plan (where a hidden obstacle hurts most)."""
    from mower_coverage.route import KINDS

    pts, kinds = run.plan.path.points, run.plan.path.kinds
    i = int(
        np.flatnonzero(kinds == KINDS.index('stripe'))[
            len(np.flatnonzero(kinds == KINDS.index('stripe'))) // 2
        ]
    )
    return (pts[i] + pts[i + 1]) / 2


@pytest.fixture(scope='module')
def obstacle_run(small_lawn, tmp_path_factory):
    probe = MowingRun(small_lawn, tmp_path_factory.mktemp('probe'), RunConfig(record=False))
    x, y = stripe_point(probe)
    out = tmp_path_factory.mktemp('run')
    run = MowingRun(
        small_lawn,
        out,
        RunConfig(seed=4, hidden=(HiddenObstacle('rock', float(x), float(y), 0.35),)),
    )
    result = run.run(progress=False)
    write_report(run, result, out / 'report.png')
    write_summary(result)
    return run, result


def test_hidden_obstacle_on_a_stripe_is_found_and_mowed_around(obstacle_run):
    run, result = obstacle_run
    s = result.summary
    assert s['final_state'] == 'IDLE', s['message']
    # 98.5: mapping's obstacle floor (a thin post on long-seen lawn is found) lets phantoms pass
    # the threshold more often too; this run went from 99.0 % or more to 98.86 % with it
    assert s['coverage_pct'] >= 98.5, s
    assert s['collisions'] == 0 and s['boundary_exits'] == 0 and s['keepout_entries'] == 0
    assert s['hidden_obstacles_found'] == 1 and s['replans'] >= 1
    assert s['distance_m'] > 50 and s['sim_time_s'] > 100


def test_the_bag_reads_back_with_the_expected_topics(obstacle_run):
    run, result = obstacle_run
    expected = {
        '/camera/image_raw/compressed': 'sensor_msgs/msg/CompressedImage',
        '/camera/camera_info': 'sensor_msgs/msg/CameraInfo',
        '/segmentation/labels': 'sensor_msgs/msg/Image',
        '/segmentation/overlay/compressed': 'sensor_msgs/msg/CompressedImage',
        '/mower/driven_path': 'nav_msgs/msg/Path',
        '/map/semantic': 'nav_msgs/msg/OccupancyGrid',
        '/map/obstacle_cells': 'nav_msgs/msg/OccupancyGrid',
        '/map/coverage': 'nav_msgs/msg/OccupancyGrid',
        '/coverage/path': 'nav_msgs/msg/Path',
        '/mission/path': 'nav_msgs/msg/Path',
        '/odom': 'nav_msgs/msg/Odometry',
        '/tf': 'tf2_msgs/msg/TFMessage',
        '/cmd_vel': 'geometry_msgs/msg/Twist',
        '/cmd_vel_safe': 'geometry_msgs/msg/Twist',
        '/mower/state': 'std_msgs/msg/String',
        '/diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
    }
    sim_s = result.summary['sim_time_s']
    with Reader(result.summary['bag']) as reader:
        topics = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        assert {t: m for t, (m, _) in topics.items()} == expected
        counts = {t: n for t, (_, n) in topics.items()}
        assert counts == result.summary['bag_counts']
        assert abs(counts['/odom'] - sim_s * 10) <= sim_s * 10 * 0.15  # 10 Hz
        assert abs(counts['/camera/image_raw/compressed'] - sim_s) <= sim_s * 0.15  # 1 Hz
        assert counts['/coverage/path'] >= 1 + result.summary['replans']
        from mower_offline.bag import TYPESTORE

        states, cells = [], None
        for conn, _, raw in reader.messages():
            if conn.topic == '/mower/state':
                states.append(json.loads(TYPESTORE.deserialize_cdr(raw, conn.msgtype).data))
            if conn.topic == '/map/obstacle_cells':
                cells = TYPESTORE.deserialize_cdr(raw, conn.msgtype)
        # the layer the safety stop reads, as mapping_node publishes it: the found rock is in it
        grid = run.loop.grid
        values = np.asarray(cells.data).reshape(cells.info.height, cells.info.width)
        assert set(np.unique(values)) <= {0, 50, 100} and (values == 100).any()  # 50: suspected
        assert cells.info.resolution == pytest.approx(grid.res)
        assert (values == 100).sum() == pytest.approx(grid.obstacle_mask().sum(), rel=0.2)
        assert states[-1]['state'] == 'IDLE' and states[-1]['mowed_pct'] >= 98.5  # as above
    png = result.out_dir / 'report.png'
    assert png.stat().st_size > 50_000
    assert json.loads((result.out_dir / 'report.json').read_text())['collisions'] == 0


def run_small(lawn, out, events=None):
    run = MowingRun(lawn, out, RunConfig(seed=2, record=False))
    return run, run.run(progress=False, events=events)


def test_emergency_stop_and_resume_skips_nothing_and_remows_only_the_overlap(small_lawn, tmp_path):
    base_run, base = run_small(small_lawn, tmp_path / 'base')

    def stop(run):
        run.loop.safety.emergency_stop(True, run.sim.time_s)

    def reset(run):
        assert run.loop.safety.reset()[0]

    def resume(run):
        assert run.loop.mission.request('resume')[0]

    t0 = 0.5 * base.summary['sim_time_s']
    run, result = run_small(
        small_lawn, tmp_path / 'stop', [(t0, stop), (t0 + 3.0, reset), (t0 + 3.1, resume)]
    )
    s = result.summary
    assert 'ERROR' in s['states'] and s['final_state'] == 'IDLE'
    assert s['coverage_pct'] >= 99.0  # nothing skipped
    assert s['collisions'] == 0 and s['boundary_exits'] == 0
    res2 = 0.02**2
    twice = [np.count_nonzero(r.passes.to_dense() >= 2) for r in (run, base_run)]
    extra = (twice[0] - twice[1]) * res2
    cut = 0.22
    overlap = run.loop.cfg.mission.resume_overlap_m
    assert extra <= (overlap + 0.2) * cut + 0.03, extra  # the overlap and the braking distance
