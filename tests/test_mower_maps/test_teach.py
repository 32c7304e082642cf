"""Teach mode's core: recordings become a draft map; faults leave a state to recover from."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from mower_maps.teach import (
    CLOSED,
    INTERRUPTED,
    OPEN,
    RECORDING,
    TeachError,
    TeachParams,
    TeachRecorder,
    restore,
    track_polygon,
)

LAWN = box(0.0, 0.0, 10.0, 6.0)
BED = box(4.0, 2.0, 6.0, 3.0)
OFFSET = 0.11  # half the cut width
DT = 0.02  # s between poses
SPEED = 0.3  # m/s


def hausdorff(a, b) -> float:
    return float(
        shapely.hausdorff_distance(
            shapely.segmentize(a.exterior, 0.02), shapely.segmentize(b.exterior, 0.02)
        )
    )


def track(area: Polygon, offset_m: float, start_along_m: float = 1.0, laps: float = 1.0):
    """The wheel track around ``area`` (inside for offset < 0), as an (N, 2) route."""
    ring = area.buffer(offset_m, join_style='mitre').exterior
    s = (start_along_m + np.arange(0.0, laps * ring.length, SPEED * DT)) % ring.length
    return np.array([ring.interpolate(v).coords[0] for v in s])


class Owner:
    """Feeds the recorder poses along routes, with a smooth noise of a few centimetres."""

    def __init__(self, rec: TeachRecorder, noise_m: float = 0.02, seed: int = 0) -> None:
        self.rec, self.t = rec, 0.0
        self.rng = np.random.default_rng(seed)
        self.noise_m = noise_m
        self.err = np.zeros(2)

    def drive(self, route: np.ndarray) -> None:
        a = math.exp(-DT / 2.0)  # 2 s correlation, as RTK's
        for x, y in route:
            step = self.rng.normal(0.0, self.noise_m, 2) * math.sqrt(1 - a * a)
            self.err = a * self.err + step
            self.t += DT
            self.rec.add_pose(self.t, x + self.err[0], y + self.err[1], 0.0)

    def wait(self, seconds: float) -> None:
        self.t += seconds


def teach_lawn(rec: TeachRecorder, owner: Owner, bed: bool = True) -> None:
    owner.drive(track(LAWN, -OFFSET)[:1])
    assert rec.mark('boundary')[0]
    owner.drive(track(LAWN, -OFFSET, laps=1.02))
    if bed:
        owner.drive(track(BED, OFFSET)[:1])
        assert rec.mark('keepout')[0]
        owner.drive(track(BED, OFFSET, laps=1.05))


def test_a_driven_lawn_and_bed_become_a_draft_map_that_passes_the_checks(tmp_path):
    rec = TeachRecorder(TeachParams(), tmp_path / 'teach.json')
    owner = Owner(rec)
    teach_lawn(rec, owner)
    owner.drive(np.array([[0.3, 3.0]]))
    ok, message = rec.mark('dock')
    assert ok and 'dock marked at (0.3' in message
    assert [r.status for r in rec.recordings] == [CLOSED, CLOSED, CLOSED]  # closed by themselves
    result = rec.finish()
    assert result.ok, result.faults
    assert result.message == 'draft map ready: 1 boundary(ies), 1 keep-out(s), a dock'
    draft = result.draft
    assert draft.provenance == 'teach'
    assert hausdorff(draft.boundaries[0].polygon, LAWN) < 0.05
    assert hausdorff(draft.keepouts[0].polygon, BED) < 0.05
    assert draft.dock[:2] == pytest.approx((0.3, 3.0), abs=0.06)
    assert len(draft.boundaries[0].polygon.exterior.coords) == 5  # four corners
    # the session's file is kept aside, not deleted; a new session begins
    kept = list(tmp_path.glob('teach.json.taught-*'))
    assert len(kept) == 1 and not (tmp_path / 'teach.json').exists()
    assert rec.recordings == []
    written = draft.write(tmp_path / 'draft_map.geojson')
    assert written.ok and (tmp_path / 'draft_map.png').exists()


def test_the_edge_offset_puts_the_boundary_outside_and_the_keepout_inside_the_track():
    params = TeachParams()
    lawn_track = track(LAWN, -OFFSET)
    bed_track = track(BED, OFFSET)
    assert hausdorff(track_polygon(lawn_track, 'boundary', params), LAWN) < 1e-6
    assert hausdorff(track_polygon(bed_track, 'keepout', params), BED) < 1e-6
    assert hausdorff(track_polygon(lawn_track, 'navigation', params), LAWN) < 1e-6
    none = TeachParams(edge_offset_m=0.0)
    assert track_polygon(lawn_track, 'boundary', none).area == pytest.approx(
        LAWN.buffer(-OFFSET, join_style='mitre').area
    )


def test_poses_are_decimated_by_distance():
    rec = TeachRecorder(TeachParams(decimate_m=0.1))
    rec.add_pose(0.0, 0.0, 0.0, 0.0)
    rec.mark('boundary')
    for k in range(1, 101):  # 1 cm apart
        rec.add_pose(0.01 * k, 0.01 * k, 0.0, 0.0)
    xs = np.array([p[1] for p in rec.recordings[0].poses])
    assert 10 <= len(xs) <= 11 and np.diff(xs).min() > 0.1 - 1e-9


def test_a_boundary_that_does_not_come_back_is_not_closed_and_is_kept(tmp_path):
    rec = TeachRecorder(TeachParams(), tmp_path / 'teach.json')
    owner = Owner(rec)
    route = track(LAWN, -OFFSET, laps=0.7)
    owner.drive(route[:1])
    rec.mark('boundary')
    owner.drive(route)
    assert rec.recordings[0].status == RECORDING
    ok, message = rec.mark('keepout')  # the owner moves on: the boundary ends open
    assert ok and 'boundary 1 not closed: ends' in message
    gap = float(np.hypot(*(route[-1] - route[0])))
    assert f'ends {gap:.1f}' in message.replace(f'{gap:.2f}', f'{gap:.1f}')
    result = rec.finish()
    assert not result.ok
    assert any(f.startswith('boundary 1 not closed: ends') for f in result.faults)
    assert 'not finished: boundary 1 not closed' in rec.message
    # kept on disk, reloadable, and the owner can recover: undo and drive it again
    saved = TeachRecorder.load(tmp_path / 'teach.json')
    assert saved.recordings[0].status == OPEN
    assert len(saved.recordings[0].poses) == len(rec.recordings[0].poses) > 100
    assert rec.undo()[0] and rec.undo()[0]  # the keep-out, then the boundary
    doc = json.loads((tmp_path / 'teach.json').read_text())
    assert [r['kind'] for r in doc['undone']] == ['keepout', 'boundary']  # never discarded
    teach_lawn(rec, owner, bed=False)
    assert rec.finish().ok


def test_a_recording_that_crosses_itself_is_refused_with_where(tmp_path):
    rec = TeachRecorder(TeachParams(), tmp_path / 'teach.json')
    # a figure of eight: out along y = 1, back along the diagonal, ... crossing at (5, 2)
    eight = np.array([[1.0, 1.0], [9.0, 1.0], [9.0, 3.0], [1.0, 3.0]])
    pts = np.vstack([eight[0], eight[1], eight[3], eight[2], eight[0]])
    route = np.vstack(
        [np.linspace(a, b, max(2, int(np.hypot(*(b - a)) / 0.006))) for a, b in zip(pts, pts[1:])]
    )
    rec.add_pose(0.0, *route[0], 0.0)
    rec.mark('boundary')
    Owner(rec, noise_m=0.0).drive(route[1:])
    result = rec.finish()
    assert not result.ok
    (fault,) = [f for f in result.faults if 'crosses itself' in f]
    where = re.match(r'boundary 1 crosses itself at \((.*), (.*)\) m: undo it', fault)
    assert where and (float(where[1]), float(where[2])) == pytest.approx((5.0, 2.0), abs=0.02)
    assert rec.recordings[0].status == CLOSED  # kept for the owner to see and undo
    with pytest.raises(TeachError, match='crosses itself'):
        track_polygon(route, 'boundary', TeachParams())


def test_a_keepout_outside_the_boundary_and_a_missing_boundary_are_faults():
    rec = TeachRecorder()
    owner = Owner(rec)
    outside = box(12.0, 2.0, 14.0, 3.0)
    owner.drive(track(outside, OFFSET)[:1])
    rec.mark('keepout')
    owner.drive(track(outside, OFFSET, laps=1.05))
    result = rec.finish()
    assert result.draft is None
    assert 'no boundary recorded: mark boundary and drive the lawn edge' in result.faults
    teach_lawn(rec, owner, bed=False)
    result = rec.finish()
    assert not result.ok
    assert any(
        f.startswith('keepout 1 lies outside the boundary (0 % of it inside)')
        for f in result.faults
    )
    assert rec.undo()[1].startswith('boundary 1 undone')
    assert rec.undo()[1].startswith('keepout 1 undone')
    teach_lawn(rec, owner, bed=False)
    assert rec.finish().ok


def test_a_lost_pose_interrupts_the_recording_which_continues_where_it_stopped(tmp_path):
    rec = TeachRecorder(TeachParams(lost_pose_s=1.0), tmp_path / 'teach.json')
    owner = Owner(rec)
    route = track(LAWN, -OFFSET, laps=1.02)
    owner.drive(route[:1])
    rec.mark('boundary')
    owner.drive(route[:2000])
    owner.wait(0.5)
    rec.check(owner.t)  # half a second: fine
    assert rec.recording
    owner.wait(1.5)
    rec.check(owner.t)
    rec_1 = rec.recordings[0]
    assert rec_1.status == INTERRUPTED
    assert rec.message.startswith('pose lost for 2.0 s')
    assert 'drive back within 0.50 m of (' in rec.message and 'or undo it' in rec.message
    kept = TeachRecorder.load(tmp_path / 'teach.json').recordings[0]
    assert kept.status == INTERRUPTED and len(kept.poses) == len(rec_1.poses)
    # the pose comes back far away: nothing is recorded until the mower is back
    rec.add_pose(owner.t, 5.0, 3.0, 0.0)
    assert rec_1.status == INTERRUPTED and len(rec_1.poses) == len(kept.poses)
    result = rec.build()
    assert any('boundary 1 was interrupted (pose lost' in f for f in result.faults)
    owner.drive(route[2000:])  # back where it stopped: it continues, and closes
    assert rec_1.status == CLOSED
    assert rec.finish().ok


def test_a_pose_gap_seen_when_the_pose_returns_interrupts_too():
    rec = TeachRecorder(TeachParams(lost_pose_s=1.0))
    owner = Owner(rec, noise_m=0.0)
    route = track(LAWN, -OFFSET)
    owner.drive(route[:1])
    rec.mark('boundary')
    owner.drive(route[:500])
    owner.wait(3.0)  # no check() meanwhile: the next pose shows the gap
    owner.drive(route[500:501])
    assert rec.recordings[0].status == RECORDING  # interrupted, and continued at once
    assert rec.message == 'boundary 1 continues'


def test_an_emergency_stop_interrupts_and_keeps_the_recording(tmp_path):
    rec = TeachRecorder(TeachParams(), tmp_path / 'teach.json')
    owner = Owner(rec)
    route = track(LAWN, -OFFSET, laps=1.02)
    owner.drive(route[:1])
    rec.mark('boundary')
    owner.drive(route[:1500])
    message = rec.interrupt('safety stop: emergency stop')
    assert message.startswith('safety stop: emergency stop while recording boundary 1: ')
    assert f'poses kept in {tmp_path / "teach.json"}' in message
    assert TeachRecorder.load(tmp_path / 'teach.json').recordings[0].status == INTERRUPTED
    owner.drive(route[1500:])
    assert rec.finish().ok


def test_the_session_is_restored_from_its_file_and_a_damaged_file_is_kept_aside(tmp_path):
    path = tmp_path / 'teach.json'
    rec = TeachRecorder(TeachParams(), path)
    owner = Owner(rec)
    teach_lawn(rec, owner)
    route = track(BED.buffer(1.0), OFFSET)
    rec.mark('keepout')
    owner.drive(route[:300])  # the mower restarts while recording
    rec.save()
    again, message = restore(path)
    assert message.startswith(f'teach session restored from {path}: boundary 1 (closed')
    assert [r.status for r in again.recordings] == [CLOSED, CLOSED, INTERRUPTED]
    assert again.recordings[2].note == 'restarted'
    assert np.allclose(again.recordings[0].poses, rec.recordings[0].poses, atol=1e-4)
    assert again.undo()[0]
    assert again.finish().ok
    path.write_text('{"format": "something else"}')
    fresh, message = restore(path)
    assert fresh.recordings == [] and 'not a teach recording' in message
    assert 'kept aside as' in message and list(tmp_path.glob('teach.json.damaged-*'))


def test_cancel_keeps_the_session_aside_and_starts_afresh(tmp_path):
    rec = TeachRecorder(TeachParams(), tmp_path / 'teach.json')
    teach_lawn(rec, Owner(rec), bed=False)
    message = rec.cancel()
    assert message.startswith('teaching cancelled; the recording is kept as ')
    assert list(tmp_path.glob('teach.json.cancelled-*')) and rec.recordings == []


def test_marks_and_undo_say_what_they_did():
    rec = TeachRecorder()
    assert rec.mark('dock') == (False, 'no pose yet: the dock cannot be marked')
    assert rec.mark('hedge')[0] is False
    assert rec.undo() == (False, 'nothing to undo')
    rec.add_pose(0.0, 1.0, 2.0, math.pi / 2)
    ok, message = rec.mark('dock')
    assert ok and message == 'dock marked at (1.00, 2.00) m, heading 90 deg'
    assert rec.mark('navigation')[1].startswith('recording navigation 1')


def test_a_navigation_area_goes_into_the_draft():
    rec = TeachRecorder()
    owner = Owner(rec)
    teach_lawn(rec, owner, bed=False)
    corridor = box(10.0, 2.0, 12.0, 3.0)
    owner.drive(track(corridor, -OFFSET)[:1])
    rec.mark('navigation')
    owner.drive(track(corridor, -OFFSET, laps=1.05))
    result = rec.finish()
    assert result.ok, result.faults
    assert len(result.draft.navigation) == 1
    assert hausdorff(result.draft.navigation[0].polygon, corridor) < 0.05


def test_the_boundary_follows_the_seen_lawn_edge_where_one_is_given():
    seen = box(-0.06, -0.06, 10.06, 6.06)  # the camera saw the edge 6 cm out
    ring = shapely.segmentize(seen.exterior, 0.05)
    edge = np.asarray(ring.coords)
    params = TeachParams(edge_snap_m=0.2)
    lawn_track = track(LAWN, -OFFSET)
    snapped = track_polygon(lawn_track, 'boundary', params, edge_points=edge)
    assert hausdorff(snapped, seen) < 0.02
    assert hausdorff(track_polygon(lawn_track, 'boundary', TeachParams()), LAWN) < 1e-6
    far = TeachParams(edge_snap_m=0.03)  # the edge points are farther than that: not used
    assert hausdorff(track_polygon(lawn_track, 'boundary', far, edge_points=edge), LAWN) < 1e-6
    rec = TeachRecorder(params)
    rec.add_edge_points(edge)
    teach_lawn(rec, Owner(rec), bed=False)
    result = rec.finish()
    assert result.ok and hausdorff(result.draft.boundaries[0].polygon, seen) < 0.05


def test_obstacles_the_camera_found_on_the_lawn_join_the_draft_merged_and_clipped():
    rec = TeachRecorder(TeachParams())
    owner = Owner(rec)
    teach_lawn(rec, owner)
    tree = shapely.Point(2.0, 4.0).buffer(0.3)
    bench = [box(7.0, 1.0, 7.6, 1.4), box(7.5, 1.0, 8.2, 1.4)]  # one bench, seen in two pieces
    rec.set_obstacles(
        [
            tree,
            *bench,
            box(4.5, 2.2, 5.0, 2.6),  # inside the bed: the keep-out has it already
            box(9.8, 5.0, 10.6, 5.4),  # across the edge: only its part on the lawn
            box(20.0, 20.0, 21.0, 21.0),  # off the lawn
            box(1.0, 1.0, 1.05, 1.05),  # a speck (0.0025 m²)
            Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]),  # invalid (a bow tie): ignored
        ]
    )
    result = rec.finish()
    assert result.ok, result.faults
    found = sorted((o.polygon for o in result.draft.obstacles), key=lambda p: p.centroid.x)
    assert len(found) == 3
    assert found[0].symmetric_difference(tree).area < 0.01
    assert found[1].symmetric_difference(shapely.union_all(bench)).area < 1e-3
    taught = result.draft.boundaries[0].polygon
    assert taught.buffer(1e-3).contains(found[2]) and found[2].area > 0.05
    assert found[2].area < box(9.8, 5.0, 10.6, 5.4).area / 2
    assert '3 obstacle(s) the camera found added: check them' in result.draft.warnings


def test_without_obstacles_from_the_camera_the_draft_has_none():
    rec = TeachRecorder(TeachParams())
    teach_lawn(rec, Owner(rec))
    rec.set_obstacles([])
    result = rec.finish()
    assert result.ok and result.draft.obstacles == ()
    assert not any('obstacle' in w for w in result.draft.warnings)
