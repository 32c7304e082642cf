"""camera_node: camera images and calibration for the stack (OpenCV capture).

Publishes ``camera/image_raw`` (rgb8) and ``camera/camera_info`` with SensorDataQoS at
``rate_hz``, the calibration read from a ROS camera_info YAML; reopens the device after
repeated failed reads, and reports frame rate, drops and reconnects in ``/diagnostics``.
"""

from __future__ import annotations

import array
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mower_node_kit.diagnostics import diagnostics
from mower_node_kit.main import run_node
from mower_node_kit.params import declare
from mower_perception.camera_source import Calibration, CameraSource, load_calibration

#: name -> (default, description)
PARAMETERS: dict[str, tuple[Any, str]] = {
    'source': ('0', "V4L2 index or path, GStreamer pipeline (with '!'), or a video file"),
    'width': (320, 'requested image width (px)'),
    'height': (240, 'requested image height (px)'),
    'rate_hz': (10.0, 'publishing rate (Hz)'),
    'loop': (True, 'start a video file again at its end'),
    'reconnect_after': (10, 'failed reads in a row before the device is reopened'),
    'calibration_file': ('', 'camera_info YAML ("" publishes no camera_info)'),
    'frame_id': ('camera_optical_frame', 'frame of the images'),
}


class CameraNode(Node):
    """A thin adapter around CameraSource."""

    def __init__(self, **kwargs: Any) -> None:
        """Declare parameters, read the calibration, start the capture timer."""
        super().__init__('camera_node', **kwargs)
        self.p = p = declare(self, PARAMETERS)
        self.calibration: Calibration | None = None
        if p['calibration_file']:
            try:
                self.calibration = load_calibration(p['calibration_file'])
            except ValueError as exc:
                self.get_logger().error(f'{exc}; publishing images without camera_info')
        self.source = CameraSource(
            p['source'], p['width'], p['height'], p['rate_hz'], p['loop'], p['reconnect_after']
        )
        self.pub_image = self.create_publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
        self.pub_info = self.create_publisher(
            CameraInfo, 'camera/camera_info', qos_profile_sensor_data
        )
        self.pub_diag = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.timer = self.create_timer(1.0 / p['rate_hz'], self.tick)
        self.diag_timer = self.create_timer(1.0, self.publish_diagnostics)

    def tick(self) -> None:
        """Capture and publish one frame."""
        rgb = self.source.read()
        if rgb is None:
            if self.source.stats.last_error:
                self.get_logger().warning(self.source.stats.last_error, throttle_duration_sec=5.0)
            return
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.p['frame_id'])
        h, w = rgb.shape[:2]
        self.pub_image.publish(
            Image(
                header=header,
                height=h,
                width=w,
                encoding='rgb8',
                is_bigendian=0,
                step=w * 3,  # array.array: taken as is
                data=array.array('B', np.ascontiguousarray(rgb, dtype=np.uint8).tobytes()),
            )
        )
        c = self.calibration
        if c is not None:
            if (c.width, c.height) != (w, h):
                self.get_logger().warning(
                    f'calibration is for {c.width}x{c.height}, images are {w}x{h}',
                    throttle_duration_sec=30.0,
                )
            self.pub_info.publish(
                CameraInfo(
                    header=header,
                    width=c.width,
                    height=c.height,
                    distortion_model=c.distortion_model,
                    d=[float(v) for v in c.d],
                    k=[float(v) for v in c.k.ravel()],
                    r=[float(v) for v in c.r.ravel()],
                    p=[float(v) for v in c.p.ravel()],
                )
            )

    def publish_diagnostics(self) -> None:
        """Frame rate, drops, reconnects."""
        s = self.source.stats
        self.pub_diag.publish(
            diagnostics(
                self.get_clock().now().to_msg(),
                'camera_node',
                'OK' if s.connected else 'ERROR',
                'streaming' if s.connected else (s.last_error or 'not connected'),
                {
                    'fps': f'{s.fps():.1f}',
                    'frames': s.frames,
                    'drops': s.drops,
                    'reconnects': s.reconnects,
                },
                self.p['source'],
            )
        )

    def destroy_node(self) -> None:
        """Release the device."""
        self.source.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Entry point for ``ros2 run mower_perception camera_node``."""
    return run_node(CameraNode, args)


if __name__ == '__main__':
    main()
