"""Training augmentation that makes simulated frames look like a real camera's in a real garden.

Applied per batch at the model's input size (numpy and OpenCV, no PyTorch): flips and zoom,
shadows (soft tree crowns and the straight edge of a house or fence, darker and bluer where the
sun does not reach, never on the sky), white balance, exposure and gamma, saturation and a small
hue shift, vignetting, lens blur, motion blur, sensor noise and JPEG compression. Labels move
with the geometry and are untouched by the photometric steps, as are the labels' class
probabilities where training has them (:func:`augment_frame_soft`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from mower_segmentation.classes import IGNORE, LAWN, OBSTACLE, OTHER, SKY


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of each effect (the defaults are what LawnNet-E trained with)."""

    flip: float = 0.5
    zoom: float = 0.4  # probability of a random crop of 60-100 % of the frame, resized back
    shadow: float = 0.5
    white_balance: float = 0.8
    exposure: float = 0.9
    saturation: float = 0.7
    hue_deg: float = 6.0  # largest hue shift
    vignette: float = 0.4
    lens_blur: float = 0.3
    motion_blur: float = 0.2
    noise: float = 0.5
    jpeg: float = 0.5
    sky: float = 0.7  # replace the rendered sky by a procedural one (clouds, overcast, dusk)
    paste: float = 0.5  # paste 1-3 textured objects standing on the ground (obstacles)


def _shadow_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A soft shadow: blobs of a tree crown, or the straight edge of a building, 0-1."""
    mask = np.zeros((h, w), np.float32)
    if rng.random() < 0.6:
        for _ in range(int(rng.integers(1, 4))):  # crowns, each a cluster of ellipses
            cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(0.2 * h, 1.2 * h)
            for _ in range(int(rng.integers(3, 12))):
                x, y = cx + rng.normal(0, 0.12 * w), cy + rng.normal(0, 0.08 * h)
                axes = (int(rng.uniform(0.05, 0.25) * w), int(rng.uniform(0.03, 0.12) * h))
                cv2.ellipse(
                    mask, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1
                )
        holes = (rng.random((h // 4 + 1, w // 4 + 1)) < rng.uniform(0.0, 0.3)).astype(np.float32)
        holes = cv2.resize(holes, (w, h), interpolation=cv2.INTER_LINEAR)[:h, :w]
        mask *= 1.0 - holes  # sun through the leaves
    else:  # a straight edge: everything beyond a line through the frame is shaded
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        px, py = rng.uniform(0, w), rng.uniform(0.3 * h, h)
        mask = ((xx - px) * np.cos(a) + (yy - py) * np.sin(a) > 0).astype(np.float32)
    k = int(rng.choice([3, 5, 7, 9]))
    return cv2.GaussianBlur(mask, (k, k), 0)


def _noise(h: int, w: int, rng: np.random.Generator, octaves: int = 4) -> np.ndarray:
    """Fractal value noise in [0, 1] (sums of upsampled random grids)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for k in range(octaves):
        gh, gw = 2 + 2**k, 2 + int(2**k * w / max(h, 1))
        grid = rng.random((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    return np.clip((out - out.min()) / max(float(np.ptp(out)), 1e-6), 0, 1)


def random_sky(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A sky: blue gradient with clouds, white or grey overcast, or a warm low sun; float RGB."""
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    kind = rng.random()
    if kind < 0.35:  # overcast: white to grey, soft structure
        grey = rng.uniform(150, 250)
        base = np.full((h, w, 3), grey, np.float32) * rng.uniform(0.95, 1.05, 3)
        clouds = _noise(h, w, rng)[..., None]
        return base * (0.85 + 0.3 * clouds)
    top = np.array([rng.uniform(60, 140), rng.uniform(110, 180), rng.uniform(190, 255)])
    bottom = np.array([rng.uniform(170, 235), rng.uniform(190, 235), rng.uniform(215, 255)])
    if kind > 0.85:  # low sun: warm towards the horizon
        bottom = np.array([rng.uniform(220, 255), rng.uniform(170, 220), rng.uniform(120, 190)])
    base = top + (bottom - top) * yy ** rng.uniform(0.5, 1.5)
    cover = rng.uniform(0.0, 0.8)
    clouds = np.clip((_noise(h, w, rng, 5) - (1 - cover)) / max(cover, 1e-3), 0, 1)[..., None]
    white = rng.uniform(200, 255) * rng.uniform(0.95, 1.05, 3)
    return base * (1 - clouds) + white * clouds * (0.8 + 0.2 * _noise(h, w, rng)[..., None])


#: Colours of things that stand on a lawn (RGB): animals, people's clothes, toys, furniture,
#: walls, bins, bikes, dark tree trunks and foliage.
PASTE_COLOURS = (
    (40, 30, 25),
    (120, 80, 50),
    (200, 190, 170),
    (20, 20, 20),
    (180, 30, 30),
    (30, 60, 160),
    (230, 200, 40),
    (90, 90, 95),
    (150, 70, 50),
    (35, 70, 30),
    (60, 100, 45),
    (240, 240, 240),
    (110, 60, 120),
)


def paste_objects(x: np.ndarray, lab: np.ndarray, rng: np.random.Generator) -> None:
    """Paste 1-3 textured objects standing on the ground (labelled obstacle), in place.

    Each is a random polygon or ellipse with a colour, shading and texture of its own, its
    lowest edge on lawn or other ground; the label image gets obstacle where it is drawn.
    """
    h, w = lab.shape
    ground = np.argwhere((lab == LAWN) | (lab == OTHER))
    if len(ground) == 0:
        return
    for _ in range(int(rng.integers(1, 4))):
        gy, gx = ground[int(rng.integers(0, len(ground)))]
        size = rng.uniform(0.05, 0.5) * h * (0.3 + 0.7 * gy / h)  # nearer is larger
        ow, oh = size * rng.uniform(0.3, 1.3), size * rng.uniform(0.6, 2.0)  # standing up
        mask = np.zeros((h, w), np.uint8)
        if rng.random() < 0.5:
            cv2.ellipse(
                mask,
                (int(gx), int(gy - oh / 2)),
                (max(1, int(ow / 2)), max(1, int(oh / 2))),
                float(rng.uniform(-20, 20)),
                0,
                360,
                1,
                -1,
            )
        else:
            n = int(rng.integers(3, 9))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            rad = rng.uniform(0.5, 1.0, n)
            pts = np.stack(
                [gx + np.cos(ang) * rad * ow / 2, gy - oh / 2 + np.sin(ang) * rad * oh / 2], 1
            )
            cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
        m = mask.astype(bool) & (lab != IGNORE)
        if not m.any():
            continue
        colour = np.array(PASTE_COLOURS[int(rng.integers(0, len(PASTE_COLOURS)))], np.float32)
        colour = colour * rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, 3)
        tex = 1.0 + rng.uniform(0.05, 0.5) * (_noise(h, w, rng, 5) - 0.5)[..., None]
        shade = (
            1.0 - rng.uniform(0.0, 0.5) * np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
            if rng.random() < 0.5
            else 1.0
        )
        obj = colour * tex * shade
        x[m] = obj[m]
        lab[m] = OBSTACLE


def _flip_zoom(rng: np.random.Generator, cfg: AugmentConfig, *arrays: np.ndarray) -> list:
    """The geometric step: the same flip and crop for every array (H, W[, C]).

    The first is resized with linear interpolation, the second (labels) with the nearest
    neighbour, any further ones (class probabilities) linearly.
    """
    h, w = arrays[1].shape[:2]
    out = list(arrays)
    if rng.random() < cfg.flip:
        out = [a[:, ::-1] for a in out]
    if rng.random() < cfg.zoom:
        s = rng.uniform(0.6, 1.0)
        ch, cw = int(h * s), int(w * s)
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        out = [
            cv2.resize(
                np.ascontiguousarray(a[y0 : y0 + ch, x0 : x0 + cw]),
                (w, h),
                interpolation=cv2.INTER_NEAREST if k == 1 else cv2.INTER_LINEAR,
            )
            for k, a in enumerate(out)
        ]
    return out


def augment_frame(
    rgb: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    cfg: AugmentConfig = AugmentConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """One frame (H, W, 3) uint8 and its labels (H, W) uint8, augmented (new arrays)."""
    h, w = labels.shape
    img, lab = _flip_zoom(rng, cfg, rgb, labels)
    x = np.ascontiguousarray(img).astype(np.float32)
    lab = np.array(lab)  # own copy: pasted objects change it
    if rng.random() < cfg.sky and (lab == SKY).any():
        sky = lab == SKY
        x[sky] = random_sky(h, w, rng)[sky]
    if rng.random() < cfg.paste:
        paste_objects(x, lab, rng)
    if rng.random() < cfg.shadow:
        m = _shadow_mask(h, w, rng) * ((lab != SKY) & (lab != IGNORE))
        dark = rng.uniform(0.3, 0.7)
        tint = np.array([0.95, 1.0, 1.12], np.float32)  # skylight is bluer than sunlight
        x = x * (1.0 - m[..., None] * (1.0 - dark * tint))
    if rng.random() < cfg.saturation or cfg.hue_deg > 0:
        hsv = cv2.cvtColor(np.clip(x, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV)
        hsv = hsv.astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-cfg.hue_deg, cfg.hue_deg) / 2) % 180
        if rng.random() < cfg.saturation:
            hsv[..., 1] *= rng.uniform(0.5, 1.4)
        x = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(
            np.float32
        )
    if rng.random() < cfg.white_balance:
        x *= rng.uniform(0.8, 1.2, 3).astype(np.float32)
    if rng.random() < cfg.exposure:
        x = 255.0 * (np.clip(x * rng.uniform(0.5, 1.6), 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < cfg.vignette:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        x *= (1.0 - rng.uniform(0.1, 0.45) * r2 / 2)[..., None]
    if rng.random() < cfg.lens_blur:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.3))
    if rng.random() < cfg.motion_blur:
        k = int(rng.integers(3, 8))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(-30, 30)), 1)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        x = cv2.filter2D(x, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < cfg.noise:
        x += rng.normal(0, rng.uniform(1, 8), x.shape).astype(np.float32)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < cfg.jpeg:
        ok, buf = cv2.imencode('.jpg', out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out, np.ascontiguousarray(lab)


def augment_batch(
    images: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    cfg: AugmentConfig = AugmentConfig(),
) -> tuple[np.ndarray, np.ndarray]:
    """A batch (N, H, W, 3) uint8 with labels (N, H, W), each frame augmented on its own."""
    pairs = [augment_frame(i, lab, rng, cfg) for i, lab in zip(images, labels, strict=True)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def augment_frame_soft(
    rgb: np.ndarray,
    labels: np.ndarray,
    soft: np.ndarray,
    rng: np.random.Generator,
    cfg: AugmentConfig = AugmentConfig(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`augment_frame` with the labels' class probabilities (H, W, C) carried along.

    The probabilities take the same flip and crop as the labels (resized linearly); where the
    photometric steps change a label (a pasted object), they become that label's one-hot.
    Returns the frame, its labels and its probabilities (float32).
    """
    img, lab, probs = _flip_zoom(rng, cfg, rgb, labels, soft)
    lab = np.ascontiguousarray(lab)
    out, new = augment_frame(img, lab, rng, replace(cfg, flip=0.0, zoom=0.0))
    probs = np.array(probs, np.float32)
    changed = (new != lab) & (new != IGNORE)
    probs[changed] = np.eye(probs.shape[-1], dtype=np.float32)[new[changed]]
    return out, new, probs


def augment_batch_soft(
    images: np.ndarray,
    labels: np.ndarray,
    soft: np.ndarray,
    rng: np.random.Generator,
    cfg: AugmentConfig = AugmentConfig(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`augment_batch` with class probabilities (N, H, W, C) carried along."""
    triples = [
        augment_frame_soft(i, lab, p, rng, cfg)
        for i, lab, p in zip(images, labels, soft, strict=True)
    ]
    frames, labs, probs = (np.stack([t[k] for t in triples]) for k in range(3))
    return frames, labs, probs
