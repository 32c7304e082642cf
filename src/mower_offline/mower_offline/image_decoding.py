"""Camera images of a bag as RGB: sensor_msgs Image (raw encodings) and CompressedImage.

:func:`image_rgb` turns one message into an (H, W, 3) uint8 RGB array, whatever the camera
wrote (RGB, BGR, with alpha, mono 8 and 16 bit, YUV 4:2:2, Bayer, JPEG or PNG); what cannot be
decoded raises :class:`ImageError`, which names the reason for the replay's problem list.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'


class ImageError(ValueError):
    """An image that cannot be turned into RGB (names the reason)."""


def image_rgb(msg: Any, msgtype: str) -> np.ndarray:
    """RGB (H, W, 3) uint8 of a sensor_msgs Image or CompressedImage; ImageError otherwise."""
    if msgtype == COMPRESSED:
        buf = np.frombuffer(bytes(msg.data), dtype=np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if len(buf) else None
        if img is None:
            raise ImageError(f'compressed image ({msg.format or "no format"}) does not decode')
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w, step, enc = int(msg.height), int(msg.width), int(msg.step), str(msg.encoding).lower()
    channels = {
        'rgb8': 3,
        'bgr8': 3,
        'rgba8': 4,
        'bgra8': 4,
        'mono8': 1,
        '8uc1': 1,
        '8uc3': 3,
        'mono16': 2,
        '16uc1': 2,
        'yuv422': 2,
        'uyvy': 2,
        'yuv422_yuy2': 2,
        'yuyv': 2,
        'bayer_rggb8': 1,
        'bayer_bggr8': 1,
        'bayer_gbrg8': 1,
        'bayer_grbg8': 1,
    }
    if enc not in channels:
        raise ImageError(f'image encoding {msg.encoding!r} is not supported')
    if h <= 0 or w <= 0 or step < w * channels[enc]:
        raise ImageError(f'image size {w}x{h} with step {step} does not fit {msg.encoding}')
    data = np.asarray(msg.data, dtype=np.uint8)
    if data.size < step * h:
        raise ImageError(f'image data is {data.size} bytes, {step * h} expected')
    rows = data[: step * h].reshape(h, step)[:, : w * channels[enc]]
    if enc in ('mono16', '16uc1'):
        mono = rows.copy().view('<u2' if not msg.is_bigendian else '>u2').reshape(h, w)
        g = (mono.astype(np.float32) * (255.0 / max(1, int(mono.max())))).astype(np.uint8)
        return cv2.cvtColor(g, cv2.COLOR_GRAY2RGB)
    img = rows.reshape(h, w, channels[enc]) if channels[enc] > 1 else rows.reshape(h, w)
    conv = {
        'rgb8': None,
        '8uc3': None,
        'bgr8': cv2.COLOR_BGR2RGB,
        'rgba8': cv2.COLOR_RGBA2RGB,
        'bgra8': cv2.COLOR_BGRA2RGB,
        'mono8': cv2.COLOR_GRAY2RGB,
        '8uc1': cv2.COLOR_GRAY2RGB,
        'yuv422': cv2.COLOR_YUV2RGB_UYVY,
        'uyvy': cv2.COLOR_YUV2RGB_UYVY,
        'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUY2,
        'yuyv': cv2.COLOR_YUV2RGB_YUY2,
        'bayer_rggb8': cv2.COLOR_BayerBG2RGB,
        'bayer_bggr8': cv2.COLOR_BayerRG2RGB,
        'bayer_gbrg8': cv2.COLOR_BayerGR2RGB,
        'bayer_grbg8': cv2.COLOR_BayerGB2RGB,
    }[enc]
    return (
        np.ascontiguousarray(img)
        if conv is None
        else cv2.cvtColor(np.ascontiguousarray(img), conv)
    )
