"""Training data from the simulator: domain-randomised frames with ground-truth labels.

Frames are rendered at the camera's 320x240, reduced to the model's input size (2x2 mean for
colour, the top-left pixel of each block for labels), and written as compressed ``.npz`` shards
of ``images`` (N, H, W, 3) uint8 and ``labels`` (N, H, W) uint8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

#: Held out from training: these obstacle kinds and maps appear only in the evaluation set.
HELD_OUT_KINDS = ('pet', 'post')
TRAIN_KINDS = ('rock', 'toy', 'hose', 'furniture')
HELD_OUT_MAPS = ('back_garden',)


@dataclass(frozen=True)
class DatasetSpec:
    """What to render."""

    maps: tuple[str, ...]
    frames: int
    seed: int
    kinds: tuple[str, ...]
    frames_per_episode: int = 40
    shard_size: int = 1000
    input_width: int = 160
    input_height: int = 120
    #: share of episodes rendered as a real garden (mower_sim WorldConfig.garden: varied grass
    #: and ground, shadows, trees and a house beside the lawn, sky from clear to overcast)
    garden_share: float = 0.0
    #: share of frames taken 0.5-3 m from a hidden obstacle, looking at it (as the mower meets
    #: a hose or a toy); the others anywhere on the lawn
    near_share: float = 0.0
    #: share of frames taken 0.15-0.6 m inside the lawn's edge (its boundary, a bed's or a
    #: tree's outline), looking along it, as the mower sees the edge on a headland pass: the
    #: ground beside the lawn then fills the bottom corner of the frame, where random poses
    #: rarely put it
    edge_share: float = 0.0


def reduce_frame(
    rgb: np.ndarray, labels: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Camera frame to model size: block mean for colour, block corner for labels."""
    fy, fx = rgb.shape[0] // height, rgb.shape[1] // width
    small = rgb[: height * fy, : width * fx].reshape(height, fy, width, fx, 3).mean(axis=(1, 3))
    return small.round().astype(np.uint8), label_pixels(labels, width, height)


def label_pixels(labels: np.ndarray, width: int, height: int) -> np.ndarray:
    """A frame's per-pixel array (H, W[, C]) at model size: the block corner, as for labels."""
    fy, fx = labels.shape[0] // height, labels.shape[1] // width
    return labels[::fy, ::fx][:height, :width].copy()


def _edge_pose(mowable, rng: np.random.Generator) -> tuple[float, float, float] | None:
    """A pose 0.15-0.6 m inside the mowable area's outline, looking along it.

    The point on the outline is drawn by length, the heading either way along it (within
    about 17 degrees); None where no pose fits there.
    """
    import shapely

    parts = [g for g in shapely.get_parts(mowable.boundary) if g.length > 0.5]
    if not parts:
        return None
    lengths = np.array([g.length for g in parts])
    part = parts[int(rng.choice(len(parts), p=lengths / lengths.sum()))]
    s = rng.uniform(0.0, part.length)
    a, b = part.interpolate(s), part.interpolate(min(s + 0.05, part.length))
    if a.distance(b) < 1e-6:
        b, a = a, part.interpolate(max(s - 0.05, 0.0))
    tx, ty = (b.x - a.x) / a.distance(b), (b.y - a.y) / a.distance(b)
    d = rng.uniform(0.15, 0.6)
    for side in (1.0, -1.0):  # the normal that points into the lawn
        x, y = a.x - side * ty * d, a.y + side * tx * d
        if mowable.contains(shapely.Point(x, y)) and part.distance(shapely.Point(x, y)) > 0.1:
            heading = math.atan2(ty, tx) + (math.pi if rng.random() < 0.5 else 0.0)
            return float(x), float(y), float(heading + rng.normal(0, 0.3))
    return None


def _episode_poses(
    sim,
    rng: np.random.Generator,
    n: int,
    near_share: float = 0.0,
    edge_share: float = 0.0,
) -> list[tuple[float, float, float]]:
    """Poses on the lawn, half of them looking at an obstacle or the edge.

    A share ``near_share`` of them (drawn only when above 0, so that older datasets render as
    they did) stand 0.5-3 m from a hidden obstacle's footprint and look at it; a share
    ``edge_share`` (likewise) stand just inside the lawn's edge and look along it.
    """
    import shapely

    lawn = sim.lawn
    mowable = lawn.mowable_area()
    area = mowable.buffer(-0.25)
    if area.is_empty:
        area = lawn.boundary
    minx, miny, maxx, maxy = area.bounds
    targets = [p.centroid for p in sim.world.obstacle_footprints]
    hidden = list(sim.world.hidden_footprints)
    poses = []
    tries = 0
    while len(poses) < n and tries < 50 * n:
        tries += 1
        if edge_share > 0 and rng.random() < edge_share:
            pose = _edge_pose(mowable, rng)
            if pose is not None:
                poses.append(pose)
            continue
        if hidden and near_share > 0 and rng.random() < near_share:
            foot = hidden[int(rng.integers(0, len(hidden)))]
            d, a = rng.uniform(0.5, 3.0), rng.uniform(-math.pi, math.pi)
            c = foot.centroid
            x, y = c.x + d * math.cos(a), c.y + d * math.sin(a)
            p = shapely.Point(x, y)
            if not area.contains(p) or foot.distance(p) < 0.3:
                continue
            yaw = math.atan2(c.y - y, c.x - x) + rng.normal(0, 0.35)
            poses.append((float(x), float(y), float(yaw)))
            continue
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not area.contains(shapely.Point(x, y)):
            continue
        if targets and rng.random() < 0.5:
            t = targets[int(rng.integers(0, len(targets)))]
            yaw = math.atan2(t.y - y, t.x - x) + rng.normal(0, 0.3)
        else:
            yaw = rng.uniform(-math.pi, math.pi)
        poses.append((float(x), float(y), float(yaw)))
    return poses


def generate(
    spec: DatasetSpec, out: str | Path, map_dir: str | Path = 'maps', progress: bool = True
) -> list[Path]:
    """Render ``spec.frames`` frames into shards under ``out``; returns the shard paths."""
    from tqdm import tqdm

    from mower_maps import load_map
    from mower_sim.scenario import random_hidden
    from mower_sim.sim import LawnSim
    from mower_sim.world import WorldConfig

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lawns = [load_map(Path(map_dir) / f'{m}.geojson') for m in spec.maps]
    rng = np.random.default_rng(spec.seed)
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    shards: list[Path] = []
    written = 0

    def flush() -> None:
        nonlocal written
        if images:
            path = out / f'shard_{len(shards):04d}.npz'
            np.savez_compressed(path, images=np.stack(images), labels=np.stack(labels))
            shards.append(path)
            written += len(images)
            images.clear()
            labels.clear()

    bar = tqdm(total=spec.frames, desc='rendering', unit='frame', disable=not progress)
    episode = 0
    while written + len(images) < spec.frames:
        lawn = lawns[episode % len(lawns)]
        seed = int(rng.integers(0, 2**31 - 1))
        hidden = random_hidden(lawn, int(rng.integers(2, 7)), seed, spec.kinds)
        garden = bool(rng.random() < spec.garden_share) if spec.garden_share > 0 else False
        config = WorldConfig(hidden=hidden, randomise=True, garden=garden)
        if garden:  # other robots' cameras: higher, flatter or steeper, wider or narrower
            config = replace(
                config,
                mower=replace(
                    config.mower,
                    camera_z_m=float(rng.uniform(0.25, 0.8)),
                    camera_pitch_deg=float(rng.uniform(-3.0, 25.0)),
                    camera_fovy_deg=float(rng.uniform(45.0, 70.0)),
                ),
            )
        sim = LawnSim(lawn, config, seed=seed)
        for x, y, yaw in _episode_poses(
            sim, rng, spec.frames_per_episode, spec.near_share, spec.edge_share
        ):
            if written + len(images) >= spec.frames:
                break
            sim.set_pose(x, y, yaw)
            sim.data.qvel[5] = rng.normal(0, 0.4)  # a yaw rate, for motion blur
            frame = sim.camera()
            rgb, lab = reduce_frame(frame.rgb, frame.labels, spec.input_width, spec.input_height)
            images.append(rgb)
            labels.append(lab)
            bar.update(1)
            if len(images) == spec.shard_size:
                flush()
        sim.close()
        episode += 1
    flush()
    bar.close()
    return shards


def pack_labelled_images(
    folder: str | Path,
    out: str | Path,
    width: int = 160,
    height: int = 120,
    shard_size: int = 1000,
) -> list[Path]:
    """Shards from a user's own labelled frames: ``NAME.png|jpg`` with ``NAME_labels.png``.

    Label images hold class ids (0 lawn, 1 other ground, 2 obstacle, 3 sky, 255 ignore). This is
    how a lawn's own frames (for example from ``mower replay --extract-frames``, labelled in any
    tool) become fine-tuning data.
    """
    import cv2

    folder, out = Path(folder), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = []
    for img in sorted(folder.iterdir()):
        if img.suffix.lower() not in ('.png', '.jpg', '.jpeg') or img.stem.endswith('_labels'):
            continue
        lab = img.with_name(f'{img.stem}_labels.png')
        if lab.exists():
            pairs.append((img, lab))
    if not pairs:
        raise FileNotFoundError(f'no IMAGE + IMAGE_labels.png pairs in {folder}')
    shards = []
    for start in range(0, len(pairs), shard_size):
        images, labels = [], []
        for img_path, lab_path in pairs[start : start + shard_size]:
            rgb = cv2.cvtColor(cv2.imread(str(img_path)), cv2.COLOR_BGR2RGB)
            lab = cv2.imread(str(lab_path), cv2.IMREAD_UNCHANGED)
            if lab is None or lab.shape[:2] != rgb.shape[:2]:
                raise ValueError(f'{lab_path}: missing or not the size of {img_path.name}')
            images.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
            labels.append(
                cv2.resize(
                    lab if lab.ndim == 2 else lab[..., 0],
                    (width, height),
                    interpolation=cv2.INTER_NEAREST,
                )
            )
        path = out / f'shard_{len(shards):04d}.npz'
        np.savez_compressed(path, images=np.stack(images), labels=np.stack(labels))
        shards.append(path)
    return shards


def load_soft(folder: str | Path) -> np.ndarray | None:
    """The class probabilities (N, H, W, C) uint8 of a dataset folder's frames, where it has them.

    ``mower segment adapt`` writes the teacher's probabilities (255 = 1) beside its labels as
    ``soft``; None where any shard lacks them (rendered datasets have labels only).
    """
    paths = sorted(Path(folder).glob('shard_*.npz'))
    parts = []
    for path in paths:
        with np.load(path) as data:
            if 'soft' not in data.files:
                return None
            parts.append(data['soft'])
    return np.concatenate(parts) if parts else None


def load_shards(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """All images and labels of a dataset folder."""
    paths = sorted(Path(folder).glob('shard_*.npz'))
    if not paths:
        raise FileNotFoundError(f'no shard_*.npz in {folder}')
    data = [np.load(p) for p in paths]
    return (
        np.concatenate([d['images'] for d in data]),
        np.concatenate([d['labels'] for d in data]),
    )
