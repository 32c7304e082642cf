"""Real-frame evaluation: the RELLIS-3D frame and MSRC-21 grass photos, scores, contact sheet.

The sets are non-commercial (evaluation only, never training for a shipped model, never copied
into the repository); they are read from ``../shared/data`` where present.

How the scores are counted (:func:`score_real`):

* ``iou`` / ``miou``: per-class IoU of lawn / other / obstacle / sky over all the set's pixels
  (one confusion matrix summed over frames, as ``mower segment eval`` counts the RELLIS frame),
  mean over the classes present in the truth or the prediction.
* ``iou_ground`` / ``miou_ground``: lawn / other / obstacle with the pixels labelled sky
  ignored (as the independent checker counts); a ground pixel predicted as sky is an error.
* ``pixel_accuracy``: share of labelled pixels (sky included) whose class is right.
* ``per_frame``: the same figures for each frame alone.

A prediction may hold IGNORE (the teacher's "other"): such a pixel counts as wrong.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, NamedTuple

import cv2
import numpy as np

from mower_segmentation.classes import CLASSES, IGNORE, LAWN, OBSTACLE, OTHER, SKY

CAMERA_SIZE = (320, 240)  # (width, height) of the mower's camera frames
GROUND = ('lawn', 'other', 'obstacle')

#: MSRC-21 (v2) label colours (RGB) by class name, as in its SOURCE.md.
MSRC21_COLOURS = {
    'void': (0, 0, 0),
    'grass': (0, 128, 0),
    'tree': (128, 128, 0),
    'sky': (128, 128, 128),
    'road': (128, 64, 128),
    'water': (64, 128, 0),
    'building': (128, 0, 0),
    'mountain': (64, 0, 0),
    'flower': (64, 128, 128),
    'cow': (0, 0, 128),
    'sheep': (0, 128, 128),
    'horse': (128, 0, 128),
    'car': (64, 0, 128),
    'bicycle': (192, 0, 128),
    'face': (192, 128, 0),
    'body': (64, 64, 0),
    'sign': (192, 128, 128),
    'bird': (0, 64, 0),
    'book': (128, 64, 0),
    'chair': (0, 192, 0),
    'cat': (0, 192, 128),
    'dog': (128, 192, 128),
    'boat': (192, 64, 0),
    'aeroplane': (192, 0, 0),
}


def _msrc21_to_ours() -> dict[str, int]:
    special = {'void': IGNORE, 'grass': LAWN, 'road': OTHER, 'water': OTHER, 'sky': SKY}
    return {name: special.get(name, OBSTACLE) for name in MSRC21_COLOURS}


#: MSRC-21 class -> our class. How (SOURCE.md): grass is lawn; road and water are other ground;
#: sky is sky; void is ignored; everything else (trees, buildings, mountains, flowers, animals,
#: people, vehicles, signs, furniture) is an obstacle. A colour not in the table is ignored.
MSRC21_TO_OURS: dict[str, int] = _msrc21_to_ours()

#: Display colours of our classes (RGB) in contact sheets; IGNORE is black.
CLASS_COLOURS = {
    LAWN: (40, 200, 40),
    OTHER: (170, 120, 70),
    OBSTACLE: (230, 30, 30),
    SKY: (120, 170, 255),
}


class Frame(NamedTuple):
    """One real frame: a name, the RGB image and our class ids (IGNORE where unlabelled)."""

    stem: str
    rgb: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8


class SheetRow(NamedTuple):
    """One contact-sheet row: a frame, its truth and each model's prediction and mIoU."""

    stem: str
    rgb: np.ndarray
    truth: np.ndarray
    predictions: dict[str, np.ndarray]
    miou: dict[str, float]


def msrc21_labels(gt_rgb: np.ndarray) -> np.ndarray:
    """Our class ids for an MSRC-21 colour-coded ground truth image (RGB)."""
    key = (
        (gt_rgb[..., 0].astype(np.int32) << 16)
        | (gt_rgb[..., 1].astype(np.int32) << 8)
        | gt_rgb[..., 2].astype(np.int32)
    )
    out = np.full(gt_rgb.shape[:2], IGNORE, dtype=np.uint8)
    for name, (r, g, b) in MSRC21_COLOURS.items():
        out[key == ((r << 16) | (g << 8) | b)] = MSRC21_TO_OURS[name]
    return out


def _read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'{path}: not a readable image')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def load_msrc21(folder: str | Path, limit: int = 0) -> list[Frame]:
    """The MSRC-21 photos of ``folder`` (``images/<stem>.png``, ``labels/<stem>_GT.png``).

    Frames are at their own size (mostly 320x213), sorted by name; ``limit`` > 0 keeps the first
    ones. Raises FileNotFoundError or ValueError (naming the file) for a missing folder, an
    empty one, an image without labels or labels of another size.
    """
    folder = Path(folder)
    if not (folder / 'images').is_dir():
        raise FileNotFoundError(
            f'{folder}: no images/ folder (MSRC-21 layout: images/<stem>.png '
            'and labels/<stem>_GT.png)'
        )
    paths = sorted(
        p for p in (folder / 'images').iterdir() if p.suffix.lower() in ('.png', '.bmp', '.jpg')
    )
    if not paths:
        raise ValueError(f'{folder / "images"}: no images')
    frames = []
    for path in paths[:limit] if limit > 0 else paths:
        gt = next(
            (
                folder / 'labels' / f'{path.stem}_GT{ext}'
                for ext in ('.png', '.bmp')
                if (folder / 'labels' / f'{path.stem}_GT{ext}').is_file()
            ),
            None,
        )
        if gt is None:
            raise FileNotFoundError(f'{path}: no labels/{path.stem}_GT.png beside it')
        rgb, truth = _read_rgb(path), msrc21_labels(_read_rgb(gt))
        if rgb.shape[:2] != truth.shape:
            raise ValueError(
                f'{gt}: labels {truth.shape} are not the size of the image {rgb.shape[:2]}'
            )
        frames.append(Frame(path.stem, rgb, truth))
    return frames


def to_camera(frame: Frame, size: tuple[int, int] = CAMERA_SIZE) -> Frame:
    """The frame as the camera would give it: centre crop to ``size``'s aspect, then resize.

    As :func:`mower_segmentation.evaluate.load_rellis` does: area interpolation for the image
    (linear when enlarging), nearest for the labels.
    """
    w_out, h_out = size
    h, w = frame.rgb.shape[:2]
    if w * h_out > h * w_out:  # too wide: crop the width
        cw = max(1, round(h * w_out / h_out))
        x0 = (w - cw) // 2
        rgb, lab = frame.rgb[:, x0 : x0 + cw], frame.labels[:, x0 : x0 + cw]
    else:  # too tall (or right): crop the height
        ch = max(1, round(w * h_out / w_out))
        y0 = (h - ch) // 2
        rgb, lab = frame.rgb[y0 : y0 + ch], frame.labels[y0 : y0 + ch]
    shrink = rgb.shape[1] > w_out
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    lab = cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST)
    return Frame(frame.stem, rgb, lab)


def rellis_frames(folder: str | Path) -> list[Frame]:
    """The RELLIS-3D example frame at the camera's 320x240 (4:3 centre crop)."""
    from mower_segmentation.evaluate import load_rellis

    folder = Path(folder)
    if not list(folder.glob('*.jpg')) or not list(folder.glob('*.png')):
        raise FileNotFoundError(f'{folder}: no RELLIS-3D frame (<name>.jpg and <name>.png)')
    rgb, labels = load_rellis(folder)
    return [Frame(next(folder.glob('*.jpg')).stem, rgb, labels)]


def real_sets(
    shared_data_dir: str | Path = '../shared/data',
    rellis: str | Path | None = None,
    msrc: str | Path | None = None,
    msrc_limit: int = 0,
    size: tuple[int, int] = CAMERA_SIZE,
) -> dict[str, list[Frame]]:
    """The real evaluation sets at the camera's size: ``{'RELLIS-3D': [...], 'MSRC-21': [...]}``.

    Folders default to ``shared_data_dir/rellis3d-example`` and ``shared_data_dir/msrc21-grass``;
    a set whose folder is absent is left out.
    """
    shared = Path(shared_data_dir)
    rellis = Path(rellis) if rellis is not None else shared / 'rellis3d-example'
    msrc = Path(msrc) if msrc is not None else shared / 'msrc21-grass'
    sets: dict[str, list[Frame]] = {}
    if rellis.is_dir():
        sets['RELLIS-3D'] = [to_camera(f, size) for f in rellis_frames(rellis)]
    if msrc.is_dir():
        sets['MSRC-21'] = [to_camera(f, size) for f in load_msrc21(msrc, msrc_limit)]
    return sets


def confusion_with_misses(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(4, 5) counts of truth (rows) against prediction; column 4: predicted none (IGNORE)."""
    n = len(CLASSES)
    valid = truth < n
    p = np.where(pred[valid] < n, pred[valid], n).astype(np.int64)
    idx = truth[valid].astype(np.int64) * (n + 1) + p
    return np.bincount(idx, minlength=n * (n + 1)).reshape(n, n + 1)


def _iou(conf: np.ndarray, classes: Sequence[int]) -> dict[str, float]:
    tp = np.diag(conf[:, : conf.shape[0]]).astype(np.float64)
    union = conf.sum(1) + conf[:, : conf.shape[0]].sum(0) - tp
    return {CLASSES[c]: float(tp[c] / union[c]) if union[c] > 0 else math.nan for c in classes}


def _nanmean(values: Sequence[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return float(sum(kept) / len(kept)) if kept else math.nan


def scores(conf: np.ndarray) -> dict:
    """IoU, mIoU (4 classes), ground IoU and mIoU (sky ignored), pixel accuracy of a matrix."""
    iou = _iou(conf, range(len(CLASSES)))
    ground = conf.copy()
    ground[SKY] = 0  # pixels labelled sky are ignored; a ground pixel called sky stays an error
    iou_ground = _iou(ground, (LAWN, OTHER, OBSTACLE))
    total = int(conf.sum())
    return {
        'iou': iou,
        'miou': _nanmean(list(iou.values())),
        'iou_ground': iou_ground,
        'miou_ground': _nanmean(list(iou_ground.values())),
        'pixel_accuracy': float(np.trace(conf[:, : len(CLASSES)]) / total) if total else math.nan,
        'pixels': total,
    }


def score_real(predictions: Sequence[np.ndarray], frames: Sequence[Frame]) -> dict:
    """Scores of predictions (at the frames' size) against the frames' truth (module doc)."""
    total = np.zeros((len(CLASSES), len(CLASSES) + 1), dtype=np.int64)
    per_frame = []
    for pred, frame in zip(predictions, frames, strict=True):
        if pred.shape != frame.labels.shape:
            raise ValueError(
                f'{frame.stem}: prediction {pred.shape} is not the size of the '
                f'labels {frame.labels.shape}'
            )
        conf = confusion_with_misses(pred, frame.labels)
        total += conf
        s = scores(conf)
        per_frame.append(
            {
                'stem': frame.stem,
                'pixel_accuracy': s['pixel_accuracy'],
                'miou': s['miou'],
                'miou_ground': s['miou_ground'],
                'iou': s['iou'],
            }
        )
    return {'frames': len(per_frame), **scores(total), 'per_frame': per_frame}


def evaluate_real(segment_fn: Callable[[np.ndarray], np.ndarray], frames: Sequence[Frame]) -> dict:
    """Scores of ``segment_fn(rgb) -> labels`` on real frames (how: see the module doc)."""
    return score_real([segment_fn(f.rgb) for f in frames], frames)


def evaluate_models(
    runs: dict[str, Callable[[np.ndarray], np.ndarray]], frames: Sequence[Frame]
) -> tuple[dict[str, dict], dict[str, list[np.ndarray]]]:
    """Each model's scores (with ``seconds_per_frame``) and its predictions on ``frames``."""
    results, predictions = {}, {}
    for name, fn in runs.items():
        if frames:
            fn(frames[0].rgb)  # warm-up, outside the timing
        t0 = time.perf_counter()
        preds = [fn(f.rgb) for f in frames]
        seconds = (time.perf_counter() - t0) / max(1, len(frames))
        results[name] = {**score_real(preds, frames), 'seconds_per_frame': seconds}
        predictions[name] = preds
    return results, predictions


def sheet_rows(
    frames: Sequence[Frame],
    results: dict[str, dict],
    predictions: dict[str, list[np.ndarray]],
    worst_first: str | None = None,
) -> list[SheetRow]:
    """Contact-sheet rows of one set, worst first by model ``worst_first``'s frame mIoU."""
    rows = [
        SheetRow(
            f.stem,
            f.rgb,
            f.labels,
            {m: p[i] for m, p in predictions.items()},
            {m: r['per_frame'][i]['miou'] for m, r in results.items()},
        )
        for i, f in enumerate(frames)
    ]
    if worst_first in results:
        rows.sort(key=lambda r: -1.0 if math.isnan(r.miou[worst_first]) else r.miou[worst_first])
    return rows


def json_safe(obj: object) -> object:
    """``obj`` with NaN floats replaced by None (valid JSON)."""
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def _fmt(value: float | None, width: int) -> str:
    if value is None or math.isnan(value):
        return f'{"-":>{width}}'
    return f'{value:{width}.4f}'


def format_table(
    results: dict[str, dict], notes: dict[str, str] | None = None, indent: str = '  '
) -> str:
    """An aligned table of one set's results per model (skipped models with their reason)."""
    name_w = max([len('model')] + [len(n) for n in results] + [len(n) for n in notes or {}])
    head = (
        f'{indent}{"model":{name_w}} '
        + ' '.join(f'{c:>9}' for c in CLASSES)
        + f' {"mIoU":>7} {"mIoU gnd":>9} {"pix acc":>8} {"ms/frame":>9}'
    )
    lines = [head]
    for name, r in results.items():
        ms = r.get('seconds_per_frame')
        lines.append(
            f'{indent}{name:{name_w}} '
            + ' '.join(_fmt(r['iou'][c], 9) for c in CLASSES)
            + f' {_fmt(r["miou"], 7)} {_fmt(r["miou_ground"], 9)} '
            f'{_fmt(r["pixel_accuracy"], 8)} '
            + (f'{1000 * ms:9.1f}' if ms is not None else f'{"-":>9}')
        )
    for name, why in (notes or {}).items():
        lines.append(f'{indent}{name:{name_w}} skipped: {why}')
    return '\n'.join(lines)


def _atomic_write(path: Path, write: Callable[[IO], object], mode: str) -> Path:
    """Write through ``write(file)`` into a temporary file beside ``path``, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.part', dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({'newline': ''} if 'b' not in mode else {})) as out:
            write(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_per_frame(report: dict[str, dict[str, dict]], path: str | Path) -> Path:
    """Per-frame figures of ``{set: {model: result}}`` as CSV (``.csv``) or JSON (otherwise)."""
    path = Path(path)
    rows = []
    for set_name, models in report.items():
        for model, result in models.items():
            for f in result['per_frame']:
                rows.append(
                    {
                        'set': set_name,
                        'frame': f['stem'],
                        'model': model,
                        'pixel_accuracy': f['pixel_accuracy'],
                        'miou': f['miou'],
                        'miou_ground': f['miou_ground'],
                        **{f'iou_{c}': f['iou'][c] for c in CLASSES},
                    }
                )

    def write(out: IO[str]) -> None:
        if path.suffix.lower() == '.csv':
            fields = ['set', 'frame', 'model', 'pixel_accuracy', 'miou', 'miou_ground'] + [
                f'iou_{c}' for c in CLASSES
            ]
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        k: ''
                        if isinstance(v, float) and math.isnan(v)
                        else (f'{v:.4f}' if isinstance(v, float) else v)
                        for k, v in row.items()
                    }
                )
        else:
            json.dump(json_safe(rows), out, indent=1)

    return _atomic_write(path, write, 'w')


def colourise(labels: np.ndarray) -> np.ndarray:
    """RGB picture of a label image (class colours, IGNORE black)."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    for k, c in CLASS_COLOURS.items():
        lut[k] = c
    return lut[labels]


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4) -> None:
    """White text with a dark outline (readable on any tile); ``img`` is BGR."""
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def contact_sheet(
    rows: Sequence[SheetRow], path: str | Path, tile: tuple[int, int] = (192, 144)
) -> Path:
    """A PNG grid: frame, truth, one prediction column per model, with mIoU and a legend.

    ``tile`` is (width, height) of each picture. The image is written to a temporary file and
    renamed into place. Returns the path.
    """
    if not rows:
        raise ValueError('contact sheet: no frames')
    tw, th = tile
    models = list(rows[0].predictions)
    columns = ['frame', 'truth'] + models
    pad, head_h, legend_h = 4, 22, 26
    width = len(columns) * (tw + pad) + pad
    height = legend_h + head_h + len(rows) * (th + pad) + pad
    sheet = np.full((height, width, 3), 255, dtype=np.uint8)  # BGR
    x = pad
    for cls, name in enumerate(CLASSES):
        r, g, b = CLASS_COLOURS[cls]
        cv2.rectangle(sheet, (x, 6), (x + 14, 20), (b, g, r), -1)
        cv2.putText(
            sheet, name, (x + 18, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA
        )
        x += 30 + 9 * len(name)
    cv2.rectangle(sheet, (x, 6), (x + 14, 20), (0, 0, 0), -1)
    cv2.putText(
        sheet,
        'ignore / no label',
        (x + 18, 18),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    for j, name in enumerate(columns):
        cv2.putText(
            sheet,
            name[:24],
            (pad + j * (tw + pad) + 2, legend_h + 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    for i, row in enumerate(rows):
        y = legend_h + head_h + i * (th + pad)
        pictures = [row.rgb, colourise(row.truth)] + [
            colourise(row.predictions[m]) for m in models
        ]
        for j, pic in enumerate(pictures):
            x = pad + j * (tw + pad)
            cell = cv2.resize(
                cv2.cvtColor(pic, cv2.COLOR_RGB2BGR),
                (tw, th),
                interpolation=cv2.INTER_AREA if j == 0 else cv2.INTER_NEAREST,
            )
            if j == 0:
                _text(cell, row.stem[:28], (3, th - 6))
            elif j >= 2:
                m = row.miou.get(models[j - 2], math.nan)
                _text(cell, 'mIoU -' if math.isnan(m) else f'mIoU {m:.2f}', (3, 14))
            sheet[y : y + th, x : x + tw] = cell
    path = Path(path)
    ok, data = cv2.imencode('.png', sheet)
    if not ok:
        raise ValueError(f'{path}: cannot encode the contact sheet')
    return _atomic_write(path, lambda out: out.write(data.tobytes()), 'wb')
