"""Camera capture through OpenCV (V4L2 device, GStreamer pipeline or video file), with reconnect.

Also reads the ROS camera calibration YAML (the ``camera_calibration`` package's format).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml


@dataclass
class CaptureStats:
    """What the capture has done so far."""

    frames: int = 0
    drops: int = 0  # reads that returned no frame
    reconnects: int = 0
    connected: bool = False
    last_error: str = ''
    frame_times: list[float] = field(default_factory=list)

    def fps(self) -> float:
        """Frame rate over the last frames (0 before two frames)."""
        t = self.frame_times[-30:]
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0


class CameraSource:
    """Frames from a camera source.

    ``source`` is a device index ('0'), a device path ('/dev/video0'), a GStreamer pipeline
    (containing '!'), or a video file (looped when ``loop``).
    """

    def __init__(
        self,
        source: str,
        width: int = 0,
        height: int = 0,
        fps: float = 0.0,
        loop: bool = True,
        reconnect_after: int = 10,
    ) -> None:
        """Open lazily; ``reconnect_after`` failed reads in a row reopen the device."""
        self.source = source
        self.width, self.height, self.fps = width, height, fps
        self.loop = loop
        self.reconnect_after = reconnect_after
        self.stats = CaptureStats()
        self._cap: cv2.VideoCapture | None = None
        self._fails = 0

    def _open(self) -> bool:
        src = self.source
        if '!' in src:
            cap = cv2.VideoCapture(src, cv2.CAP_GSTREAMER)
        elif src.isdigit():
            cap = cv2.VideoCapture(int(src), cv2.CAP_V4L2)
        else:
            cap = cv2.VideoCapture(src)
        if not cap.isOpened():
            self.stats.last_error = f'cannot open camera source {src!r}'
            self.stats.connected = False
            return False
        if self.width and self.height:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        self._cap = cap
        self.stats.connected = True
        self.stats.last_error = ''
        return True

    def read(self) -> np.ndarray | None:
        """The next frame as RGB, or None (counted as a drop; reconnects when it persists)."""
        if self._cap is None and not self._open():
            self.stats.drops += 1
            return None
        ok, frame = self._cap.read()
        if not ok and self.loop and Path(self.source).is_file():
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # end of a video file: start again
            ok, frame = self._cap.read()
        if not ok or frame is None:
            self.stats.drops += 1
            self._fails += 1
            if self._fails >= self.reconnect_after:
                self.reconnect()
            return None
        self._fails = 0
        self.stats.frames += 1
        self.stats.frame_times.append(time.monotonic())
        del self.stats.frame_times[:-60]
        if frame.ndim == 2:
            return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def reconnect(self) -> None:
        """Close and reopen on the next read."""
        self.close()
        self.stats.reconnects += 1
        self.stats.connected = False
        self._fails = 0

    def close(self) -> None:
        """Release the device."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


@dataclass(frozen=True)
class Calibration:
    """A camera calibration (the camera_info YAML's content)."""

    width: int
    height: int
    k: np.ndarray
    d: np.ndarray
    r: np.ndarray
    p: np.ndarray
    distortion_model: str = 'plumb_bob'
    camera_name: str = 'camera'


def load_calibration(path: str | Path) -> Calibration:
    """Read a ROS camera_info YAML; ValueError names the missing or malformed field."""
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f'{path}: cannot read the calibration: {exc}') from None
    if not isinstance(doc, dict):
        raise ValueError(f'{path}: not a camera_info YAML')

    def matrix(key: str, rows: int, cols: int) -> np.ndarray:
        m = doc.get(key)
        if not isinstance(m, dict) or 'data' not in m:
            raise ValueError(f'{path}: {key} missing')
        data = np.asarray(m['data'], dtype=float)
        if data.size != rows * cols:
            raise ValueError(f'{path}: {key} has {data.size} values, expected {rows * cols}')
        return data.reshape(rows, cols)

    try:
        width, height = int(doc['image_width']), int(doc['image_height'])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f'{path}: image_width / image_height missing') from None
    d = np.asarray((doc.get('distortion_coefficients') or {}).get('data', []), dtype=float)
    return Calibration(
        width,
        height,
        matrix('camera_matrix', 3, 3),
        d,
        matrix('rectification_matrix', 3, 3),
        matrix('projection_matrix', 3, 4),
        str(doc.get('distortion_model', 'plumb_bob')),
        str(doc.get('camera_name', 'camera')),
    )
