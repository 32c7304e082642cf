"""The ADE20K teacher: a generic real-image segmentation model (TFLite) mapped to our classes.

The model is DeepLabV3 + MobileNetV2 trained on ADE20K (150 classes, Apache-2.0) from
mlcommons/mobile_models at a pinned commit: input 1x512x512x3 uint8 RGB, output 1x512x512 int32
ADE20K class index (``objectInfo150`` order, 0 = other). It runs on ``ai-edge-litert`` (PyPI),
an optional dependency: without it :class:`Teacher` raises :class:`TeacherUnavailable`, which
callers report as "skipped". It is a labeller of real frames and a reference, not the on-robot
model (about 50-150 ms a frame on a CPU).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from mower_segmentation.classes import CLASSES, IGNORE, LAWN, OBSTACLE, OTHER, SKY

#: Where the files are published: mlcommons/mobile_models, pinned to one commit.
PINNED_COMMIT = '1f9963316b81a63fdef1040133ae64f6e8879c5b'
PINNED_URL_BASE = f'https://github.com/mlcommons/mobile_models/raw/{PINNED_COMMIT}/v0_7/tflite'
#: The two published variants: file name and sha256 (as in ../shared/data/ade20k-deeplab).
VARIANTS = {
    'int8': (
        'deeplabv3_mnv2_ade20k_int8.tflite',
        '3960571f5e2de1cec771a8f7a15b86f31b94cceccac8d993addbc1e29829de6a',
    ),
    'uint8': (
        'deeplabv3_mnv2_ade20k_uint8.tflite',
        '2d58c681d81b5e181816b81cc815b82edf3daad905b4d7d35afade80aee93b5f',
    ),
}
LITERT_HINT = 'pip install ai-edge-litert (see requirements.txt)'

#: ADE20K class names, index = class id of the model's output (``objectInfo150`` order, first
#: name of each entry; 0 is "other", which the dataset leaves unlabelled).
ADE20K_CLASSES = (
    'other',
    'wall',
    'building',
    'sky',
    'floor',
    'tree',
    'ceiling',
    'road',
    'bed',
    'windowpane',
    'grass',
    'cabinet',
    'sidewalk',
    'person',
    'earth',
    'door',
    'table',
    'mountain',
    'plant',
    'curtain',
    'chair',
    'car',
    'water',
    'painting',
    'sofa',
    'shelf',
    'house',
    'sea',
    'mirror',
    'rug',
    'field',
    'armchair',
    'seat',
    'fence',
    'desk',
    'rock',
    'wardrobe',
    'lamp',
    'bathtub',
    'railing',
    'cushion',
    'base',
    'box',
    'column',
    'signboard',
    'chest of drawers',
    'counter',
    'sand',
    'sink',
    'skyscraper',
    'fireplace',
    'refrigerator',
    'grandstand',
    'path',
    'stairs',
    'runway',
    'case',
    'pool table',
    'pillow',
    'screen door',
    'stairway',
    'river',
    'bridge',
    'bookcase',
    'blind',
    'coffee table',
    'toilet',
    'flower',
    'book',
    'hill',
    'bench',
    'countertop',
    'stove',
    'palm',
    'kitchen island',
    'computer',
    'swivel chair',
    'boat',
    'bar',
    'arcade machine',
    'hovel',
    'bus',
    'towel',
    'light',
    'truck',
    'tower',
    'chandelier',
    'awning',
    'streetlight',
    'booth',
    'television',
    'airplane',
    'dirt track',
    'apparel',
    'pole',
    'land',
    'bannister',
    'escalator',
    'ottoman',
    'bottle',
    'buffet',
    'poster',
    'stage',
    'van',
    'ship',
    'fountain',
    'conveyer belt',
    'canopy',
    'washer',
    'plaything',
    'swimming pool',
    'stool',
    'barrel',
    'basket',
    'waterfall',
    'tent',
    'bag',
    'minibike',
    'cradle',
    'oven',
    'ball',
    'food',
    'step',
    'tank',
    'trade name',
    'microwave',
    'pot',
    'animal',
    'bicycle',
    'lake',
    'dishwasher',
    'screen',
    'blanket',
    'sculpture',
    'hood',
    'sconce',
    'vase',
    'traffic light',
    'tray',
    'ashcan',
    'fan',
    'pier',
    'crt screen',
    'plate',
    'monitor',
    'bulletin board',
    'shower',
    'radiator',
    'glass',
    'clock',
    'flag',
)
_LAWN_NAMES = ('grass', 'field')
_OTHER_NAMES = (
    'floor',
    'road',
    'sidewalk',
    'earth',
    'water',
    'sea',
    'sand',
    'path',
    'runway',
    'river',
    'dirt track',
    'land',
    'lake',
)
_SKY_NAMES = ('sky',)


def _ade20k_to_ours() -> dict[int, int]:
    table = {}
    for idx, name in enumerate(ADE20K_CLASSES):
        if idx == 0:
            table[idx] = IGNORE
        elif name in _LAWN_NAMES:
            table[idx] = LAWN
        elif name in _OTHER_NAMES:
            table[idx] = OTHER
        elif name in _SKY_NAMES:
            table[idx] = SKY
        else:
            table[idx] = OBSTACLE
    return table


#: ADE20K class id -> our class id. How: grass and field are lawn; surfaces a mower could drive
#: on or must not mow (floor, road, sidewalk, earth, sand, path, runway, dirt track, land) and
#: water (water, sea, river, lake) are other ground; sky is sky; every other ADE20K class
#: (walls, trees, plants, flowers, people, animals, furniture, vehicles, rocks, ...) stands up
#: and is an obstacle. 0 ("other", unlabelled in ADE20K) and any id above 150 are ignored.
ADE20K_TO_OURS: dict[int, int] = _ade20k_to_ours()


class TeacherError(RuntimeError):
    """The teacher model cannot be used: the message is one line naming the file and fault."""


class TeacherUnavailable(TeacherError):  # noqa: N818 (reads as a state: 'unavailable')
    """The teacher cannot run here (ai-edge-litert missing, file absent): report it skipped."""


def ade20k_lut() -> np.ndarray:
    """A 256-entry lookup table from ADE20K ids to our class ids (unmapped ids ignored)."""
    lut = np.full(256, IGNORE, dtype=np.uint8)
    for k, v in ADE20K_TO_OURS.items():
        lut[k] = v
    return lut


def to_ours(ade: np.ndarray) -> np.ndarray:
    """Our class ids (uint8) for an array of ADE20K class ids (ids outside 0..255 ignored)."""
    ade = np.asarray(ade)
    valid = (ade >= 0) & (ade < 256)
    return np.where(valid, ade20k_lut()[np.clip(ade, 0, 255)], IGNORE).astype(np.uint8)


def check_io(inputs: list[dict], outputs: list[dict], path: str | Path) -> tuple[int, int]:
    """Check the interpreter's tensor details; returns the input (height, width).

    Expects one input of shape (1, H, W, 3), uint8 RGB, and one integer output of shape
    (1, H, W) or (1, H, W, 1) holding class indices; raises :class:`TeacherError` otherwise.
    """
    if len(inputs) != 1 or len(outputs) != 1:
        raise TeacherError(
            f'{path}: expected one input and one output, found {len(inputs)} and {len(outputs)}'
        )
    shape = tuple(int(d) for d in inputs[0]['shape'])
    if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or min(shape) < 1:
        raise TeacherError(f'{path}: input shape {shape} is not (1, H, W, 3)')
    if np.dtype(inputs[0]['dtype']) != np.uint8:
        raise TeacherError(f'{path}: input type {np.dtype(inputs[0]["dtype"])} is not uint8 RGB')
    out_shape = tuple(int(d) for d in outputs[0]['shape'])
    if (
        out_shape[:3] != shape[:3]
        or len(out_shape) not in (3, 4)
        or (len(out_shape) == 4 and out_shape[3] != 1)
    ):
        raise TeacherError(
            f'{path}: output shape {out_shape} is not a class index map '
            f'(1, {shape[1]}, {shape[2]})'
        )
    if not np.issubdtype(np.dtype(outputs[0]['dtype']), np.integer):
        raise TeacherError(
            f'{path}: output type {np.dtype(outputs[0]["dtype"])} is not a '
            'class index (scores are not supported)'
        )
    return shape[1], shape[2]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (native libraries' log lines) inside the block."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, 'wb') as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class Teacher:
    """The ADE20K DeepLab TFLite model, giving our class ids for RGB images."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        """Load and check the model; raises :class:`TeacherError` (one line) when it cannot."""
        self.path = Path(path)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise TeacherUnavailable(
                f'ai-edge-litert is not installed ({LITERT_HINT}); cannot run {self.path}'
            ) from None
        if not self.path.is_file():
            raise TeacherUnavailable(
                f'teacher model {self.path} not found (mower segment '
                'teacher --download DIR fetches it)'
            )
        content = self.path.read_bytes()
        if len(content) < 8 or content[4:8] != b'TFL3':
            raise TeacherError(
                f'{self.path}: not a TFLite model (no TFL3 identifier, {len(content)} bytes)'
            )
        try:
            with _quiet_stderr():  # the runtime logs its delegate on stderr (file descriptor 2)
                self._interp = Interpreter(model_content=content, num_threads=max(1, int(threads)))
                self._interp.allocate_tensors()
                inputs = self._interp.get_input_details()
                outputs = self._interp.get_output_details()
                self.input_hw = check_io(inputs, outputs, self.path)
                self._input_index = inputs[0]['index']
                self._output_index = outputs[0]['index']
                self._interp.set_tensor(
                    self._input_index, np.zeros((1, *self.input_hw, 3), np.uint8)
                )
                self._interp.invoke()  # warm-up: the model runs, or the error is now
                self._scores_index, self._scores_quant, self._scores_channels = _argmax_input(
                    self._interp, self._output_index
                )
        except (ValueError, RuntimeError) as exc:
            if isinstance(exc, TeacherError):
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TeacherError(
                f'{self.path}: not a usable TFLite model, truncated or damaged ({reason})'
            ) from None
        self._lut = ade20k_lut()
        self._scores_checked = False
        channels = 0 if self._scores_index is None else self._scores_channels
        self._groups = group_matrix(channels)

    def ade20k(self, rgb: np.ndarray) -> np.ndarray:
        """ADE20K class ids (int32) at the model's input size for an (H, W, 3) uint8 RGB image.

        The image is resized to the input as it is (a 4:3 frame is squashed); :meth:`labels`
        pads it to the input's shape first.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
        h, w = self.input_hw
        if rgb.shape[:2] != (h, w):
            shrink = rgb.shape[0] > h or rgb.shape[1] > w
            rgb = cv2.resize(
                rgb, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        self._interp.set_tensor(self._input_index, np.ascontiguousarray(rgb[None]))
        self._interp.invoke()
        return self._interp.get_tensor(self._output_index)[0].reshape(h, w).astype(np.int32)

    def _ours(self, ade: np.ndarray) -> np.ndarray:
        ours = self._lut[np.clip(ade, 0, 255)]
        ours[(ade < 0) | (ade > 255)] = IGNORE
        return ours

    def labels(self, rgb: np.ndarray) -> np.ndarray:
        """Our class ids (uint8, IGNORE where ADE20K says "other") at the image's size.

        One pass, with the image's aspect kept: it is padded (mirrored at the edges) to the
        input's shape rather than squashed, as the model saw undistorted photos in training
        (on the held-back half of MSRC-21, mIoU 0.635 against 0.610 squashed).
        """
        h, w = rgb.shape[:2]
        padded, (top, left) = letterbox(rgb, self.input_hw)
        ade = self.ade20k(padded)
        ours = self._ours(ade[_image_box(padded.shape, (top, left), (h, w), ade.shape)])
        if ours.shape != (h, w):
            ours = cv2.resize(ours, (w, h), interpolation=cv2.INTER_NEAREST)
        return ours

    def class_probs(self, rgb: np.ndarray) -> np.ndarray | None:
        """(H, W, 5) float32 probabilities of our four classes and of ADE20K's unlabelled 0.

        From the scores the model's final ARG_MAX reads (its per-class logits, dequantised):
        their softmax, summed over the ADE20K classes each of ours gathers, so that a pixel
        the model finds 30 % grass and 25 % field is lawn even where "earth" is its single top
        class. Padded like :meth:`labels`. None where the model has no such scores.
        """
        if self._scores_index is None:
            return None
        h, w = rgb.shape[:2]
        padded, (top, left) = letterbox(rgb, self.input_hw)
        ade = self.ade20k(padded)
        raw = self._interp.get_tensor(self._scores_index)[0]
        if not self._scores_checked:  # once: these are the scores of this output
            if ade.shape != raw.shape[:2] or not np.array_equal(raw.argmax(-1), ade):
                self._scores_index = None  # not what the ARG_MAX read after all: hard labels
                return None
            self._scores_checked = True
        scale, zero = self._scores_quant
        logits = raw[_image_box(padded.shape, (top, left), (h, w), raw.shape)].astype(np.float32)
        if scale:
            logits = (logits - np.float32(zero)) * np.float32(scale)
        logits -= logits.max(-1, keepdims=True)
        np.exp(logits, out=logits)
        probs = logits @ self._groups
        probs /= probs.sum(-1, keepdims=True)
        if probs.shape[:2] != (h, w):
            probs = cv2.resize(probs, (w, h), interpolation=cv2.INTER_LINEAR)
        return probs

    def vote_probs(self, rgb: np.ndarray) -> np.ndarray | None:
        """(H, W, 5) class probabilities of three views averaged (:meth:`vote_labels`).

        The image, its mirror image and a copy at half its size, each through
        :meth:`class_probs`, aligned back to the image and averaged; None where the model has
        no readable scores.
        """
        h, w = rgb.shape[:2]
        images = [rgb, np.ascontiguousarray(rgb[:, ::-1])]
        if min(h, w) >= 4:
            images.append(cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
        views = [p for p in map(self.class_probs, images) if p is not None]
        if len(views) < len(images):
            return None
        views[1] = views[1][:, ::-1]
        if len(views) == 3:
            views[2] = cv2.resize(views[2], (w, h), interpolation=cv2.INTER_LINEAR)
        return sum(views[1:], views[0]) / np.float32(len(views))

    def vote_labels(self, rgb: np.ndarray) -> np.ndarray:
        """Labels for training (a labeller, not a model): several views of the image agree.

        Where the model gives its scores (:meth:`class_probs`), the class probabilities of
        three views are averaged (:meth:`vote_probs`): the image, its mirror image and a copy
        at half its size (seen coarser, with less texture noise). On MSRC-21, against its own
        truth, these labels score mIoU 0.663 and 0.612 on the two halves, where the hard vote
        below scores 0.640 and 0.596 and the model's own single answer 0.633 and 0.594.
        Otherwise the hard vote: :meth:`_hard_vote`.
        """
        total = self.vote_probs(rgb)
        if total is None:
            return self._hard_vote(rgb)
        return probs_to_labels(total)

    def _hard_vote(self, rgb: np.ndarray) -> np.ndarray:
        """The vote of three views' hard labels (for a model without readable scores).

        The views: :meth:`labels`, the same on the mirrored image, and two square crops at the
        image's two ends (each seen at a higher resolution). The class most views give wins;
        the first view breaks ties; pixels no view labels stay IGNORE. On the held-back half of
        MSRC-21 the vote scores above any single view (see the README, "Learn your own lawn").
        """
        first = self.labels(rgb)
        views = [first, self.labels(np.ascontiguousarray(rgb[:, ::-1]))[:, ::-1]]
        h, w = rgb.shape[:2]
        s = min(h, w)
        tiles = np.full((h, w), IGNORE, np.uint8)
        if w >= h:
            tiles[:, w - s :] = self.labels(np.ascontiguousarray(rgb[:, w - s :]))
            tiles[:, :s] = self.labels(np.ascontiguousarray(rgb[:, :s]))
        else:
            tiles[h - s :] = self.labels(np.ascontiguousarray(rgb[h - s :]))
            tiles[:s] = self.labels(np.ascontiguousarray(rgb[:s]))
        views.append(tiles)
        counts = np.zeros((len(CLASSES), h, w), np.float32)
        for i, v in enumerate(views):
            for c in range(len(CLASSES)):
                counts[c] += (v == c) * (1.5 if i == 0 else 1.0)
        out = counts.argmax(0).astype(np.uint8)
        out[counts.max(0) == 0] = IGNORE
        return out


#: The fifth column of :meth:`Teacher.class_probs`: ADE20K's unlabelled "other" (and unmapped).
UNLABELLED = len(CLASSES)


def probs_to_labels(probs: np.ndarray, scores: np.ndarray | None = None) -> np.ndarray:
    """(H, W) uint8 labels of the teacher's (H, W, 5) probabilities.

    The likeliest of our four classes (of ``scores``, (H, W, 4), where given), IGNORE where
    ADE20K's "other" (the last channel of ``probs``) outweighs each of ours.
    """
    ours = probs[..., :UNLABELLED]
    out = (ours if scores is None else scores).argmax(-1).astype(np.uint8)
    out[probs[..., UNLABELLED] > ours.max(-1)] = IGNORE
    return out


def group_matrix(channels: int) -> np.ndarray:
    """(channels, 5) 0/1 matrix: ADE20K class id -> our class (column 4: ignored ids)."""
    lut = ade20k_lut()
    out = np.zeros((channels, UNLABELLED + 1), np.float32)
    for k in range(channels):
        ours = int(lut[k]) if k < lut.size else IGNORE
        out[k, UNLABELLED if ours == IGNORE else ours] = 1.0
    return out


def _image_box(
    padded: tuple[int, ...], top_left: tuple[int, int], hw: tuple[int, int], out: tuple[int, ...]
) -> tuple[slice, slice]:
    """Rows and columns of an output of shape ``out`` that show the image inside ``padded``."""
    (ph, pw), (top, left), (h, w), (ih, iw) = padded[:2], top_left, hw, out[:2]
    return (
        slice(round(top * ih / ph), round((top + h) * ih / ph)),
        slice(round(left * iw / pw), round((left + w) * iw / pw)),
    )


def _argmax_input(interp, output_index: int) -> tuple[int | None, tuple[float, int], int]:
    """Index, (scale, zero point) and channels of the scores the final ARG_MAX reads.

    The index is None where there are none (a model whose output is not an ARG_MAX of
    per-class scores).

    The last operator's input is still intact after ``invoke`` (it is live until that
    operator has run, and nothing runs after it), so it can be read without keeping every
    tensor. ``_get_ops_details`` is the interpreter's operator list (tflite and ai-edge-litert
    both have it); :meth:`Teacher.class_probs` also checks that the scores' argmax is the
    model's own output before it uses them.
    """
    none = (None, (0.0, 0), 0)
    try:
        ops = interp._get_ops_details()  # noqa: SLF001 (no public operator list)
    except AttributeError:
        return none
    details = {int(d['index']): d for d in interp.get_tensor_details()}
    for op in ops:
        if op.get('op_name') == 'ARG_MAX' and output_index in [int(i) for i in op['outputs']]:
            d = details.get(int(op['inputs'][0]))
            if d is None or len(d['shape']) != 4 or not 1 < int(d['shape'][-1]) <= 256:
                return none
            scale, zero = d.get('quantization', (0.0, 0))
            return int(d['index']), (float(scale), int(zero)), int(d['shape'][-1])
    return none


def letterbox(rgb: np.ndarray, hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """``rgb`` padded by mirroring to the aspect of ``hw``, and the (top, left) of the image."""
    h, w = rgb.shape[:2]
    th, tw = hw
    if h * tw == w * th:
        return rgb, (0, 0)
    if w * th > h * tw:  # wider than the input: pad rows
        ph = round(w * th / tw)
        top = (ph - h) // 2
        pad = (top, ph - h - top, 0, 0)
    else:
        pw = round(h * tw / th)
        left = (pw - w) // 2
        pad = (0, 0, left, pw - w - left)
    mirror = max(pad) < min(h, w)  # a mirror needs the image to be wider than the pad
    border = cv2.BORDER_REFLECT_101 if mirror else cv2.BORDER_REPLICATE
    out = cv2.copyMakeBorder(rgb, *pad, border)
    return out, (pad[0], pad[2])


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open('rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def download_teacher(
    dest_dir: str | Path,
    variant: str = 'int8',
    url_base: str = PINNED_URL_BASE,
    timeout_s: float = 30.0,
    progress: bool = True,
) -> Path:
    """Fetch the teacher ``variant`` into ``dest_dir``, checking its sha256; returns its path.

    The file is written to a temporary file in ``dest_dir`` and renamed into place only when its
    sha256 matches the pinned one; on a mismatch or any error nothing is left behind and a
    :class:`TeacherError` is raised. A file already there with the right digest is kept as is.
    """
    if variant not in VARIANTS:
        raise TeacherError(f'unknown teacher variant {variant!r} (known: {", ".join(VARIANTS)})')
    name, expected = VARIANTS[variant]
    dest_dir = Path(dest_dir)
    target = dest_dir / name
    if target.is_file() and _file_sha256(target) == expected:
        return target
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TeacherError(f'{dest_dir}: cannot create the folder ({exc.strerror})') from None
    url = f'{url_base.rstrip("/")}/{name}'
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{name}.', suffix='.part', dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, 'wb') as out, urllib.request.urlopen(url, timeout=timeout_s) as resp:
            total = int(resp.headers.get('Content-Length') or 0) or None
            with tqdm(
                total=total,
                unit='B',
                unit_scale=True,
                desc=name,
                disable=not progress,
                leave=False,
            ) as bar:
                for block in iter(lambda: resp.read(1 << 16), b''):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
        if digest.hexdigest() != expected:
            raise TeacherError(
                f'{url}: sha256 {digest.hexdigest()} does not match the pinned '
                f'{expected}; nothing written'
            )
        os.replace(tmp, target)
    except TeacherError:
        tmp.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise TeacherError(f'{url}: download failed (HTTP {exc.code} {exc.reason})') from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, 'reason', None) or getattr(exc, 'strerror', None) or exc
        raise TeacherError(f'{url}: download failed ({reason})') from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
