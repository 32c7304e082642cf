"""Real-frame evaluation: MSRC-21 loader and mapping, camera crop, scores, outputs."""

from __future__ import annotations

import csv
import json
import math

import cv2
import numpy as np
import pytest
from conftest import SHARED_DATA

from mower_segmentation.classes import CLASSES, IGNORE, LAWN, OBSTACLE, OTHER, SKY
from mower_segmentation.metrics import confusion, iou_from_confusion
from mower_segmentation.realdata import (
    MSRC21_COLOURS,
    MSRC21_TO_OURS,
    Frame,
    SheetRow,
    contact_sheet,
    evaluate_models,
    load_msrc21,
    msrc21_labels,
    real_sets,
    score_real,
    sheet_rows,
    to_camera,
    write_per_frame,
)

MSRC = SHARED_DATA / 'msrc21-grass'
needs_msrc = pytest.mark.skipif(not MSRC.is_dir(), reason=f'{MSRC} absent')


def test_msrc21_table_follows_the_source_md():
    assert len(MSRC21_COLOURS) == 24 and set(MSRC21_TO_OURS) == set(MSRC21_COLOURS)
    assert MSRC21_TO_OURS['grass'] == LAWN and MSRC21_TO_OURS['void'] == IGNORE
    assert MSRC21_TO_OURS['road'] == MSRC21_TO_OURS['water'] == OTHER
    assert MSRC21_TO_OURS['sky'] == SKY
    for name in ('tree', 'building', 'cow', 'sheep', 'dog', 'face', 'body', 'car', 'flower'):
        assert MSRC21_TO_OURS[name] == OBSTACLE, name
    assert len(set(MSRC21_COLOURS.values())) == 24  # no colour twice


def test_msrc21_labels_by_colour_and_unknown_colours_ignored():
    gt = np.array(
        [
            [MSRC21_COLOURS['grass'], MSRC21_COLOURS['road'], MSRC21_COLOURS['sky']],
            [MSRC21_COLOURS['cow'], MSRC21_COLOURS['void'], (1, 2, 3)],
        ],
        np.uint8,
    )
    assert msrc21_labels(gt).tolist() == [[LAWN, OTHER, SKY], [OBSTACLE, IGNORE, IGNORE]]


@needs_msrc
def test_load_msrc21_reads_three_real_photos():
    frames = load_msrc21(MSRC, limit=3)
    assert [f.stem for f in frames] == sorted(f.stem for f in frames) and len(frames) == 3
    for f in frames:
        assert f.rgb.dtype == np.uint8 and f.rgb.shape[2] == 3
        assert f.labels.shape == f.rgb.shape[:2]
        assert set(np.unique(f.labels)) <= {LAWN, OTHER, OBSTACLE, SKY, IGNORE}
        assert (f.labels == LAWN).mean() >= 0.05  # the set keeps photos with >= 5 % grass
    cam = to_camera(frames[0])
    assert cam.rgb.shape == (240, 320, 3) and cam.labels.shape == (240, 320)


def test_load_msrc21_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='no images/ folder'):
        load_msrc21(tmp_path / 'absent')
    (tmp_path / 'images').mkdir()
    with pytest.raises(ValueError, match='no images'):
        load_msrc21(tmp_path)
    cv2.imwrite(str(tmp_path / 'images' / 'a.png'), np.zeros((4, 6, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match='a_GT.png'):
        load_msrc21(tmp_path)
    (tmp_path / 'labels').mkdir()
    cv2.imwrite(str(tmp_path / 'labels' / 'a_GT.png'), np.zeros((5, 6, 3), np.uint8))
    with pytest.raises(ValueError, match='not the size'):
        load_msrc21(tmp_path)


@pytest.mark.parametrize(('h', 'w'), [(213, 320), (320, 213), (240, 320), (1200, 1920)])
def test_to_camera_centre_crops_to_4_3(h, w):
    labels = np.zeros((h, w), np.uint8)
    labels[h // 2 - 2 : h // 2 + 2, w // 2 - 2 : w // 2 + 2] = OBSTACLE  # a mark in the centre
    rgb = np.dstack([labels * 50] * 3).astype(np.uint8)
    cam = to_camera(Frame('x', rgb, labels))
    assert cam.rgb.shape == (240, 320, 3) and cam.labels.shape == (240, 320)
    assert set(np.unique(cam.labels)) <= {0, OBSTACLE}  # nearest: no new values
    ys, xs = np.nonzero(cam.labels == OBSTACLE)
    assert abs(ys.mean() - 119.5) < 3 and abs(xs.mean() - 159.5) < 3


def test_scores_match_the_metrics_module_and_count_misses():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, (2, 30, 40)).astype(np.uint8)
    truth[:, :3] = IGNORE
    pred = np.where(rng.random(truth.shape) < 0.7, truth, rng.integers(0, 4, truth.shape))
    pred = np.where(truth == IGNORE, 0, pred).astype(np.uint8)
    frames = [Frame(f'f{i}', np.zeros((30, 40, 3), np.uint8), truth[i]) for i in range(2)]
    r = score_real(list(pred), frames)
    ref = iou_from_confusion(sum(confusion(p, t) for p, t in zip(pred, truth)))
    assert r['frames'] == 2 and r['pixels'] == ref['pixels']
    assert r['miou'] == pytest.approx(ref['miou'])
    for c in CLASSES:
        assert r['iou'][c] == pytest.approx(ref['iou'][c])
    assert len(r['per_frame']) == 2 and r['per_frame'][1]['stem'] == 'f1'
    valid = truth != IGNORE
    assert r['pixel_accuracy'] == pytest.approx((pred == truth)[valid].mean())
    # a prediction of IGNORE (the teacher's "other") is a miss, not a free pass
    missed = pred.copy()
    missed[truth == LAWN] = IGNORE
    assert score_real(list(missed), frames)['iou']['lawn'] == 0.0


def test_ground_scores_ignore_sky_pixels_but_not_sky_predictions():
    truth = np.array([[LAWN, LAWN, SKY, SKY]], np.uint8)
    frame = [Frame('f', np.zeros((1, 4, 3), np.uint8), truth)]
    # sky truth called lawn: hurts the 4-class lawn IoU, not the ground one
    r = score_real([np.array([[LAWN, LAWN, LAWN, SKY]], np.uint8)], frame)
    assert r['iou']['lawn'] == pytest.approx(2 / 3) and r['iou_ground']['lawn'] == 1.0
    assert r['miou_ground'] == 1.0  # other and obstacle absent from both: not counted
    assert math.isnan(r['iou_ground']['other'])
    # lawn called sky: an error in both
    r = score_real([np.array([[LAWN, SKY, SKY, SKY]], np.uint8)], frame)
    assert r['iou_ground']['lawn'] == 0.5 and r['miou_ground'] == 0.5
    assert r['pixel_accuracy'] == 0.75


def tiny_frames(n: int = 3) -> list[Frame]:
    rng = np.random.default_rng(1)
    return [
        Frame(
            f'f{i}',
            rng.integers(0, 256, (24, 32, 3), dtype=np.uint8),
            rng.integers(0, 4, (24, 32)).astype(np.uint8),
        )
        for i in range(n)
    ]


def test_evaluate_models_sheet_and_per_frame_files(tmp_path):
    frames = tiny_frames()
    runs = {
        'truth': lambda rgb: next(f.labels for f in frames if f.rgb is rgb),
        'all lawn': lambda rgb: np.zeros(rgb.shape[:2], np.uint8),
    }
    results, preds = evaluate_models(runs, frames)
    assert results['truth']['miou'] == 1.0 and results['all lawn']['miou'] < 0.3
    assert results['truth']['seconds_per_frame'] >= 0 and len(preds['all lawn']) == 3
    rows = sheet_rows(frames, results, preds, worst_first='all lawn')
    mious = [r.miou['all lawn'] for r in rows]
    assert mious == sorted(mious) and set(rows[0].predictions) == {'truth', 'all lawn'}
    sheet = contact_sheet(rows, tmp_path / 'sub' / 'sheet.png', tile=(64, 48))
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape == (26 + 22 + 3 * (48 + 4) + 4, 4 * (64 + 4) + 4, 3)
    assert [p.name for p in sheet.parent.iterdir()] == ['sheet.png']  # no temporary left
    per = {'set': results}
    write_per_frame(per, tmp_path / 'pf.csv')
    with (tmp_path / 'pf.csv').open() as f:
        table = list(csv.DictReader(f))
    assert len(table) == 6 and table[0]['model'] == 'truth' and table[0]['miou'] == '1.0000'
    write_per_frame(per, tmp_path / 'pf.json')
    data = json.loads((tmp_path / 'pf.json').read_text())
    assert len(data) == 6 and {'set', 'frame', 'model', 'pixel_accuracy', 'iou_lawn'} <= set(
        data[0]
    )


def test_contact_sheet_needs_rows(tmp_path):
    with pytest.raises(ValueError, match='no frames'):
        contact_sheet([], tmp_path / 's.png')
    row = SheetRow('a', np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8), {}, {})
    assert contact_sheet([row], tmp_path / 's.png', tile=(16, 12)).is_file()


@needs_msrc
def test_real_sets_from_the_shared_data():
    sets = real_sets(SHARED_DATA, msrc_limit=2)
    assert len(sets['MSRC-21']) == 2
    if (SHARED_DATA / 'rellis3d-example').is_dir():
        (frame,) = sets['RELLIS-3D']
        assert frame.rgb.shape == (240, 320, 3) and (frame.labels == LAWN).mean() > 0.1
    assert real_sets(SHARED_DATA, rellis=SHARED_DATA / 'absent', msrc=SHARED_DATA / 'absent') == {}
