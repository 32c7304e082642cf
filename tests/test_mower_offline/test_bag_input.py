"""TolerantReader: rosbags' public readers and type system, one bad type costing only its topic.

The bags are written here with rosbags' own writers (ROS 1, rosbag2 MCAP and sqlite3); the real
husky bags in every format are read in test_replay.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rosbags.highlevel import AnyReader
from rosbags.interfaces import Connection, ConnectionExtRosbag2, MessageDefinition
from rosbags.interfaces import MessageDefinitionFormat as Fmt
from rosbags.rosbag1 import ReaderError as ReaderError1
from rosbags.rosbag1 import Writer as Writer1
from rosbags.rosbag2 import StoragePlugin
from rosbags.rosbag2 import Writer as Writer2
from rosbags.typesys import Stores, get_typestore

from mower_offline.bag import TYPESTORE, header, quaternion_z, ros_msg
from mower_offline.bag_input import ReplayError, TolerantReader, _load_types, open_bag

ROS1 = get_typestore(Stores.ROS1_NOETIC)
ODOM = 'nav_msgs/msg/Odometry'
BROKEN = 'acme_msgs/msg/Broken'  # its definition does not parse
WRONG = 'acme_msgs/msg/Counter'  # its definition parses, its hash is not that of it
DANGLING = 'acme_msgs/msg/Dangling'  # its definition parses, but uses a type that is nowhere
BAD_DEFS = {
    BROKEN: 'int32 x\nuint8[ broken',
    WRONG: 'int32 count',
    DANGLING: 'int32 x\nthis is : a field of type acme_msgs/msg/this',
}
FORMATS = ['ros1', 'mcap', 'sqlite3']


def _odom(i: int):
    """Odometry message ``i`` (ROS 2 type; the ROS 1 one is made from its fields)."""
    return ros_msg(
        ODOM,
        header=header(1.0 + 0.1 * i, 'odom'),
        child_frame_id='base_link',
        pose=ros_msg(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=ros_msg(
                'geometry_msgs/msg/Pose',
                position=ros_msg('geometry_msgs/msg/Point', x=0.5 * i, y=-0.25 * i),
                orientation=quaternion_z(0.1 * i),
            ),
        ),
    )


def _ros1_odom(i: int):
    """The same odometry as a ROS 1 message (its header has a seq)."""
    m = _odom(i)
    t = ROS1.types
    hdr = t['std_msgs/msg/Header'](
        seq=i,
        stamp=t['builtin_interfaces/msg/Time'](
            sec=m.header.stamp.sec, nanosec=m.header.stamp.nanosec
        ),
        frame_id='odom',
    )
    pose = t['geometry_msgs/msg/Pose'](
        position=t['geometry_msgs/msg/Point'](x=0.5 * i, y=-0.25 * i, z=0.0),
        orientation=t['geometry_msgs/msg/Quaternion'](
            **{k: getattr(m.pose.pose.orientation, k) for k in 'xyzw'}
        ),
    )
    cov = m.pose.covariance
    return t[ODOM](
        header=hdr,
        child_frame_id='base_link',
        pose=t['geometry_msgs/msg/PoseWithCovariance'](pose=pose, covariance=cov),
        twist=t['geometry_msgs/msg/TwistWithCovariance'](
            twist=t['geometry_msgs/msg/Twist'](
                linear=t['geometry_msgs/msg/Vector3'](x=0.0, y=0.0, z=0.0),
                angular=t['geometry_msgs/msg/Vector3'](x=0.0, y=0.0, z=0.0),
            ),
            covariance=m.twist.covariance,
        ),
    )


def make_bag(tmp: Path, fmt: str, damaged: bool = True) -> Path:
    """A bag: /odom (20 messages), /late (5), and when ``damaged`` /bad0../bad2 (BAD_DEFS).

    /odom is written first and /late after it, with times between /odom's, so a reader has to
    merge them to give time order. Damaged rosbag2 bags also get /pose, a standard type without
    a definition in the bag.
    """
    path = tmp / ('bag.bag' if fmt == 'ros1' else f'bag_{fmt}')
    times = [int((1.0 + 0.1 * i) * 1e9) for i in range(20)]
    late = [t + 50_000_000 for t in times[::4]]
    garbage = b'\x00\x01\x00\x00\x07\x00\x00\x00'
    if fmt == 'ros1':
        with Writer1(path) as w:
            odom = w.add_connection('/odom', ODOM, typestore=ROS1)
            for i, t in enumerate(times):
                w.write(odom, t, ROS1.serialize_ros1(_ros1_odom(i), ODOM))
            for k, (msgtype, msgdef) in enumerate(BAD_DEFS.items() if damaged else ()):
                con = w.add_connection(f'/bad{k}', msgtype, msgdef=msgdef, md5sum=str(k) * 32)
                w.write(con, times[3 + k], garbage)
            lat = w.add_connection('/late', ODOM, typestore=ROS1)
            for t in late:
                w.write(lat, t, ROS1.serialize_ros1(_ros1_odom(0), ODOM))
        return path
    plugin = StoragePlugin.MCAP if fmt == 'mcap' else StoragePlugin.SQLITE3
    with Writer2(path, version=9, storage_plugin=plugin) as w:
        odom = w.add_connection('/odom', ODOM, typestore=TYPESTORE)
        for i, t in enumerate(times):
            w.write(odom, t, TYPESTORE.serialize_cdr(_odom(i), ODOM))
        for k, (msgtype, msgdef) in enumerate(BAD_DEFS.items() if damaged else ()):
            con = w.add_connection(
                f'/bad{k}', msgtype, msgdef=msgdef, rihs01='RIHS01_' + str(k) * 64
            )
            w.write(con, times[3 + k], garbage)
        if damaged:  # no definition, so its hash is not checked (AnyReader would refuse it)
            pose = w.add_connection(
                '/pose', 'geometry_msgs/msg/PoseStamped', msgdef='', rihs01='RIHS01_' + 'f' * 64
            )
            w.write(
                pose,
                times[7],
                TYPESTORE.serialize_cdr(
                    ros_msg(
                        'geometry_msgs/msg/PoseStamped',
                        header=header(1.7, 'map'),
                        pose=ros_msg(
                            'geometry_msgs/msg/Pose',
                            position=ros_msg('geometry_msgs/msg/Point', x=3.0),
                            orientation=quaternion_z(0.0),
                        ),
                    ),
                    'geometry_msgs/msg/PoseStamped',
                ),
            )
        lat = w.add_connection('/late', ODOM, typestore=TYPESTORE)
        for t in late:
            w.write(lat, t, TYPESTORE.serialize_cdr(_odom(0), ODOM))
    return path


def _read(reader: TolerantReader, topics: tuple[str, ...]) -> list[tuple]:
    """(topic, time ns, x, y, stamp s) of the messages on ``topics``, as read and decoded."""
    cons = [c for c in reader.connections if c.topic in topics]
    out = []
    for con, t, raw in reader.messages(connections=cons):
        m = reader.deserialize(raw, con.msgtype)
        p = m.pose.pose.position if hasattr(m.pose, 'pose') else m.pose.position
        out.append((con.topic, t, p.x, p.y, m.header.stamp.sec + m.header.stamp.nanosec * 1e-9))
    return out


@pytest.mark.parametrize('fmt', FORMATS)
def test_a_broken_definition_costs_its_topic_not_the_bag(tmp_path, fmt):
    bag = make_bag(tmp_path, fmt)
    with pytest.raises(Exception, match='Could not parse'):  # rosbags refuses the whole bag
        with AnyReader([bag], default_typestore=TYPESTORE):
            pass
    with TolerantReader(bag) as r:
        assert r.is2 == (fmt != 'ros1')
        assert set(r.bad_types) == set(BAD_DEFS), r.bad_types
        assert r.bad_types[BROKEN].startswith('definition does not parse: Could not parse')
        assert r.bad_types[WRONG] == 'its definition does not match its hash'
        assert r.bad_types[DANGLING].startswith('its definition is incomplete'), r.bad_types
        topics = {c.topic for c in r.connections}
        assert {'/odom', '/late', '/bad0', '/bad1', '/bad2'} <= topics
        assert not set(BAD_DEFS) & set(r.typestore.fielddefs)
        read = _read(r, ('/odom',))
        assert len(read) == 20
        assert read[-1][2:4] == (pytest.approx(9.5), pytest.approx(-4.75))
        assert read[-1][4] == pytest.approx(2.9)
        for con, _, raw in r.messages(
            connections=[c for c in r.connections if c.msgtype in BAD_DEFS]
        ):
            with pytest.raises(KeyError):  # the replay reports these and skips them
                r.deserialize(raw, con.msgtype)
        if r.is2:  # a standard type without a definition comes, with its fields, from Jazzy
            ((con, _, raw),) = r.messages(
                connections=[c for c in r.connections if c.topic == '/pose']
            )
            assert r.deserialize(raw, con.msgtype).pose.position.x == 3.0


@pytest.mark.parametrize('fmt', FORMATS)
def test_open_bag_notes_nothing_and_counts_every_message(tmp_path, fmt):
    reader, notes = open_bag(make_bag(tmp_path, fmt), tmp_path / 'scratch')
    try:
        assert notes == []
        assert isinstance(reader, TolerantReader)
        n = 20 + 5 + len(BAD_DEFS) + (1 if fmt != 'ros1' else 0)
        assert reader.message_count == n == sum(1 for _ in reader.messages())
        assert sum(i.msgcount for i in reader.topics.values()) == n
        assert reader.start_time == int(1e9)
        assert reader.duration == reader.end_time - reader.start_time > int(1.8e9)
    finally:
        reader.close()


def test_ros1_mcap_and_sqlite3_read_the_same_messages_in_time_order(tmp_path):
    got = {}
    for fmt in FORMATS:
        with TolerantReader(make_bag(tmp_path, fmt, damaged=False)) as r:
            got[fmt] = _read(r, ('/odom', '/late'))
    assert got['ros1'] == got['mcap'] == got['sqlite3']
    times = [t for _, t, *_ in got['mcap']]
    assert times == sorted(times) and len(times) == 25
    assert [x[0] for x in got['mcap'][:3]] == ['/odom', '/late', '/odom']  # merged by time


def test_the_same_types_as_rosbags_anyreader_when_nothing_is_broken(tmp_path):
    for fmt in FORMATS:
        bag = make_bag(tmp_path, fmt, damaged=False)
        with AnyReader([bag], default_typestore=TYPESTORE) as a, TolerantReader(bag) as r:
            assert r.bad_types == {}
            for name, fielddef in a.typestore.fielddefs.items():
                assert r.typestore.fielddefs[name] == fielddef, name
            assert [(c.topic, c.msgtype) for c in a.connections] == [
                (c.topic, c.msgtype) for c in r.connections
            ]
            assert (a.start_time, a.end_time, a.message_count) == (
                r.start_time,
                r.end_time,
                r.message_count,
            )


def test_open_and_close_as_anyreader(tmp_path):
    r = TolerantReader(make_bag(tmp_path, 'mcap'))
    with pytest.raises(ReplayError, match='not open'):
        r.messages()
    r.open()
    with pytest.raises(ReplayError, match='already open'):
        r.open()
    assert r.connections
    r.close()
    assert r.connections == [] and r.typestore.fielddefs == get_typestore(Stores.EMPTY).fielddefs
    with pytest.raises(ReplayError, match='not open'):
        _ = r.start_time
    with r:  # it opens again
        assert r.message_count == 29


def test_not_a_bag_fails_when_made_or_opened(tmp_path):
    folder = tmp_path / 'folder'
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match='metadata'):  # rosbag2: no metadata.yaml
        TolerantReader(folder)
    (tmp_path / 'x.bag').write_bytes(b'not a bag at all')
    with pytest.raises(ReaderError1, match='magic'):  # ROS 1: read when opened
        TolerantReader(tmp_path / 'x.bag').open()
    with pytest.raises(ReplayError, match='not a readable'):
        open_bag(tmp_path / 'x.bag', tmp_path / 'scratch')


IDL = """module acme_msgs {
  module msg {
    struct Point2 {
      double x;
      double y;
    };
  };
};
"""


@pytest.mark.parametrize(
    'data', [IDL, f'{"=" * 80}\nIDL: acme_msgs/msg/Point2\n{IDL}'], ids=['one-file', 'sections']
)
def test_idl_definitions_are_read_as_anyreader_reads_them(data):
    con = Connection(
        1,
        '/p',
        'acme_msgs/msg/Point2',
        MessageDefinition(Fmt.IDL, data),
        '',
        0,
        ConnectionExtRosbag2('cdr', []),
        None,
    )
    store, bad = _load_types([con], is2=True)
    assert bad == {}
    assert [f for f, _ in store.fielddefs['acme_msgs/msg/Point2'][1]] == ['x', 'y']
    msg = store.types['acme_msgs/msg/Point2'](x=1.5, y=-2.0)
    raw = store.serialize_cdr(msg, 'acme_msgs/msg/Point2')
    assert store.deserialize_cdr(raw, 'acme_msgs/msg/Point2').y == -2.0
