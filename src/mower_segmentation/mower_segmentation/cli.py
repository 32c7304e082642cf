"""``mower segment ...``: dataset, train, eval and bench (registered by mower_cli)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mower_segmentation.classes import CLASSES

if TYPE_CHECKING:
    from mower_segmentation.classical import ClassicalSegmenter
    from mower_segmentation.runtime import Segmenter

MODELS = Path('models')
FLOAT_MODEL = MODELS / 'lawnnet.onnx'
INT8_MODEL = MODELS / 'lawnnet_int8.onnx'
RELLIS = Path('../shared/data/rellis3d-example')


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _channels(text: str) -> int:
    """``--fine``: a channel count from 0 to 256 (argparse reports anything else)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number') from None
    if not 0 <= n <= 256:
        raise argparse.ArgumentTypeError(f'{n} channels: choose 0 to 256')
    return n


def _cmd_dataset(args: argparse.Namespace) -> int:
    width, height = (320, 240) if args.full_res else (160, 120)  # the camera's, or halved
    if args.from_images:
        from mower_segmentation.dataset import pack_labelled_images

        try:
            shards = pack_labelled_images(args.from_images, args.out, width, height)
        except (FileNotFoundError, ValueError) as exc:
            print(f'error: {exc}', file=sys.stderr)
            return 1
        print(f'packed {args.from_images} into {len(shards)} shards under {args.out}')
        return 0
    os.environ.setdefault('MUJOCO_GL', 'egl')
    from mower_segmentation.dataset import (
        HELD_OUT_KINDS,
        HELD_OUT_MAPS,
        TRAIN_KINDS,
        DatasetSpec,
        generate,
    )

    train_split = args.split == 'train'
    default = TRAIN_KINDS if train_split else HELD_OUT_KINDS
    allowed = TRAIN_KINDS if train_split else TRAIN_KINDS + HELD_OUT_KINDS
    kinds = tuple(k.strip() for k in (args.kinds or ','.join(default)).split(','))
    wrong = [k for k in kinds if k not in allowed]
    if wrong:
        held = f' ({", ".join(HELD_OUT_KINDS)} are held out for evaluation)' if train_split else ''
        print(
            f'error: --kinds {args.kinds!r}: choose from {", ".join(allowed)}{held}',
            file=sys.stderr,
        )
        return 1
    if train_split:
        maps = ('demo_lawn', 'l_shaped_lawn', 'large_lawn')
    else:  # held out: another seed, obstacle kinds and a map never used in training
        maps = HELD_OUT_MAPS + ('demo_lawn', 'large_lawn')
    spec = DatasetSpec(
        maps,
        args.frames,
        args.seed,
        kinds,
        garden_share=args.garden_share if train_split else 0.0,
        near_share=args.near_share,
        edge_share=args.edge_share,
        input_width=width,
        input_height=height,
    )
    shards = generate(spec, args.out, map_dir=args.maps)
    print(f'{args.split}: {args.frames} frames in {len(shards)} shards under {args.out}')
    return 0


def missing_training_extra(command: str) -> bool:
    """True, after one line on stderr, when PyTorch (the training extra) is not installed."""
    try:
        import torch  # noqa: F401
    except ImportError:
        print(
            f'error: {command} needs PyTorch (the training extra): make train-deps',
            file=sys.stderr,
        )
        return True
    return False


def _cmd_train(args: argparse.Namespace) -> int:
    if missing_training_extra('training'):
        return 1
    from mower_segmentation.train import (
        CALIB_FRAMES,
        TrainConfig,
        calibration_frames,
        export_onnx,
        quantize_int8,
        save_weights,
        train,
    )

    cfg = TrainConfig(
        data=args.data,
        val=args.val,
        out=args.out,
        minutes=args.minutes,
        epochs=args.epochs,
        threads=args.threads,
        batch=args.batch,
        init=args.init or '',
        arch=args.arch,
        val_limit=args.val_limit,
        lr=args.lr,
        full_res=args.full_res,
        fine=args.fine,
    )
    try:
        best = train(cfg)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    out = Path(args.models)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(best, out / 'lawnnet.pt')
    f32 = export_onnx(best, out / FLOAT_MODEL.name)
    q8 = quantize_int8(f32, out / INT8_MODEL.name, calibration_frames(args.val, CALIB_FRAMES))
    print(
        f'wrote {f32} ({sha256(f32)[:12]}) and {q8} ({sha256(q8)[:12]}); '
        'run `mower segment eval` and update the model card'
    )
    return 0


def _cmd_shift_bias(args: argparse.Namespace) -> int:
    """Move one class's decision threshold: its classifier bias, then export float and int8."""
    if missing_training_extra('shift-bias'):
        return 1
    from mower_segmentation.train import (
        calibration_frames,
        export_onnx,
        quantize_int8,
        shift_class_bias,
    )

    if not Path(args.init).is_file():
        print(f'error: {args.init}: no such weights file (--init)', file=sys.stderr)
        return 1
    out = Path(args.models)
    if out.resolve() == MODELS.resolve():
        print(f'error: --models {out}: write elsewhere, then review and copy', file=sys.stderr)
        return 1
    files = (out / 'lawnnet.pt', out / FLOAT_MODEL.name, out / INT8_MODEL.name)
    there = [p.name for p in files if p.exists()]
    if there:
        print(f'error: --models {out} already holds {", ".join(there)}', file=sys.stderr)
        return 1
    try:
        calib = calibration_frames(args.calib, args.frames)
        pt = shift_class_bias(args.init, files[0], CLASSES.index(args.cls), args.by)
        f32 = export_onnx(pt, files[1])
        q8 = quantize_int8(f32, files[2], calib, per_channel=args.per_channel)
    except (FileNotFoundError, ValueError) as exc:
        for path in files:  # nothing half-written left as if it were a model
            path.unlink(missing_ok=True)
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(
        f'{args.cls} bias {args.by:+g}: wrote {pt}, {f32} ({sha256(f32)[:12]}) and {q8} '
        f'({sha256(q8)[:12]}); run `mower segment eval` and `mower segment bench`'
    )
    return 0


def _cmd_quantize(args: argparse.Namespace) -> int:
    """An int8 QDQ model from a float one, calibrated on frames of dataset folders."""
    from mower_segmentation.train import calibration_frames, quantize_int8

    if not Path(args.float_model).is_file():
        print(f'error: {args.float_model}: no such model file (--float)', file=sys.stderr)
        return 1
    try:
        calib = calibration_frames(args.calib, args.frames)
        q8 = quantize_int8(
            args.float_model,
            args.out,
            calib,
            percentile=args.percentile,
            per_channel=args.per_channel,
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(
        f'wrote {q8} ({sha256(q8)[:12]}): {len(calib)} calibration frames, activation ranges '
        + (
            'at their minimum and maximum'
            if args.percentile is None
            else f'at their {args.percentile:g}th percentile'
        )
        + (', weights per channel' if args.per_channel else ', weights per tensor')
        + '; run `mower segment eval` and `mower segment bench`'
    )
    return 0


def _segmenters(model_dir: Path, providers: list[str]) -> dict:
    from mower_segmentation.runtime import Segmenter

    out = {}
    for label, path, provs in (
        ('float cpu', model_dir / FLOAT_MODEL.name, ['cpu']),
        ('int8 cpu', model_dir / INT8_MODEL.name, ['cpu']),
        ('int8 qnn-htp', model_dir / INT8_MODEL.name, ['qnn-htp']),
    ):
        if provs[0] not in providers:
            continue
        seg = Segmenter(path, provs, threads=1)
        if seg.provider != provs[0]:
            print(f'  {label}: not available ({"; ".join(r for _, r in seg.skipped)})')
            continue
        out[label] = seg
    return out


def _eval_heldout(args: argparse.Namespace, segs: dict, classical: ClassicalSegmenter) -> dict:
    """Per-class IoU of every segmenter on the held-out set, at the stored frames' size."""
    from mower_segmentation.evaluate import evaluate_segmenter

    hw = next(iter(segs.values())).input_hw if segs else (120, 160)
    folder = heldout_folder(args.data, hw)
    images, labels = heldout_frames(folder, args.limit or 2000, size=(hw[1], hw[0]))

    def at_labels(fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
        def run(img: np.ndarray) -> np.ndarray:  # labels at the stored frame's size
            frame, f = camera_frame(img)
            return fn(frame)[::f, ::f]

        return run

    def labels_of(seg: Segmenter) -> Callable[[np.ndarray], np.ndarray]:
        return lambda frame: seg.segment(frame).labels

    runs = {name: at_labels(labels_of(seg)) for name, seg in segs.items()}
    runs['classical'] = at_labels(classical.segment_labels)
    report: dict = {'held_out_frames': int(len(images))}
    print(
        f'held-out simulated set: {len(images)} frames (seeds, obstacle kinds and a map '
        'not used in training)'
    )
    print(f'  {"segmenter":14} ' + ' '.join(f'{c:>9}' for c in CLASSES) + f' {"mIoU":>7}')
    for name, fn in runs.items():
        m = evaluate_segmenter(fn, images, labels)
        report[name] = m
        print(
            f'  {name:14} '
            + ' '.join(f'{m["iou"][c]:9.4f}' for c in CLASSES)
            + f' {m["miou"]:7.4f}'
        )
    return report


def _cmd_eval(args: argparse.Namespace) -> int:
    """Held-out simulated set, then real frames (RELLIS-3D, MSRC-21) beside the ADE20K teacher."""
    from mower_segmentation import realdata
    from mower_segmentation.classical import ClassicalSegmenter
    from mower_segmentation.runtime import ModelError
    from mower_segmentation.teacher import Teacher, TeacherError, TeacherUnavailable

    try:  # bad input first, before minutes of work
        segs = _segmenters(Path(args.models), ['cpu', 'qnn-htp'] if args.qnn else ['cpu'])
    except ModelError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    teacher, teacher_why = None, ''
    try:
        teacher = Teacher(args.teacher, threads=1)
    except TeacherUnavailable as exc:
        teacher_why = str(exc)
    except TeacherError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    msrc = Path(args.msrc or '../shared/data/msrc21-grass')
    try:
        if args.msrc and not msrc.is_dir():
            raise FileNotFoundError(f'{msrc}: no such folder (--msrc)')
        sets = realdata.real_sets(rellis=args.rellis, msrc=msrc)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    classical = ClassicalSegmenter()
    report: dict = {}
    if not args.real_only:
        report.update(_eval_heldout(args, segs, classical))
    print(
        'real frames at 320x240 (4:3 centre crop; non-commercial sets, evaluation only; '
        'the teacher sees each frame padded to 512x512, its aspect kept)\n'
        'mIoU: lawn/other/obstacle/sky as for the held-out set; mIoU gnd: lawn/other/obstacle '
        'with sky pixels ignored; "-": class absent'
    )
    for name, folder in (('RELLIS-3D', args.rellis), ('MSRC-21', msrc)):
        if name not in sets:
            print(f'note: {folder} not found; {name} is skipped')
    runs = {name: (lambda img, s=s: s.segment(img).labels) for name, s in segs.items()}
    runs['classical'] = classical.segment_labels
    if teacher is not None:
        runs['teacher ADE20K'] = teacher.labels
    notes = {} if teacher is not None else {'teacher ADE20K': teacher_why}
    real, rows = {}, []
    for name, frames in sets.items():
        results, preds = realdata.evaluate_models(runs, frames)
        print(f'{name}: {len(frames)} frame(s)')
        print(realdata.format_table(results, notes))
        real[name] = results
        rows += realdata.sheet_rows(frames, results, preds, worst_first='int8 cpu')
    report['real'] = {
        s: {m: {k: v for k, v in r.items() if k != 'per_frame'} for m, r in res.items()}
        for s, res in real.items()
    }
    report['real_skipped'] = notes
    if args.contact_sheet and rows:
        keep = rows[: args.sheet_rows] if args.sheet_rows > 0 else rows
        print(
            f'contact sheet ({len(keep)} frames, worst int8 first): '
            f'{realdata.contact_sheet(keep, args.contact_sheet)}'
        )
    if args.per_frame and real:
        print(f'per-frame figures: {realdata.write_per_frame(real, args.per_frame)}')
    if args.json:
        Path(args.json).write_text(json.dumps(realdata.json_safe(report), indent=1))
    return 0


def _cmd_teacher(args: argparse.Namespace) -> int:
    """Download the ADE20K teacher from its pinned address and check its sha256."""
    from mower_segmentation.teacher import (
        PINNED_URL_BASE,
        VARIANTS,
        TeacherError,
        download_teacher,
    )

    try:
        path = download_teacher(args.download, args.variant, args.url_base or PINNED_URL_BASE)
    except TeacherError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(
        f'{path}: sha256 {VARIANTS[args.variant][1]} checked (ADE20K DeepLabV3-MobileNetV2, '
        'Apache-2.0); use it with --teacher'
    )
    return 0


HELD_OUT = Path('out/dataset/heldout')
CAMERA_WIDTH = 320  # the camera's frame: 320x240


def heldout_folder(data: str | None, input_hw: tuple[int, int]) -> Path:
    """``--data``, or the default held-out folder for a model taking ``input_hw`` (h, w).

    A model on the camera's halved 160x120 frame keeps ``out/dataset/heldout``; one on another
    size gets its own folder (``heldout_320x240``), rendered at that size, so that a
    full-resolution model is scored on frames that hold the detail it was made to see.
    """
    if data:
        return Path(data)
    h, w = input_hw
    return HELD_OUT if (h, w) == (120, 160) else HELD_OUT.with_name(f'heldout_{w}x{h}')


def heldout_frames(
    folder: str | Path, count: int, maps: str = 'maps', size: tuple[int, int] = (160, 120)
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out frames from ``folder``; rendered there first when it is absent.

    Same recipe each time (seed 999, maps and obstacle kinds not used in training), at
    ``size`` = (width, height).
    """
    from mower_segmentation.dataset import (
        HELD_OUT_KINDS,
        HELD_OUT_MAPS,
        DatasetSpec,
        generate,
        load_shards,
    )

    if not list(Path(folder).glob('shard_*.npz')):
        os.environ.setdefault('MUJOCO_GL', 'egl')
        print(
            f'rendering {count} held-out frames of {size[0]}x{size[1]} into {folder} '
            '(seed 999, as documented)'
        )
        spec = DatasetSpec(
            HELD_OUT_MAPS + ('demo_lawn', 'large_lawn'),
            count,
            999,
            HELD_OUT_KINDS,
            shard_size=max(count, 1),
            input_width=size[0],
            input_height=size[1],
        )
        generate(spec, folder, map_dir=maps)
    images, labels = load_shards(folder)
    return images[:count], labels[:count]


def camera_frame(img: np.ndarray) -> tuple[np.ndarray, int]:
    """A stored frame at the camera's 320x240 and the factor it was enlarged by (1 or 2).

    Held-out frames are stored at the size a model takes: a halved frame's pixels are repeated
    (its labels are then compared with every ``factor``-th predicted pixel); a full frame is
    used as it is.
    """
    factor = max(CAMERA_WIDTH // img.shape[1], 1)
    if factor == 1:
        return img, 1
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1), factor


def _cmd_bench(args: argparse.Namespace) -> int:
    """Latency (median, p99) per provider and precision; agreement between them; mIoU."""
    import onnxruntime as ort

    from mower_segmentation.metrics import confusion, iou_from_confusion
    from mower_segmentation.runtime import ModelError, Segmenter

    try:  # bad input first, before frames are rendered
        hw = Segmenter(Path(args.models) / INT8_MODEL.name, ['cpu'], threads=1).input_hw
        Segmenter(Path(args.models) / FLOAT_MODEL.name, ['cpu'], threads=1)
    except ModelError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    folder = heldout_folder(args.data, hw)
    images, truth = heldout_frames(folder, args.frames, size=(hw[1], hw[0]))
    frames, factors = zip(*(camera_frame(img) for img in images), strict=True)
    step = factors[0]
    threads_all = os.cpu_count() or 1
    print(
        f'segmentation: {args.frames} frames at 320x240, per-frame latency including pre- '
        f'and post-processing; onnxruntime {ort.__version__}'
    )
    results = {}
    for label, path, prov in (
        ('float', FLOAT_MODEL, 'cpu'),
        ('int8', INT8_MODEL, 'cpu'),
        ('int8', INT8_MODEL, 'qnn-htp'),
    ):
        for threads in (1, threads_all):
            if prov == 'qnn-htp' and threads != 1:
                continue
            seg = Segmenter(Path(args.models) / path.name, [prov], threads=threads)
            if seg.provider != prov:
                print(f'  {label:5} {prov:8}: unavailable: {seg.skipped}')
                continue
            times, outs = [], []
            for _ in range(3):
                seg.segment(frames[0])
            for img in frames:
                t0 = time.perf_counter()
                outs.append(seg.segment(img).labels)
                times.append((time.perf_counter() - t0) * 1000)
            med, p99 = statistics.median(times), float(np.percentile(times, 99))
            note = (
                ' (the QNN HTP backend simulates the NPU on this x86 CPU)'
                if prov == 'qnn-htp'
                else ''
            )
            conf = sum(confusion(o[::step, ::step], t) for o, t in zip(outs, truth, strict=True))
            miou = iou_from_confusion(conf)['miou']
            print(
                f'  {label:5} {prov:8} {threads} thread(s): median {med:7.2f} ms, '
                f'p99 {p99:7.2f} ms, mIoU {miou:.4f} on these frames{note}'
            )
            results[(label, prov, threads)] = (med, np.stack(outs))
    f = results.get(('float', 'cpu', 1))
    i8 = results.get(('int8', 'cpu', 1))
    q = results.get(('int8', 'qnn-htp', 1))
    if f and i8:
        a = float((f[1] == i8[1]).mean())
        print(f'  agreement int8 cpu vs float cpu: {100 * a:.2f}% of pixels (goal >= 98%)')
    if i8 and q:
        a = float((i8[1] == q[1]).mean())
        print(f'  agreement int8 qnn-htp vs int8 cpu: {100 * a:.2f}% of pixels (goal >= 97%)')
    if i8:
        print(f'  int8 cpu, one thread: {i8[0]:.2f} ms = {i8[0] / 5.0:.2f}x the 5 ms goal')
    return 0


def add_segment_parser(sub):
    """Register ``mower segment``; returns its subcommands (others add theirs, as adapt)."""
    from mower_segmentation.train import CALIB_FRAMES  # numpy only, no PyTorch

    p = sub.add_parser('segment', help='segmentation: dataset, train, quantize, eval, bench')
    s = p.add_subparsers(dest='segment_command', required=True)
    d = s.add_parser('dataset', help='render training or held-out frames from the simulator')
    d.add_argument('--out', required=True, help='output folder (not committed)')
    d.add_argument('--frames', type=int, default=16000)
    d.add_argument('--split', choices=('train', 'heldout'), default='train')
    d.add_argument('--seed', type=int, default=1)
    d.add_argument('--maps', default='maps', help='folder of lawn maps')
    d.add_argument(
        '--garden-share',
        type=float,
        default=0.75,
        help='share of training episodes rendered as a real garden (shadows, varied '
        'grass and ground, trees and a house, overcast or low sun)',
    )
    d.add_argument(
        '--near-share',
        type=float,
        default=0.0,
        help='share of frames taken 0.5-3 m from a hidden obstacle, looking at it (default 0)',
    )
    d.add_argument(
        '--edge-share',
        type=float,
        default=0.0,
        help="share of frames taken 0.15-0.6 m inside the lawn's edge, looking along it, "
        'as on a headland pass (default 0)',
    )
    d.add_argument(
        '--kinds',
        default=None,
        help='hidden obstacle kinds, separated by commas (training split: rock, toy, hose, '
        'furniture, the default; pet and post are held out. Held-out split: any of them, '
        'default pet,post), e.g. hose for frames full of garden hoses',
    )
    d.add_argument(
        '--from-images',
        default=None,
        metavar='DIR',
        help='pack your own labelled frames (NAME.png + NAME_labels.png) instead',
    )
    d.add_argument(
        '--full-res',
        action='store_true',
        help="frames at the camera's 320x240 (for training a --full-res model), not halved",
    )
    d.set_defaults(func=_cmd_dataset)
    t = s.add_parser('train', help='train, export ONNX, quantise int8 (resumes from --out)')
    t.add_argument('--data', default='out/dataset/train')
    t.add_argument('--val', default='out/dataset/heldout')
    t.add_argument('--out', default='out/train', help='checkpoints (resume from last.pt)')
    t.add_argument('--models', default=str(MODELS), help='where the ONNX models go')
    t.add_argument('--minutes', type=float, default=55.0, help='time budget')
    t.add_argument('--epochs', type=int, default=30)
    t.add_argument('--batch', type=int, default=16)
    t.add_argument('--threads', type=int, default=2)
    t.add_argument(
        '--lr',
        type=float,
        default=3e-3,
        help='peak learning rate (one-cycle); the pretrained trunk gets a tenth',
    )
    t.add_argument(
        '--arch',
        default='lawnnet-e',
        choices=('lawnnet-e', 'lawnnet'),
        help='lawnnet-e: EfficientNet-Lite0 ImageNet trunk (needs make train-deps)',
    )
    t.add_argument(
        '--val-limit', type=int, default=0, help='validate on the first N frames only (0: all)'
    )
    t.add_argument(
        '--init',
        default=None,
        help='start from these weights (fine-tuning), e.g. models/lawnnet.pt',
    )
    t.add_argument(
        '--full-res',
        action='store_true',
        help="the camera's 320x240 frame as input through a 6x6 stride-4 stem (the --init "
        "model's 3x3 stem and the halving folded into it): thin things such as a hose keep "
        'their pixels; the datasets must be rendered with --full-res',
    )
    t.add_argument(
        '--fine',
        type=_channels,
        default=0,
        metavar='CHANNELS',
        help="add a refinement of this many channels at twice the logits' size (a 3x3 "
        'stride-2 convolution on the frame, mixed with the upsampled logits; it starts at '
        "zero, so training begins from the --init model's outputs) when the model has none "
        '(default 0: none)',
    )
    t.set_defaults(func=_cmd_train)
    q = s.add_parser('quantize', help='int8 QDQ model from a float one (no PyTorch needed)')
    q.add_argument(
        '--float', dest='float_model', default=str(FLOAT_MODEL), help='the float ONNX model'
    )
    q.add_argument('--calib', required=True, help='dataset folders (commas) to calibrate with')
    q.add_argument('--out', required=True, help='the int8 ONNX model to write')
    q.add_argument(
        '--frames',
        type=int,
        default=CALIB_FRAMES,
        help=f'calibration frames, drawn at random (default {CALIB_FRAMES}, as `train` does)',
    )
    q.add_argument(
        '--percentile',
        type=float,
        default=None,
        help='int8 activation ranges at this percentile of the calibration values (default: '
        'their minimum and maximum, as the shipped model; `adapt` uses 99.9)',
    )
    q.add_argument(
        '--per-channel',
        action='store_true',
        help='signed int8 weights with a scale per output channel (as `adapt` makes them, '
        'and the shipped model since step 6; default: uint8 weights with a scale per tensor)',
    )
    q.set_defaults(func=_cmd_quantize)
    sb = s.add_parser(
        'shift-bias',
        help="move one class's decision threshold (its classifier bias), export float + int8",
    )
    sb.add_argument('--init', default=str(MODELS / 'lawnnet.pt'), help='the weights to start from')
    sb.add_argument('--cls', default='obstacle', choices=CLASSES, help='the class to move')
    sb.add_argument(
        '--by',
        type=float,
        required=True,
        help='added to the class logit (negative: fewer pixels of it)',
    )
    sb.add_argument('--calib', required=True, help='dataset folders (commas) to calibrate with')
    sb.add_argument('--frames', type=int, default=CALIB_FRAMES, help='calibration frames')
    sb.add_argument('--per-channel', action='store_true', help='int8 weights per channel')
    sb.add_argument('--models', required=True, help='folder for the three files (not models/)')
    sb.set_defaults(func=_cmd_shift_bias)
    e = s.add_parser(
        'eval',
        help='per-class IoU: held-out simulated set and real frames '
        '(RELLIS-3D, MSRC-21) beside the ADE20K teacher',
    )
    e.add_argument(
        '--data',
        default=None,
        help='held-out frames (default out/dataset/heldout, or heldout_WxH for a model that '
        'takes another size than 160x120; rendered there when absent)',
    )
    e.add_argument('--models', default=str(MODELS))
    e.add_argument('--rellis', default=str(RELLIS))
    e.add_argument(
        '--msrc',
        default=None,
        metavar='DIR',
        help='MSRC-21 photos (images/, labels/; default ../shared/data/msrc21-grass, '
        'skipped when absent)',
    )
    e.add_argument(
        '--teacher',
        metavar='PATH',
        default='../shared/data/ade20k-deeplab/deeplabv3_mnv2_ade20k_int8.tflite',
        help='ADE20K TFLite reference (skipped without it or ai-edge-litert)',
    )
    e.add_argument(
        '--real-only',
        action='store_true',
        help='only the real frames (skip the simulated held-out set)',
    )
    e.add_argument('--limit', type=int, default=0, help='use only the first N held-out frames')
    e.add_argument('--qnn', action='store_true', help='also evaluate on QNN-HTP (slow here)')
    e.add_argument(
        '--contact-sheet',
        default=None,
        metavar='PNG',
        help='write frames, truth and predictions of the real frames as a PNG grid',
    )
    e.add_argument(
        '--sheet-rows',
        type=int,
        default=24,
        help='frames in the contact sheet, worst int8 mIoU first (0: all)',
    )
    e.add_argument(
        '--per-frame',
        default=None,
        metavar='JSON_OR_CSV',
        help='write per-frame pixel accuracy and IoU (.csv for CSV, else JSON)',
    )
    e.add_argument('--json', default=None, help='also write the figures to this file')
    e.set_defaults(func=_cmd_eval)
    r = s.add_parser('teacher', help='fetch the ADE20K teacher model (pinned, sha256 checked)')
    r.add_argument('--download', required=True, metavar='DIR', help='folder to put it in')
    r.add_argument(
        '--variant',
        choices=('int8', 'uint8'),
        default='int8',
        help='int8: about 0.05 s a frame; uint8: about 0.15 s, a little better',
    )
    r.add_argument(
        '--url-base',
        default=None,
        help='a mirror of the pinned files (default: the pinned GitHub address)',
    )
    r.set_defaults(func=_cmd_teacher)
    b = s.add_parser('bench', help='latency per provider and precision, and agreement')
    b.add_argument(
        '--data',
        default=None,
        help="held-out frames (default as for eval: chosen by the int8 model's input size)",
    )
    b.add_argument('--models', default=str(MODELS))
    b.add_argument('--frames', type=int, default=100)
    b.set_defaults(func=_cmd_bench)
    return s
