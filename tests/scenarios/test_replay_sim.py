"""Replaying a bag recorded by ``mower sim``: the replay sees what the live run saw."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from rosbags.highlevel import AnyReader  # noqa: E402

from mower_mapping.semantic_grid import OBSTACLE  # noqa: E402
from mower_maps import load_map  # noqa: E402
from mower_offline.bag import TYPESTORE  # noqa: E402
from mower_offline.replay import Replay, ReplayConfig  # noqa: E402
from mower_offline.run import MowingRun, RunConfig  # noqa: E402
from mower_sim.world import HiddenObstacle  # noqa: E402

LAWN = {
    'type': 'FeatureCollection',
    'name': 'replay lawn',
    'crs_note': 'ENU metres',
    'features': [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'lawn'},
            'geometry': {
                'type': 'Polygon',
                'coordinates': [[[0, 0], [7, 0], [7, 3.5], [0, 3.5], [0, 0]]],
            },
        },
        {
            'type': 'Feature',
            'properties': {'role': 'dock', 'name': 'dock', 'heading_deg': 0},
            'geometry': {'type': 'Point', 'coordinates': [0.3, 0.4]},
        },
    ],
}

pytestmark = pytest.mark.slow  # a whole run and its replay in the module fixture


@pytest.fixture(scope='module')
def live_and_replay(tmp_path_factory):
    path = tmp_path_factory.mktemp('maps') / 'lawn.geojson'
    path.write_text(json.dumps(LAWN))
    out = tmp_path_factory.mktemp('live')
    run = MowingRun(
        load_map(path),
        out,
        RunConfig(
            seed=2,
            hidden=(HiddenObstacle('rock', 4.0, 1.5, 0.4),),
            camera_hz=2.0,
            bag_camera_hz=2.0,
            limit_s=90.0,
        ),
    )
    res = run.run(progress=False)
    rep = Replay(res.summary['bag'], tmp_path_factory.mktemp('replay'), ReplayConfig())
    summary = rep.run(progress=False)
    return run, res, rep, summary


def labels_by_stamp(bag, topic: str) -> dict[int, np.ndarray]:
    out = {}
    with AnyReader([Path(bag)], default_typestore=TYPESTORE) as r:
        cons = [c for c in r.connections if c.topic == topic]
        for con, _, raw in r.messages(connections=cons):
            m = r.deserialize(raw, con.msgtype)
            key = m.header.stamp.sec * 10**9 + m.header.stamp.nanosec
            out[key] = np.asarray(m.data, dtype=np.uint8).reshape(m.height, m.width)
    return out


def test_every_recorded_frame_is_replayed(live_and_replay):
    run, res, rep, s = live_and_replay
    n = res.summary['bag_counts']['/camera/image_raw/compressed']
    assert n >= 150  # 2 Hz over 90 s
    assert s['frames_processed'] == n and s['frames_skipped'] == 0, s['skip_reasons']
    assert s['topics']['camera'] == '/camera/image_raw/compressed'  # not the label images
    assert s['problems'] == [], s['problems']
    assert s['distance_m'] == pytest.approx(res.summary['distance_m'], rel=0.05)


def test_replayed_labels_agree_with_the_live_labels(live_and_replay):
    run, res, rep, s = live_and_replay
    live = labels_by_stamp(res.summary['bag'], '/segmentation/labels')
    again = labels_by_stamp(s['outputs']['bag'], '/replay/labels')
    assert set(again) == set(live)
    agree = [float((live[k] == again[k]).mean()) for k in live]
    # the live run segmented the rendered frame, the replay its JPEG (quality 80) in the bag
    assert np.mean(agree) >= 0.97 and min(agree) >= 0.90, (np.mean(agree), min(agree))


def test_replayed_map_agrees_with_the_live_map(live_and_replay):
    run, res, rep, s = live_and_replay
    g_live, g_rep = run.loop.grid, rep.grid
    assert g_live.res == pytest.approx(g_rep.res)
    live, again = g_live.class_map(), g_rep.class_map()
    # the same world cells in both grids (their origins differ)
    rows, cols = np.nonzero(again != 255)
    xs = g_rep.origin[0] + (cols + 0.5) * g_rep.res
    ys = g_rep.origin[1] + (rows + 0.5) * g_rep.res
    c = np.floor((xs - g_live.origin[0]) / g_live.res).astype(int)
    r = np.floor((ys - g_live.origin[1]) / g_live.res).astype(int)
    ok = (r >= 0) & (r < live.shape[0]) & (c >= 0) & (c < live.shape[1])
    a, b = live[r[ok], c[ok]], again[rows[ok], cols[ok]]
    both = a != 255
    assert both.sum() > 2000
    assert float((a[both] == b[both]).mean()) >= 0.95
    # the hidden rock: an obstacle in both maps, at the same place
    assert s['obstacles_found'] >= 1
    rock = np.array([4.0, 1.5])
    found = [np.hypot(*(np.array(xy) - rock)) for xy in s['obstacle_centres_xy']]
    assert min(found) < 0.25, s['obstacle_centres_xy']
    live_obst = np.argwhere(live == OBSTACLE)
    centres = np.column_stack(
        [
            g_live.origin[0] + (live_obst[:, 1] + 0.5) * g_live.res,
            g_live.origin[1] + (live_obst[:, 0] + 0.5) * g_live.res,
        ]
    )
    assert np.hypot(*(centres - rock).T).min() < 0.3
