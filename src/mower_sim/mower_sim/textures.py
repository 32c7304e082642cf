"""Procedural ground textures (numpy), randomisable for training data.

Each texture is a small tileable RGB image encoded as PNG bytes, handed to MuJoCo through the
model's assets, so nothing is read from or written to disk.
"""

from __future__ import annotations

import io

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
        out = (out + np.roll(out, 1, 0) + np.roll(out, -1, 0) + np.roll(out, 1, 1) +
               np.roll(out, -1, 1)) / 5.0
    return out


def ground_texture(kind: str, rng: np.random.Generator, size: int = 128,
                   randomise: bool = False, stripes: float = 0.0) -> np.ndarray:
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
            img[:, size // 2:] *= 1.0 - stripes
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
