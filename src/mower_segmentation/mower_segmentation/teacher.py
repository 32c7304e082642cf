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
        except (ValueError, RuntimeError) as exc:
            if isinstance(exc, TeacherError):
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise TeacherError(
                f'{self.path}: not a usable TFLite model, truncated or damaged ({reason})'
            ) from None
        self._lut = ade20k_lut()

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
        ph, pw = padded.shape[:2]
        ih, iw = ade.shape
        y0, y1 = round(top * ih / ph), round((top + h) * ih / ph)
        x0, x1 = round(left * iw / pw), round((left + w) * iw / pw)
        ours = self._ours(ade[y0:y1, x0:x1])
        if ours.shape != (h, w):
            ours = cv2.resize(ours, (w, h), interpolation=cv2.INTER_NEAREST)
        return ours

    def vote_labels(self, rgb: np.ndarray) -> np.ndarray:
        """Labels for training: the vote of three views of the image (a labeller, not a model).

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
