"""The segmenter: an ONNX model on the first execution provider that loads it.

Providers are tried in the configured order: ``qnn-htp`` (Qualcomm Hexagon NPU through the
``onnxruntime-qnn`` plugin; on x86 its HTP backend simulates the NPU), ``openvino`` (Intel
NPU/GPU), ``tensorrt`` and ``cuda`` (NVIDIA), and ``cpu``, which is always tried last. The first
that creates a session and runs a warm-up inference is used; why each other one was skipped is
kept in :attr:`Segmenter.skipped` and logged. On x86, where the HTP backend is only a simulator
of the NPU (about 30 times slower than the CPU), ``qnn-htp`` is skipped unless it is the only
provider listed (as the NPU benchmark and tests do).

A model is checked when it loads: one image input (1, 3, H, W); a logits output (1, classes, h,
w) with the four classes and a spatial size the labels can be upsampled from (at least 2x2, no
larger than the input, at most :data:`MAX_OUTPUT_STRIDE` times smaller, the same aspect); and
finite logits for a synthetic frame at warm-up (a provider whose logits are not finite is
skipped; on the CPU the model is refused). A frame whose logits are not all finite at run time
is counted (:attr:`Segmenter.non_finite_frames`, of :attr:`Segmenter.frames`) and labelled all
sky with confidence 0 (:attr:`Segmentation.finite` False): no ground evidence for the mapping,
which fuses lawn, other ground and obstacle contact pixels only, where the argmax of NaN would
have labelled every pixel lawn.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from mower_segmentation.classes import CLASSES, MEAN, SKY, STD

PROVIDERS = ('qnn-htp', 'openvino', 'tensorrt', 'cuda', 'cpu')
_ORT_NAMES = {
    'openvino': 'OpenVINOExecutionProvider',
    'tensorrt': 'TensorrtExecutionProvider',
    'cuda': 'CUDAExecutionProvider',
    'cpu': 'CPUExecutionProvider',
}
_MEAN = np.asarray(MEAN, np.float32) * 255.0
_INV_STD = 1.0 / (np.asarray(STD, np.float32) * 255.0)
MAX_OUTPUT_STRIDE = 32  # the logits may be this many times coarser than the input, no more
#: the label grid (height, width) coarser logits are resized to at most, before the labels are
#: repeated to the frame's size (finer logits are taken as they are)
LABEL_HW = (120, 160)


def htp_is_simulated() -> bool:
    """True on machines without a Hexagon NPU, where QNN's HTP backend is a simulator (x86)."""
    return platform.machine().lower() in ('x86_64', 'amd64', 'i386', 'i686')


class ModelError(RuntimeError):
    """The model file is missing or is not a usable segmentation model."""


class NotFiniteError(RuntimeError):
    """The model's logits for the warm-up frame are not finite (on one provider)."""


@dataclass(frozen=True)
class Segmentation:
    """Labels at the image's size, and the model's confidence (max softmax) per pixel."""

    labels: np.ndarray  # (H, W) uint8 class ids
    confidence: np.ndarray | None  # (H, W) float32 in [0, 1], when asked for
    finite: bool = True  # False: the logits were not finite; labels all sky, confidence 0


def _session_options(threads: int) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return so


def _qnn_session(model: str, threads: int) -> ort.InferenceSession:
    try:
        import onnxruntime_qnn
    except ImportError:
        raise RuntimeError('onnxruntime-qnn is not installed') from None
    try:
        ort.register_execution_provider_library(
            'QNNExecutionProvider', onnxruntime_qnn.get_library_path()
        )
    except Exception as exc:  # already registered is fine, anything else is a reason
        if 'already' not in str(exc).lower():
            raise RuntimeError(f'cannot register the QNN plugin: {exc}') from None
    devices = [d for d in ort.get_ep_devices() if d.ep_name == 'QNNExecutionProvider']
    if not devices:
        raise RuntimeError('no QNN device')
    so = _session_options(threads)
    so.add_provider_for_devices(devices, {'backend_path': onnxruntime_qnn.get_qnn_htp_path()})
    return ort.InferenceSession(model, sess_options=so)


def open_session(model: str, provider: str, threads: int = 1) -> ort.InferenceSession:
    """A session on one named provider; raises RuntimeError with the reason it cannot."""
    if provider == 'qnn-htp':
        session = _qnn_session(model, threads)
        wanted = 'QNNExecutionProvider'
    else:
        wanted = _ORT_NAMES.get(provider)
        if wanted is None:
            raise RuntimeError(f'unknown provider {provider!r} (known: {", ".join(PROVIDERS)})')
        if wanted not in ort.get_available_providers():
            raise RuntimeError(f'{wanted} is not in this onnxruntime build')
        session = ort.InferenceSession(
            model, sess_options=_session_options(threads), providers=[wanted]
        )
    if session.get_providers()[0] != wanted:
        raise RuntimeError(f'{wanted} did not take the model')
    return session


class Segmenter:
    """Lawn / other ground / obstacle / sky labels for camera images."""

    def __init__(
        self,
        model: str | Path,
        providers: Sequence[str] = PROVIDERS,
        threads: int = 1,
        logger: logging.Logger | None = None,
    ) -> None:
        """Load ``model`` on the first provider that works (CPU as the last resort)."""
        self.log = logger or logging.getLogger('mower_segmentation')
        path = Path(model)
        if not path.is_file():
            raise ModelError(f'model file {path} not found')
        self.model_path = str(path)
        order = [p for p in providers if p != 'cpu'] + ['cpu']
        self.skipped: list[tuple[str, str]] = []
        self.session: ort.InferenceSession | None = None
        self.frames = 0  # frames segmented
        self.non_finite_frames = 0  # of which the logits were not all finite (labelled sky)
        last_error = ''
        for name in order:
            if name == 'qnn-htp' and len(set(providers)) > 1 and htp_is_simulated():
                reason = (
                    'the HTP backend on this machine simulates the NPU (slower than the '
                    'CPU); list qnn-htp alone to use it anyway'
                )
                self.skipped.append((name, reason))
                self.log.info('execution provider %s skipped: %s', name, reason)
                continue
            try:
                session = open_session(self.model_path, name, threads)
                self._check_and_warm_up(session)
            except ModelError:
                raise
            except NotFiniteError as exc:  # another provider may compute it right; not cpu
                if name == 'cpu':
                    raise ModelError(f'{path}: {exc}') from None
                self.skipped.append((name, str(exc)))
                self.log.info('execution provider %s skipped: %s', name, exc)
                last_error = str(exc)
                continue
            except Exception as exc:  # the reason is logged and kept; the next one is tried
                reason = (
                    str(exc).strip().splitlines()[0][:300]
                    if str(exc).strip()
                    else type(exc).__name__
                )
                self.skipped.append((name, reason))
                self.log.info('execution provider %s skipped: %s', name, reason)
                last_error = reason
                continue
            self.session = session
            self.provider = name
            break
        if self.session is None:
            raise ModelError(f'{path}: no execution provider could run it ({last_error})')
        self.log.info('segmentation model %s on %s', path.name, self.provider)

    def _check_and_warm_up(self, session: ort.InferenceSession) -> None:
        """Check the input and output shapes and the warm-up frame's logits; else raise.

        ModelError for a model that cannot be a segmentation model of the four classes;
        NotFiniteError for logits that are not finite (this provider may be at fault).
        """
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(f'{self.model_path}: expected one input and a logits output')
        shape = inputs[0].shape
        if len(shape) != 4 or shape[1] != 3 or not all(isinstance(d, int) for d in shape[2:]):
            raise ModelError(f'{self.model_path}: input shape {shape} is not (1, 3, H, W)')
        self.input_name = inputs[0].name
        self.input_hw = (int(shape[2]), int(shape[3]))
        out = session.run(
            None, {self.input_name: self.preprocess(synthetic_frame(*self.input_hw))}
        )[0]
        self._check_output_shape(out.shape)
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        if bad:
            raise NotFiniteError(
                f'outputs are not finite at warm-up ({bad} of {out.size} '
                'logits are NaN or infinite)'
            )

    def _check_output_shape(self, shape: tuple[int, ...]) -> None:
        """Refuse logits that are not (1, classes, h, w) with a usable h, w (ModelError)."""
        expected = f'(1, {len(CLASSES)}, H, W)'
        if len(shape) != 4:
            kind = ' (a classifier, not a segmentation model?)' if len(shape) == 2 else ''
            raise ModelError(
                f'{self.model_path}: output shape {tuple(shape)} is not {expected}{kind}'
            )
        if shape[1] != len(CLASSES):
            raise ModelError(
                f'{self.model_path}: {shape[1]} output classes, expected '
                f'{len(CLASSES)} ({", ".join(CLASSES)})'
            )
        (h_in, w_in), (h, w) = self.input_hw, shape[2:]
        if (
            shape[0] != 1
            or not (2 <= h <= h_in and 2 <= w <= w_in)
            or h_in / h > MAX_OUTPUT_STRIDE
            or w_in / w > MAX_OUTPUT_STRIDE
            or max(h_in / h, w_in / w) > 1.5 * min(h_in / h, w_in / w)
        ):
            raise ModelError(
                f'{self.model_path}: output shape {tuple(shape)} does not fit the '
                f'input {h_in}x{w_in}: expected {expected} with H, W at least 2, '
                f'no larger than the input, at most {MAX_OUTPUT_STRIDE} times '
                'smaller, of the same aspect'
            )

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (1, 3, h, w) normalised float32 at the model's size."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
        h, w = self.input_hw
        if rgb.shape[:2] != (h, w):
            # INTER_AREA is the exact 2x2 block mean (rounded) at the camera's native 2x size,
            # which is also how the training frames were made
            rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        # channel planes copied one by one, then normalised in place: the same numbers in a
        # sixth of the time of converting the (H, W, 3) frame and transposing it (0.05 against
        # 0.31 ms at 160x120, 0.20 against 1.89 ms at 320x240, medians on the 2-core machine)
        x = np.empty((1, 3, h, w), np.float32)
        for c in range(3):
            x[0, c] = rgb[:, :, c]
        x -= _MEAN.reshape(1, 3, 1, 1)
        x *= _INV_STD.reshape(1, 3, 1, 1)
        return x

    def segment(self, rgb: np.ndarray, with_confidence: bool = False) -> Segmentation:
        """Labels for an RGB image, at the image's size."""
        logits = self.session.run(None, {self.input_name: self.preprocess(rgb)})[0][0]
        h, w = rgb.shape[:2]
        self.frames += 1
        if not np.isfinite(logits).all():
            return self._not_finite(h, w, with_confidence)
        conf = None
        if with_confidence:  # the largest softmax probability, 1 / sum(exp(l - max l)), at the
            # model's output size, then resized bilinearly (16x fewer exponentials than after)
            conf = (1.0 / np.exp(logits - logits.max(axis=0)).sum(axis=0)).astype(np.float32)
            if conf.shape != (h, w):
                conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
        # a model with coarser output: bilinear, in float, to the input's size but at most
        # twice the logits' and no finer than LABEL_HW where the logits are coarser (a
        # full-resolution model's 80x60 logits to 160x120, as for the 160x120 model: four
        # times fewer pixels to resize and argmax than at 320x240; its 160x120 logits with a
        # refinement, model.with_fine_head, as they are), then the labels are repeated
        h_in, w_in = (
            max(o, min(d, 2 * o, cap))
            for d, o, cap in zip(self.input_hw, logits.shape[1:], LABEL_HW)
        )
        if logits.shape[1:] != (h_in, w_in):
            hwc = cv2.resize(
                np.ascontiguousarray(logits.transpose(1, 2, 0)),
                (w_in, h_in),
                interpolation=cv2.INTER_LINEAR,
            )  # (h, w, classes)
            labels = hwc.argmax(axis=2).astype(np.uint8)
        else:
            labels = logits.argmax(axis=0).astype(np.uint8)
        if labels.shape != (h, w):
            if (h, w) == (2 * labels.shape[0], 2 * labels.shape[1]):
                labels = np.repeat(np.repeat(labels, 2, axis=0), 2, axis=1)
            else:
                labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        return Segmentation(labels, conf)

    def _not_finite(self, h: int, w: int, with_confidence: bool) -> Segmentation:
        """A frame whose logits are not finite: counted, logged, labelled sky (no evidence)."""
        self.non_finite_frames += 1
        n = self.non_finite_frames
        if n & (n - 1) == 0:  # the 1st, 2nd, 4th, 8th...: said, not flooded
            self.log.warning(
                '%s: logits not finite in %d of %d frames; such frames are '
                'labelled sky (no ground evidence)',
                Path(self.model_path).name,
                n,
                self.frames,
            )
        conf = np.zeros((h, w), np.float32) if with_confidence else None
        return Segmentation(np.full((h, w), SKY, np.uint8), conf, finite=False)


def synthetic_frame(h: int, w: int) -> np.ndarray:
    """An (h, w, 3) uint8 RGB warm-up frame: green below, sky-blue above, smooth gradients."""
    rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    cols = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    sky = np.array([120, 170, 255], np.float32)
    grass = np.array([50, 140, 40], np.float32)
    rgb = sky + (grass - sky) * rows + 40.0 * (cols - 0.5)
    return np.clip(rgb, 0, 255).astype(np.uint8)
