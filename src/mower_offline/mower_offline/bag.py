"""Recording a simulated run as a rosbag2 file (MCAP) with the real ROS 2 message definitions.

`rosbags` serialises the standard messages (ROS 2 Jazzy definitions) without a ROS install; the
file plays back with ``ros2 bag play`` and opens in Foxglove. :func:`ros_msg` builds any message
by name, filling the fields not given with their defaults, as a ROS message constructor does.

Where the messages go is a :class:`MessageSink`: the rosbag2 file (:class:`BagRecorder`), the
live view (:class:`mower_offline.foxglove_live.FoxgloveLive`), or both (:func:`tee`); each
message is serialised to CDR once, whatever the number of sinks.
"""

from __future__ import annotations

import math
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import CompressionFormat, CompressionMode, StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.base import Nodetype

from mower_mapping.semantic_grid import LAWN, OBSTACLE, OTHER
from mower_maps.geometry import quaternion_from_yaw

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)
SEMANTIC_VALUES = {LAWN: 0, OTHER: 30, OBSTACLE: 100}  # as mapping_node publishes map/semantic
_FLOATS = {'float32': np.float32, 'float64': np.float64}
_ARRAYS = {
    'float32': np.float32,
    'float64': np.float64,
    'int8': np.int8,
    'uint8': np.uint8,
    'int16': np.int16,
    'uint16': np.uint16,
    'int32': np.int32,
    'uint32': np.uint32,
    'int64': np.int64,
    'uint64': np.uint64,
    'byte': np.uint8,
    'char': np.uint8,
}


def _default(fieldtype: tuple) -> Any:
    kind, spec = fieldtype
    if kind == Nodetype.BASE:
        base = spec[0]
        return (
            False if base == 'bool' else '' if base == 'string' else 0.0 if base in _FLOATS else 0
        )
    if kind == Nodetype.NAME:
        return ros_msg(spec)
    inner, count = spec
    if inner[0] == Nodetype.BASE and inner[1][0] in _ARRAYS:
        return np.zeros(count if kind == Nodetype.ARRAY else 0, dtype=_ARRAYS[inner[1][0]])
    return [_default(inner) for _ in range(count)] if kind == Nodetype.ARRAY else []


def _layout(msgtype: str) -> tuple[tuple[str, tuple, Any], ...]:
    """(field, field type, numpy dtype when it is a numeric array) per field, cached."""
    layout = _LAYOUTS.get(msgtype)
    if layout is None:
        _, defs = TYPESTORE.fielddefs[msgtype]
        rows = []
        for name, ftype in defs:
            kind, spec = ftype
            dtype = (
                _ARRAYS[spec[0][1][0]]
                if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE)
                and spec[0][0] == Nodetype.BASE
                and spec[0][1][0] in _ARRAYS
                else None
            )
            rows.append((name, ftype, dtype))
        layout = _LAYOUTS[msgtype] = tuple(rows)
    return layout


_LAYOUTS: dict[str, tuple[tuple[str, tuple, Any], ...]] = {}


def ros_msg(msgtype: str, /, **fields: Any) -> Any:
    """A message of type ``msgtype`` ('sensor_msgs/msg/Image'); unnamed fields get defaults."""
    kwargs = {}
    used = 0
    for name, ftype, dtype in _layout(msgtype):
        if name in fields:
            used += 1
            value = fields[name]
            if dtype is not None:
                value = (
                    np.frombuffer(value, dtype=dtype).copy()
                    if isinstance(value, (bytes, bytearray))
                    else np.asarray(value, dtype=dtype)
                )
            kwargs[name] = value
        else:
            kwargs[name] = _default(ftype)
    if used != len(fields):
        unknown = set(fields) - {name for name, _, _ in _layout(msgtype)}
        raise TypeError(f'{msgtype} has no field(s) {", ".join(sorted(unknown))}')
    return TYPESTORE.types[msgtype](**kwargs)


def stamp(t: float) -> Any:
    """builtin_interfaces/Time of ``t`` seconds."""
    sec = math.floor(t)
    return ros_msg(
        'builtin_interfaces/msg/Time',
        sec=int(sec),
        nanosec=min(999_999_999, int(round((t - sec) * 1e9))),
    )


def header(t: float, frame_id: str) -> Any:
    """std_msgs/Header."""
    return ros_msg('std_msgs/msg/Header', stamp=stamp(t), frame_id=frame_id)


def grid_msg(values: np.ndarray, origin: Any, res: float, t: float, frame: str) -> Any:
    """nav_msgs/OccupancyGrid of int8 ``values`` (rows along y) with its lower-left origin."""
    h, w = values.shape
    info = ros_msg(
        'nav_msgs/msg/MapMetaData',
        resolution=float(res),
        width=w,
        height=h,
        origin=ros_msg(
            'geometry_msgs/msg/Pose',
            position=ros_msg('geometry_msgs/msg/Point', x=float(origin[0]), y=float(origin[1])),
            orientation=quaternion_z(0.0),
        ),
    )
    return ros_msg(
        'nav_msgs/msg/OccupancyGrid',
        header=header(t, frame),
        info=info,
        data=values.astype(np.int8).reshape(-1),
    )


def semantic_grid_msg(grid: Any, t: float, frame: str = 'map') -> Any:
    """A SemanticGrid as mapping_node publishes map/semantic (lawn 0, other 30, obstacle 100)."""
    lut = np.full(256, -1, dtype=np.int8)  # class id -> value; unknown (255) -> -1
    for cls, v in SEMANTIC_VALUES.items():
        lut[cls] = v
    return grid_msg(lut[grid.class_map()], grid.origin, grid.res, t, frame)


def obstacle_cells_msg(grid: Any, t: float, frame: str = 'map') -> Any:
    """A SemanticGrid's obstacle layer as mapping_node publishes map/obstacle_cells.

    :meth:`SemanticGrid.obstacle_values`: 100 where an obstacle is found (the cells the safety
    stop reads, with ``obstacle_floor``), 50 where one is suspected (the follower slows near
    both), 0 elsewhere.
    """
    return grid_msg(grid.obstacle_values(), grid.origin, grid.res, t, frame)


def coverage_grid_msg(layer: Any, t: float, frame: str = 'map', factor: int = 5) -> Any:
    """A CoverageLayer as map/coverage: cells ``factor`` times coarser, 100 where half mowed."""
    share = layer.block_share(factor)
    return grid_msg(np.where(share >= 0.5, 100, 0), layer.origin, layer.res * factor, t, frame)


def quaternion_z(yaw: float) -> Any:
    """A rotation about z."""
    x, y, z, w = quaternion_from_yaw(yaw)
    return ros_msg('geometry_msgs/msg/Quaternion', x=x, y=y, z=z, w=w)


BAG_FILES = ('.mcap', '.db3', '.db3-shm', '.db3-wal')  # with metadata.yaml: a rosbag2 folder


def is_bag_folder(path: Path) -> bool:
    """Whether ``path`` is a real folder holding only rosbag2 files (or nothing)."""
    if path.is_symlink() or not path.is_dir():
        return False
    return all(
        p.is_file()
        and not p.is_symlink()
        and (p.name == 'metadata.yaml' or p.name.endswith(BAG_FILES))
        for p in path.iterdir()
    )


class MessageSink(ABC):
    """Where recorded messages go: ``write`` serialises one message, the rest take CDR bytes.

    ``add_connection`` declares a topic with the message definition from ``typestore`` (the
    replay copies messages of the input bag's own types), ``write_cdr`` writes serialised bytes
    on what it returned. ``connections`` holds the connection of each topic ``write`` used.
    """

    def __init__(self) -> None:
        """No topic yet."""
        self.connections: dict[str, Any] = {}

    def write(self, topic: str, msgtype: str, time_s: float, msg: Any) -> None:
        """Serialise and write one message at ``time_s`` (the bag's clock)."""
        if topic not in self.connections:
            self.connections[topic] = self.add_connection(topic, msgtype)
        data = TYPESTORE.serialize_cdr(msg, msgtype)
        self.write_cdr(self.connections[topic], int(round(time_s * 1e9)), data)

    @abstractmethod
    def add_connection(self, topic: str, msgtype: str, typestore: Any = TYPESTORE) -> Any:
        """A new connection of ``topic``; raises when the sink refuses it."""

    @abstractmethod
    def write_cdr(self, conn: Any, t_ns: int, data: bytes | memoryview) -> None:
        """Write one serialised (CDR) message on ``conn`` at ``t_ns`` (the bag's clock, ns)."""


class Tee(MessageSink):
    """Every message to each of ``sinks`` (a bag and the live view), serialised once."""

    def __init__(self, *sinks: MessageSink) -> None:
        """Write to ``sinks``, in that order."""
        super().__init__()
        self.sinks = sinks

    def add_connection(self, topic: str, msgtype: str, typestore: Any = TYPESTORE) -> Any:
        """One connection in each sink (raises when one refuses it)."""
        return tuple(s.add_connection(topic, msgtype, typestore) for s in self.sinks)

    def write_cdr(self, conn: Any, t_ns: int, data: bytes | memoryview) -> None:
        """The message to every sink."""
        for sink, part in zip(self.sinks, conn):
            sink.write_cdr(part, t_ns, data)


def tee(*sinks: MessageSink | None) -> MessageSink | None:
    """The sinks given (None ones left out) as one: None, the only one, or a :class:`Tee`."""
    present = [s for s in sinks if s is not None]
    return None if not present else present[0] if len(present) == 1 else Tee(*present)


class BagRecorder(MessageSink):
    """Writes messages to a new rosbag2 folder (MCAP storage); use as a context manager."""

    def __init__(self, path: str | Path, overwrite: bool = True) -> None:
        """Open ``path`` (a folder that must not exist, or is replaced when ``overwrite``).

        Only a rosbag2 folder (nothing in it but bag files) or an empty folder is replaced;
        anything else there raises FileExistsError and is left as it is.
        """
        self.path = Path(path)
        if overwrite and (self.path.exists() or self.path.is_symlink()):
            if not is_bag_folder(self.path):
                raise FileExistsError(
                    f'{self.path}: exists and is not a rosbag2 folder: not replaced'
                )
            shutil.rmtree(self.path)
        super().__init__()
        self.writer = Writer(self.path, version=8, storage_plugin=StoragePlugin.MCAP)
        # MCAP's own zstd chunk compression: every MCAP reader (ros2 bag, Foxglove, rosbags)
        # reads it as it is; the label images shrink about twentyfold, the JPEGs stay as they are
        self.writer.set_compression(CompressionMode.STORAGE, CompressionFormat.ZSTD)
        self.writer.open()
        self.counts: dict[str, int] = {}

    def add_connection(self, topic: str, msgtype: str, typestore: Any = TYPESTORE) -> Any:
        """A new rosbag2 connection (the writer refuses one it already has)."""
        return self.writer.add_connection(topic, msgtype, typestore=typestore)

    def write_cdr(self, conn: Any, t_ns: int, data: bytes | memoryview) -> None:
        """Write serialised bytes on ``conn`` at ``t_ns``; counted per topic."""
        self.writer.write(conn, t_ns, data)
        self.counts[conn.topic] = self.counts.get(conn.topic, 0) + 1

    def close(self) -> None:
        """Finish the file (metadata.yaml)."""
        self.writer.close()

    def __enter__(self) -> BagRecorder:
        """The recorder."""
        return self

    def __exit__(self, *exc: Any) -> None:
        """Close."""
        self.close()
