"""Conversions between sensor_msgs/Image and numpy images (segmentation_node's boundary)."""

from __future__ import annotations

import array

import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mower_segmentation.confidence import confidence_to_mono8

_CHANNELS = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1}


def image_to_rgb(msg: Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an Image; ValueError names what is wrong with it."""
    enc = msg.encoding
    if enc not in _CHANNELS:
        raise ValueError(f'unsupported encoding {enc!r} (supported: {", ".join(_CHANNELS)})')
    ch = _CHANNELS[enc]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0 or step < w * ch:
        raise ValueError(f'bad image geometry {w}x{h}, step {step}')
    data = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if data.size != step * h:
        raise ValueError(f'image data has {data.size} bytes, expected {step * h}')
    img = data.reshape(h, step)[:, : w * ch].reshape(h, w, ch)
    if enc == 'rgb8':
        return img
    if enc == 'bgr8':
        return img[..., ::-1]
    if enc == 'rgba8':
        return img[..., :3]
    if enc == 'bgra8':
        return img[..., 2::-1]
    return np.repeat(img, 3, axis=2)


def uint8_data(values: np.ndarray) -> array.array:
    """An Image's ``data`` as ``array.array('B')``: the generated message takes it as it is.

    Humble's generated setter checks any other sequence (bytes, a list) value by value, tens of
    milliseconds per camera image (rosidl_generator_py resource/_msg.py.em); Jazzy converts
    anything into an ``array.array`` too.
    """
    return array.array('B', np.ascontiguousarray(values, dtype=np.uint8).tobytes())


def labels_to_msg(labels: np.ndarray, header: Header) -> Image:
    """mono8 Image of class ids, with the camera image's header (stamp and frame)."""
    h, w = labels.shape
    return Image(
        header=header,
        height=h,
        width=w,
        encoding='mono8',
        is_bigendian=0,
        step=w,
        data=uint8_data(labels),
    )


def confidence_to_msg(confidence: np.ndarray, header: Header) -> Image:
    """mono8 Image of a confidence in [0, 1] scaled to 0-255, with the camera image's header."""
    h, w = confidence.shape
    return Image(
        header=header,
        height=h,
        width=w,
        encoding='mono8',
        is_bigendian=0,
        step=w,
        data=uint8_data(confidence_to_mono8(confidence)),
    )


def rgb_to_msg(rgb: np.ndarray, header: Header) -> Image:
    """rgb8 Image."""
    h, w = rgb.shape[:2]
    return Image(
        header=header,
        height=h,
        width=w,
        encoding='rgb8',
        is_bigendian=0,
        step=w * 3,
        data=uint8_data(rgb),
    )
