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
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mower_bringup import share_dir
from mower_control.parameters import node_yaml
from mower_mapping.coverage_layer import CoverageLayer
from mower_mapping.obstacles import extract_obstacles, obstacle_core_centre
from mower_mapping.semantic_grid import LAWN, OBSTACLE, OTHER, GridParams, SemanticGrid
from mower_maps.geodesy import wgs84_to_enu
from mower_perception.camera_model import CameraModel, Mounting, ground_lut
from mower_stack.bag import (
    TYPESTORE,
    BagRecorder,
    coverage_grid_msg,
    header,
    ros_msg,
    semantic_grid_msg,
)
from mower_stack.closed_loop import DEFAULT_MODEL

CONFIG = share_dir() / 'config'  # mower_bringup's share, or the checkout's
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
ROLES: dict[str, tuple[str, ...]] = {  # what each input is, by message type
    'camera': (COMPRESSED, IMAGE),
    'camera_info': ('sensor_msgs/msg/CameraInfo',),
    'odom': ('nav_msgs/msg/Odometry',),
    'tf': ('tf2_msgs/msg/TFMessage',),
    'pose': ('geometry_msgs/msg/PoseStamped', 'geometry_msgs/msg/PoseWithCovarianceStamped'),
    'imu': ('sensor_msgs/msg/Imu',),
    'gnss': ('sensor_msgs/msg/NavSatFix',),
    'blade': ('std_msgs/msg/Bool',),
}
NOT_A_CAMERA = ('label', 'overlay', 'segmentation', 'depth', 'mask', 'thermal')
BASE_FRAMES = ('base_link', 'base_footprint', 'base')
COLOURS = {LAWN: (60, 170, 60), OTHER: (150, 150, 150), OBSTACLE: (220, 40, 40),
           3: (120, 170, 230)}  # the fourth class is sky
MAX_GRID_CELLS = 4_000_000
_LUT = np.full((256, 3), 30, np.uint8)  # class id -> colour (unknown: dark grey)
for _cls, _col in COLOURS.items():
    _LUT[_cls] = _col


class ReplayError(RuntimeError):
    """The replay cannot start (not a bag, nothing usable in it): a one-line reason."""


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
    limit_frames: int | None = None


@dataclass
class Problem:
    """Something in the bag that was reported and skipped."""

    topic: str
    time_s: float  # bag time of the first occurrence, seconds since the bag's start
    what: str
    count: int = 1  # occurrences of this kind on this topic


@dataclass
class Timeline:
    """Poses over time (sorted): t, x, y, yaw, roll, pitch."""

    t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    yaw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rp: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    frame_id: str = ''
    source: str = ''

    def __len__(self) -> int:
        """Number of poses."""
        return len(self.t)

    def at(self, t: float, max_gap_s: float) -> tuple[float, float, float, float, float] | None:
        """(x, y, yaw, roll, pitch) at ``t``, interpolated; None beyond ``max_gap_s`` of data."""
        n = len(self.t)
        if n == 0 or t < self.t[0] - max_gap_s or t > self.t[-1] + max_gap_s:
            return None
        i = int(np.searchsorted(self.t, t))
        if i <= 0 or i >= n:
            j = 0 if i <= 0 else n - 1
            return (*self.xy[j], self.yaw[j], *self.rp[j])
        t0, t1 = self.t[i - 1], self.t[i]
        if t1 - t0 > 2 * max_gap_s and min(t - t0, t1 - t) > max_gap_s:
            return None  # inside a gap in the data
        f = 0.0 if t1 <= t0 else (t - t0) / (t1 - t0)
        x, y = self.xy[i - 1] + f * (self.xy[i] - self.xy[i - 1])
        yaw = self.yaw[i - 1] + f * math.remainder(self.yaw[i] - self.yaw[i - 1], 2 * math.pi)
        roll, pitch = self.rp[i - 1] + f * (self.rp[i] - self.rp[i - 1])
        return float(x), float(y), float(yaw), float(roll), float(pitch)

    def length_m(self) -> float:
        """Distance along the path."""
        if len(self.xy) < 2:
            return 0.0
        return float(np.hypot(*np.diff(self.xy, axis=0).T).sum())


def quaternion_rpy(x: float, y: float, z: float, w: float) -> tuple[float, float, float]:
    """Roll, pitch, yaw (rad) of an xyzw quaternion."""
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


def stamp_s(msg: Any, t_ns: int) -> float:
    """A message's time: its header stamp, else the bag's receive time ``t_ns``.

    A zero stamp means "not set" in a bag on wall-clock time; in a simulation starting at
    zero it is a real time, so it is kept when the bag's own clock is near zero too.
    """
    h = getattr(msg, 'header', None)
    if h is None:
        return t_ns * 1e-9
    t = h.stamp.sec + h.stamp.nanosec * 1e-9
    if t == 0 and t_ns > 10**15:  # the bag is on wall-clock time (after 1970-01-12)
        return t_ns * 1e-9
    return t


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
    channels = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, '8uc1': 1, '8uc3': 3,
                'mono16': 2, '16uc1': 2, 'yuv422': 2, 'uyvy': 2, 'yuv422_yuy2': 2, 'yuyv': 2,
                'bayer_rggb8': 1, 'bayer_bggr8': 1, 'bayer_gbrg8': 1, 'bayer_grbg8': 1}
    if enc not in channels:
        raise ImageError(f'image encoding {msg.encoding!r} is not supported')
    if h <= 0 or w <= 0 or step < w * channels[enc]:
        raise ImageError(f'image size {w}x{h} with step {step} does not fit {msg.encoding}')
    data = np.asarray(msg.data, dtype=np.uint8)
    if data.size < step * h:
        raise ImageError(f'image data is {data.size} bytes, {step * h} expected')
    rows = data[:step * h].reshape(h, step)[:, :w * channels[enc]]
    if enc in ('mono16', '16uc1'):
        mono = rows.copy().view('<u2' if not msg.is_bigendian else '>u2').reshape(h, w)
        g = (mono.astype(np.float32) * (255.0 / max(1, int(mono.max())))).astype(np.uint8)
        return cv2.cvtColor(g, cv2.COLOR_GRAY2RGB)
    img = rows.reshape(h, w, channels[enc]) if channels[enc] > 1 else rows.reshape(h, w)
    conv = {'rgb8': None, '8uc3': None, 'bgr8': cv2.COLOR_BGR2RGB, 'rgba8': cv2.COLOR_RGBA2RGB,
            'bgra8': cv2.COLOR_BGRA2RGB, 'mono8': cv2.COLOR_GRAY2RGB,
            '8uc1': cv2.COLOR_GRAY2RGB, 'yuv422': cv2.COLOR_YUV2RGB_UYVY,
            'uyvy': cv2.COLOR_YUV2RGB_UYVY, 'yuv422_yuy2': cv2.COLOR_YUV2RGB_YUY2,
            'yuyv': cv2.COLOR_YUV2RGB_YUY2, 'bayer_rggb8': cv2.COLOR_BayerBG2RGB,
            'bayer_bggr8': cv2.COLOR_BayerRG2RGB, 'bayer_gbrg8': cv2.COLOR_BayerGR2RGB,
            'bayer_grbg8': cv2.COLOR_BayerGB2RGB}[enc]
    return np.ascontiguousarray(img) if conv is None else cv2.cvtColor(
        np.ascontiguousarray(img), conv)


class TolerantReader:
    """rosbags' AnyReader, but a message type it cannot define costs its topic, not the bag.

    AnyReader refuses a whole bag when one connection's definition does not parse or its hash
    does not match; here such types are left out of the type store (their messages then fail to
    deserialize, and are reported and skipped), and types without a definition in the bag are
    taken from the ROS 2 Jazzy store when it has them. The rest is AnyReader's.
    """

    @staticmethod
    def make(path: Path):
        """An AnyReader instance (not yet open) with the tolerant type loading."""
        from rosbags.highlevel import AnyReader

        class _Reader(AnyReader):
            bad_types: dict[str, str]

            def _open(self) -> None:
                from rosbags.interfaces import MessageDefinitionFormat
                from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg
                from rosbags.typesys import get_typestore as _store

                for reader in self.readers:
                    self.stack.enter_context(reader)
                connections = [y for x in self.readers for y in x.connections]
                typs: dict = {}
                self.bad_types = {}
                digests: dict[str, str] = {}
                for con in connections:
                    fmt = con.msgdef.format
                    try:
                        if fmt == MessageDefinitionFormat.MSG and con.msgdef.data.strip():
                            typs.update(get_types_from_msg(con.msgdef.data, con.msgtype))
                        elif fmt == MessageDefinitionFormat.IDL and con.msgdef.data.strip():
                            sep = '=' * 80 + '\n'
                            parts = con.msgdef.data.split(sep)[1:] if \
                                con.msgdef.data.startswith(f'{sep}IDL: ') else \
                                ['IDL: x\n' + con.msgdef.data]
                            for part in parts:
                                typs.update(get_types_from_idl(part.split('\n', 1)[1]))
                        elif con.msgtype in TYPESTORE.fielddefs:
                            typs.setdefault(con.msgtype, TYPESTORE.fielddefs[con.msgtype])
                            continue
                        else:
                            self.bad_types[con.msgtype] = 'no definition in the bag'
                            continue
                    except Exception as exc:  # a definition that does not parse
                        self.bad_types[con.msgtype] = f'definition does not parse: {exc}'
                        continue
                    if con.digest:
                        digests[con.msgtype] = con.digest
                store = _store(Stores.EMPTY)
                for name in list(typs):  # register one by one: a bad type must not stop others
                    try:
                        store.register({name: typs[name]})
                    except Exception as exc:
                        self.bad_types.setdefault(name, f'definition rejected: {exc}')
                for msgtype, digest in digests.items():
                    try:
                        have = store.hash_rihs01(msgtype) if self.is2 else \
                            store.generate_msgdef(msgtype)[1]
                    except Exception:
                        have = None
                    if have != digest and msgtype not in self.bad_types:
                        self.bad_types[msgtype] = 'its definition does not match its hash'
                for msgtype in self.bad_types:
                    store.fielddefs.pop(msgtype, None)
                    store.types.pop(msgtype, None)
                self.connections = connections
                self.typestore = store

        return _Reader([path], default_typestore=TYPESTORE)


def recover_mcap(path: Path, out: Path) -> tuple[Path, int, str]:
    """Copy the readable start of a damaged MCAP file into a new rosbag2 MCAP bag at ``out``.

    A recording cut off (power loss, full disk) has no summary and no end magic, which rosbags
    needs; the ``mcap`` library's streaming reader reads record by record up to the damage.
    Returns (the new bag, messages recovered, what stopped the reading).
    """
    from mcap.stream_reader import StreamReader
    from rosbags.rosbag2 import StoragePlugin, Writer

    if out.exists():
        import shutil

        shutil.rmtree(out)
    schemas: dict[int, Any] = {}
    channels: dict[int, Any] = {}
    conns: dict[int, Any] = {}
    n, why = 0, 'end of file'
    writer = Writer(out, version=8, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    try:
        with path.open('rb') as f:
            try:
                for record in StreamReader(f, skip_magic=False).records:
                    kind = type(record).__name__
                    if kind == 'Schema':
                        schemas[record.id] = record
                    elif kind == 'Channel':
                        channels[record.id] = record
                    elif kind == 'Message' and record.channel_id in channels:
                        ch = channels[record.channel_id]
                        if ch.id not in conns:
                            sc = schemas.get(ch.schema_id)
                            msgtype = sc.name if sc is not None else 'unknown/msg/Unknown'
                            conns[ch.id] = _recovered_connection(writer, ch.topic, msgtype, sc)
                        writer.write(conns[ch.id], record.log_time, record.data)
                        n += 1
            except Exception as exc:  # the damage: stop here
                why = f'{type(exc).__name__}: {str(exc)[:120]}'
    finally:
        writer.close()
    return out, n, why


def _recovered_connection(writer: Any, topic: str, msgtype: str, schema: Any) -> Any:
    if msgtype in TYPESTORE.fielddefs:
        return writer.add_connection(topic, msgtype, typestore=TYPESTORE)
    data = schema.data.decode('utf-8', 'replace') if schema is not None else ''
    return writer.add_connection(topic, msgtype, msgdef=data,
                                 rihs01='RIHS01_' + '0' * 64)


def open_bag(path: Path, scratch: Path | None = None) -> tuple[Any, list[str]]:
    """An open reader and notes; ReplayError with one line when it is not a readable bag.

    A damaged MCAP file is recovered up to the damage into ``scratch`` first (noted).
    """
    if not path.exists():
        raise ReplayError(f'{path}: no such file or folder')
    notes: list[str] = []
    try:
        reader = TolerantReader.make(path)
        reader.open()
        return reader, notes
    except Exception as exc:  # rosbags raises its own errors, and OS / YAML / sqlite ones
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mcap = path if path.suffix == '.mcap' else next(
            iter(sorted(path.glob('*.mcap'))), None) if path.is_dir() else None
        if mcap is None or scratch is None or not _is_mcap(mcap):
            raise ReplayError(f'{path}: not a readable rosbag2 or ROS 1 bag ({reason})') from None
    fixed, n, why = recover_mcap(mcap, scratch / 'recovered')
    if n == 0:
        raise ReplayError(f'{path}: damaged MCAP file, no message could be read ({why})')
    notes.append(f'damaged MCAP file ({reason}): read {n} messages up to the damage '
                 f'({why}); the rest is lost')
    reader = TolerantReader.make(fixed)
    reader.open()
    return reader, notes


def _is_mcap(path: Path) -> bool:
    with path.open('rb') as f:
        return f.read(8) == b'\x89MCAP0\r\n'


def choose_topics(connections: list[Any], overrides: dict[str, str]) -> dict[str, list[Any]]:
    """Connections per role: by override name, else by message type (best first)."""
    by_topic: dict[str, list[Any]] = {}
    for c in connections:
        by_topic.setdefault(c.topic, []).append(c)
    out: dict[str, list[Any]] = {}
    for role, types in ROLES.items():
        name = overrides.get(role)
        if name is not None:
            if name not in by_topic:
                raise ReplayError(f'--topic {role}={name}: no such topic in the bag '
                                  f'(topics: {", ".join(sorted(by_topic)) or "none"})')
            out[role] = by_topic[name]
            continue
        cands = [c for c in connections if c.msgtype in types]
        if role == 'camera':
            cands = [c for c in cands if not any(k in c.topic.lower() for k in NOT_A_CAMERA)]
        if role == 'tf':
            out[role] = cands  # /tf and /tf_static
            continue
        if not cands:
            continue
        counts: Counter = Counter()
        for c in cands:
            counts[c.topic] += c.msgcount
        hint = {'odom': ('filtered', 'odom'), 'camera': ('image', 'camera'),
                'pose': ('ground', 'amcl')}.get(role, ())
        best = min(counts, key=lambda topic: (
            next((i for i, h in enumerate(hint) if h in topic.lower()), len(hint)),
            -counts[topic], topic))
        out[role] = by_topic[best]
    return out


class Replay:
    """One bag through segmentation, mapping and coverage accounting."""

    def __init__(self, bag: str | Path, out_dir: str | Path, config: ReplayConfig | None = None
                 ) -> None:
        """Open the bag and choose its topics; ReplayError when it cannot be used."""
        self.path = Path(bag)
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.cfg = cfg = config or ReplayConfig()
        self._problems: dict[tuple[str, str], Problem] = {}
        self.reader, notes = open_bag(self.path, self.out)
        for note in notes:
            self.report('(bag)', None, note, key='recovered')
        for msgtype, why in getattr(self.reader, 'bad_types', {}).items():
            topics = sorted({c.topic for c in self.reader.connections if c.msgtype == msgtype})
            for topic in topics:
                self.report(topic, None, f'unknown message type {msgtype} ({why}): its '
                            'messages are copied where possible and otherwise skipped',
                            key='unknown')
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
        self.timeline = Timeline()
        self.imu_t = np.zeros(0)
        self.imu_rp = np.zeros((0, 2))
        self.gnss_enu = np.zeros((0, 2))
        self.gnss_origin: tuple[float, float] | None = None
        self.blade: list[tuple[float, bool]] = []
        self.seg_ms: list[float] = []
        self.frames = 0
        self.grid: SemanticGrid | None = None
        self.layer: CoverageLayer | None = None
        self._lut_key: Any = None
        self._lut: Any = None
        self._video: cv2.VideoWriter | None = None
        self._extracted = 0
        self._mapped = 0
        self._mini: np.ndarray | None = None

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
                self.report('(bag)', last, f'reading {what} stopped after {where}: '
                            f'{type(exc).__name__}: {str(exc)[:160]}', key='read')
                return
            last = item[1]
            yield item

    def _deserialize(self, con: Any, t_ns: int, raw: bytes) -> Any | None:
        try:
            return self.reader.deserialize(raw, con.msgtype)
        except KeyError:
            self.report(con.topic, t_ns, f'unknown message type {con.msgtype} (no definition '
                        'in the bag): skipped', key='unknown')
        except Exception as exc:
            self.report(con.topic, t_ns, f'corrupt {con.msgtype} message: '
                        f'{type(exc).__name__}: {str(exc)[:120]}: skipped', key='corrupt')
        return None

    # -- pass 1: poses ---------------------------------------------------------------------
    def read_poses(self) -> None:
        """Odometry / tf / poses, IMU, GNSS and the blade into timelines."""
        r = self.roles
        cons = [c for role in ('odom', 'tf', 'pose', 'imu', 'gnss', 'blade')
                for c in r.get(role, [])]
        odom, tf, pose, imu, gnss = ([], {}, [], [], [])
        last_t: dict[str, float] = {}
        for con, t_ns, raw in self._messages(cons, 'poses'):
            msg = self._deserialize(con, t_ns, raw)
            if msg is None:
                continue
            role = next(k for k in ('odom', 'tf', 'pose', 'imu', 'gnss', 'blade')
                        if con in r.get(k, []))
            if role == 'tf':
                for tr in msg.transforms:
                    ts = stamp_s(tr, t_ns)
                    q = tr.transform.rotation
                    key = (tr.header.frame_id.lstrip('/'), tr.child_frame_id.lstrip('/'))
                    tf.setdefault(key, []).append(
                        (ts, tr.transform.translation.x, tr.transform.translation.y,
                         *quaternion_rpy(q.x, q.y, q.z, q.w)))
                continue
            ts = stamp_s(msg, t_ns)
            if role == 'blade':
                self.blade.append((ts, bool(msg.data)))
                continue
            if ts < last_t.get(con.topic, -math.inf):
                self.report(con.topic, t_ns, f'time went backwards ({ts:.3f} s after '
                            f'{last_t[con.topic]:.3f} s): message skipped', key='backwards')
                continue
            last_t[con.topic] = ts
            if role == 'odom':
                p, q = msg.pose.pose.position, msg.pose.pose.orientation
                odom.append((ts, p.x, p.y, *quaternion_rpy(q.x, q.y, q.z, q.w),
                             msg.header.frame_id))
            elif role == 'pose':
                pp = msg.pose.pose if hasattr(msg.pose, 'pose') else msg.pose
                q = pp.orientation
                pose.append((ts, pp.position.x, pp.position.y,
                             *quaternion_rpy(q.x, q.y, q.z, q.w), msg.header.frame_id))
            elif role == 'imu':
                q = msg.orientation
                if msg.orientation_covariance[0] != -1 and (q.x, q.y, q.z, q.w) != (0, 0, 0, 0):
                    imu.append((ts, *quaternion_rpy(q.x, q.y, q.z, q.w)[:2]))
            elif role == 'gnss':
                if msg.status.status >= 0 and math.isfinite(msg.latitude) and \
                        math.isfinite(msg.longitude):
                    if self.gnss_origin is None:
                        self.gnss_origin = (msg.longitude, msg.latitude)
                    gnss.append(wgs84_to_enu(msg.longitude, msg.latitude, *self.gnss_origin))
        if odom:
            self.timeline = self._timeline(odom, 'odometry ' + r['odom'][0].topic)
        elif (chain := self._tf_chain(tf)) is not None:
            self.timeline = chain
        elif pose:
            self.timeline = self._timeline(pose, 'poses ' + r['pose'][0].topic)
        if imu:
            a = np.array(imu)
            self.imu_t, self.imu_rp = a[:, 0], a[:, 1:3]
            if len(self.timeline) and not np.any(self.timeline.rp):
                # planar odometry (wheels): the body's roll and pitch come from the IMU
                self.timeline.rp = np.column_stack([
                    np.interp(self.timeline.t, self.imu_t, self.imu_rp[:, 0]),
                    np.interp(self.timeline.t, self.imu_t, self.imu_rp[:, 1])])
        if gnss:
            self.gnss_enu = np.array(gnss, dtype=float)

    @staticmethod
    def _timeline(rows: list[tuple], source: str) -> Timeline:
        rows = sorted(rows, key=lambda r: r[0])
        a = np.array([r[:6] for r in rows], dtype=float)
        c = np.ascontiguousarray
        return Timeline(c(a[:, 0]), c(a[:, 1:3]), c(a[:, 5]), c(a[:, 3:5]), str(rows[-1][6]),
                        source)

    def _tf_chain(self, tf: dict[tuple[str, str], list[tuple]]) -> Timeline | None:
        """The robot's path from tf: (world frame -> base frame), with map -> odom if present."""
        cands = [(k, v) for k, v in tf.items() if k[1] in BASE_FRAMES and k[0] not in BASE_FRAMES]
        if not cands:
            return None
        (parent, child), rows = max(cands, key=lambda kv: len(kv[1]))
        tl = self._timeline([(*r, parent) for r in rows], f'tf {parent} -> {child}')
        above = tf.get(('map', parent)) if parent != 'map' else None
        if above:  # compose map -> odom (the latest at or before each time)
            m = np.array(sorted(above), dtype=float)
            idx = np.clip(np.searchsorted(m[:, 0], tl.t, side='right') - 1, 0, len(m) - 1)
            c, s = np.cos(m[idx, 5]), np.sin(m[idx, 5])
            x, y = tl.xy[:, 0], tl.xy[:, 1]
            tl.xy = np.column_stack([m[idx, 1] + c * x - s * y, m[idx, 2] + s * x + c * y])
            tl.yaw = tl.yaw + m[idx, 5]
            tl.frame_id, tl.source = 'map', f'tf map -> {parent} -> {child}'
        return tl

    # -- pass 2: everything ------------------------------------------------------------------
    def _camera_model(self, info: Any | None, w: int, h: int) -> CameraModel:
        mp = self.mapping
        mount = Mounting(mp['camera_x_m'], mp['camera_y_m'], mp['camera_z_m'], 0.0,
                         math.radians(mp['camera_pitch_deg']), 0.0)
        if info is None:
            return CameraModel.from_fov(w, h, self.cfg.fallback_fovy_deg, mount)
        k = np.array(info.k, dtype=float).reshape(3, 3)
        if (int(info.width), int(info.height)) != (w, h) and info.width > 0 and info.height > 0:
            k = np.diag([w / info.width, h / info.height, 1.0]) @ k
        d = np.zeros(5)
        dd = np.asarray(info.d, dtype=float)
        d[:min(5, len(dd))] = dd[:5]
        return CameraModel(k, w, h, d, mount)

    def _make_grid(self) -> None:
        tl = self.timeline
        if not len(tl):
            return
        reach = float(self.mapping['max_range_m']) + 1.0
        (x0, y0), (x1, y1) = tl.xy.min(axis=0) - reach, tl.xy.max(axis=0) + reach
        res = float(self.mapping['resolution_m'])
        cells = (x1 - x0) * (y1 - y0) / res ** 2
        if cells > MAX_GRID_CELLS:
            res *= math.sqrt(cells / MAX_GRID_CELLS)
            self.report('(map)', None, f'the path spans {x1 - x0:.0f} x {y1 - y0:.0f} m: grid '
                        f'resolution {res:.2f} m instead of {self.mapping["resolution_m"]} m')
        m = self.mapping
        self.grid = SemanticGrid((x0, y0), x1 - x0, y1 - y0,
                                 GridParams.from_values(m, resolution_m=res))
        cov_res = max(float(m['coverage_resolution_m']), res / 2)
        self.layer = CoverageLayer((x0, y0), x1 - x0, y1 - y0, cov_res, m['cut_width_m'])

    def _account_coverage(self) -> None:
        """The deck's swept area along the path (the blade topic when there is one)."""
        tl, layer = self.timeline, self.layer
        if layer is None:
            return
        bt = np.array([b[0] for b in self.blade]) if self.blade else None
        for i in range(len(tl)):
            on = True
            if bt is not None:
                j = int(np.searchsorted(bt, tl.t[i], side='right')) - 1
                on = j >= 0 and self.blade[j][1]
            layer.update(float(tl.xy[i, 0]), float(tl.xy[i, 1]), on)

    def run(self, progress: bool = True) -> dict[str, Any]:
        """Replay the bag; returns the summary (also written to summary.json)."""
        from mower_segmentation.runtime import Segmenter

        cfg, r = self.cfg, self.roles
        self.out.mkdir(parents=True, exist_ok=True)
        t_wall = time.perf_counter()
        self.read_poses()
        self._make_grid()
        self._account_coverage()
        cam_cons = r.get('camera', [])
        if not cam_cons:
            self.report('(bag)', None, 'no camera topic (Image or CompressedImage): nothing to '
                        'segment; odometry, IMU and GNSS only')
        if 'camera_info' not in r and cam_cons:
            self.report('(bag)', None, f'no camera info: assumed a pinhole camera with a '
                        f'{cfg.fallback_fovy_deg:.0f} deg vertical field of view', key='noinfo')
        seg = None
        if cam_cons:
            providers = cfg.providers or tuple(node_yaml(
                cfg.config_dir / 'segmentation.yaml', 'segmentation_node').get(
                'execution_providers', ('cpu',)))
            seg = Segmenter(cfg.model, providers, threads=cfg.threads)
        bag = BagRecorder(self.out / 'bag') if cfg.write_bag else None
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=round(self.duration_s, 1), unit='bag s', dynamic_ncols=True,
                       desc=f'replaying {self.path.name}')
        info = None
        last_cam_t = -math.inf
        copy_cons: dict[int, Any] = {}
        pending: list[tuple] = []
        pool = ThreadPoolExecutor(1, thread_name_prefix='mower-replay-seg')
        try:
            for con, t_ns, raw in self._messages(None, 'messages'):
                self.read_counts[con.topic] += 1
                if bag is not None:
                    self._copy(bag, con, t_ns, raw, copy_cons)
                if bar is not None and (t_ns - self.start_ns) / 1e9 - bar.n >= 1.0:
                    bar.update(round((t_ns - self.start_ns) / 1e9 - bar.n, 1))
                if con in r.get('camera_info', []):
                    m = self._deserialize(con, t_ns, raw)
                    info = m if m is not None and len(m.k) == 9 and m.k[0] > 0 else info
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
                    self.report(con.topic, t_ns, f'time went backwards ({ts:.3f} s after '
                                f'{last_cam_t:.3f} s): frame skipped', key='backwards')
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
                pending.append((pool.submit(self._segment, seg, rgb), rgb, ts, t_ns,
                                msg.header.frame_id, info))
                while len(pending) > 1:  # the next frame segments while this one is mapped
                    self._finish(pending.pop(0), bag)
            while pending:
                self._finish(pending.pop(0), bag)
        finally:
            if bar is not None:
                bar.update(max(0.0, round(self.duration_s - bar.n, 1)))
                bar.close()
            pool.shutdown()
            if self._video is not None:
                self._video.release()
        wall = time.perf_counter() - t_wall
        obstacles = self._obstacles()
        if bag is not None:
            if self.grid is not None:
                end = (self.start_ns * 1e-9) + self.duration_s
                self._write_maps(bag, end, end, obstacles)
            bag.close()
        summary = self._summary(wall, obstacles, self._extracted, bag)
        self.reader.close()
        self._map_png(obstacles)
        (self.out / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
        return summary

    @property
    def use_confidence(self) -> bool:
        """Whether the model's confidence is fused with its labels (mapping.yaml)."""
        return bool(self.mapping.get('use_confidence', False))

    def _segment(self, seg: Any, rgb: np.ndarray) -> Any:
        """Runs on the worker thread (ONNX Runtime releases the GIL)."""
        t0 = time.perf_counter()
        result = seg.segment(rgb, with_confidence=self.use_confidence or
                             self.cfg.extract_unsure > 0)
        return result, (time.perf_counter() - t0) * 1e3

    def _finish(self, item: tuple, bag: BagRecorder | None) -> None:
        """Map one segmented frame, and write its labels, video frame and extracted files."""
        future, rgb, ts, t_ns, frame_id, info = item
        cfg = self.cfg
        result, ms = future.result()
        self.seg_ms.append(ms)
        labels = result.labels
        h, w = labels.shape
        pose = self.timeline.at(ts, cfg.max_pose_gap_s)
        if pose is None or self.grid is None:
            why = 'no pose at the frame time' if len(self.timeline) else 'no pose source'
            self.skip_reasons[f'segmented, not mapped: {why}'] += 1
        else:
            key = (w, h, None if info is None else tuple(info.k))
            if key != self._lut_key:
                self._lut_key = key
                self._lut = ground_lut(self._camera_model(info, w, h),
                                       stride=int(self.mapping['lut_stride']),
                                       max_range_m=float(self.mapping['max_range_m']))
            self.grid.fuse(labels, self._lut, pose[:3], pose[3], pose[4],
                           result.confidence if self.use_confidence else None)
        if bag is not None:
            bag.write('/replay/labels', IMAGE, t_ns * 1e-9, ros_msg(
                IMAGE, header=header(ts, frame_id or 'camera_optical_frame'),
                height=h, width=w, encoding='mono8', step=w, data=labels.tobytes()))
        if cfg.video:
            frame = self._video_frame(rgb, labels, pose)
            if self._video is None:
                self._video = self._open_video(frame.shape)
            self._video.write(frame)
        if cfg.extract_dir is not None:
            self._extracted += self._extract(rgb, labels, result.confidence, ts)
        self._mapped += 1
        if bag is not None and self.grid is not None and \
                self._mapped % max(1, int(round(cfg.video_fps * 5))) == 0:
            self._write_maps(bag, t_ns * 1e-9, ts)

    # -- outputs ---------------------------------------------------------------------------
    def _copy(self, bag: BagRecorder, con: Any, t_ns: int, raw: bytes,
              cache: dict[int, Any]) -> None:
        """The input message into the new bag, as CDR.

        rosbag2 messages are copied as they are. ROS 1 messages of a standard type are migrated
        to its ROS 2 definition (rosbags' converter: the ROS 1 header's seq goes), others are
        re-encoded as CDR with the bag's own definition, as ``rosbags-convert`` does.
        """
        key = id(con)
        if key not in cache:
            ros2 = not self.reader.is2 and con.msgtype in TYPESTORE.fielddefs
            try:
                out = bag.writer.add_connection(
                    con.topic, con.msgtype,
                    typestore=TYPESTORE if ros2 else self.reader.typestore)
                cache[key] = (out, ros2, {})
            except Exception as exc:
                cache[key] = None
                self.report(con.topic, t_ns, f'not copied to the output bag: {exc}',
                            key='copy')
        entry = cache[key]
        if entry is None:
            return
        out, ros2, migrations = entry
        try:
            if self.reader.is2:
                data = raw
            elif ros2:
                from rosbags.convert.converter import migrate_bytes

                data = migrate_bytes(self.reader.typestore, TYPESTORE, con.msgtype,
                                     con.msgtype, migrations, raw, src_is2=False, dst_is2=True)
            else:
                data = self.reader.typestore.ros1_to_cdr(raw, con.msgtype)
        except Exception as exc:
            self.report(con.topic, t_ns, f'not copied (does not convert): {exc}', key='conv')
            return
        bag.writer.write(out, t_ns, bytes(data))
        bag.counts[con.topic] = bag.counts.get(con.topic, 0) + 1

    def _write_maps(self, bag: BagRecorder, t_bag: float, ts: float,
                    obstacles: list[Any] | None = None) -> None:
        frame = self.timeline.frame_id or 'map'
        bag.write('/replay/map/semantic', 'nav_msgs/msg/OccupancyGrid', t_bag,
                  semantic_grid_msg(self.grid, ts, frame))
        if self.layer is not None:
            bag.write('/replay/map/coverage', 'nav_msgs/msg/OccupancyGrid', t_bag,
                      coverage_grid_msg(self.layer, ts, frame))
        if obstacles is not None:
            bag.write('/replay/obstacles', 'visualization_msgs/msg/MarkerArray', t_bag,
                      _markers(obstacles, frame, ts))

    def _open_video(self, shape: tuple[int, ...]) -> cv2.VideoWriter:
        path = self.out / 'replay.mp4'
        vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), self.cfg.video_fps,
                             (shape[1], shape[0]))
        if not vw.isOpened():
            path = self.out / 'replay.avi'
            vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'),
                                 self.cfg.video_fps, (shape[1], shape[0]))
        self.video_path = path
        return vw

    def _video_frame(self, rgb: np.ndarray, labels: np.ndarray, pose) -> np.ndarray:
        """Camera with the label overlay, and beside it a mini-map around the robot (BGR)."""
        over = cv2.addWeighted(rgb, 0.6, _LUT[labels], 0.4, 0.0)
        h = over.shape[0]
        mini = np.full((h, h, 3), 30, np.uint8)
        if self._mini is not None and self._mapped % 3 and pose is not None:
            mini = self._mini.copy()  # the map changes slowly: redrawn every third frame
        elif self.grid is not None and pose is not None:
            g = self.grid
            half = int(round(4.0 / g.res))  # 8 x 8 m around the robot, north up
            c = int(math.floor((pose[0] - g.origin[0]) / g.res))
            r = int(math.floor((pose[1] - g.origin[1]) / g.res))
            rows, cols = g.logodds.shape[1:]
            win = np.full((2 * half, 2 * half), 255, np.uint8)
            r0, r1, c0, c1 = max(0, r - half), min(rows, r + half), max(0, c - half), \
                min(cols, c + half)
            if r0 < r1 and c0 < c1:
                win[r0 - (r - half):r1 - (r - half), c0 - (c - half):c1 - (c - half)] = \
                    g.class_map(slice(r0, r1), slice(c0, c1))
            mini = cv2.resize(_LUT[win][::-1], (h, h), interpolation=cv2.INTER_NEAREST)
            self._mini = mini.copy()
        if pose is not None and self.grid is not None:
            ctr = (h // 2, h // 2)
            tip = (int(ctr[0] + 12 * math.cos(pose[2])), int(ctr[1] - 12 * math.sin(pose[2])))
            cv2.arrowedLine(mini, ctr, tip, (255, 255, 255), 2, tipLength=0.4)
        frame = np.hstack([over, mini])
        return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)

    def _extract(self, rgb: np.ndarray, labels: np.ndarray, conf: np.ndarray | None,
                 ts: float) -> int:
        cfg = self.cfg
        every = cfg.extract_every > 0 and self._mapped % cfg.extract_every == 0
        unsure = conf is not None and cfg.extract_unsure > 0 and \
            float((conf < 0.6).mean()) >= cfg.extract_unsure
        if not (every or unsure):
            return 0
        d = Path(cfg.extract_dir)
        d.mkdir(parents=True, exist_ok=True)
        name = f'{self.path.stem}_{ts:.3f}'
        cv2.imwrite(str(d / f'{name}.png'), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(d / f'{name}_labels.png'), labels)  # the model's guess, to correct
        return 1

    def _obstacles(self) -> list[Any]:
        if self.grid is None:
            return []
        g, m = self.grid, self.mapping
        return extract_obstacles(g.obstacle_mask(), g.origin, g.res,
                                 margin_m=m['obstacle_margin_m'],
                                 min_area_m2=m['min_obstacle_area_m2'])

    def _summary(self, wall: float, obstacles: list[Any], extracted: int,
                 bag: BagRecorder | None) -> dict[str, Any]:
        own: dict[str, int] = {}
        for c in self.reader.connections:
            own[c.topic] = own.get(c.topic, 0) + c.msgcount
        g = self.grid
        seen = 0.0 if g is None else float((g.class_map() != 255).sum()) * g.res ** 2
        seg = np.array(self.seg_ms)
        tl = self.timeline
        skipped = sum(self.skip_reasons.values())
        return {
            'bag': str(self.path),
            'storage': 'rosbag2' if self.reader.is2 else 'ROS 1',
            'duration_s': round(self.duration_s, 3),
            'topics': {role: [c.topic for c in cons][0] if role != 'tf'
                       else sorted({c.topic for c in cons})
                       for role, cons in self.roles.items() if cons},
            'messages_in_bag': own,
            'messages_read': dict(self.read_counts),
            'frames_processed': self.frames,
            'frames_skipped': skipped,
            'skip_reasons': dict(self.skip_reasons),
            'segmentation_ms_mean': round(float(seg.mean()), 3) if len(seg) else None,
            'segmentation_ms_p99': round(float(np.percentile(seg, 99)), 3) if len(seg) else None,
            'pose_source': tl.source or None,
            'pose_frame': tl.frame_id or None,
            'poses': len(tl),
            'path_start_xy': [round(float(v), 4) for v in tl.xy[0]] if len(tl) else None,
            'path_end_xy': [round(float(v), 4) for v in tl.xy[-1]] if len(tl) else None,
            'distance_m': round(tl.length_m(), 3),
            'gnss_fixes': len(self.gnss_enu),
            'gnss_extent_m': [round(float(v), 2) for v in np.ptp(self.gnss_enu, axis=0)]
            if len(self.gnss_enu) else None,
            'imu_samples': len(self.imu_t),
            'obstacles_found': len(obstacles),
            'obstacle_centres_xy': [[round(v, 3) for v in obstacle_core_centre(
                p, self.mapping['obstacle_margin_m'])] for p in obstacles],
            'area_mapped_m2': round(seen, 2),
            'area_swept_m2': round(self.layer.mowed_area_m2(), 2) if self.layer else 0.0,
            'blade': 'from ' + self.roles['blade'][0].topic if self.blade else 'assumed on',
            'problems': [vars(p) for p in self.problems],
            'frames_extracted': extracted,
            'wall_time_s': round(wall, 3),
            'replay_speed': round(self.duration_s / wall, 2) if wall > 0 else None,
            'outputs': {
                'bag': str(self.out / 'bag') if bag is not None else None,
                'bag_counts': dict(bag.counts) if bag is not None else {},
                'video': str(getattr(self, 'video_path', '')) or None,
                'map_png': str(self.out / 'map.png'),
            },
        }

    def _map_png(self, obstacles: list[Any]) -> None:
        import matplotlib

        matplotlib.use('Agg')
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 7))
        g, tl = self.grid, self.timeline
        if g is not None:
            cm = g.class_map()
            img = np.full((*cm.shape, 3), 255, np.uint8)
            for cls, col in COLOURS.items():
                img[cm == cls] = col
            h, w = cm.shape
            ax.imshow(img, origin='lower', extent=(g.origin[0], g.origin[0] + w * g.res,
                                                   g.origin[1], g.origin[1] + h * g.res))
        if len(tl):
            ax.plot(tl.xy[:, 0], tl.xy[:, 1], color='black', lw=0.8, label=f'path ({tl.source})')
            ax.plot(*tl.xy[0], 'o', color='tab:green', label='start')
            ax.plot(*tl.xy[-1], 's', color='tab:red', label='end')
        if len(self.gnss_enu) and not len(tl):
            ax.plot(self.gnss_enu[:, 0], self.gnss_enu[:, 1], '.', ms=2, label='GNSS (ENU)')
        for i, p in enumerate(obstacles):
            xs, ys = p.exterior.xy
            ax.plot(xs, ys, color='tab:orange', lw=1.5,
                    label='obstacles found' if i == 0 else None)
        ax.set_aspect('equal')
        ax.set_xlabel(f'x (m, {tl.frame_id or "?"})')
        ax.set_ylabel('y (m)')
        ax.set_title(f'{self.path.name}: {self.frames} frames, {len(obstacles)} obstacles, '
                     f'{tl.length_m():.1f} m driven')
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc='upper right', fontsize=8)
        fig.tight_layout()
        fig.savefig(self.out / 'map.png', dpi=110)
        plt.close(fig)


def _markers(polygons: list[Any], frame: str, ts: float) -> Any:
    markers = [ros_msg('visualization_msgs/msg/Marker', header=header(ts, frame),
                       ns='obstacles', id=0, action=3)]  # DELETEALL
    for i, p in enumerate(polygons):
        pts = [ros_msg('geometry_msgs/msg/Point', x=float(x), y=float(y), z=0.05)
               for x, y in zip(*p.exterior.xy)]
        markers.append(ros_msg(
            'visualization_msgs/msg/Marker', header=header(ts, frame), ns='obstacles', id=i + 1,
            type=4, action=0, points=pts,  # LINE_STRIP, ADD
            pose=ros_msg('geometry_msgs/msg/Pose',
                         orientation=ros_msg('geometry_msgs/msg/Quaternion', w=1.0)),
            scale=ros_msg('geometry_msgs/msg/Vector3', x=0.03),
            color=ros_msg('std_msgs/msg/ColorRGBA', r=1.0, g=0.5, a=1.0)))
    return ros_msg('visualization_msgs/msg/MarkerArray', markers=markers)
