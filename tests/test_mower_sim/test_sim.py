"""The MuJoCo simulator: determinism, scenes from every map, contact and exit events, labels."""

from __future__ import annotations

import os

os.environ.setdefault('MUJOCO_GL', 'egl')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402
from conftest import MAPS  # noqa: E402

from mower_maps import load_map, map_from_geojson, map_to_geojson  # noqa: E402
from mower_sim.sim import CameraWorker, LawnSim  # noqa: E402
from mower_sim.world import LABELS, HiddenObstacle, WorldConfig  # noqa: E402


@pytest.fixture(scope='module')
def demo():
    return load_map(MAPS / 'demo_lawn.geojson')


def run_script(sim: LawnSim, script) -> list:
    out = []
    for v, w, seconds in script:
        sim.command(v, w, True)
        sim.run(seconds)
        out.append(sim.camera())
    return out


def test_same_seed_same_frames_and_poses(demo):
    script = [(0.4, 0.0, 1.5), (0.2, 0.6, 1.0)]
    runs = []
    for _ in range(2):
        sim = LawnSim(demo, WorldConfig(randomise=True), seed=3)
        frames = run_script(sim, script)
        runs.append((sim.pose, [f.rgb for f in frames], [f.labels for f in frames]))
        sim.close()
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1] + runs[0][2], runs[1][1] + runs[1][2]):
        assert np.array_equal(a, b)
    other = LawnSim(demo, WorldConfig(randomise=True), seed=4)
    assert not np.array_equal(run_script(other, script)[0].rgb, runs[0][1][0])
    other.close()


def test_camera_worker_renders_what_the_camera_renders(demo):
    # the worker thread (its own GL context) gives the same frames as LawnSim.camera, whatever
    # the timing: the random draws are taken on the simulation thread at submit time
    script = [(0.4, 0.0, 1.5), (0.2, 0.6, 1.0), (0.3, -0.4, 0.7)]
    sync = LawnSim(demo, WorldConfig(randomise=True), seed=5)
    frames = run_script(sync, script)
    sync.close()
    sim = LawnSim(demo, WorldConfig(randomise=True), seed=5, render=False)
    worker = CameraWorker(sim, labels=True)
    futures = []
    for v, w, seconds in script:
        sim.command(v, w, True)
        sim.run(seconds)
        futures.append(worker.submit(then=lambda f: int(f.labels.max())))
    for fut, ref in zip(futures, frames, strict=True):
        frame, extra = fut.result()
        assert frame.time_s == ref.time_s and frame.pose == ref.pose
        assert np.array_equal(frame.rgb, ref.rgb)
        assert np.array_equal(frame.labels, ref.labels)
        assert extra == int(ref.labels.max())  # `then` ran on the frame
    worker.close()
    with pytest.raises(RuntimeError, match='closed'):
        worker.submit()


def test_clipping_planes_do_not_depend_on_the_lawn_size():
    # MuJoCo scales znear with the model's extent; a big lawn used to clip the near ground
    small = LawnSim(load_map(MAPS / 'demo_lawn.geojson'), render=False)
    large = LawnSim(load_map(MAPS / 'large_lawn.geojson'), render=False)
    for sim in (small, large):
        near = sim.model.vis.map.znear * sim.model.stat.extent
        assert near == pytest.approx(0.1)
        sim.close()


@pytest.mark.parametrize('name', ['demo_lawn', 'l_shaped_lawn', 'back_garden', 'large_lawn'])
def test_every_map_builds_a_scene(name):
    lawn = load_map(MAPS / f'{name}.geojson')
    sim = LawnSim(lawn, seed=0)
    frame = sim.camera()
    assert frame.rgb.shape == (240, 320, 3)
    assert (frame.labels == LABELS['lawn']).mean() > 0.3  # it starts at its dock, facing lawn
    n_obstacles = sum(1 for f in lawn.features if f.role == 'obstacle')
    assert len(sim._obstacle_geoms) >= n_obstacles
    sim.close()


def test_driving_into_a_known_obstacle_is_a_collision(demo):
    sim = LawnSim(demo, seed=0, render=False)
    sim.set_pose(3.5, 6.5, 0.0)  # the tree is at (5.0, 6.5)
    sim.command(0.4, 0.0, True)
    sim.run(6.0)
    assert sim.events.collisions == 1
    assert sim.pose[0] < 5.0 - 0.25 - 0.15  # stopped by the trunk, not through it


def test_driving_into_a_hidden_obstacle_is_a_collision(demo):
    hidden = (HiddenObstacle('rock', 8.0, 8.0, 0.4),)
    sim = LawnSim(demo, WorldConfig(hidden=hidden), seed=0, render=False)
    sim.set_pose(6.0, 8.0, 0.0)
    sim.command(0.4, 0.0, True)
    sim.run(8.0)
    assert sim.events.collisions >= 1


def test_driving_off_the_lawn_registers_the_exit(demo):
    sim = LawnSim(demo, seed=0, render=False)
    sim.set_pose(7.0, 1.0, -np.pi / 2)  # heading south, the edge is at y = 0
    sim.command(0.4, 0.0, True)
    sim.run(5.0)
    assert sim.pose[1] < 0.0
    assert sim.events.boundary_exits == 1
    assert sim.events.collisions == 0


def test_mowed_area_follows_the_deck(demo):
    sim = LawnSim(demo, seed=0, render=False)
    sim.set_pose(2.0, 8.0, 0.0)
    sim.command(0.4, 0.0, True)
    sim.run(10.0)
    travelled = sim.pose[0] - 2.0
    expected = travelled * 0.22 + np.pi * 0.11**2
    assert sim.mowed_area_m2(demo.boundary) == pytest.approx(expected, rel=0.08)


def ground_points(sim: LawnSim, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Where the camera rays of pixels meet the ground (z = 0)."""
    k = sim.camera_intrinsics()
    pos, rot = sim.camera_pose()
    rays = (
        np.stack(
            [
                (cols + 0.5 - k[0, 2]) / k[0, 0],
                -(rows + 0.5 - k[1, 2]) / k[1, 1],
                -np.ones(len(rows)),
            ],
            axis=1,
        )
        @ rot.T
    )
    t = -pos[2] / rays[:, 2]
    return pos[:2] + t[:, None] * rays[:, :2]


def test_labels_agree_with_the_map_where_the_ground_is_visible(demo):
    # the bed as flat paving: plants stand up, so their pixels do not project onto the ground
    doc = map_to_geojson(demo)
    for f in doc['features']:
        if f['properties']['role'] == 'keepout':
            f['properties']['kind'] = 'paving'
    demo = map_from_geojson(doc)
    sim = LawnSim(demo, seed=0)
    sim.set_pose(11.0, 6.0, -np.pi / 2)  # looking south at the flower bed, the edge behind it
    frame = sim.camera()
    rows, cols = np.nonzero(np.isin(frame.labels, [LABELS['lawn'], LABELS['other']]))
    pts = ground_points(sim, rows, cols)
    lawn_area = demo.boundary.difference(demo.by_role('keepout')[0].geometry)
    truth = shapely.contains_xy(lawn_area, pts[:, 0], pts[:, 1])
    edge = shapely.distance(lawn_area.boundary, shapely.points(pts)) < 0.05
    said_lawn = frame.labels[rows, cols] == LABELS['lawn']
    agree = (said_lawn == truth)[~edge].mean()
    assert agree > 0.995
    assert (~said_lawn).sum() > 1000  # the bed is really in view
    sim.close()
