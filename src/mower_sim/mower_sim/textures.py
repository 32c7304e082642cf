"""Procedural ground textures (numpy), randomisable for training data.

Each texture is a small tileable RGB image encoded as PNG bytes, handed to MuJoCo through the
model's assets, so nothing is read from or written to disk.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

#: Base colours (RGB 0-255) of the ground kinds; randomisation perturbs them.
BASE_COLOURS = {
    'grass': (62, 122, 45),
    'paving': (150, 145, 135),
    'gravel': (160, 150, 130),
    'soil': (95, 70, 50),
    'mulch': (110, 70, 40),
    'water': (60, 90, 120),
    'flower_bed': (90, 65, 45),
}


def _blur(img: np.ndarray, passes: int = 2) -> np.ndarray:
    """Cheap wrap-around box blur (keeps the texture tileable)."""
    out = img.astype(np.float32)
    for _ in range(passes):
        out = (
            out
            + np.roll(out, 1, 0)
            + np.roll(out, -1, 0)
            + np.roll(out, 1, 1)
            + np.roll(out, -1, 1)
        ) / 5.0
    return out


def ground_texture(
    kind: str,
    rng: np.random.Generator,
    size: int = 128,
    randomise: bool = False,
    stripes: float = 0.0,
) -> np.ndarray:
    """An RGB uint8 texture for a ground kind: noise at two scales around its base colour.

    ``stripes`` (grass only) is the contrast of mowing stripes: the two halves of the tile
    (half a metre each at the usual 1 m tile) are lighter and darker, as cut grass looks.
    """
    base = np.array(BASE_COLOURS[kind], dtype=np.float32)
    if randomise:
        base = base * rng.uniform(0.75, 1.25, 3)
        if kind == 'grass':  # from lush to dry: shift green towards yellow
            base = base + rng.uniform(0.0, 1.0) * np.array([35.0, 5.0, -5.0])
    fine = rng.normal(0.0, 1.0, (size, size, 1)).astype(np.float32)
    coarse = _blur(rng.normal(0.0, 1.0, (size // 8, size // 8, 1)), 2)
    coarse = np.kron(coarse, np.ones((8, 8, 1), dtype=np.float32))
    if kind == 'grass':
        # blades: elongated bright/dark streaks, plus light and dark patches
        blades = _blur(np.roll(fine, 1, 0) + fine + np.roll(fine, -1, 0), 1)
        img = base * (1.0 + 0.18 * blades + 0.12 * coarse)
        if stripes:
            img[:, : size // 2] *= 1.0 + stripes
            img[:, size // 2 :] *= 1.0 - stripes
    elif kind == 'paving':
        img = base * (1.0 + 0.06 * fine + 0.05 * coarse)
        img[::32, :, :] *= 0.6  # joints between slabs
        img[:, ::32, :] *= 0.6
    elif kind == 'gravel':
        img = base * (1.0 + 0.25 * _blur(fine, 1))
    elif kind == 'water':
        img = base * (1.0 + 0.05 * coarse + 0.03 * fine)
    else:
        img = base * (1.0 + 0.15 * fine + 0.15 * coarse)
    return np.clip(img, 0, 255).astype(np.uint8)


def png_bytes(img: np.ndarray) -> bytes:
    """PNG encoding of an RGB uint8 image."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format='PNG')
    return buf.getvalue()


#: Palettes of a real garden's grass (RGB): lush, dark, fresh cut, yellowish dry, blue-green wet.
GRASS_PALETTE = (
    (62, 122, 45),
    (45, 95, 35),
    (88, 140, 60),
    (118, 128, 60),
    (50, 110, 70),
    (75, 105, 40),
)
#: Other ground seen beside real lawns, for the training frames (more kinds than the live scene).
GARDEN_GROUNDS = ('paving', 'gravel', 'soil', 'mulch', 'asphalt', 'sand', 'brick', 'concrete')
_GARDEN_BASE = {
    'asphalt': (70, 70, 72),
    'sand': (185, 165, 125),
    'brick': (150, 80, 60),
    'concrete': (170, 168, 160),
}


#: CC0 photographs (greyscale, 512x512) that scikit-image ships inside its wheel, used as the
#: fine structure of the training textures: ``skimage/data/grass.png`` (DeviantArt linolafett
#: "Grass 01", CC0), ``gravel.png`` (CC0Textures Gravel04, CC0), ``brick.png`` (CC0Textures
#: Bricks25, CC0). Optional: without scikit-image (the training extra) the textures stay
#: procedural.
PHOTO_FOR = {
    'grass': 'grass',
    'gravel': 'gravel',
    'brick': 'brick',
    'paving': 'brick',
    'soil': 'gravel',
    'mulch': 'gravel',
    'concrete': 'gravel',
    'asphalt': 'gravel',
    'sand': 'gravel',
}
_photos: dict[str, np.ndarray | None] = {}


def photo(name: str) -> np.ndarray | None:
    """One of scikit-image's CC0 texture photographs as float32 greyscale, or None."""
    if name not in _photos:
        import importlib.util

        import cv2

        spec = importlib.util.find_spec('skimage')
        img = None
        if spec is not None and spec.submodule_search_locations:
            path = f'{spec.submodule_search_locations[0]}/data/{name}.png'
            img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        _photos[name] = None if img is None else img.astype(np.float32)
    return _photos[name]


def photo_detail(kind: str, rng: np.random.Generator, size: int) -> np.ndarray | None:
    """A tileable brightness pattern (mean 1) cut from a CC0 photograph, or None.

    A random crop, turned and mirrored, cross-faded with itself rolled by half a tile so that
    the tile's edges wrap without a seam.
    """
    import cv2

    if kind not in PHOTO_FOR:  # no photograph for this ground (water, ...): procedural only
        return None
    img = photo(PHOTO_FOR[kind])
    if img is None:
        return None
    c = int(rng.integers(160, img.shape[0] + 1))
    y, x = (int(v) for v in rng.integers(0, img.shape[0] - c + 1, 2))
    crop = np.rot90(img[y : y + c, x : x + c], int(rng.integers(0, 4)))
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    crop = cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)
    ramp = np.minimum(np.arange(size), np.arange(size)[::-1]) / (size / 2)
    w = np.minimum.outer(ramp, ramp).astype(np.float32)  # 1 in the middle, 0 at the edges
    tile = w * crop + (1 - w) * np.roll(crop, (size // 2, size // 2), axis=(0, 1))
    tile = tile / max(float(tile.mean()), 1.0)
    return tile[..., None]


def _tint(rng: np.random.Generator) -> np.ndarray:
    """A brightness and a slight colour cast (never enough to turn paving green)."""
    return rng.uniform(0.65, 1.35) * rng.uniform(0.92, 1.08, 3)


def _blobs(
    rng: np.random.Generator, size: int, count: int, radius: tuple[float, float]
) -> np.ndarray:
    """A soft mask (0-1) of ``count`` round blobs, wrapping around the tile's edges."""
    import cv2

    mask = np.zeros((size, size), np.float32)
    for _ in range(count):
        x, y = rng.uniform(0, size, 2)
        r = rng.uniform(*radius)
        for dx in (-size, 0, size):
            for dy in (-size, 0, size):
                cv2.circle(mask, (int(x + dx), int(y + dy)), max(1, int(r)), 1.0, -1)
    k = max(3, int(radius[1] / 2) * 2 + 1)
    return cv2.GaussianBlur(mask, (k, k), 0)


def _dots(
    img: np.ndarray,
    rng: np.random.Generator,
    count: int,
    colour: tuple[int, int, int],
    radius: tuple[int, int],
    jitter: float = 20.0,
) -> None:
    """Small flowers, leaves or weeds: coloured dots drawn on ``img`` in place."""
    import cv2

    size = img.shape[0]
    for _ in range(count):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        c = tuple(float(np.clip(v + rng.normal(0, jitter), 0, 255)) for v in colour)
        r = int(rng.integers(radius[0], radius[1] + 1))
        if r >= 2 and rng.random() < 0.5:  # a leaf: an ellipse at a random angle
            cv2.ellipse(
                img, (x, y), (r, max(1, r // 2)), float(rng.uniform(0, 180)), 0, 360, c, -1
            )
        else:
            cv2.circle(img, (x, y), r, c, -1)


def _with_photo(img: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Most of the time, the fine structure of a real photograph multiplied in; uint8 out."""
    detail = photo_detail(kind, rng, img.shape[0]) if rng.random() < 0.7 else None
    if detail is not None:
        strength = rng.uniform(0.5, 1.0)
        img = img * (1.0 + strength * (detail - 1.0))
    return np.clip(img, 0, 255).astype(np.uint8)


def garden_texture(
    kind: str, rng: np.random.Generator, size: int = 256, stripes: float = 0.0
) -> np.ndarray:
    """A ground texture with the variety of a real garden (training frames only).

    Grass: a colour from :data:`GRASS_PALETTE` (lush to dry), blades, light and dark patches, and
    at random clover, dandelions, daisies, weeds, bare patches, fallen leaves and wear. Other
    ground: the kinds of :data:`GARDEN_GROUNDS` with colour, joints and stains. Deterministic
    for a generator state; the tile wraps around.
    """
    if kind in _GARDEN_BASE:
        base = np.array(_GARDEN_BASE[kind], np.float32) * _tint(rng)
        fine = rng.normal(0.0, 1.0, (size, size, 1)).astype(np.float32)
        coarse = np.kron(
            _blur(rng.normal(0, 1, (size // 16, size // 16, 1)), 2),
            np.ones((16, 16, 1), np.float32),
        )
        img = base * (1.0 + rng.uniform(0.03, 0.2) * fine + rng.uniform(0.03, 0.2) * coarse)
        if kind == 'brick':
            step = int(rng.integers(16, 40))
            img[::step] *= 0.55
            img[:, :: 2 * step] *= 0.55
        return _with_photo(img, kind, rng)
    if kind != 'grass':
        img = ground_texture(kind, rng, size=size).astype(np.float32) * _tint(rng)
        stains = _blobs(rng, size, int(rng.integers(0, 6)), (size / 20, size / 6))[..., None]
        img = img * (1.0 - rng.uniform(0.1, 0.35) * stains)
        return _with_photo(img, kind, rng)
    palette = np.array(GRASS_PALETTE, np.float32)
    a, b = palette[rng.integers(0, len(palette), 2)]
    base = a + (b - a) * rng.uniform(0, 1)
    base = base * rng.uniform(0.8, 1.2, 3) * rng.uniform(0.75, 1.25)
    fine = rng.normal(0.0, 1.0, (size, size, 1)).astype(np.float32)
    length = int(rng.integers(1, 5))  # long blades streak further
    blades = sum(np.roll(fine, s, 0) for s in range(-length, length + 1)) / math.sqrt(
        2 * length + 1
    )
    blades = np.roll(blades, int(rng.integers(0, 3)), 1) * 0.5 + blades * 0.5
    cells = int(rng.choice([8, 16, 32]))
    coarse = np.kron(
        _blur(rng.normal(0, 1, (size // cells, size // cells, 1)), 2),
        np.ones((cells, cells, 1), np.float32),
    )
    img = base * (1.0 + rng.uniform(0.1, 0.3) * blades + rng.uniform(0.05, 0.25) * coarse)
    if rng.random() < 0.4:  # clover: blue-green patches
        m = _blobs(rng, size, int(rng.integers(2, 10)), (size / 30, size / 10))[..., None]
        img = img * (1 - m) + m * (base * np.array([0.8, 1.1, 1.2]) * (1 + 0.25 * fine))
    if rng.random() < 0.35:  # bare, worn patches
        soil = np.array(BASE_COLOURS['soil'], np.float32) * rng.uniform(0.7, 1.4)
        m = _blobs(rng, size, int(rng.integers(1, 5)), (size / 40, size / 8))[..., None]
        m = m * rng.uniform(0.4, 1.0)
        img = img * (1 - m) + m * soil * (1 + 0.2 * fine)
    if rng.random() < 0.4:  # dry, yellow patches
        m = _blobs(rng, size, int(rng.integers(2, 8)), (size / 20, size / 6))[..., None]
        img = img * (1 - 0.6 * m) + 0.6 * m * img * np.array([1.35, 1.05, 0.8])
    if stripes:
        img[:, : size // 2] *= 1.0 + stripes
        img[:, size // 2 :] *= 1.0 - stripes
    img = _with_photo(img, kind, rng)
    if rng.random() < 0.35:
        _dots(img, rng, int(rng.integers(5, 60)), (230, 200, 30), (1, 3))  # dandelions
    if rng.random() < 0.3:
        _dots(img, rng, int(rng.integers(5, 80)), (235, 235, 225), (1, 2))  # daisies
    if rng.random() < 0.35:
        _dots(img, rng, int(rng.integers(3, 25)), tuple(int(v) for v in base * 0.7), (2, 6))
    if rng.random() < 0.3:  # fallen leaves
        colour = [(150, 90, 30), (180, 130, 40), (110, 70, 40)][int(rng.integers(0, 3))]
        _dots(img, rng, int(rng.integers(5, 60)), colour, (2, 5), jitter=30)
    return img


def foliage_texture(rng: np.random.Generator, size: int = 128) -> np.ndarray:
    """Leaves of a tree crown or hedge: dark, high-contrast green with light and shadow."""
    base = np.array([rng.uniform(25, 70), rng.uniform(55, 110), rng.uniform(20, 50)], np.float32)
    fine = rng.normal(0.0, 1.0, (size, size, 1)).astype(np.float32)
    coarse = np.kron(
        _blur(rng.normal(0, 1, (size // 8, size // 8, 1)), 1), np.ones((8, 8, 1), np.float32)
    )
    img = base * (1.0 + 0.35 * _blur(fine, 1) + 0.3 * coarse)
    if rng.random() < 0.3:  # autumn
        img = img * np.array([1.8, 1.1, 0.8], np.float32)
    return _with_photo(img, 'grass', rng)
