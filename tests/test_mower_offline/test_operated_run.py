"""The simulator's operator: commands from another thread, applied between control ticks."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import shapely
from lawn_gen import BACK, garden, rectangle_lawn
from shapely.geometry import LineString, Point

from mower_coverage.route import KINDS
from mower_maps import map_from_geojson
from mower_offline.operated_run import SimOperator
from mower_offline.out_dir import StopRequest
from mower_offline.replay_outputs import label_overlay
from mower_offline.run import MowingRun, RunConfig


def wait(condition, timeout_s: float = 60.0, what: str = '') -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f'timed out waiting for {what}')


def test_zones_pause_resume_dock_and_stop_from_another_thread(tmp_path):
    lawn = garden()
    cfg = RunConfig(perception='truth', camera_hz=0.0, record=False, limit_s=3600.0)
    run = MowingRun(lawn, tmp_path, cfg)
    op = SimOperator(run)
    assert op.command('start') == (False, 'the simulated mower is not running')
    stop = StopRequest()
    done: dict = {}
    thread = threading.Thread(
        target=lambda: done.setdefault('result', run.run(False, stop=stop, operator=op))
    )
    thread.start()
    try:
        wait(lambda: op.status().state == 'IDLE', what='IDLE')
        s = op.status()
        assert s.zones == 2 and s.activity == 'docked' and s.charging
        assert op.command('start_zone', 3) == (False, 'no zone 3: the map has 2')
        assert op.command('fly')[0] is False

        ok, why = op.command('start_zone', 2)
        assert ok, why
        assert run.zone == 2
        pts, kinds = run.plan.path.points, run.plan.path.kinds
        mowing = np.isin(kinds, [KINDS.index(k) for k in ('headland', 'stripe', 'turn')])
        lines = shapely.union_all([LineString(pts[i : i + 2]) for i in np.flatnonzero(mowing)])
        assert BACK.buffer(0.01).covers(lines)  # zone 2's plan mows the back lawn only
        wait(lambda: op.status().state == 'MOWING', what='MOWING')
        assert op.status().zone == 2
        assert op.command('start_zone', 1) == (False, 'already MOWING: pause and dock first')

        assert op.command('pause')[0]
        wait(lambda: op.status().activity == 'paused', what='paused')
        assert op.command('start') == (True, 'resuming MOWING')  # start resumes when paused
        wait(lambda: op.status().state == 'MOWING', what='resumed')
        assert run.zone == 2  # resumed on the zone's plan, not the whole lawn's
        inside = BACK.buffer(-0.2)
        samples = []

        def on_back_lawn() -> bool:
            s = op.status()
            samples.append(s)
            return inside.contains(shapely.Point(s.x_m, s.y_m))

        wait(on_back_lawn, what='on the back lawn')
        # driving there, over the front lawn (zone 1: not mowed now) and the path, the blade
        # stays off
        crossing = [
            s for s in samples if s.state == 'MOWING' and not BACK.contains(Point(s.x_m, s.y_m))
        ]
        assert len(crossing) > 5 and not any(s.blade for s in crossing)
        wait(lambda: op.status().blade, what='mowing the back lawn')
        assert op.status().distance_today_m > 8.0  # through the path from the front lawn

        assert op.command('dock')[0]
        wait(lambda: op.status().activity == 'returning', what='returning')

        assert op.command('emergency_stop')[0]
        wait(lambda: op.status().emergency_stop and op.status().problem, what='estop')
        assert not op.status().blade
        x, y = op.status().x_m, op.status().y_m
        t0 = run.sim.time_s
        wait(lambda: run.sim.time_s > t0 + 5.0, what='5 simulated seconds')
        assert np.hypot(op.status().x_m - x, op.status().y_m - y) < 0.05
        assert op.command('start_zone', 1)[1].startswith('reset the safety stop first')
        assert [c[1] for c in op.log][-1] == 'start_zone'
    finally:
        stop.signum = 2
        thread.join(60)
    assert not thread.is_alive()
    assert done['result'].summary['interrupted']
    assert op.command('pause') == (False, 'the simulated mower is not running')


def decoded(data: bytes, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    assert image is not None, 'does not decode'
    return image


def test_the_app_sees_the_camera_with_its_labels_and_the_mowed_layer_grow(tmp_path):
    lawn = map_from_geojson(rectangle_lawn('small', 6.0, 3.0, (0.3, 0.4)))
    cfg = RunConfig(perception='truth', camera_hz=2.0, record=False, limit_s=3600.0)
    run = MowingRun(lawn, tmp_path, cfg)
    op = SimOperator(run)
    assert op.camera_jpeg() is None and op.coverage_png() is None and op.obstacles() == []
    stop = StopRequest()
    thread = threading.Thread(target=lambda: run.run(False, stop=stop, operator=op))
    thread.start()
    try:
        wait(lambda: op.status().state == 'IDLE', what='IDLE')
        wait(lambda: op.camera_jpeg() is not None, what='a camera image')
        assert op.command('start')[0]
        wait(lambda: op.status().blade, what='mowing')
        wait(lambda: op.coverage_png() is not None, what='the mowed layer')
        first, png, bounds = op.coverage_png()
        green = np.count_nonzero(decoded(png)[..., 3])
        wait(lambda: op.coverage_png()[0] > first + 1, what='two newer layers')
        number = op.camera_jpeg()[0]
        wait(lambda: op.camera_jpeg()[0] > number, what='a newer camera image')
    finally:
        stop.signum = 2
        thread.join(60)
    assert not thread.is_alive()
    # the mowed layer: green where mowed, more of it as the mower goes, over the lawn's grid
    _, png, later_bounds = op.coverage_png()
    image = decoded(png)
    assert image.shape[2] == 4 and later_bounds == bounds
    assert np.count_nonzero(image[..., 3]) > green
    x0, y0, x1, y1 = bounds
    assert x0 <= 0.0 and y0 <= 0.0 and x1 >= 6.0 and y1 >= 3.0
    assert (x1 - x0) / image.shape[1] == (y1 - y0) / image.shape[0]  # square cells
    mowed = image[image[..., 3] > 0]
    assert (mowed[:, 1] > mowed[:, 0]).all() and (mowed[:, 1] > mowed[:, 2]).all()  # green
    # the camera: the frame of the last image, the simulator's labels blended over it
    frame, m = op.camera_frame, run.sim.mower
    jpeg = decoded(op.camera_jpeg()[1], cv2.IMREAD_COLOR)[..., ::-1]
    assert jpeg.shape == (m.image_height, m.image_width, 3)
    overlay = label_overlay(frame.rgb, frame.labels).astype(float)
    assert np.abs(jpeg - overlay).mean() < 4.0  # JPEG's loss only
    assert np.abs(jpeg - frame.rgb.astype(float)).mean() > 3 * np.abs(jpeg - overlay).mean()
