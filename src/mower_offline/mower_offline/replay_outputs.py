"""What a bag replay writes: the output bag, the video, extracted frames, the map and summary.

* :class:`BagCopier` copies the input messages into the output bag (ROS 1 ones converted);
  :func:`write_maps` adds the replay's grids and :func:`obstacle_markers` its obstacles.
* :class:`ReplayVideo` is the video: the camera with the label overlay, a mini-map beside it;
  :func:`label_overlay` is that overlay (also in the bags, :func:`compressed_image`, and
  the owner's app: :func:`rgb_jpeg`).
* :class:`FrameExtractor` writes frames (and the model's labels) for labelling.
* :func:`replay_summary` is ``summary.json``'s content, :func:`write_summary` writes it;
  :func:`map_png` draws the final map with the path and the obstacles found.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from mower_mapping.coverage_layer import CoverageLayer
from mower_mapping.obstacles import obstacle_core_centre
from mower_mapping.semantic_grid import LAWN, OBSTACLE, OTHER, SemanticGrid
from mower_offline.bag import (
    TYPESTORE,
    BagRecorder,
    MessageSink,
    coverage_grid_msg,
    header,
    ros_msg,
    semantic_grid_msg,
)
from mower_offline.image_decoding import COMPRESSED, IMAGE
from mower_offline.pose_timeline import Timeline

if TYPE_CHECKING:
    from mower_offline.replay import Replay

COLOURS = {
    LAWN: (60, 170, 60),
    OTHER: (150, 150, 150),
    OBSTACLE: (220, 40, 40),
    3: (120, 170, 230),
}  # RGB per class id; the fourth class is sky
_LUT = np.full((256, 3), 30, np.uint8)  # class id -> colour (unknown: dark grey)
for _cls, _col in COLOURS.items():
    _LUT[_cls] = _col

Report = Callable[..., None]  # Replay.report(topic, t_ns, what, key=...)
OWN_TOPICS = '/replay/'  # the replay's outputs in its bag: labels, map/semantic, map/coverage...
OUTPUTS = {  # those outputs: topic -> message type
    '/replay/labels': IMAGE,
    '/replay/overlay/compressed': COMPRESSED,
    '/replay/map/semantic': 'nav_msgs/msg/OccupancyGrid',
    '/replay/map/coverage': 'nav_msgs/msg/OccupancyGrid',
    '/replay/obstacles': 'visualization_msgs/msg/MarkerArray',
}


class BagCopier:
    """The input messages into the output bag, as CDR; what cannot be copied is reported.

    rosbag2 messages are copied as they are. ROS 1 messages of a standard type are migrated to
    its ROS 2 definition (rosbags' converter: the ROS 1 header's seq goes), others are
    re-encoded as CDR with the bag's own definition, as ``rosbags-convert`` does. The input's
    own ``/replay/...`` topics (an earlier replay's outputs) are not copied: that namespace is
    this replay's (reported once per topic).
    """

    def __init__(self, reader: Any, report: Report) -> None:
        """Copy from the open ``reader``; ``report(topic, t_ns, what, key=...)`` notes."""
        self.reader, self.report = reader, report
        self._cache: dict[int, Any] = {}  # per input connection: (output, ros2, migrations)

    def definitions(self, con: Any) -> tuple[bool, Any]:
        """Whether ``con`` is migrated to ROS 2 (a ROS 1 standard type); its typestore."""
        ros2 = not self.reader.is2 and con.msgtype in TYPESTORE.fielddefs
        return ros2, TYPESTORE if ros2 else self.reader.typestore

    def topics(self) -> list[tuple[str, str, Any]]:
        """(topic, type, typestore) of the input's topics as they are copied."""
        return [
            (con.topic, con.msgtype, self.definitions(con)[1])
            for con in self.reader.connections
            if not con.topic.startswith(OWN_TOPICS)
        ]

    def copy(self, bag: MessageSink, con: Any, t_ns: int, raw: bytes) -> None:
        """One message of input connection ``con`` (raw bytes as read) into ``bag``.

        ``bag``: the output bag, the live view, or both (:func:`mower_offline.bag.tee`).
        """
        cache, reader = self._cache, self.reader
        key = id(con)
        if key not in cache and con.topic.startswith(OWN_TOPICS):
            cache[key] = None
            self.report(
                con.topic,
                t_ns,
                "an earlier replay's output: not copied (this replay "
                'writes its own /replay topics)',
                key='own',
            )
        if key not in cache:
            ros2, typestore = self.definitions(con)
            try:
                out = bag.add_connection(con.topic, con.msgtype, typestore)
                cache[key] = (out, ros2, {})
            except Exception as exc:
                cache[key] = None
                self.report(con.topic, t_ns, f'not copied to the output bag: {exc}', key='copy')
        entry = cache[key]
        if entry is None:
            return
        out, ros2, migrations = entry
        data: bytes | memoryview
        try:
            if reader.is2:
                data = raw
            elif ros2:
                from rosbags.convert.converter import migrate_bytes

                data = migrate_bytes(
                    reader.typestore,
                    TYPESTORE,
                    con.msgtype,
                    con.msgtype,
                    migrations,
                    raw,
                    src_is2=False,
                    dst_is2=True,
                )
            else:
                data = reader.typestore.ros1_to_cdr(raw, con.msgtype)
        except Exception as exc:
            self.report(con.topic, t_ns, f'not copied (does not convert): {exc}', key='conv')
            return
        bag.write_cdr(out, t_ns, bytes(data))


def write_maps(
    bag: MessageSink,
    grid: SemanticGrid,
    layer: CoverageLayer | None,
    frame: str,
    t_bag: float,
    ts: float,
    obstacles: list[Any] | None = None,
) -> None:
    """The semantic grid, the swept area and (given) the obstacles into the output bag.

    ``t_bag`` is the bag time (s) to write at, ``ts`` the messages' stamp, ``frame`` theirs.
    """
    bag.write(
        '/replay/map/semantic',
        'nav_msgs/msg/OccupancyGrid',
        t_bag,
        semantic_grid_msg(grid, ts, frame),
    )
    if layer is not None:
        bag.write(
            '/replay/map/coverage',
            'nav_msgs/msg/OccupancyGrid',
            t_bag,
            coverage_grid_msg(layer, ts, frame),
        )
    if obstacles is not None:
        bag.write(
            '/replay/obstacles',
            'visualization_msgs/msg/MarkerArray',
            t_bag,
            obstacle_markers(obstacles, frame, ts),
        )


def write_labels(
    bag: MessageSink, rgb: np.ndarray, labels: np.ndarray, t_bag: float, ts: float, frame: str
) -> None:
    """A frame's labels (mono8 class ids) and its label overlay (JPEG) into the output bag.

    ``t_bag`` is the bag time (s) to write at, ``ts`` the camera frame's stamp, ``frame`` its.
    """
    h, w = labels.shape
    bag.write(
        '/replay/labels',
        IMAGE,
        t_bag,
        ros_msg(
            IMAGE,
            header=header(ts, frame),
            height=h,
            width=w,
            encoding='mono8',
            step=w,
            data=labels.tobytes(),
        ),
    )
    overlay = compressed_image(label_overlay(rgb, labels), ts, frame)
    if overlay is not None:
        bag.write('/replay/overlay/compressed', COMPRESSED, t_bag, overlay)


def obstacle_markers(polygons: list[Any], frame: str, ts: float) -> Any:
    """A MarkerArray: delete all, then each polygon's outline as an orange line strip."""
    markers = [
        ros_msg(
            'visualization_msgs/msg/Marker',
            header=header(ts, frame),
            ns='obstacles',
            id=0,
            action=3,
        )
    ]  # DELETEALL
    for i, p in enumerate(polygons):
        pts = [
            ros_msg('geometry_msgs/msg/Point', x=float(x), y=float(y), z=0.05)
            for x, y in zip(*p.exterior.xy)
        ]
        markers.append(
            ros_msg(
                'visualization_msgs/msg/Marker',
                header=header(ts, frame),
                ns='obstacles',
                id=i + 1,
                type=4,
                action=0,
                points=pts,  # LINE_STRIP, ADD
                pose=ros_msg(
                    'geometry_msgs/msg/Pose',
                    orientation=ros_msg('geometry_msgs/msg/Quaternion', w=1.0),
                ),
                scale=ros_msg('geometry_msgs/msg/Vector3', x=0.03),
                color=ros_msg('std_msgs/msg/ColorRGBA', r=1.0, g=0.5, a=1.0),
            )
        )
    return ros_msg('visualization_msgs/msg/MarkerArray', markers=markers)


def label_overlay(rgb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The RGB image with its class ids (same size) blended in as :data:`COLOURS` (RGB)."""
    return cv2.addWeighted(rgb, 0.6, _LUT[labels], 0.4, 0.0)


def rgb_jpeg(rgb: np.ndarray, quality: int = 80) -> bytes | None:
    """JPEG of an RGB image; None if it cannot be encoded."""
    ok, jpeg = cv2.imencode(
        '.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    return jpeg.tobytes() if ok else None


def compressed_image(rgb: np.ndarray, ts: float, frame_id: str) -> Any | None:
    """sensor_msgs/CompressedImage of an RGB image (JPEG, quality 80); None if it fails."""
    jpeg = rgb_jpeg(rgb)
    if jpeg is None:
        return None
    return ros_msg(
        COMPRESSED,
        header=header(ts, frame_id),
        format='jpeg',
        data=jpeg,
    )


class ReplayVideo:
    """``replay.mp4`` (else ``replay.avi``, MJPG): camera and labels, a mini-map beside them.

    The file is opened at the first frame, in that frame's size; ``path`` is None until then.
    """

    def __init__(self, out_dir: Path, fps: float) -> None:
        """A video in ``out_dir`` at ``fps`` frames per second."""
        self.out, self.fps = Path(out_dir), fps
        self.path: Path | None = None
        self._writer: cv2.VideoWriter | None = None
        self._mini: np.ndarray | None = None

    def write(
        self,
        rgb: np.ndarray,
        labels: np.ndarray,
        pose: tuple | None,
        grid: SemanticGrid | None,
        index: int,
    ) -> None:
        """Add frame number ``index`` (from 0): camera ``rgb``, its ``labels``, the robot."""
        frame = self.frame(rgb, labels, pose, grid, index)
        if self._writer is None:
            self._writer = self._open(frame.shape)
        self._writer.write(frame)

    def release(self) -> None:
        """Close the file (if a frame was written)."""
        if self._writer is not None:
            self._writer.release()

    def _open(self, shape: tuple[int, ...]) -> cv2.VideoWriter:
        path = self.out / 'replay.mp4'
        vw = cv2.VideoWriter(
            str(path), cv2.VideoWriter.fourcc(*'mp4v'), self.fps, (shape[1], shape[0])
        )
        if not vw.isOpened():
            path = self.out / 'replay.avi'
            vw = cv2.VideoWriter(
                str(path), cv2.VideoWriter.fourcc(*'MJPG'), self.fps, (shape[1], shape[0])
            )
        self.path = path
        return vw

    def frame(
        self,
        rgb: np.ndarray,
        labels: np.ndarray,
        pose: tuple | None,
        grid: SemanticGrid | None,
        index: int,
    ) -> np.ndarray:
        """Camera with the label overlay, and beside it a mini-map around the robot (BGR)."""
        over = label_overlay(rgb, labels)
        h = over.shape[0]
        mini = np.full((h, h, 3), 30, np.uint8)
        if self._mini is not None and index % 3 and pose is not None:
            mini = self._mini.copy()  # the map changes slowly: redrawn every third frame
        elif grid is not None and pose is not None:
            g = grid
            half = max(1, int(round(4.0 / g.res)))  # 8 x 8 m around the robot, north up
            c = int(math.floor((pose[0] - g.origin[0]) / g.res))
            r = int(math.floor((pose[1] - g.origin[1]) / g.res))
            rows, cols = g.logodds.shape[1:]
            win = np.full((2 * half, 2 * half), 255, np.uint8)
            r0, r1, c0, c1 = (
                max(0, r - half),
                min(rows, r + half),
                max(0, c - half),
                min(cols, c + half),
            )
            if r0 < r1 and c0 < c1:
                win[r0 - (r - half) : r1 - (r - half), c0 - (c - half) : c1 - (c - half)] = (
                    g.class_map(slice(r0, r1), slice(c0, c1))
                )
            mini = cv2.resize(_LUT[win][::-1], (h, h), interpolation=cv2.INTER_NEAREST)
            self._mini = mini.copy()
        if pose is not None and grid is not None:
            ctr = (h // 2, h // 2)
            tip = (int(ctr[0] + 12 * math.cos(pose[2])), int(ctr[1] - 12 * math.sin(pose[2])))
            cv2.arrowedLine(mini, ctr, tip, (255, 255, 255), 2, tipLength=0.4)
        frame = np.hstack([over, mini])
        return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)


class FrameExtractor:
    """Frames for labelling (``--extract-frames``): ``NAME.png`` and ``NAME_labels.png``.

    A frame is written when its number is a multiple of ``every`` (> 0), or when at least the
    share ``unsure`` (> 0) of its pixels has a confidence below 0.6.
    """

    def __init__(self, out_dir: Path, stem: str, every: int, unsure: float) -> None:
        """Into ``out_dir``, named ``{stem}_{stamp:.3f}``."""
        self.out, self.stem, self.every, self.unsure = Path(out_dir), stem, every, unsure

    def offer(
        self, rgb: np.ndarray, labels: np.ndarray, conf: np.ndarray | None, ts: float, index: int
    ) -> int:
        """Write frame number ``index`` (stamp ``ts``) if it is wanted; 1 if written, else 0."""
        every = self.every > 0 and index % self.every == 0
        unsure = conf is not None and self.unsure > 0 and float((conf < 0.6).mean()) >= self.unsure
        if not (every or unsure):
            return 0
        d = self.out
        d.mkdir(parents=True, exist_ok=True)
        name = f'{self.stem}_{ts:.3f}'
        cv2.imwrite(str(d / f'{name}.png'), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(d / f'{name}_labels.png'), labels)  # the model's guess, to correct
        return 1


def replay_summary(
    rp: Replay, wall: float, obstacles: list[Any], extracted: int, bag: BagRecorder | None
) -> dict[str, Any]:
    """``summary.json`` of a finished replay ``rp`` that took ``wall`` seconds."""
    own: dict[str, int] = {}
    for c in rp.reader.connections:
        own[c.topic] = own.get(c.topic, 0) + c.msgcount
    g = rp.grid
    seen = 0.0 if g is None else float((g.class_map() != 255).sum()) * g.res**2
    seg = np.array(rp.seg_ms)
    tl = rp.timeline
    skipped = sum(rp.skip_reasons.values())
    video = rp.video_out.path
    return {
        'bag': str(rp.path),
        'storage': 'rosbag2' if rp.reader.is2 else 'ROS 1',
        'duration_s': round(rp.duration_s, 3),
        'topics': {
            role: [c.topic for c in cons][0] if role != 'tf' else sorted({c.topic for c in cons})
            for role, cons in rp.roles.items()
            if cons
        },
        'messages_in_bag': own,
        'messages_read': dict(rp.read_counts),
        'frames_processed': rp.frames,
        'frames_skipped': skipped,
        'frames_same_view': rp.same_view,
        'skip_reasons': dict(rp.skip_reasons),
        'segmentation_ms_mean': round(float(seg.mean()), 3) if len(seg) else None,
        'segmentation_ms_p99': round(float(np.percentile(seg, 99)), 3) if len(seg) else None,
        'pose_source': tl.source or None,
        'pose_frame': tl.frame_id or None,
        'poses': len(tl),
        'path_start_xy': [round(float(v), 4) for v in tl.xy[0]] if len(tl) else None,
        'path_end_xy': [round(float(v), 4) for v in tl.xy[-1]] if len(tl) else None,
        'distance_m': round(tl.length_m(), 3),
        'gnss_fixes': len(rp.gnss_enu),
        'gnss_extent_m': [round(float(v), 2) for v in np.ptp(rp.gnss_enu, axis=0)]
        if len(rp.gnss_enu)
        else None,
        'imu_samples': len(rp.imu_t),
        'obstacles_found': len(obstacles),
        'obstacle_centres_xy': [
            [round(v, 3) for v in obstacle_core_centre(p, rp.mapping['obstacle_margin_m'])]
            for p in obstacles
        ],
        'area_mapped_m2': round(seen, 2),
        'area_swept_m2': round(rp.layer.mowed_area_m2(), 2) if rp.layer else 0.0,
        'blade': 'from ' + rp.roles['blade'][0].topic if rp.blade else 'assumed on',
        'problems': [vars(p) for p in rp.problems],
        'frames_extracted': extracted,
        'interrupted': rp.stopped_by is not None,
        'signal': rp.stopped_by,
        'wall_time_s': round(wall, 3),
        'replay_speed': round(rp.duration_s / wall, 2) if wall > 0 else None,
        'outputs': {
            'bag': str(rp.out / 'bag') if bag is not None else None,
            'bag_counts': dict(bag.counts) if bag is not None else {},
            'video': str(video) if video is not None else None,
            'map_png': str(rp.out / 'map.png'),
        },
    }


def write_summary(out_dir: Path, summary: dict[str, Any]) -> Path:
    """``summary.json`` in ``out_dir`` (indented, one trailing newline)."""
    path = Path(out_dir) / 'summary.json'
    path.write_text(json.dumps(summary, indent=2) + '\n')
    return path


def map_png(
    path: Path,
    grid: SemanticGrid | None,
    timeline: Timeline,
    gnss_enu: np.ndarray,
    obstacles: list[Any],
    title: str,
) -> None:
    """The final map: classes, the path driven (else the GNSS fixes), the obstacles found."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 7))
    g, tl = grid, timeline
    if g is not None:
        cm = g.class_map()
        img = np.full((*cm.shape, 3), 255, np.uint8)
        for cls, col in COLOURS.items():
            img[cm == cls] = col
        h, w = cm.shape
        ax.imshow(
            img,
            origin='lower',
            extent=(g.origin[0], g.origin[0] + w * g.res, g.origin[1], g.origin[1] + h * g.res),
        )
    if len(tl):
        ax.plot(tl.xy[:, 0], tl.xy[:, 1], color='black', lw=0.8, label=f'path ({tl.source})')
        ax.plot(*tl.xy[0], 'o', color='tab:green', label='start')
        ax.plot(*tl.xy[-1], 's', color='tab:red', label='end')
    if len(gnss_enu) and not len(tl):
        ax.plot(gnss_enu[:, 0], gnss_enu[:, 1], '.', ms=2, label='GNSS (ENU)')
    for i, p in enumerate(obstacles):
        xs, ys = p.exterior.xy
        ax.plot(xs, ys, color='tab:orange', lw=1.5, label='obstacles found' if i == 0 else None)
    ax.set_aspect('equal')
    ax.set_xlabel(f'x (m, {tl.frame_id or "?"})')
    ax.set_ylabel('y (m)')
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc='upper right', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
