"""Reading field-test bags: rosbag2 (MCAP, sqlite3) and ROS 1, damaged ones included.

* :class:`TolerantReader` reads one bag as rosbags' AnyReader does, from rosbags' public readers
  and type system, but a message type it cannot define costs its topic, not the whole bag.
* :func:`recover_mcap` copies the readable start of a cut-off MCAP recording into a new bag;
  :func:`open_bag` does that by itself when a bag does not open.
* :func:`choose_topics` finds what each topic is (camera, odometry, tf, IMU, GNSS, ...) by
  message type, with name hints and overrides.
* :func:`stamp_s` is a message's time: its header stamp, else the bag's receive time.

:class:`ReplayError` is the one-line reason why a bag cannot be used at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rosbags.interfaces import Connection, MessageDefinitionFormat, Nodetype, TopicInfo
from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore

from mower_offline.bag import TYPESTORE
from mower_offline.image_decoding import COMPRESSED, IMAGE

if TYPE_CHECKING:
    from rosbags.interfaces.typing import Typesdict
    from rosbags.typesys.store import Typestore

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
    """One bag, read with rosbags' public readers; a message type it cannot define costs its topic.

    This is what rosbags' ``AnyReader`` (rosbags/highlevel/anyreader.py) does for one bag, built
    from public parts only: it holds a ``rosbags.rosbag1.Reader`` or ``rosbags.rosbag2.Reader``
    and makes its own type store from the bag's definitions with ``rosbags.typesys``. It differs
    where a field bag needs it to (``AnyReader._open`` refuses the whole bag instead):

    * a definition that does not parse, that the type store rejects, or whose hash does not
      match is left out of the type store and noted in :attr:`bad_types` (msgtype -> why); its
      messages then fail to deserialize, and the replay reports and skips them;
    * a type without a definition in the bag is taken, with the types it uses, from the ROS 2
      Jazzy store (:data:`mower_offline.bag.TYPESTORE`) when it has it, connection by connection
      (``AnyReader`` uses its ``default_typestore`` only when no connection has a definition).

    Open it with :meth:`open` or ``with``; :attr:`connections`, :meth:`messages`,
    :meth:`deserialize`, :attr:`typestore`, :attr:`is2` and the times are ``AnyReader``'s.
    """

    def __init__(self, path: Path) -> None:
        """A reader of the bag at ``path`` (not yet open); rosbags' ReaderError if it is none.

        As in ``AnyReader.__init__``: a path ending in ``.bag`` is a ROS 1 bag, anything else a
        rosbag2 bag (a folder with metadata.yaml, or a bare .mcap / .db3 file). Making the
        public reader reads the rosbag2 metadata, so a folder that is not a bag fails here.
        """
        from rosbags.rosbag1 import Reader as Reader1
        from rosbags.rosbag2 import Reader as Reader2

        self.path = Path(path)
        self.is2 = self.path.suffix != '.bag'
        self.reader: Reader1 | Reader2 = Reader2(self.path) if self.is2 else Reader1(self.path)
        self.connections: list[Connection] = []
        self.typestore: Typestore = get_typestore(Stores.EMPTY)
        self.bad_types: dict[str, str] = {}
        self._is_open = False

    # -- opening and closing (AnyReader.open, .close, .__enter__, .__exit__) --------------------
    def open(self) -> None:
        """Open the bag and build the type store from its definitions."""
        if self._is_open:
            raise ReplayError(f'{self.path}: the reader is already open')
        self.reader.open()
        try:
            # a copy, as AnyReader._open makes: rosbag2's reader clears its own list on close
            self.connections = list(self.reader.connections)
            self.typestore, self.bad_types = _load_types(self.connections, self.is2)
        except BaseException:
            self.reader.close()
            raise
        self._is_open = True

    def close(self) -> None:
        """Close the bag; the connections and the type store go, as in ``AnyReader.close``."""
        self._check_open()
        self._is_open = False
        self.connections = []
        self.typestore = get_typestore(Stores.EMPTY)
        self.reader.close()

    def __enter__(self) -> TolerantReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if not self._is_open:
            raise ReplayError(f'{self.path}: the reader is not open')

    # -- reading (AnyReader.messages, .deserialize) ---------------------------------------------
    def messages(
        self,
        connections: Collection[Connection] = (),
        start: int | None = None,
        stop: int | None = None,
    ) -> Iterator[tuple[Connection, int, bytes]]:
        """(connection, time ns, raw bytes) of ``connections`` (empty: all), in time order.

        ``AnyReader.messages`` merges its readers' messages by time; with one bag the public
        reader's own order is that already (rosbag1: merged indexes; rosbag2: merged MCAP
        chunks, sqlite3 ordered by time).
        """
        self._check_open()
        return iter(self.reader.messages(connections=connections, start=start, stop=stop))

    def deserialize(self, rawdata: bytes | memoryview, msgtype: str) -> Any:
        """The message object: CDR for rosbag2, ROS 1 serialization for a ROS 1 bag.

        As ``AnyReader.deserialize``; a type left out of the store raises KeyError, bytes that do
        not decode raise rosbags' SerdeError or a decoding error (not wrapped here).
        """
        if self.is2:
            return self.typestore.deserialize_cdr(rawdata, msgtype)
        return self.typestore.deserialize_ros1(rawdata, msgtype)

    # -- what is in the bag (AnyReader's properties, for one reader) ----------------------------
    @property
    def start_time(self) -> int:
        """Time ns of the earliest message."""
        self._check_open()
        return self.reader.start_time

    @property
    def end_time(self) -> int:
        """Time ns after the latest message."""
        self._check_open()
        return self.reader.end_time

    @property
    def duration(self) -> int:
        """Nanoseconds from the earliest to the latest message (``end - start``, as AnyReader)."""
        return self.end_time - self.start_time

    @property
    def message_count(self) -> int:
        """Messages in the bag."""
        self._check_open()
        return self.reader.message_count

    @property
    def topics(self) -> dict[str, TopicInfo]:
        """Topic name -> type, definition, count and connections (the public reader's)."""
        self._check_open()
        return self.reader.topics


def _load_types(connections: list[Connection], is2: bool) -> tuple[Typestore, dict[str, str]]:
    """A type store of the types that could be defined, and why the others could not.

    The steps are ``AnyReader._open``'s: parse every connection's definition (MSG or IDL),
    register the types in an empty store, check each connection's hash (RIHS01 for rosbag2, MD5
    for ROS 1) against the registered type. Each step here is per type, so one bad type is left
    out instead of failing the bag. The types are checked in a trial store and the final store
    is made of the good ones only, so nothing has to be taken out of a store afterwards.
    """
    typs: Typesdict = {}
    bad: dict[str, str] = {}
    digests: dict[str, str] = {}
    for con in connections:
        fmt, data = con.msgdef.format, con.msgdef.data
        if fmt == MessageDefinitionFormat.NONE or not data.strip():
            found = _standard_type(con.msgtype)
            if not found:
                bad[con.msgtype] = 'no definition in the bag'
            for name, fielddef in found.items():  # a definition in the bag comes first
                typs.setdefault(name, fielddef)
            continue
        try:
            typs.update(_parse_definition(con.msgtype, fmt, data))
        except Exception as exc:  # a definition that does not parse
            bad[con.msgtype] = f'definition does not parse: {exc}'
            continue
        if con.digest:
            digests[con.msgtype] = con.digest
    trial = get_typestore(Stores.EMPTY)
    for name, fielddef in typs.items():  # one by one: a rejected type must not stop the others
        try:
            trial.register({name: fielddef})
        except Exception as exc:
            bad.setdefault(name, f'definition rejected: {exc}')
    for msgtype, digest in digests.items():
        try:
            have = trial.hash_rihs01(msgtype) if is2 else trial.generate_msgdef(msgtype)[1]
        except Exception as exc:  # a type it uses is nowhere, or was rejected
            bad.setdefault(msgtype, f'its definition is incomplete: {exc}')
            continue
        if have != digest:
            bad.setdefault(msgtype, 'its definition does not match its hash')
    store = get_typestore(Stores.EMPTY)
    store.register({name: fielddef for name, fielddef in typs.items() if name not in bad})
    return store, bad


def _parse_definition(msgtype: str, fmt: MessageDefinitionFormat, data: str) -> Typesdict:
    """The types in one connection's definition: MSG text, or IDL (one or several files).

    As ``AnyReader._open``: rosbag2 stores several IDL files as sections, each after a line of
    80 '=' and an 'IDL: name' line; a single IDL file has no such header.
    """
    if fmt == MessageDefinitionFormat.MSG:
        return get_types_from_msg(data, msgtype)
    sep = '=' * 80 + '\n'
    parts = (
        [p.split('\n', 1)[1] for p in data.split(sep)[1:]]
        if data.startswith(f'{sep}IDL: ')
        else [data]
    )
    typs: Typesdict = {}
    for idl in parts:
        typs.update(get_types_from_idl(idl))
    return typs


def _standard_type(msgtype: str) -> Typesdict:
    """``msgtype`` and the types its fields use, from the ROS 2 store; empty if it lacks it."""
    out: Typesdict = {}
    todo = [msgtype]
    while todo:
        name = todo.pop()
        if name in out or name not in TYPESTORE.fielddefs:
            continue
        out[name] = TYPESTORE.fielddefs[name]
        for _, desc in out[name][1]:  # (NAME, type), (BASE, ...), (ARRAY|SEQUENCE, (elem, n))
            node: Any = desc[1][0] if desc[0] in (Nodetype.ARRAY, Nodetype.SEQUENCE) else desc
            if node[0] == Nodetype.NAME:
                todo.append(node[1])
    return out


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
    return writer.add_connection(topic, msgtype, msgdef=data, rihs01='RIHS01_' + '0' * 64)


def open_bag(path: Path, scratch: Path | None = None) -> tuple[Any, list[str]]:
    """An open reader and notes; ReplayError with one line when it is not a readable bag.

    A damaged MCAP file is recovered up to the damage into ``scratch`` first (noted).
    """
    if not path.exists():
        raise ReplayError(f'{path}: no such file or folder')
    notes: list[str] = []
    try:
        reader = TolerantReader(path)
        reader.open()
        return reader, notes
    except Exception as exc:  # rosbags raises its own errors, and OS / YAML / sqlite ones
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mcap = (
            path
            if path.suffix == '.mcap'
            else next(iter(sorted(path.glob('*.mcap'))), None)
            if path.is_dir()
            else None
        )
        if mcap is None or scratch is None or not _is_mcap(mcap):
            raise ReplayError(f'{path}: not a readable rosbag2 or ROS 1 bag ({reason})') from None
    fixed, n, why = recover_mcap(mcap, scratch / 'recovered')
    if n == 0:
        raise ReplayError(f'{path}: damaged MCAP file, no message could be read ({why})')
    notes.append(
        f'damaged MCAP file ({reason}): read {n} messages up to the damage '
        f'({why}); the rest is lost'
    )
    reader = TolerantReader(fixed)
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
                raise ReplayError(
                    f'--topic {role}={name}: no such topic in the bag '
                    f'(topics: {", ".join(sorted(by_topic)) or "none"})'
                )
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
        hint = {
            'odom': ('filtered', 'odom'),
            'camera': ('image', 'camera'),
            'pose': ('ground', 'amcl'),
        }.get(role, ())
        best = min(
            counts,
            key=lambda topic: (
                next((i for i, h in enumerate(hint) if h in topic.lower()), len(hint)),
                -counts[topic],
                topic,
            ),
        )
        out[role] = by_topic[best]
    return out
