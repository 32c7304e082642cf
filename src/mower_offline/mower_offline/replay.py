"""Field-test bag replay: rosbag2 (MCAP, sqlite3) and ROS 1 bags through perception and mapping.

``mower replay BAG`` reads a bag with `rosbags` (no ROS needed), finds its camera, camera info,
odometry, IMU, GNSS and tf topics by type, runs the shipped segmentation model, the semantic grid
and the mowed-area accounting on bag time, as fast as the machine allows, and writes a new MCAP
bag (the input topics and the outputs), a video with the label overlay and a mini-map, the final
map as a PNG and ``summary.json``.

Two passes: the first reads the small topics (odometry, tf, poses, IMU, GNSS, blade) into a
pose timeline, so that each camera frame finds the pose of its own time stamp (interpolated,
as tf does) even when the odometry after it comes later in the file; the second reads every
message, copies it and processes the camera frames. Damaged input (a truncated file, a corrupt
message, an unknown type, no camera info, time going backwards, an unexpected image encoding)
is reported (topic, time, what) and skipped; the replay completes with what it could read.

This module is the orchestration and the mapping (camera model, grid, fusion, swept area,
obstacles). The rest, by concern: :mod:`mower_offline.bag_input` (reading and recovering bags,
choosing topics, time stamps), :mod:`mower_offline.image_decoding` (images to RGB),
:mod:`mower_offline.pose_timeline` (the poses over time) and :mod:`mower_offline.replay_outputs`
(output bag, video, extracted frames, map picture, summary).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mower_bringup import share_dir
from mower_control.parameters import node_yaml
from mower_mapping.coverage_layer import CoverageLayer
from mower_mapping.mapper import BAD_LABELS, FUSED, SAME_VIEW, Extent, Mapper
from mower_mapping.semantic_grid import SemanticGrid
from mower_maps.geodesy import wgs84_to_enu
from mower_maps.geometry import rpy_from_quaternion
from mower_offline.bag import TYPESTORE, BagRecorder, MessageSink, tee
from mower_offline.bag_input import ReplayError, choose_topics, open_bag, stamp_s
from mower_offline.closed_loop import DEFAULT_MODEL
from mower_offline.image_decoding import ImageError, image_rgb
from mower_offline.out_dir import StopRequest
from mower_offline.pose_timeline import Timeline, implausible, tf_chain, timeline_from_rows
from mower_offline.replay_outputs import (
    OUTPUTS,
    BagCopier,
    FrameExtractor,
    ReplayVideo,
    map_png,
    replay_summary,
    write_labels,
    write_maps,
    write_summary,
)
from mower_perception.camera_model import CameraModel

__all__ = [  # the replay, and the names importers have always taken from this module
    'CONFIG',
    'ImageError',
    'Problem',
    'Replay',
    'ReplayConfig',
    'ReplayError',
    'Timeline',
    'image_rgb',
    'stamp_s',
]

CONFIG = share_dir() / 'config'  # mower_bringup's share, or the checkout's
MAX_GRID_CELLS = 4_000_000


@dataclass
class ReplayConfig:
    """How a bag is replayed. Topic overrides map a role (camera, odom, ...) to a topic name."""

    model: Path = DEFAULT_MODEL
    providers: tuple[str, ...] | None = None  # None: config/segmentation.yaml's
    threads: int = 1  # ONNX Runtime intra-op threads (its own thread beside the main one)
    config_dir: Path = CONFIG  # mapping.yaml: grid, camera mounting, cut width, confidence
    topics: dict[str, str] = field(default_factory=dict)
    write_bag: bool = True
    video: bool = True
    video_fps: float = 10.0
    extract_dir: Path | None = None  # --extract-frames: write frames for labelling here
    extract_every: int = 0  # every Nth camera frame (0: not by count)
    extract_unsure: float = 0.0  # frames where this share of pixels has confidence < 0.6
    fallback_fovy_deg: float = 60.0  # vertical field of view when the bag has no camera info
    max_pose_gap_s: float = 0.25  # a frame further than this from any pose is not mapped
    max_speed_mps: float = 50.0  # a pose farther than this speed (+ 1 m) allows: a jump, skipped
    limit_frames: int | None = None


@dataclass
class Problem:
    """Something in the bag that was reported and skipped."""

    topic: str
    time_s: float  # bag time of the first occurrence, seconds since the bag's start
    what: str
    count: int = 1  # occurrences of this kind on this topic


class Replay:
    """One bag through segmentation, mapping and coverage accounting."""

    def __init__(
        self, bag: str | Path, out_dir: str | Path, config: ReplayConfig | None = None
    ) -> None:
        """Open the bag and choose its topics; ReplayError when it cannot be used."""
        self.path = Path(bag)
        self.out = Path(out_dir)
        self.cfg = cfg = config or ReplayConfig()
        _keep_input_apart(self.path, self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.stopped_by: str | None = None  # the signal that cut the replay short
        self._problems: dict[tuple[str, str], Problem] = {}
        self.reader, notes = open_bag(self.path, self.out)
        for note in notes:
            self.report('(bag)', None, note, key='recovered')
        for msgtype, why in getattr(self.reader, 'bad_types', {}).items():
            topics = sorted({c.topic for c in self.reader.connections if c.msgtype == msgtype})
            for topic in topics:
                self.report(
                    topic,
                    None,
                    f'unknown message type {msgtype} ({why}): its '
                    'messages are copied where possible and otherwise skipped',
                    key='unknown',
                )
        self.start_ns = int(self.reader.start_time) if self.reader.message_count else 0
        self.duration_s = self.reader.duration / 1e9 if self.reader.message_count else 0.0
        try:
            self.roles = choose_topics(list(self.reader.connections), cfg.topics)
        except ReplayError:
            self.reader.close()
            raise
        self.mapping = node_yaml(cfg.config_dir / 'mapping.yaml', 'mapping_node')
        self.read_counts: Counter = Counter()
        self.skip_reasons: Counter = Counter()
        self.same_view = 0  # frames of a view already fused (the robot stood still): not fused
        self.timeline = Timeline()
        self.imu_t = np.zeros(0)
        self.imu_rp = np.zeros((0, 2))
        self.gnss_enu = np.zeros((0, 2))
        self.gnss_origin: tuple[float, float] | None = None
        self.blade: list[tuple[float, bool]] = []
        self.seg_ms: list[float] = []
        self.frames = 0
        self.mapper: Mapper | None = None  # once the poses are read
        self.video_out = ReplayVideo(self.out, cfg.video_fps)  # opened at the first frame
        self._extractor = (
            None
            if cfg.extract_dir is None
            else FrameExtractor(
                Path(cfg.extract_dir), self.path.stem, cfg.extract_every, cfg.extract_unsure
            )
        )
        self._extracted = 0
        self._mapped = 0

    def live_topics(self) -> list[tuple[str, str, Any]]:
        """(topic, type, typestore) of what :meth:`run` writes: the input's, then its own."""
        copied = BagCopier(self.reader, self.report).topics()
        return [*copied, *((t, m, TYPESTORE) for t, m in OUTPUTS.items())]

    # -- reporting ---------------------------------------------------------------------------
    def report(self, topic: str, t_ns: int | None, what: str, key: str | None = None) -> None:
        """Note a problem; the same kind on the same topic is listed once, then counted."""
        k = (topic, key or what)
        if k in self._problems:
            self._problems[k].count += 1
        else:
            t = 0.0 if t_ns is None else (t_ns - self.start_ns) / 1e9
            self._problems[k] = Problem(topic, round(t, 3), what)

    @property
    def problems(self) -> list[Problem]:
        """What was reported, in order of first occurrence."""
        return list(self._problems.values())

    def _messages(self, connections: list[Any] | None, what: str):
        """(connection, time ns, raw) of ``connections`` (None: all); a read error ends it."""
        if connections is not None and not connections:
            return
        it = self.reader.messages(connections=connections or ())
        last = None
        while True:
            try:
                item = next(it)
            except StopIteration:
                return
            except Exception as exc:  # a truncated or damaged file: report, keep what was read
                where = 'its start' if last is None else f'{(last - self.start_ns) / 1e9:.3f} s'
                self.report(
                    '(bag)',
                    last,
                    f'reading {what} stopped after {where}: '
                    f'{type(exc).__name__}: {str(exc)[:160]}',
                    key='read',
                )
                return
            last = item[1]
            yield item

    def _deserialize(self, con: Any, t_ns: int, raw: bytes) -> Any | None:
        try:
            return self.reader.deserialize(raw, con.msgtype)
        except KeyError:
            self.report(
                con.topic,
                t_ns,
                f'unknown message type {con.msgtype} (no definition in the bag): skipped',
                key='unknown',
            )
        except Exception as exc:
            self.report(
                con.topic,
                t_ns,
                f'corrupt {con.msgtype} message: {type(exc).__name__}: {str(exc)[:120]}: skipped',
                key='corrupt',
            )
        return None

    # -- pass 1: poses ---------------------------------------------------------------------
    def read_poses(self, stop: StopRequest | None = None) -> None:
        """Odometry / tf / poses, IMU, GNSS and the blade into timelines.

        Poses that are not finite, or that jump farther than the robot could drive, are
        reported and skipped. ``stop``: ends the reading early when set (a signal).
        """
        r = self.roles
        cons = [
            c for role in ('odom', 'tf', 'pose', 'imu', 'gnss', 'blade') for c in r.get(role, [])
        ]
        odom: list[tuple] = []
        pose: list[tuple] = []
        tf: dict[tuple[str, str], list[tuple]] = {}
        imu: list[tuple] = []
        gnss: list[tuple] = []
        last_t: dict[str, float] = {}
        for con, t_ns, raw in self._messages(cons, 'poses'):
            if stop:
                self.stopped_by = stop.name
                break
            msg = self._deserialize(con, t_ns, raw)
            if msg is None:
                continue
            role = next(
                k for k in ('odom', 'tf', 'pose', 'imu', 'gnss', 'blade') if con in r.get(k, [])
            )
            if role == 'tf':
                for tr in msg.transforms:
                    ts = stamp_s(tr, t_ns)
                    q = tr.transform.rotation
                    key = (tr.header.frame_id.lstrip('/'), tr.child_frame_id.lstrip('/'))
                    row = (
                        ts,
                        tr.transform.translation.x,
                        tr.transform.translation.y,
                        *rpy_from_quaternion(q.x, q.y, q.z, q.w),
                    )
                    if self._finite(con.topic, t_ns, row, 'transform'):
                        tf.setdefault(key, []).append(row)
                continue
            ts = stamp_s(msg, t_ns)
            if role == 'blade':
                self.blade.append((ts, bool(msg.data)))
                continue
            if ts < last_t.get(con.topic, -math.inf):
                self.report(
                    con.topic,
                    t_ns,
                    f'time went backwards ({ts:.3f} s after '
                    f'{last_t[con.topic]:.3f} s): message skipped',
                    key='backwards',
                )
                continue
            last_t[con.topic] = ts
            if role in ('odom', 'pose'):
                pp = msg.pose.pose if hasattr(msg.pose, 'pose') else msg.pose
                q = pp.orientation
                row = (ts, pp.position.x, pp.position.y, *rpy_from_quaternion(q.x, q.y, q.z, q.w))
                if self._finite(con.topic, t_ns, row, 'pose'):
                    (odom if role == 'odom' else pose).append((*row, msg.header.frame_id))
            elif role == 'imu':
                q = msg.orientation
                if msg.orientation_covariance[0] != -1 and (q.x, q.y, q.z, q.w) != (0, 0, 0, 0):
                    row = (ts, *rpy_from_quaternion(q.x, q.y, q.z, q.w)[:2])
                    if self._finite(con.topic, t_ns, row, 'orientation'):
                        imu.append(row)
            elif role == 'gnss':
                if (
                    msg.status.status >= 0
                    and math.isfinite(msg.latitude)
                    and math.isfinite(msg.longitude)
                ):
                    if self.gnss_origin is None:
                        self.gnss_origin = (msg.longitude, msg.latitude)
                    gnss.append(wgs84_to_enu(msg.longitude, msg.latitude, *self.gnss_origin))
        self._timelines(odom, tf, pose, imu, gnss)

    def _timelines(
        self,
        odom: list[tuple],
        tf: dict[tuple[str, str], list[tuple]],
        pose: list[tuple],
        imu: list[tuple],
        gnss: list[tuple],
    ) -> None:
        """The pose timeline (odometry, else tf, else poses; jumps skipped), IMU and GNSS."""
        r = self.roles
        if odom:
            self.timeline = timeline_from_rows(odom, 'odometry ' + r['odom'][0].topic)
        elif (chain := tf_chain(tf)) is not None:
            self.timeline = chain
        elif pose:
            self.timeline = timeline_from_rows(pose, 'poses ' + r['pose'][0].topic)
        self._drop_jumps()
        if imu:
            a = np.array(imu)
            self.imu_t, self.imu_rp = a[:, 0], a[:, 1:3]
            if len(self.timeline) and not np.any(self.timeline.rp):
                # planar odometry (wheels): the body's roll and pitch come from the IMU
                self.timeline.rp = np.column_stack(
                    [
                        np.interp(self.timeline.t, self.imu_t, self.imu_rp[:, 0]),
                        np.interp(self.timeline.t, self.imu_t, self.imu_rp[:, 1]),
                    ]
                )
        if gnss:
            self.gnss_enu = np.array(gnss, dtype=float)

    def _finite(self, topic: str, t_ns: int, row: tuple, what: str) -> bool:
        """Whether a pose row is finite; reported (and to be skipped) when it is not."""
        if all(math.isfinite(v) for v in row):
            return True
        self.report(
            topic, t_ns, f'{what} not finite (NaN or infinite): message skipped', key='nonfinite'
        )
        return False

    def _drop_jumps(self) -> None:
        """Skip the poses that jump farther than ``max_speed_mps`` allows; reported."""
        tl = self.timeline
        drop = implausible(tl.t, tl.xy, self.cfg.max_speed_mps)
        if not drop.any():
            return
        first = int(np.argmax(drop))
        topic = (
            tl.source.split(' ', 1)[-1] if tl.source.startswith(('odometry', 'poses')) else '(tf)'
        )
        self.report(
            topic,
            int(round(tl.t[first] * 1e9)),
            f'{int(drop.sum())} pose(s) jump farther than {self.cfg.max_speed_mps:g} m/s '
            f'allows (the first to ({tl.xy[first, 0]:.6g}, {tl.xy[first, 1]:.6g}) m): '
            'skipped',
            key='jump',
        )
        self.timeline = tl.without(drop)

    # -- mapping: camera model, grids, swept area, obstacles (fusion: _finish) ---------------
    def _camera(self, info: Any | None, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        """(K, distortion) for frames of w x h.

        camera_info's, scaled to the frame size, or a pinhole of the fallback field of view.
        """
        if info is None:
            return CameraModel.from_fov(w, h, self.cfg.fallback_fovy_deg).k, np.zeros(5)
        k = np.array(info.k, dtype=float).reshape(3, 3)
        if (int(info.width), int(info.height)) != (w, h) and info.width > 0 and info.height > 0:
            k = np.diag([w / info.width, h / info.height, 1.0]) @ k
        d = np.zeros(5)
        dd = np.asarray(info.d, dtype=float)
        d[: min(5, len(dd))] = dd[:5]
        return k, d

    def _make_mapper(self) -> None:
        """The mapping core over the driven path (the replay knows no lawn map)."""
        tl = self.timeline
        if not len(tl):
            return
        reach = float(self.mapping['max_range_m']) + 1.0
        (x0, y0), (x1, y1) = tl.xy.min(axis=0) - reach, tl.xy.max(axis=0) + reach
        res = float(self.mapping['resolution_m'])
        cells = (x1 - x0) * (y1 - y0) / res**2
        if cells > MAX_GRID_CELLS:
            res *= math.sqrt(cells / MAX_GRID_CELLS)
            self.report(
                '(map)',
                None,
                f'the path spans {x1 - x0:.0f} x {y1 - y0:.0f} m: grid '
                f'resolution {res:.2f} m instead of {self.mapping["resolution_m"]} m',
            )
        values = {
            **self.mapping,
            'resolution_m': res,
            'coverage_resolution_m': max(float(self.mapping['coverage_resolution_m']), res / 2),
        }
        self.mapper = Mapper(
            values, Extent((x0, y0), (x1 - x0, y1 - y0)), poses=tl.poses(self.cfg.max_pose_gap_s)
        )

    @property
    def grid(self) -> SemanticGrid | None:
        """The semantic grid (None before the poses are read, or without any)."""
        return None if self.mapper is None else self.mapper.grid

    @property
    def layer(self) -> CoverageLayer | None:
        """The mowed layer (None like :attr:`grid`)."""
        return None if self.mapper is None else self.mapper.coverage

    def _account_coverage(self) -> None:
        """The deck's swept area along the path (the blade topic when there is one)."""
        tl = self.timeline
        if self.mapper is None:
            return
        bt = np.array([b[0] for b in self.blade]) if self.blade else None
        for i in range(len(tl)):
            on = True
            if bt is not None:
                j = int(np.searchsorted(bt, tl.t[i], side='right')) - 1
                on = j >= 0 and self.blade[j][1]
            self.mapper.sweep(float(tl.xy[i, 0]), float(tl.xy[i, 1]), on)

    def _obstacles(self) -> list[Any]:
        return [] if self.mapper is None else self.mapper.obstacles()

    # -- pass 2: everything ------------------------------------------------------------------
    def run(
        self,
        progress: bool = True,
        stop: StopRequest | None = None,
        live: MessageSink | None = None,
    ) -> dict[str, Any]:
        """Replay the bag; returns the summary (also written to summary.json).

        ``stop`` (set by a signal, :func:`mower_offline.out_dir.stop_on_signals`) ends the
        replay early: what was read so far is mapped and written, ``"interrupted": true``.
        ``live`` (:class:`mower_offline.foxglove_live.FoxgloveLive`) gets what the output bag
        gets, the input's messages and the replay's outputs, in bag time (paced by the sink).
        """
        from mower_segmentation.runtime import Segmenter

        cfg, r = self.cfg, self.roles
        self.out.mkdir(parents=True, exist_ok=True)
        t_wall = time.perf_counter()
        self.read_poses(stop)
        self._make_mapper()
        self._account_coverage()
        cam_cons = r.get('camera', [])
        if not cam_cons:
            self.report(
                '(bag)',
                None,
                'no camera topic (Image or CompressedImage): nothing to '
                'segment; odometry, IMU and GNSS only',
            )
        if 'camera_info' not in r and cam_cons:
            self.report(
                '(bag)',
                None,
                f'no camera info: assumed a pinhole camera with a '
                f'{cfg.fallback_fovy_deg:.0f} deg vertical field of view',
                key='noinfo',
            )
        seg = None
        if cam_cons:
            providers = cfg.providers or tuple(
                node_yaml(cfg.config_dir / 'segmentation.yaml', 'segmentation_node').get(
                    'execution_providers', ('cpu',)
                )
            )
            seg = Segmenter(cfg.model, providers, threads=cfg.threads)
        bag = BagRecorder(self.out / 'bag') if cfg.write_bag else None
        sink = tee(bag, live)  # the output bag and the live view: the same messages
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=round(self.duration_s, 1),
                unit='bag s',
                dynamic_ncols=True,
                desc=f'replaying {self.path.name}',
            )
        info = None
        last_cam_t = -math.inf
        copier = BagCopier(self.reader, self.report)
        pending: list[tuple] = []
        pool = ThreadPoolExecutor(1, thread_name_prefix='mower-replay-seg')
        try:
            for con, t_ns, raw in self._messages(None, 'messages'):
                if stop:
                    self.stopped_by = stop.name
                    break
                self.read_counts[con.topic] += 1
                if sink is not None:
                    copier.copy(sink, con, t_ns, raw)
                if bar is not None and (t_ns - self.start_ns) / 1e9 - bar.n >= 1.0:
                    bar.update(round((t_ns - self.start_ns) / 1e9 - bar.n, 1))
                if con in r.get('camera_info', []):
                    info = _usable_info(self._deserialize(con, t_ns, raw)) or info
                    continue
                if seg is None or con not in cam_cons:
                    continue
                if cfg.limit_frames is not None and self.frames >= cfg.limit_frames:
                    continue
                msg = self._deserialize(con, t_ns, raw)
                if msg is None:
                    self.skip_reasons['corrupt message'] += 1
                    continue
                ts = stamp_s(msg, t_ns)
                if ts <= last_cam_t:
                    self.report(
                        con.topic,
                        t_ns,
                        f'time went backwards ({ts:.3f} s after '
                        f'{last_cam_t:.3f} s): frame skipped',
                        key='backwards',
                    )
                    self.skip_reasons['time went backwards'] += 1
                    continue
                try:
                    rgb = image_rgb(msg, con.msgtype)
                except ImageError as exc:
                    self.report(con.topic, t_ns, f'{exc}: frame skipped', key=str(exc)[:40])
                    self.skip_reasons[str(exc)] += 1
                    continue
                last_cam_t = ts
                self.frames += 1
                pending.append(
                    (
                        pool.submit(self._segment, seg, rgb),
                        rgb,
                        ts,
                        t_ns,
                        msg.header.frame_id,
                        info,
                    )
                )
                while len(pending) > 1:  # the next frame segments while this one is mapped
                    self._finish(pending.pop(0), sink)
            while pending:
                self._finish(pending.pop(0), sink)
        finally:
            self._end_bar(bar)
            pool.shutdown()
            self.video_out.release()
        wall = time.perf_counter() - t_wall
        obstacles = self._obstacles()
        self._final_maps(sink, obstacles)
        if bag is not None:
            bag.close()
        summary = replay_summary(self, wall, obstacles, self._extracted, bag)
        self.reader.close()
        tl = self.timeline
        map_png(
            self.out / 'map.png',
            self.grid,
            tl,
            self.gnss_enu,
            obstacles,
            f'{self.path.name}: {self.frames} frames, {len(obstacles)} obstacles, '
            f'{tl.length_m():.1f} m driven',
        )
        write_summary(self.out, summary)
        return summary

    def _final_maps(self, sink: MessageSink | None, obstacles: list[Any]) -> None:
        """The final grids and the obstacles, at the bag's end (into the bag, the live view)."""
        if sink is None or self.grid is None:
            return
        end = (self.start_ns * 1e-9) + self.duration_s
        frame = self.timeline.frame_id or 'map'
        write_maps(sink, self.grid, self.layer, frame, end, end, obstacles)

    def _end_bar(self, bar: Any | None) -> None:
        """Close the progress bar: at 100 % when the whole bag was read."""
        if bar is None:
            return
        if self.stopped_by is None:
            bar.update(max(0.0, round(self.duration_s - bar.n, 1)))
        bar.close()

    @property
    def use_confidence(self) -> bool:
        """Whether the model's confidence is fused with its labels (mapping.yaml)."""
        return bool(self.mapping.get('use_confidence', False))

    def _segment(self, seg: Any, rgb: np.ndarray) -> Any:
        """Runs on the worker thread (ONNX Runtime releases the GIL)."""
        t0 = time.perf_counter()
        result = seg.segment(
            rgb, with_confidence=self.use_confidence or self.cfg.extract_unsure > 0
        )
        return result, (time.perf_counter() - t0) * 1e3

    def _finish(self, item: tuple, bag: MessageSink | None) -> None:
        """Map one segmented frame, and write its labels, video frame and extracted files.

        ``bag``: where the labels and grids go (the output bag, the live view, both, None).
        """
        future, rgb, ts, t_ns, frame_id, info = item
        cfg = self.cfg
        result, ms = future.result()
        self.seg_ms.append(ms)
        labels = result.labels
        h, w = labels.shape
        pose = self.timeline.at(ts, cfg.max_pose_gap_s)
        outcome, problem = None, ''
        if self.mapper is not None:
            k, d = self._camera(info, w, h)
            self.mapper.set_camera(k, w, h, d)
            outcome = self.mapper.fuse(
                ts, labels, result.confidence if self.use_confidence else None
            )
            problem = self.mapper.last_problem
        if outcome == BAD_LABELS:
            self.skip_reasons[f'segmented, not mapped: {problem}'] += 1
        elif outcome == SAME_VIEW:  # not lost: the view is in the map (mapping still_travel_m)
            self.same_view += 1
        elif outcome != FUSED:
            why = 'no pose at the frame time' if len(self.timeline) else 'no pose source'
            self.skip_reasons[f'segmented, not mapped: {why}'] += 1
        if bag is not None:
            write_labels(bag, rgb, labels, t_ns * 1e-9, ts, frame_id or 'camera_optical_frame')
        if cfg.video:
            self.video_out.write(rgb, labels, pose, self.grid, self._mapped)
        if self._extractor is not None:
            self._extracted += self._extractor.offer(
                rgb, labels, result.confidence, ts, self._mapped
            )
        self._mapped += 1
        if (
            bag is not None
            and self.grid is not None
            and self._mapped % max(1, int(round(cfg.video_fps * 5))) == 0
        ):
            write_maps(
                bag, self.grid, self.layer, self.timeline.frame_id or 'map', t_ns * 1e-9, ts
            )


def _usable_info(m: Any | None) -> Any | None:
    """A camera info message with a usable, finite camera matrix (else None)."""
    ok = (
        m is not None
        and len(m.k) == 9
        and m.k[0] > 0
        and bool(np.isfinite(m.k).all())
        and bool(np.isfinite(m.d).all())
    )
    return m if ok else None


def _keep_input_apart(bag: Path, out: Path) -> None:
    """ReplayError when the output folder holds the input bag or lies inside it.

    The replay replaces ``OUT/bag`` (and a recovered copy in ``OUT/recovered``).
    """
    i, o = bag.resolve(), out.resolve()
    if i == o or o in i.parents or i in o.parents:
        raise ReplayError(
            f'{out}: the output folder would contain the input bag {bag} (or '
            'lie inside it), and the replay replaces its outputs there: choose '
            'another output folder'
        )
