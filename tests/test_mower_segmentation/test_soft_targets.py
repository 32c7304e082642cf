"""Training against class probabilities beside the labels (distillation, ``soft_weight``).

``mower segment adapt`` stores the teacher's class probabilities beside its labels; training
augments them with the same flips and crops as the labels and gives ``soft_weight`` of the loss
to a cross-entropy against them. These tests check the augmentation keeps the two aligned,
that the loss is the usual cross-entropy for one-hot probabilities, and that training follows
the probabilities where they and the labels differ.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mower_segmentation.augment import AugmentConfig, augment_batch_soft, augment_frame_soft
from mower_segmentation.classes import IGNORE, LAWN, OBSTACLE, OTHER, SKY
from mower_segmentation.dataset import load_shards, load_soft

NONE = AugmentConfig(
    flip=0.0,
    zoom=0.0,
    shadow=0.0,
    white_balance=0.0,
    exposure=0.0,
    saturation=0.0,
    hue_deg=0.0,
    vignette=0.0,
    lens_blur=0.0,
    motion_blur=0.0,
    noise=0.0,
    jpeg=0.0,
    sky=0.0,
    paste=0.0,
)


def _frame(seed: int = 0, h: int = 120, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """Sky above, lawn below with a patch of other ground and an ignored corner."""
    rng = np.random.default_rng(seed)
    labels = np.full((h, w), LAWN, np.uint8)
    labels[: h // 3] = SKY
    labels[h // 2 : h // 2 + 20, w // 4 : w // 2] = OTHER
    labels[-10:, -10:] = IGNORE
    rgb = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return rgb, labels


def _probs(labels: np.ndarray, sure: float = 0.7) -> np.ndarray:
    """Probabilities whose likeliest class is the label (``sure``), the rest shared out."""
    p = np.zeros(labels.shape + (4,), np.float32)  # none where ignored, as adapt stores them
    has = labels != IGNORE
    p[has] = np.where(np.eye(4, dtype=bool)[labels[has]], sure, (1 - sure) / 3)
    return p


def test_the_probabilities_take_the_labels_flip_and_crop():
    rgb, labels = _frame()
    probs = _probs(labels)
    # a mirror image only: probabilities and labels mirrored alike
    out, lab, p = augment_frame_soft(
        rgb, labels, probs, np.random.default_rng(0), replace(NONE, flip=1.0)
    )
    assert np.array_equal(lab, labels[:, ::-1]) and np.array_equal(out, rgb[:, ::-1])
    assert np.array_equal(p, probs[:, ::-1])
    # crops: the labels by nearest neighbour, the probabilities linearly, so they agree away
    # from the edges between classes; the frame is the plain augmentation's
    for seed in range(5):
        cfg = replace(NONE, flip=0.5, zoom=1.0)
        out, lab, p = augment_frame_soft(rgb, labels, probs, np.random.default_rng(seed), cfg)
        assert p.shape == (120, 160, 4) and p.dtype == np.float32
        has = lab != IGNORE
        assert has.mean() > 0.8
        # OpenCV's nearest neighbour and linear resizing place pixel centres half a pixel
        # apart: they may differ on the edges between classes only
        assert (p[has].argmax(-1) == lab[has]).mean() > 0.98
        assert (np.abs(p[has].sum(-1) - 1.0) < 1e-4).mean() > 0.98  # but by the ignored corner


def test_a_pasted_object_makes_its_probabilities_obstacle():
    rgb, labels = _frame(1)
    probs = _probs(labels)
    cfg = replace(NONE, paste=1.0)
    pasted = 0
    for seed in range(4):
        _, lab, p = augment_frame_soft(rgb, labels, probs, np.random.default_rng(seed), cfg)
        new = (lab == OBSTACLE) & (labels != OBSTACLE)
        pasted += int(new.sum())
        assert (p[new] == np.eye(4, dtype=np.float32)[OBSTACLE]).all()
        assert np.array_equal(p[~new], probs[~new])  # untouched elsewhere
    assert pasted > 0


def test_a_batch_keeps_frames_labels_and_probabilities_together():
    pairs = [_frame(s) for s in range(3)]
    images = np.stack([p[0] for p in pairs])
    labels = np.stack([p[1] for p in pairs])
    probs = np.stack([_probs(lab) for lab in labels])
    x, y, p = augment_batch_soft(images, labels, probs, np.random.default_rng(2))
    assert x.shape == images.shape and y.shape == labels.shape and p.shape == probs.shape
    has = y != IGNORE
    assert (p[has].argmax(-1) == y[has]).mean() > 0.98


def test_the_soft_loss_is_the_cross_entropy_of_one_hot_labels():
    torch = pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')
    from torch.nn import functional as F  # noqa: N812

    from mower_segmentation.train import soft_loss

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 6, 5, generator=gen)
    labels = torch.randint(0, 4, (2, 6, 5), generator=gen)
    labels[0, :2] = IGNORE
    one_hot = F.one_hot(labels.clamp(max=3), 4).permute(0, 3, 1, 2).float()
    ones = torch.ones(4)
    expected = F.cross_entropy(logits, labels, ignore_index=IGNORE)
    assert torch.allclose(soft_loss(logits, one_hot, labels, ones), expected, atol=1e-6)
    # class weights: each pixel weighted by its class's, over the labelled pixels' count
    w = torch.tensor([0.5, 2.0, 1.0, 1.5])
    per = F.cross_entropy(logits, labels, ignore_index=IGNORE, reduction='none')
    mask = labels != IGNORE
    manual = (per * w[labels.clamp(max=3)])[mask].sum() / mask.sum()
    assert torch.allclose(soft_loss(logits, one_hot, labels, w), manual, atol=1e-6)
    # a softer target: lower where the logits agree with it, and ignored pixels never count
    soft = torch.full_like(one_hot, 0.25)
    changed = logits.clone()
    changed[0, :, :2] += 100.0  # only ignored pixels change
    assert torch.allclose(
        soft_loss(logits, soft, labels, ones), soft_loss(changed, soft, labels, ones)
    )


BANDS = (
    (SKY, (90, 140, 230)),
    (OBSTACLE, (120, 60, 40)),
    (OTHER, (150, 150, 150)),
    (LAWN, (40, 160, 40)),
)


def _soft_shard(folder, soft_class: int | None, n: int = 32) -> None:
    """Frames of four bands of colour, one per class and labelled so.

    In the lawn band the probabilities say ``soft_class`` instead (elsewhere the labels');
    None: none stored.
    """
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = np.zeros((n, 120, 160, 3), np.int16)
    labels = np.zeros((n, 120, 160), np.uint8)
    for k, (cls, colour) in enumerate(BANDS):
        images[:, k * 30 : (k + 1) * 30] = colour
        labels[:, k * 30 : (k + 1) * 30] = cls
    images += rng.integers(-20, 21, images.shape, dtype=np.int16)
    arrays = {'images': np.clip(images, 0, 255).astype(np.uint8), 'labels': labels}
    if soft_class is not None:
        soft = (np.eye(4)[labels] * 255).astype(np.uint8)
        soft[:, 90:] = (np.eye(4)[soft_class] * 255).astype(np.uint8)
        arrays['soft'] = soft
    np.savez_compressed(folder / 'shard_0000.npz', **arrays)


def test_load_soft_reads_them_where_every_shard_has_them(tmp_path):
    _soft_shard(tmp_path / 'with', OTHER)
    _soft_shard(tmp_path / 'without', None)
    soft = load_soft(tmp_path / 'with')
    assert soft is not None and soft.shape == (32, 120, 160, 4)
    assert (soft[:, 90:, :, OTHER] == 255).all() and (soft[:, :30, :, SKY] == 255).all()
    assert load_soft(tmp_path / 'without') is None
    assert load_shards(tmp_path / 'with')[1].shape == (32, 120, 160)


@pytest.mark.parametrize(
    ('weight', 'soft', 'expected'), [(1.0, True, OTHER), (0.0, True, LAWN), (1.0, False, LAWN)]
)
def test_training_follows_the_probabilities_by_their_weight(tmp_path, weight, soft, expected):
    """In the lawn band the labels say lawn, the probabilities other ground.

    The weight decides which is learnt; without probabilities in the data, the labels.
    """
    torch = pytest.importorskip('torch', reason='PyTorch (the training extra) is not installed')

    from mower_segmentation.model import LawnNet, load_model, save_model
    from mower_segmentation.train import TrainConfig, normalise, predict_logits, train

    torch.manual_seed(0)
    save_model(LawnNet(width=4), tmp_path / 'init.pt')
    _soft_shard(tmp_path / 'd', OTHER if soft else None)
    logs: list[str] = []
    cfg = TrainConfig(
        data=str(tmp_path / 'd'),
        val=str(tmp_path / 'd'),
        out=str(tmp_path / 'ck'),
        init=str(tmp_path / 'init.pt'),
        epochs=10,
        batch=8,
        lr=1e-2,
        threads=1,
        soft_weight=weight,
        width=4,
    )
    train(cfg, log=logs.append)
    model = load_model(tmp_path / 'ck' / 'last.pt').eval()
    images = load_shards(tmp_path / 'd')[0]
    with torch.no_grad():
        pred = predict_logits(model, torch.from_numpy(normalise(images))).argmax(1).numpy()
    assert (pred[:, 95:115] == expected).mean() > 0.9  # the lawn band, its edges aside
    assert (pred[:, 65:85] == OTHER).mean() > 0.9  # the other ground band: the two agree
    no_soft_line = any('no class probabilities' in m for m in logs)
    assert no_soft_line == (weight > 0 and not soft)
