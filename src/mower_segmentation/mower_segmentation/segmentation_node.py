"""segmentation_node: camera images in, per-pixel class ids out (a lifecycle node).

configure loads the ONNX model on the first execution provider that takes it (failing the
transition, with the reason, if the model is missing or invalid, unless the classical fallback
is allowed); activate starts publishing ``segmentation/labels`` (mono8 class ids, the camera
image's header) and, when enabled, ``segmentation/overlay`` and ``segmentation/confidence``
(mono8, the model's per-pixel confidence scaled 0-255 for 0-1, the camera image's header; not
for the classical baseline, which has none). Diagnostics count low-confidence frames (the rule
is :mod:`mower_segmentation.confidence`'s). A malformed image is logged, counted in diagnostics
and skipped.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import Node, State, TransitionCallbackReturn
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mower_node_kit.diagnostics import diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.params import declare, field_specs
from mower_segmentation.classes import CLASSES
from mower_segmentation.classical import ClassicalSegmenter
from mower_segmentation.confidence import ConfidenceParams, is_low_confidence
from mower_segmentation.conversions import (
    confidence_to_msg,
    image_to_rgb,
    labels_to_msg,
    rgb_to_msg,
)
from mower_segmentation.node_params import PARAMETERS
from mower_segmentation.runtime import ModelError, Segmenter

RECENT_FRAMES = 100  # diagnostics: WARN when over half of these were low-confidence
OVERLAY_COLOURS = np.array(
    [[40, 200, 40], [170, 120, 70], [230, 30, 30], [120, 170, 255]], dtype=np.float32
)


class SegmentationNode(Node):
    """A thin adapter around :class:`~mower_segmentation.runtime.Segmenter`."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters; nothing heavy happens before configure."""
        super().__init__('segmentation_node', **kwargs)
        declare(self, PARAMETERS)
        self.confidence = ConfidenceParams(**declare(self, field_specs(ConfidenceParams)))
        self.publish_confidence = bool(self.get_parameter('publish_confidence').value)
        self.segmenter: Segmenter | ClassicalSegmenter | None = None
        self.frames = 0
        self.bad_images = 0
        self.low_confidence_frames = 0
        self.recent_low: deque[bool] = deque(maxlen=RECENT_FRAMES)
        self.latency_ms: list[float] = []
        self._sub = None
        self._pubs: list[Any] = []  # the lifecycle publishers configure created
        self._active = False  # inference only while active: inactive frames are not segmented

    def _drop_endpoints(self) -> None:
        """Destroy what configure created, so a later configure does not create it twice."""
        for pub in self._pubs:
            self.destroy_lifecycle_publisher(pub)
        self._pubs = []
        if self._sub is not None:
            self.destroy_subscription(self._sub)
            self._sub = None

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        """Load the model; fail the transition with the reason when it cannot be used."""
        model = self.get_parameter('model_file').value
        providers = list(self.get_parameter('execution_providers').value)
        threads = self.get_parameter('threads').value
        try:
            if not model:
                raise ModelError('parameter model_file is empty')
            self.segmenter = Segmenter(model, providers, threads)
            for name, reason in self.segmenter.skipped:
                self.get_logger().info(f'execution provider {name} skipped: {reason}')
            self.get_logger().info(f'model {model} on {self.segmenter.provider}')
        except ModelError as exc:
            if not self.get_parameter('fallback_to_classical').value:
                self.get_logger().error(f'cannot configure: {exc}')
                return TransitionCallbackReturn.FAILURE
            self.get_logger().warning(f'{exc}; using the classical colour baseline')
            self.segmenter = ClassicalSegmenter()
            if self.publish_confidence:
                self.get_logger().warning(
                    'the classical baseline has no confidence: '
                    'segmentation/confidence is not published'
                )
        except Exception as exc:  # rclpy would turn it into ERROR without a word: say why
            self.get_logger().error(f'cannot configure: {type(exc).__name__}: {exc}')
            return TransitionCallbackReturn.ERROR
        self._drop_endpoints()
        self.pub_labels = self.create_lifecycle_publisher(
            Image, 'segmentation/labels', qos_profile_sensor_data
        )
        self.pub_overlay = self.create_lifecycle_publisher(
            Image, 'segmentation/overlay', qos_profile_sensor_data
        )
        self.pub_confidence = self.create_lifecycle_publisher(
            Image, 'segmentation/confidence', qos_profile_sensor_data
        )
        self.pub_diag = self.create_lifecycle_publisher(DiagnosticArray, '/diagnostics', 10)
        self._pubs = [self.pub_labels, self.pub_overlay, self.pub_confidence, self.pub_diag]
        self._sub = self.create_subscription(
            Image, 'camera/image_raw', self.on_image, qos_profile_sensor_data
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        """Start segmenting and publishing (the base class activates the publishers)."""
        result = super().on_activate(state)
        self._active = result == TransitionCallbackReturn.SUCCESS
        return result

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        """Stop segmenting and publishing."""
        self._active = False
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        """Drop the model and the endpoints."""
        self._drop_endpoints()
        self.segmenter = None
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: State) -> TransitionCallbackReturn:
        """A transition failed with ERROR: drop the model and go back to unconfigured."""
        self._active = False
        self._drop_endpoints()
        self.segmenter = None
        return super().on_error(state)

    def on_image(self, msg: Image) -> None:
        """Segment one camera image (while active only: inactive, the output would be dropped)."""
        if self.segmenter is None or not self._active:
            return
        try:
            rgb = image_to_rgb(msg)
        except ValueError as exc:
            self.bad_images += 1
            self.get_logger().warning(f'skipping camera image: {exc}', throttle_duration_sec=5.0)
            return
        t0 = time.perf_counter()
        confidence = None
        if isinstance(self.segmenter, ClassicalSegmenter):
            labels = self.segmenter.segment_labels(rgb)
        else:
            want = self.publish_confidence or self.confidence.counts_frames
            result = self.segmenter.segment(rgb, with_confidence=want)
            labels, confidence = result.labels, result.confidence
        self.latency_ms.append((time.perf_counter() - t0) * 1000)
        self.frames += 1
        self.pub_labels.publish(labels_to_msg(labels, msg.header))
        if confidence is not None:
            if self.confidence.counts_frames:
                low = is_low_confidence(confidence, self.confidence)
                self.low_confidence_frames += int(low)
                self.recent_low.append(low)
            if self.publish_confidence:
                self.pub_confidence.publish(confidence_to_msg(confidence, msg.header))
        if self.get_parameter('publish_overlay').value:
            over = rgb * 0.55 + OVERLAY_COLOURS[np.minimum(labels, len(CLASSES) - 1)] * 0.45
            self.pub_overlay.publish(rgb_to_msg(over.astype(np.uint8), msg.header))
        if self.frames % 50 == 1:
            self.publish_diagnostics(msg.header)

    def publish_diagnostics(self, header: Header) -> None:
        """Provider, frame, error and low-confidence counts, latency.

        WARN on malformed images, or when more than half of the last ``RECENT_FRAMES`` frames
        whose confidence was checked were low-confidence (the model does not know this lawn);
        ERROR once the model gave non-finite outputs (those frames are labelled sky: unmapped).
        """
        recent = self.latency_ms[-100:]
        low_share = sum(self.recent_low) / len(self.recent_low) if self.recent_low else 0.0
        non_finite = getattr(self.segmenter, 'non_finite_frames', 0)
        values = {
            'provider': getattr(self.segmenter, 'provider', ''),
            'frames': self.frames,
            'bad_images': self.bad_images,
            'non_finite_frames': non_finite,
            'low_confidence_frames': self.low_confidence_frames,
            'low_confidence_recent_share': f'{low_share:.2f}' if self.recent_low else '',
            'latency_ms_median': f'{float(np.median(recent)):.2f}' if recent else '',
        }
        unsure = low_share > 0.5
        level = 'WARN' if self.bad_images or unsure else 'OK'
        text = f'{self.frames} frames, {self.low_confidence_frames} low-confidence'
        if non_finite:
            level = 'ERROR'  # the model gave NaN or infinity: those frames were not mapped
            text += f', {non_finite} with non-finite model outputs (not mapped)'
        if unsure:
            text += ': the model is unsure of this lawn (fine-tune it on its frames)'
        self.pub_diag.publish(diagnostics(header.stamp, 'segmentation_node', level, text, values))


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_segmentation segmentation_node``."""
    return run_node(SegmentationNode, args)


if __name__ == '__main__':
    main()
