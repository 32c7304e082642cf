"""Frames and labels for ``mower segment adapt``: reading, fitting, geometry, the owner's review.

Frames come from field bags (the replay's reader, :mod:`mower_offline.replay`, which also gives
each frame its pose) or folders of images; labels from the teacher
(:mod:`mower_segmentation.teacher`), geometry and the owner's review:

* **Frames** of any size become the camera's 320x240: a centre crop to 4:3 (the wider side is
  cut evenly on both sides), then a resize (area interpolation when shrinking, linear when
  enlarging), as :func:`mower_segmentation.realdata.to_camera` does for the real test sets. The
  camera intrinsics are carried through the same crop and scale (:func:`fit_camera`).
* **Geometry**: where a frame has a pose and the lawn has a map, each pixel is followed down to
  the ground (flat ground, the camera mounting of ``config/mapping.yaml``, the robot's roll and
  pitch); within ``near_m`` of the camera a ground point inside the mapped lawn (shrunk by a
  margin for pose and calibration error) is lawn, one inside a keep-out is other ground, and
  every other pixel has no geometric opinion (IGNORE).
* **Agreement** (:func:`combine_labels`): where geometry has an opinion and the teacher says
  something else, the pixel is ignored (a toy on the lawn projects into the lawn, a patch of
  grass can be a keep-out: neither source is trusted alone); where the teacher has no opinion
  the geometry fills in; elsewhere the teacher's label stands.
* **Review**: numbered contact sheets (frame | labels) and a list file, one frame a line; the
  owner deletes a line or puts ``#`` in front of it to leave that frame out.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from mower_segmentation.classes import CLASSES, IGNORE, LAWN, OTHER

CAMERA_SIZE = (320, 240)  # (width, height): the mower camera's frames
NEAR_M = 3.0  # geometry labels only this close to the camera (pose and tilt errors grow)
MARGIN_M = 0.3  # the lawn and keep-outs are shrunk by this before geometry labels them
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')
BAG_SUFFIXES = ('.mcap', '.db3', '.bag')
BAG_BLOCK = 5  # consecutive kept bag frames that go to the same split
REVIEW_HEADER = (
    '# mower segment adapt: the frames of this run, one a line: its number on the contact\n'
    '# sheets (contact_sheet_001.png, ...), then the frame. To leave a frame out, delete its\n'
    "# line or put '#' in front of it; then run again with --review <this file>. Only the\n"
    '# lines without # are used.\n'
)


class AdaptError(RuntimeError):
    """A fault in the input (a file, a folder, an option): one line naming it."""


@dataclass(frozen=True)
class BagOptions:
    """How frames are taken from bags and given geometry labels."""

    every: int = 10  # every Nth camera frame of a bag
    max_pose_gap_s: float = 0.25  # a frame further than this from any pose gets no geometry
    near_m: float = NEAR_M
    fallback_fovy_deg: float = 60.0  # vertical field of view when a bag has no camera info
    progress: bool = True  # a progress bar per bag


@dataclass
class AdaptFrame:
    """One frame for adaptation, fitted to the camera's 320x240."""

    key: str  # a stable name: the review list's and the split's
    source: str  # the bag or folder it came from
    rgb: np.ndarray  # (240, 320, 3) uint8
    geometry: np.ndarray | None = None  # (240, 320) uint8 geometry labels, None: no pose/map
    block: str = ''  # frames of one block go to the same split (default: the key)


@dataclass
class SourceInfo:
    """What one input gave: for the card and the summary."""

    path: str
    kind: str  # 'bag' or 'folder'
    frames: int = 0
    with_geometry: int = 0
    notes: list[str] = field(default_factory=list)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# -- fitting frames to the camera -------------------------------------------------------------


def crop_box(
    width: int, height: int, size: tuple[int, int] = CAMERA_SIZE
) -> tuple[int, int, int, int]:
    """(x0, y0, w, h) of the centre crop of a ``width`` x ``height`` image to ``size``'s aspect."""
    w_out, h_out = size
    if width * h_out > height * w_out:  # too wide: cut the sides
        cw = max(1, round(height * w_out / h_out))
        return (width - cw) // 2, 0, cw, height
    ch = max(1, round(width * h_out / w_out))  # too tall (or right): cut top and bottom
    return 0, (height - ch) // 2, width, ch


def fit_frame(rgb: np.ndarray, size: tuple[int, int] = CAMERA_SIZE) -> np.ndarray:
    """The image as the camera gives it: centre crop to 4:3, then resize to ``size``."""
    x0, y0, w, h = crop_box(rgb.shape[1], rgb.shape[0], size)
    crop = rgb[y0 : y0 + h, x0 : x0 + w]
    if crop.shape[1] == size[0] and crop.shape[0] == size[1]:
        return np.ascontiguousarray(crop)
    shrink = crop.shape[1] > size[0]
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def fit_camera(
    k: np.ndarray, width: int, height: int, size: tuple[int, int] = CAMERA_SIZE
) -> np.ndarray:
    """The intrinsic matrix after :func:`fit_frame`'s crop and scale (distortion unchanged)."""
    x0, y0, w, h = crop_box(width, height, size)
    sx, sy = size[0] / w, size[1] / h
    a = np.array([[sx, 0.0, -x0 * sx], [0.0, sy, -y0 * sy], [0.0, 0.0, 1.0]])
    return a @ np.asarray(k, dtype=float).reshape(3, 3)


# -- geometry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroundAreas:
    """Where the map says the ground is lawn, and where it is a keep-out (map frame, metres)."""

    lawn: object  # shapely geometry: the mowable area shrunk by the margin
    keepout: object  # shapely geometry: the keep-outs shrunk by the margin (may be empty)
    boundary: object  # shapely geometry: the whole mapped area (to check poses against)


@dataclass(frozen=True)
class FramePose:
    """The robot's pose when a frame was taken (map frame): metres and radians."""

    x_m: float
    y_m: float
    yaw_rad: float
    roll_rad: float = 0.0
    pitch_rad: float = 0.0


def ground_areas(lawn_map, margin_m: float = MARGIN_M) -> GroundAreas:
    """The lawn and keep-out areas of a :class:`mower_maps.LawnMap`, shrunk by ``margin_m``."""
    import shapely
    from shapely.geometry import Polygon

    keepouts = [f.geometry for f in lawn_map.by_role('keepout')]
    keepout = shapely.union_all(keepouts) if keepouts else Polygon()
    lawn = lawn_map.mowable_area().buffer(-margin_m)
    keep = keepout.buffer(-margin_m) if not keepout.is_empty else keepout
    shapely.prepare(lawn)
    if not keep.is_empty:
        shapely.prepare(keep)
    return GroundAreas(lawn, keep, lawn_map.boundary)


class GeometryLabeller:
    """Geometry labels for frames of one camera (its ground look-up table is built once)."""

    def __init__(self, camera, areas: GroundAreas, near_m: float = NEAR_M) -> None:
        """``camera``: a :class:`mower_perception.camera_model.CameraModel` of the fitted frame."""
        from mower_perception.camera_model import ground_lut

        self.camera = camera
        self.areas = areas
        self.lut = ground_lut(camera, stride=1, max_range_m=near_m)

    def labels(self, pose: FramePose) -> np.ndarray:
        """(H, W) uint8: LAWN, OTHER (keep-out) or IGNORE for the frame taken at ``pose``."""
        import shapely

        out = np.full((self.camera.height, self.camera.width), IGNORE, np.uint8)
        xy, valid = self.lut.ground_xy(pose.roll_rad, pose.pitch_rad)
        if not valid.any():
            return out
        c, s = math.cos(pose.yaw_rad), math.sin(pose.yaw_rad)
        bx, by = xy[valid, 0], xy[valid, 1]
        wx, wy = pose.x_m + c * bx - s * by, pose.y_m + s * bx + c * by
        rows, cols = self.lut.rows[valid], self.lut.cols[valid]
        if not self.areas.lawn.is_empty:
            inside = shapely.contains_xy(self.areas.lawn, wx, wy)
            out[rows[inside], cols[inside]] = LAWN
        if not self.areas.keepout.is_empty:
            inside = shapely.contains_xy(self.areas.keepout, wx, wy)
            out[rows[inside], cols[inside]] = OTHER
        return out


def combine_labels(teacher: np.ndarray, geometry: np.ndarray | None) -> np.ndarray:
    """Teacher labels where geometry has no opinion or agrees; IGNORE where they disagree.

    Where the teacher has no opinion (IGNORE) and geometry has one, geometry's label is used.
    """
    if geometry is None:
        return teacher.copy()
    out = teacher.copy()
    has = geometry != IGNORE
    fill = has & (teacher == IGNORE)
    out[fill] = geometry[fill]
    out[has & ~fill & (teacher != geometry)] = IGNORE
    return out


def load_lawn_map(path: str | Path, margin_m: float = MARGIN_M) -> GroundAreas:
    """The lawn map's ground areas (shrunk by ``margin_m``), or AdaptError naming the fault."""
    from mower_maps.lawn_map import MapError, load_map

    try:
        lawn = load_map(path)
    except MapError as exc:
        raise AdaptError(str(exc)) from None
    return ground_areas(lawn, margin_m)


# -- reading frames ---------------------------------------------------------------------------


def is_bag(path: Path) -> bool:
    """A bag file (.mcap, .db3, .bag) or a rosbag2 folder (metadata.yaml, .mcap or .db3)."""
    if path.is_file():
        return path.suffix.lower() in BAG_SUFFIXES
    return path.is_dir() and (
        (path / 'metadata.yaml').is_file() or any(path.glob('*.mcap')) or any(path.glob('*.db3'))
    )


def read_image(path: Path) -> np.ndarray:
    """RGB (H, W, 3) uint8 of an image file; AdaptError naming the file otherwise."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if img is None:
        raise AdaptError(f'{path}: not a readable image (empty, truncated or not an image)')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def folder_frames(folder: Path, info: SourceInfo) -> list[AdaptFrame]:
    """Every image of a folder (sorted by name; ``*_labels.png`` of a replay extract skipped)."""
    paths = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.stem.endswith('_labels')
    )
    if not paths:
        raise AdaptError(f'{folder}: no images ({", ".join(IMAGE_SUFFIXES)}) in this folder')
    frames = []
    for p in paths:
        key = str(p.resolve())
        frames.append(AdaptFrame(key, str(folder), fit_frame(read_image(p)), block=key))
    info.frames = len(frames)
    return frames


def _bag_camera(info_msg, mapping: dict, w: int, h: int, fovy_deg: float):
    """The camera model of a fitted bag frame.

    The bag's camera info (else a pinhole of ``fovy_deg``) through the fit's crop and scale,
    mounted as ``mapping.yaml`` says.
    """
    from mower_perception.camera_model import CameraModel, Mounting

    mount = Mounting(
        mapping['camera_x_m'],
        mapping['camera_y_m'],
        mapping['camera_z_m'],
        0.0,
        math.radians(mapping['camera_pitch_deg']),
        0.0,
    )
    if info_msg is None:
        k, dist = CameraModel.from_fov(w, h, fovy_deg).k, np.zeros(5)
    else:
        k = np.array(info_msg.k, dtype=float).reshape(3, 3)
        if (
            (int(info_msg.width), int(info_msg.height)) != (w, h)
            and info_msg.width > 0
            and info_msg.height > 0
        ):
            k = np.diag([w / info_msg.width, h / info_msg.height, 1.0]) @ k
        dist = np.zeros(5)
        dd = np.asarray(info_msg.d, dtype=float)
        dist[: min(5, len(dd))] = dd[:5]
    return CameraModel(fit_camera(k, w, h), CAMERA_SIZE[0], CAMERA_SIZE[1], dist, mount)


def bag_frames(
    path: Path,
    opts: BagOptions,
    areas: GroundAreas | None,
    scratch: Path,
    info: SourceInfo,
    log: Callable[[str], None] = print,
) -> list[AdaptFrame]:
    """Every ``opts.every``-th camera frame of a bag, with geometry labels where it can."""
    from tqdm import tqdm

    from mower_offline.replay import (
        ImageError,
        Replay,
        ReplayConfig,
        ReplayError,
        image_rgb,
        stamp_s,
    )

    try:
        rp = Replay(
            path,
            scratch,
            ReplayConfig(write_bag=False, video=False, max_pose_gap_s=opts.max_pose_gap_s),
        )
    except ReplayError as exc:
        raise AdaptError(str(exc)) from None
    try:
        cams = list(rp.roles.get('camera', []))
        if not cams:
            raise AdaptError(f'{path}: no camera frames (no Image or CompressedImage topic)')
        if areas is not None:
            rp.read_poses()
            if not len(rp.timeline):
                info.notes.append('no poses (odometry, tf or pose topic): teacher labels only')
        infos = list(rp.roles.get('camera_info', []))
        if areas is not None and not infos:
            info.notes.append(
                f'no camera info: a pinhole camera with a '
                f'{opts.fallback_fovy_deg:.0f} deg vertical field of view assumed'
            )
        cam_info, seen, skipped, off_map = None, 0, 0, 0
        labellers: dict[tuple, GeometryLabeller] = {}
        frames: list[AdaptFrame] = []
        boundary = areas.boundary.buffer(1.0) if areas is not None else None
        bar = tqdm(
            total=sum(c.msgcount for c in cams),
            desc=f'reading {path.name}',
            unit='frame',
            disable=not opts.progress,
        )
        try:
            for con, t_ns, raw in rp.reader.messages(connections=cams + infos):
                try:
                    msg = rp.reader.deserialize(raw, con.msgtype)
                except Exception:
                    skipped += con in cams
                    continue
                if con in infos:
                    if len(msg.k) == 9 and msg.k[0] > 0:
                        cam_info = msg
                    continue
                seen += 1
                bar.update(1)
                if (seen - 1) % max(1, opts.every):
                    continue
                try:
                    rgb = image_rgb(msg, con.msgtype)
                except ImageError:
                    skipped += 1
                    continue
                ts = stamp_s(msg, t_ns)
                t_rel = (t_ns - rp.start_ns) / 1e9
                frame = AdaptFrame(
                    f'{path.resolve()}@{t_rel:.3f}s',
                    str(path),
                    fit_frame(rgb),
                    block=f'{path.resolve()}#{len(frames) // BAG_BLOCK}',
                )
                pose = rp.timeline.at(ts, opts.max_pose_gap_s) if areas is not None else None
                if pose is not None and boundary.contains(_point(pose[0], pose[1])):
                    h, w = rgb.shape[:2]
                    key = (w, h, None if cam_info is None else tuple(cam_info.k))
                    if key not in labellers:
                        camera = _bag_camera(cam_info, rp.mapping, w, h, opts.fallback_fovy_deg)
                        labellers[key] = GeometryLabeller(camera, areas, opts.near_m)
                    frame.geometry = labellers[key].labels(FramePose(*pose))
                    info.with_geometry += 1
                elif pose is not None:
                    off_map += 1
                frames.append(frame)
        except Exception as exc:  # a truncated or damaged file: keep what was read
            info.notes.append(f'reading stopped after {len(frames)} frames: {first_line(exc)}')
            log(f'{path}: {info.notes[-1]}')
        finally:
            bar.close()
    finally:
        rp.reader.close()
    if not frames:
        raise AdaptError(
            f'{path}: no camera frames could be read '
            f'({seen} messages on {cams[0].topic}, {skipped} unreadable)'
        )
    if len(frames) < 2 * BAG_BLOCK:  # a short bag: every frame its own block
        for f in frames:
            f.block = f.key
    if skipped:
        info.notes.append(f'{skipped} camera messages unreadable, skipped')
    if off_map:
        info.notes.append(
            f'{off_map} frames with a pose off the map (is the map in the '
            f'frame of the poses, {rp.timeline.frame_id or "?"}?): no geometry'
        )
    info.frames = len(frames)
    log(
        f'{path}: {len(frames)} frames (1 in {opts.every} of {seen} on {cams[0].topic}), '
        f'{info.with_geometry} with geometry labels'
    )
    return frames


def _point(x: float, y: float):
    from shapely.geometry import Point

    return Point(x, y)


def check_inputs(inputs: Sequence[str]) -> None:
    """Quick checks before any work: each input exists and is a bag, an image or a folder.

    A folder must hold images; they are decoded later, when read.
    """
    if not inputs:
        raise AdaptError('no input: give bags or folders of images')
    for name in inputs:
        path = Path(name)
        if not path.exists():
            raise AdaptError(f'{path}: no such file or folder')
        if is_bag(path):
            continue
        if path.is_dir():
            if not any(
                p.is_file()
                and p.suffix.lower() in IMAGE_SUFFIXES
                and not p.stem.endswith('_labels')
                for p in path.iterdir()
            ):
                raise AdaptError(f'{path}: no images ({", ".join(IMAGE_SUFFIXES)}) in this folder')
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            raise AdaptError(
                f'{path}: neither a bag (.mcap, .db3, .bag, rosbag2 folder), a '
                'folder of images nor an image'
            )


def read_frames(
    inputs: Sequence[str],
    opts: BagOptions,
    areas: GroundAreas | None,
    scratch: Path,
    log: Callable[[str], None] = print,
) -> tuple[list[AdaptFrame], list[SourceInfo]]:
    """The frames of every input (bags and image folders or files), in the order given."""
    if not inputs:
        raise AdaptError('no input: give bags or folders of images')
    frames: list[AdaptFrame] = []
    sources: list[SourceInfo] = []
    for i, name in enumerate(inputs):
        path = Path(name)
        if not path.exists():
            raise AdaptError(f'{path}: no such file or folder')
        if is_bag(path):
            info = SourceInfo(str(path), 'bag')
            frames += bag_frames(path, opts, areas, scratch / f'bag{i}', info, log)
        elif path.is_dir():
            info = SourceInfo(str(path), 'folder')
            frames += folder_frames(path, info)
            log(f'{path}: {info.frames} images')
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            info = SourceInfo(str(path), 'image', frames=1)
            key = str(path.resolve())
            frames.append(AdaptFrame(key, str(path), fit_frame(read_image(path)), block=key))
        else:
            raise AdaptError(
                f'{path}: neither a bag (.mcap, .db3, .bag, rosbag2 folder), a '
                'folder of images nor an image'
            )
        sources.append(info)
    keys = [f.key for f in frames]
    if len(set(keys)) != len(keys):
        raise AdaptError('the same frame is given twice (an input listed twice?)')
    return frames, sources


# -- labelling ---------------------------------------------------------------------------------


def our_probs(probs: np.ndarray) -> np.ndarray:
    """Our four classes' share of the teacher's (H, W, 5) probabilities (ADE20K's "other" out)."""
    ours = probs[..., :-1]
    return ours / np.maximum(ours.sum(-1, keepdims=True), np.float32(1e-6))


def soft_targets(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 class probabilities (255 = 1) that agree with ``labels`` (H, W).

    ``probs`` (H, W, 4) where their likeliest class is the label; the label's one-hot where
    geometry set or changed it; zero where the label is IGNORE (never trained on).
    """
    out = np.zeros(labels.shape + (len(CLASSES),), np.float32)
    has = labels != IGNORE
    agree = has & (probs.argmax(-1) == labels)
    out[agree] = probs[agree]
    other = has & ~agree
    out[other] = np.eye(len(CLASSES), dtype=np.float32)[labels[other]]
    return np.round(out * 255).astype(np.uint8)


def label_frames(
    frames: Sequence[AdaptFrame], teacher, progress: bool = True
) -> tuple[list[np.ndarray], list[np.ndarray] | None, dict]:
    """Teacher labels, checked against geometry; their class probabilities; counts.

    The probabilities (:func:`soft_targets`) are the teacher's three-view ones
    (``vote_probs``); None for a teacher that gives hard labels only. The counts say where
    the labels came from.
    """
    from tqdm import tqdm

    from mower_segmentation.teacher import probs_to_labels

    labels, counts = (
        [],
        {
            'pixels': 0,
            'geometry_agrees': 0,
            'geometry_fills': 0,
            'ignored_disagreement': 0,
            'ignored': 0,
        },
    )
    label = getattr(teacher, 'vote_labels', teacher.labels)  # the three-view vote where offered
    vote = getattr(teacher, 'vote_probs', None)
    softs: list[np.ndarray] | None = []
    for f in tqdm(frames, desc='labelling (teacher)', unit='frame', disable=not progress):
        probs = vote(f.rgb) if vote is not None and softs is not None else None
        if probs is None:
            softs = None  # a teacher without probabilities: hard labels for every frame
        t = label(f.rgb) if probs is None else probs_to_labels(probs)
        lab = combine_labels(t, f.geometry)
        if softs is not None and probs is not None:
            softs.append(soft_targets(our_probs(probs), lab))
        if f.geometry is not None:
            has = f.geometry != IGNORE
            counts['geometry_agrees'] += int((has & (t == f.geometry)).sum())
            counts['geometry_fills'] += int((has & (t == IGNORE)).sum())
            counts['ignored_disagreement'] += int((has & (t != IGNORE) & (t != f.geometry)).sum())
        counts['pixels'] += lab.size
        counts['ignored'] += int((lab == IGNORE).sum())
        labels.append(lab)
    return labels, softs, counts


def apply_review(frames: Sequence[AdaptFrame], review: str) -> list[bool]:
    """Which frames the owner left out (True): those not on a kept line of the review list."""
    if not review:
        return [False] * len(frames)
    try:
        kept = read_review_list(review)
    except ValueError as exc:
        raise AdaptError(str(exc)) from None
    dropped = [f.key not in kept for f in frames]
    if all(dropped):
        raise AdaptError(
            f'{review}: none of its kept frames is among the inputs (the same '
            'bags and folders as the run that wrote it?)'
        )
    return dropped


# -- review ---------------------------------------------------------------------------------


def write_review_list(path: Path, keys: Sequence[str], dropped: Sequence[bool]) -> Path:
    """The list file: ``NNNN key`` per frame, ``# NNNN key`` for frames left out."""
    lines = [REVIEW_HEADER]
    for i, (key, off) in enumerate(zip(keys, dropped, strict=True), start=1):
        lines.append(f'{"# " if off else ""}{i:04d} {key}\n')
    return write_atomic(path, ''.join(lines).encode('utf-8'))


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary name beside ``path``, then rename it into place."""
    tmp = path.with_name(f'.{path.name}.part')
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def read_review_list(path: str | Path) -> set[str]:
    """The frames kept in a list file (lines without ``#``); ValueError naming the fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        raise ValueError(f'{path}: review list not found') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f'{path}: cannot read the review list ({exc})') from None
    kept = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        parts = line.split(maxsplit=1)
        kept.add(parts[1] if len(parts) == 2 and parts[0].isdigit() else line)
    return kept


def colourise(labels: np.ndarray) -> np.ndarray:
    """RGB picture of labels (the eval contact sheet's colours; IGNORE black)."""
    from mower_segmentation.realdata import colourise as colours

    return colours(labels)


def _put_text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def review_sheets(
    frames: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    dropped: Sequence[bool],
    folder: Path,
    per_sheet: int = 24,
    across: int = 3,
    tile: tuple[int, int] = (160, 120),
) -> list[Path]:
    """Contact sheets ``contact_sheet_NNN.png``: numbered (frame | labels) pairs, a legend.

    Frames left out by the review are crossed out. Returns the sheets written.
    """
    from mower_segmentation.realdata import CLASS_COLOURS

    tw, th = tile
    pad, legend_h = 6, 28
    paths = []
    for start in range(0, len(frames), per_sheet):
        count = min(per_sheet, len(frames) - start)
        rows = math.ceil(count / across)
        width = across * (2 * tw + 3 * pad) + pad
        sheet = np.full((legend_h + rows * (th + pad) + pad, width, 3), 255, np.uint8)  # BGR
        x = pad
        for cls, name in enumerate(CLASSES):
            r, g, b = CLASS_COLOURS[cls]
            cv2.rectangle(sheet, (x, 7), (x + 14, 21), (b, g, r), -1)
            cv2.putText(
                sheet,
                name,
                (x + 18, 19),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.45,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
            x += 30 + 9 * len(name)
        cv2.rectangle(sheet, (x, 7), (x + 14, 21), (0, 0, 0), -1)
        cv2.putText(
            sheet,
            'ignore',
            (x + 18, 19),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        for j in range(count):
            i = start + j
            y = legend_h + (j // across) * (th + pad)
            x = pad + (j % across) * (2 * tw + 3 * pad)
            img = cv2.resize(
                cv2.cvtColor(frames[i], cv2.COLOR_RGB2BGR), (tw, th), interpolation=cv2.INTER_AREA
            )
            lab = cv2.resize(
                cv2.cvtColor(colourise(labels[i]), cv2.COLOR_RGB2BGR),
                (tw, th),
                interpolation=cv2.INTER_NEAREST,
            )
            _put_text(img, f'{i + 1:04d}', (4, 16))
            if dropped[i]:
                for tile_img in (img, lab):
                    cv2.line(tile_img, (0, 0), (tw - 1, th - 1), (0, 0, 255), 2)
                    cv2.line(tile_img, (0, th - 1), (tw - 1, 0), (0, 0, 255), 2)
                _put_text(img, 'left out', (4, th - 8))
            sheet[y : y + th, x : x + tw] = img
            sheet[y : y + th, x + tw + pad : x + 2 * tw + pad] = lab
        path = folder / f'contact_sheet_{start // per_sheet + 1:03d}.png'
        ok, data = cv2.imencode('.png', sheet)
        if not ok:
            raise ValueError(f'{path}: cannot encode the contact sheet')
        paths.append(write_atomic(path, data.tobytes()))
    return paths
