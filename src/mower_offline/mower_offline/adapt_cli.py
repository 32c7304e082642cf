"""``mower segment adapt`` and ``adapt-proof`` (registered by mower_cli beside ``mower segment``).

They live here, in the composition package, because adaptation reads field bags through the
replay (mower_offline) and fine-tunes the segmentation model (mower_segmentation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mower_segmentation.cli import missing_training_extra


def _cmd_adapt(args: argparse.Namespace) -> int:
    """Fine-tune on the owner's own frames (mower_offline.adapt); bad input: one line."""
    if missing_training_extra('adapt'):
        return 1
    from mower_offline.adapt import AdaptConfig, AdaptError, adapt, check_out
    from mower_offline.out_dir import OutputError, claim_output

    cfg = AdaptConfig(
        inputs=tuple(args.inputs),
        out=args.out,
        map=args.map or '',
        teacher=args.teacher,
        init=args.init,
        minutes=args.minutes,
        epochs=args.epochs,
        threads=args.threads,
        review=args.review or '',
        holdout=args.holdout,
        every=args.every,
        rounds=args.rounds,
        seed=args.seed,
        soft_weight=args.soft_weight,
    )
    try:
        check_out(args.out, args.init)  # never inside models/: checked before it is created
        with claim_output(args.out, [*args.inputs, *([args.map] if args.map else [])]):
            s = adapt(cfg)
    except (AdaptError, OutputError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(
        f'adapted model: {Path(args.out) / "lawnnet_adapted_int8.onnx"}; card, figures and '
        f'a config snippet in {args.out} ({s["frames"]["train"]} frames trained on, '
        f'{s["frames"]["held_back"]} held back)'
    )
    return 0


def _cmd_adapt_proof(args: argparse.Namespace) -> int:
    """Adapt on half of MSRC-21, score on the other half against its ground truth."""
    if missing_training_extra('adapt-proof'):
        return 1
    from mower_offline.adapt import AdaptError, msrc_proof
    from mower_offline.out_dir import OutputError, claim_output

    try:
        with claim_output(args.out, [args.msrc]):
            msrc_proof(
                args.msrc,
                args.out,
                minutes=args.minutes,
                threads=args.threads,
                teacher=args.teacher,
                init=args.init,
                shipped=args.shipped,
                epochs=args.epochs,
                rounds=args.rounds,
                seed=args.seed,
                soft_weight=args.soft_weight,
            )
    except (AdaptError, OutputError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0


def add_adapt_parsers(s) -> None:
    """``mower segment adapt`` and ``mower segment adapt-proof``."""
    from mower_offline.adapt import DEFAULT_INIT, DEFAULT_MSRC, DEFAULT_TEACHER

    a = s.add_parser(
        'adapt',
        help="learn your own lawn: fine-tune on your bags' or photos' "
        'frames, labelled by the teacher, the map and your review',
    )
    a.add_argument(
        'inputs',
        nargs='+',
        metavar='BAG_OR_FRAMES',
        help='field bags (.mcap, .db3, .bag, rosbag2 folders), folders of images '
        'or images; other sizes are centre-cropped to 4:3 and resized to '
        '320x240',
    )
    a.add_argument(
        '--out',
        required=True,
        metavar='DIR',
        help='everything goes here (never models/); training resumes from DIR/train',
    )
    a.add_argument(
        '--map',
        default=None,
        metavar='MAP',
        help='lawn map (GeoJSON): geometry labels where the bag has poses',
    )
    a.add_argument(
        '--teacher',
        default=DEFAULT_TEACHER,
        metavar='PATH',
        help='ADE20K TFLite teacher (mower segment teacher --download DIR fetches it)',
    )
    a.add_argument('--init', default=DEFAULT_INIT, help='weights to start from')
    a.add_argument('--minutes', type=float, default=30.0, help='training time budget')
    a.add_argument(
        '--epochs',
        type=int,
        default=30,
        help='at most this many epochs (fewer when --minutes would cut them short)',
    )
    a.add_argument('--threads', type=int, default=2, help='CPU threads for training and labels')
    a.add_argument(
        '--review',
        default=None,
        metavar='LIST',
        help='DIR/review/frames.txt of an earlier run, with the frames to leave out '
        'deleted or commented out (#)',
    )
    a.add_argument(
        '--holdout',
        type=float,
        default=0.25,
        help='share of the frames held back for the before / after figures',
    )
    a.add_argument('--every', type=int, default=10, help='every Nth camera frame of a bag')
    _add_round_options(a)
    a.set_defaults(func=_cmd_adapt)
    p = s.add_parser(
        'adapt-proof',
        help='the benchmark: adapt on half of the MSRC-21 photos, '
        'score on the other half (evaluation only: non-commercial data)',
    )
    p.add_argument('--msrc', default=DEFAULT_MSRC, metavar='DIR')
    p.add_argument(
        '--out',
        default='out/adapt_proof',
        metavar='DIR',
        help='the adapted weights stay here (never committed)',
    )
    p.add_argument(
        '--epochs',
        type=int,
        default=30,
        help='epochs (fixed, so that the figure does not depend on the machine: 30, as '
        "`adapt`'s default)",
    )
    p.add_argument(
        '--minutes',
        type=float,
        default=30.0,
        help='training time budget: caps the epochs on a slow machine (about 5 minutes '
        'on one thread here)',
    )
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--teacher', default=DEFAULT_TEACHER, metavar='PATH')
    p.add_argument('--init', default=DEFAULT_INIT, help='weights to start from')
    p.add_argument(
        '--shipped', default='models/lawnnet_int8.onnx', help='the shipped int8 model to compare'
    )
    _add_round_options(p)
    p.set_defaults(func=_cmd_adapt_proof)


def _add_round_options(p: argparse.ArgumentParser) -> None:
    """``--rounds``, ``--seed`` and ``--soft-weight``, shared by ``adapt`` and ``adapt-proof``."""
    from mower_offline.adapt import AdaptConfig

    p.add_argument(
        '--rounds',
        type=int,
        default=AdaptConfig.rounds,
        help='training rounds: each after the first relabels the frames with the teacher and '
        'the last student together and trains again (about twice the time for 2)',
    )
    p.add_argument(
        '--seed', type=int, default=0, help="training's random seed (shuffling, augmentation)"
    )
    p.add_argument(
        '--soft-weight',
        type=float,
        default=AdaptConfig.soft_weight,
        help="share of the loss against the teacher's class probabilities rather than its "
        'labels (distillation), 0 to 1; 0: the labels alone',
    )
