"""Reading field-test bags: rosbag2 (MCAP, sqlite3) and ROS 1, damaged ones included.

* :class:`TolerantReader` is rosbags' AnyReader, but a message type it cannot define costs its
  topic, not the whole bag.
* :func:`recover_mcap` copies the readable start of a cut-off MCAP recording into a new bag;
  :func:`open_bag` does that by itself when a bag does not open.
* :func:`choose_topics` finds what each topic is (camera, odometry, tf, IMU, GNSS, ...) by
  message type, with name hints and overrides.
* :func:`stamp_s` is a message's time: its header stamp, else the bag's receive time.

:class:`ReplayError` is the one-line reason why a bag cannot be used at all.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from mower_stack.bag import TYPESTORE
from mower_stack.image_decoding import COMPRESSED, IMAGE

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


class ReplayError(RuntimeError):
    """The replay cannot start (not a bag, nothing usable in it): a one-line reason."""


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

