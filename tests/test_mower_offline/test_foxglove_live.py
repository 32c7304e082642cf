"""The live Foxglove view (issue 19): a WebSocket client subscribes and decodes every kind.

A real run (a small lawn, the simulator's labels) and a replay stream through
:class:`mower_offline.foxglove_live.FoxgloveLive` on a free loopback port while a client of
Foxglove's WebSocket protocol (the `websockets` library, subprotocol ``foxglove.sdk.v1``)
reads ``serverInfo`` and ``advertise``, subscribes to every channel and decodes the binary
message-data frames with the rosbags typestore. The stream is checked against the bag written
beside it (same schema text, same bytes at the same times), the layout in config/ against the
topics the run writes, the pacing against the wall clock, and the command's options.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import struct
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault('MUJOCO_GL', 'egl')

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import websockets  # noqa: E402
from conftest import ROOT  # noqa: E402
from lawn_gen import rectangle_lawn
from rosbags.highlevel import AnyReader  # noqa: E402
from test_mower_cli.test_cli_safety import one_line, run_cli, usage_error  # noqa: E402
from test_mower_offline.test_replay import make_bag  # noqa: E402

from mower_cli.foxglove_cli import DEFAULT_ADDRESS, run_topics  # noqa: E402
from mower_maps import load_map  # noqa: E402
from mower_offline.bag import TYPESTORE  # noqa: E402
from mower_offline.foxglove_live import (  # noqa: E402
    DEFAULT_HOST,
    DEFAULT_PORT,
    LAYOUT,
    FoxgloveLive,
    LiveError,
)
from mower_offline.replay import Replay, ReplayConfig  # noqa: E402
from mower_offline.run import MowingRun, RunConfig  # noqa: E402
from mower_offline.run_recorder import DRIVEN_STEP_M, TOPICS  # noqa: E402
from mower_offline.schedule import Pacer  # noqa: E402

SUBPROTOCOL = 'foxglove.sdk.v1'  # what foxglove-sdk's server accepts
UNKNOWN = 'Unknown channel ID: '  # the server's status when it refuses a subscription
LIMIT_S = 12.0  # simulated seconds of the streamed run
RATE = 8.0  # simulated seconds per wall second while streaming
LAWN = rectangle_lawn('live lawn', 7.0, 3.5, (0.3, 0.4))


class Viewer:
    """A Foxglove WebSocket client on its own thread; subscribes to every channel advertised.

    ``messages``: (topic, log time ns, CDR bytes) in the order received.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.server_info: dict[str, Any] | None = None
        self.channels: dict[int, dict[str, Any]] = {}  # channel id -> as advertised
        self.messages: list[tuple[str, int, bytes]] = []
        self.subprotocol: str | None = None
        self.refused = 0  # subscriptions refused by the server's race (then made again)
        self.error: BaseException | None = None
        self.connected = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Viewer:
        self._thread.start()
        assert self.connected.wait(10), self.error or 'no serverInfo from the server'
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join(10)

    def topics(self) -> set[str]:
        return {topic for topic, _, _ in self.messages}

    def wait_for(self, topics: set[str], timeout_s: float = 10.0) -> None:
        """Until a message of each of ``topics`` came (or the time is up)."""
        end = time.monotonic() + timeout_s
        while not topics <= self.topics() and time.monotonic() < end:
            time.sleep(0.02)

    def _run(self) -> None:
        try:
            asyncio.run(self._session())
        except BaseException as exc:  # reported by the test that reads the viewer
            self.error = exc
            self.connected.set()

    async def _session(self) -> None:
        async with websockets.connect(self.url, subprotocols=[SUBPROTOCOL], max_size=None) as ws:
            self.subprotocol = ws.subprotocol
            subscriptions: dict[int, int] = {}  # subscription id -> channel id
            while not self._done.is_set():
                try:
                    frame = await asyncio.wait_for(ws.recv(), 0.05)
                except TimeoutError:
                    continue
                if isinstance(frame, str):
                    await self._control(ws, json.loads(frame), subscriptions)
                    continue
                op, sub, log_time = struct.unpack_from('<BIQ', frame)
                assert op == 1, op  # message data
                topic = self.channels[subscriptions[sub]]['topic']
                self.messages.append((topic, log_time, bytes(frame[13:])))

    async def _control(self, ws: Any, msg: dict, subscriptions: dict[int, int]) -> None:
        if msg['op'] == 'serverInfo':
            self.server_info = msg
            self.connected.set()
        elif msg['op'] == 'advertise':
            for channel in msg['channels']:
                self.channels.setdefault(channel['id'], channel)
            await self._subscribe(ws, [c['id'] for c in msg['channels']], subscriptions)
        elif msg['op'] == 'status' and msg['message'].startswith(UNKNOWN):
            # foxglove-sdk 0.30.3 refuses a subscription that comes a moment after the
            # advertisement of a channel made while this viewer was connected: again
            self.refused += 1
            await asyncio.sleep(0.02)
            await self._subscribe(ws, [int(msg['message'][len(UNKNOWN) :])], subscriptions)

    async def _subscribe(self, ws: Any, ids: list[int], subscriptions: dict[int, int]) -> None:
        new = []
        for channel_id in ids:
            sub = len(subscriptions)
            subscriptions[sub] = channel_id
            new.append({'id': sub, 'channelId': channel_id})
        await ws.send(json.dumps({'op': 'subscribe', 'subscriptions': new}))


def bag_messages(bag: Path) -> tuple[dict[str, Any], list[tuple[str, int, bytes]]]:
    """The bag's connections by topic and its messages (topic, time ns, CDR), read back."""
    with AnyReader([bag], default_typestore=TYPESTORE) as r:
        cons = {c.topic: c for c in r.connections}
        msgs = [(c.topic, t, bytes(raw)) for c, t, raw in r.messages()]
    return cons, msgs


def decode(viewer: Viewer, topic: str, data: bytes) -> Any:
    """A message of ``topic`` decoded by its advertised schema name."""
    schema = next(c['schemaName'] for c in viewer.channels.values() if c['topic'] == topic)
    return TYPESTORE.deserialize_cdr(data, schema)


def last(viewer: Viewer, topic: str) -> Any:
    """The last message received on ``topic``, decoded."""
    data = [d for t, _, d in viewer.messages if t == topic]
    assert data, f'nothing received on {topic}'
    return decode(viewer, topic, data[-1])


@pytest.fixture(scope='module')
def streamed(tmp_path_factory):
    """A short run streamed live and recorded; a viewer throughout, one that joins after."""
    path = tmp_path_factory.mktemp('map') / 'lawn.geojson'
    path.write_text(json.dumps(LAWN))
    out = tmp_path_factory.mktemp('run')
    live = FoxgloveLive('127.0.0.1', 0, RATE, topics=run_topics())  # as `mower sim` makes it
    with live, Viewer(live.url) as viewer:
        run = MowingRun(
            load_map(path),
            out,
            RunConfig(seed=1, perception='truth', limit_s=LIMIT_S, bag_grid_s=2.0),
        )
        t0 = time.monotonic()
        result = run.run(progress=False, live=live)
        wall_s = time.monotonic() - t0
        topics = set(result.summary['bag_counts'])
        viewer.wait_for(topics)
        with Viewer(live.url) as late:
            late.wait_for(topics, 5.0)
    assert viewer.error is None and late.error is None, (viewer.error, late.error)
    return run, result, viewer, late, wall_s


def test_the_viewer_is_served_every_topic_with_the_schema_the_mcap_stores(streamed):
    run, result, viewer, late, _ = streamed
    assert viewer.subprotocol == SUBPROTOCOL
    assert viewer.server_info is not None and viewer.server_info['name'] == 'mower'
    assert viewer.refused == late.refused == 0  # every channel made before they connected
    cons, _ = bag_messages(Path(result.summary['bag']))
    advertised = {c['topic']: c for c in viewer.channels.values()}
    assert set(advertised) == set(cons) == set(result.summary['bag_counts'])
    assert {topic: con.msgtype for topic, con in cons.items()} == TOPICS
    for topic, channel in advertised.items():
        con = cons[topic]
        assert channel['encoding'] == 'cdr', topic
        assert channel['schemaEncoding'] == 'ros2msg', topic
        assert channel['schemaName'] == con.msgtype, topic  # e.g. nav_msgs/msg/Path
        assert channel['schema'] == con.msgdef.data, topic  # the definition the MCAP holds
        assert channel['schema'] == TYPESTORE.generate_msgdef(con.msgtype, ros_version=2)[0]


def test_the_stream_is_the_bag_message_for_message(streamed):
    _, result, viewer, _, _ = streamed
    _, msgs = bag_messages(Path(result.summary['bag']))
    in_bag = set(msgs)
    assert viewer.topics() == {topic for topic, _, _ in msgs}
    assert set(viewer.messages) <= in_bag  # same bytes, stamped with the bag's time
    for topic, n in result.summary['bag_counts'].items():
        got = [m for m in viewer.messages if m[0] == topic]
        # from the first message the viewer could subscribe to (re-sent on subscribing) on
        assert 1 <= len(set(got)) <= n, topic
        assert got[-1] == [m for m in msgs if m[0] == topic][-1], topic
    assert len({t for topic, t, _ in viewer.messages if topic == '/odom'}) >= 0.8 * LIMIT_S * 10


def test_each_kind_decodes(streamed):
    run, result, viewer, _, _ = streamed
    mower = run.sim.mower
    size = (mower.image_height, mower.image_width, 3)
    camera = last(viewer, '/camera/image_raw/compressed')
    overlay = last(viewer, '/segmentation/overlay/compressed')
    images = []
    for msg in (camera, overlay):
        assert msg.format == 'jpeg' and msg.header.frame_id == 'camera_optical_frame'
        img = cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.shape == size
        images.append(img.astype(int))
    assert camera.header.stamp == overlay.header.stamp
    assert np.abs(images[0] - images[1]).mean() > 5  # the label colours are blended in
    labels = last(viewer, '/segmentation/labels')
    assert labels.encoding == 'mono8' and len(labels.data) == labels.height * labels.width
    assert (labels.height, labels.width) == size[:2]
    info = last(viewer, '/camera/camera_info')
    assert (info.height, info.width) == size[:2] and info.k[0] > 0
    for topic in ('/map/semantic', '/map/obstacle_cells', '/map/coverage'):
        grid = last(viewer, topic)
        assert grid.header.frame_id == 'map' and grid.info.resolution > 0
        assert grid.info.width > 0 and grid.info.height > 0
        assert len(grid.data) == grid.info.width * grid.info.height
    assert (np.asarray(last(viewer, '/map/coverage').data) == 100).any()  # it mowed
    plan = last(viewer, '/coverage/path')
    assert plan.header.frame_id == 'map' and len(plan.poses) > 10
    driven = last(viewer, '/mower/driven_path')
    xy = np.array([(p.pose.position.x, p.pose.position.y) for p in driven.poses])
    assert len(xy) >= 3 and (np.hypot(*np.diff(xy, axis=0).T) >= DRIVEN_STEP_M - 1e-9).all()
    assert np.hypot(*(xy[-1] - run.sim.pose[:2])) < 1.0
    tf = last(viewer, '/tf')
    (transform,) = tf.transforms
    assert (transform.header.frame_id, transform.child_frame_id) == ('map', 'base_link')
    odom = last(viewer, '/odom')
    assert odom.header.frame_id == 'map' and odom.child_frame_id == 'base_link'
    p = odom.pose.pose.position
    assert math.isfinite(p.x) and math.isfinite(p.y)
    assert (p.x, p.y) == pytest.approx(
        (transform.transform.translation.x, transform.transform.translation.y)
    )
    state = json.loads(last(viewer, '/mower/state').data)
    assert state['state'] in result.summary['states'] and 'mowed_pct' in state
    diagnostics = last(viewer, '/diagnostics')
    assert diagnostics.status[0].name == 'mower'
    assert diagnostics.status[0].message == state['state']
    assert math.isfinite(last(viewer, '/cmd_vel_safe').linear.x)


def test_a_viewer_joining_late_gets_the_last_message_of_every_topic(streamed):
    _, result, _, late, _ = streamed
    _, msgs = bag_messages(Path(result.summary['bag']))
    last_in_bag = {topic: (topic, t, data) for topic, t, data in msgs}
    assert late.topics() == set(last_in_bag)
    assert sorted(late.messages) == sorted(last_in_bag.values())  # the plan, written once


def test_the_run_is_paced_for_the_viewer(streamed):
    _, result, _, _, wall_s = streamed
    sim_s = result.summary['sim_time_s']
    assert sim_s == pytest.approx(LIMIT_S, abs=0.1)
    assert wall_s >= 0.9 * sim_s / RATE, wall_s


def test_the_layout_names_only_topics_the_run_writes(streamed):
    _, result, viewer, _, _ = streamed
    layout = json.loads((ROOT / 'config' / LAYOUT).read_text())
    assert set(layout) >= {'configById', 'layout', 'globalVariables', 'userNodes'}
    panels = set(layout['configById'])
    assert panels == set(_leaves(layout['layout']))
    kinds = {p.split('!')[0] for p in panels}
    assert kinds == {'3D', 'Image', 'RawMessages', 'DiagnosticSummary', 'Plot'}
    types = {c['topic']: c['schemaName'] for c in viewer.channels.values()}
    named = _topics(layout['configById'])
    assert named <= set(result.summary['bag_counts']), named - set(types)
    for panel, config in layout['configById'].items():
        if panel.startswith('Image!'):
            assert types[config['imageMode']['imageTopic']] == 'sensor_msgs/msg/CompressedImage'
        if panel.startswith('3D!'):
            assert config['followTf'] == 'map'
            shown = {t: types[t] for t in config['topics']}
            assert {'nav_msgs/msg/OccupancyGrid', 'nav_msgs/msg/Path'} <= set(shown.values())
    assert {
        '/camera/image_raw/compressed',
        '/segmentation/overlay/compressed',
        '/map/semantic',
        '/map/obstacle_cells',
        '/map/coverage',
        '/coverage/path',
        '/mower/driven_path',
        '/mower/state',
        '/diagnostics',
    } <= named


def _leaves(node: Any) -> list[str]:
    """The panel ids of a layout tree (mosaic splits of first / second)."""
    if isinstance(node, str):
        return [node]
    assert node['direction'] in ('row', 'column')
    return _leaves(node['first']) + _leaves(node['second'])


def _topics(configs: dict[str, Any]) -> set[str]:
    """Every topic a layout's panel configs name (message paths cut at their topic)."""
    found = set()
    for config in configs.values():
        found |= set(config.get('topics', {}))
        mode = config.get('imageMode', {})
        found |= {mode[k] for k in ('imageTopic', 'calibrationTopic') if k in mode}
        paths = [config.get('topicPath'), config.get('topicToRender')]
        paths += [p['value'] for p in config.get('paths', [])]
        found |= {p.split('.')[0] for p in paths if p}
    return found


def test_a_replay_streams_the_bag_and_its_outputs_in_bag_time(tmp_path):
    bag = make_bag(tmp_path / 'field')
    _, msgs = bag_messages(bag)
    start, end = min(t for _, t, _ in msgs), max(t for _, t, _ in msgs)
    rate = 2.0
    with FoxgloveLive('127.0.0.1', 0, rate) as live, Viewer(live.url) as viewer:
        t0 = time.monotonic()
        s = Replay(bag, tmp_path / 'out', ReplayConfig(video=False, write_bag=False)).run(
            progress=False, live=live
        )
        wall_s = time.monotonic() - t0
        wanted = {'/odom', '/camera/image_raw/compressed', '/replay/labels'}
        wanted |= {'/replay/overlay/compressed', '/replay/map/semantic'}
        viewer.wait_for(wanted)
    assert viewer.error is None, viewer.error
    assert s['outputs']['bag'] is None and s['frames_processed'] == 12
    assert wanted <= viewer.topics()
    assert wall_s >= 0.9 * (end - start) / 1e9 / rate
    # bag time, not wall time (the final grids at the bag's end, to the nanosecond)
    assert all(start <= t <= end + 1000 for _, t, _ in viewer.messages)
    assert {m for m in viewer.messages if m[0] == '/odom'} <= set(msgs)  # copied as they are
    overlay = last(viewer, '/replay/overlay/compressed')
    img = cv2.imdecode(np.frombuffer(overlay.data, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (120, 160, 3)
    labels = last(viewer, '/replay/labels')
    assert (labels.height, labels.width) == (120, 160)
    grid = last(viewer, '/replay/map/semantic')
    assert len(grid.data) == grid.info.width * grid.info.height > 0


# -- pacing --------------------------------------------------------------------------------


class FakeClock:
    """A wall clock that moves only when slept (or told to)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_the_pacer_holds_the_clock_to_the_rate():
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    for t in (10.0, 10.4, 11.0, 12.0):
        pacer.wait(t)
    assert clock.now - 100.0 == pytest.approx(0.5)  # 2 s of clock at 4 s a second
    assert max(clock.slept) <= 0.1 + 1e-12  # in slices, so that a stop cuts it short
    pacer.wait(11.5)  # from the past: at once
    assert clock.now - 100.0 == pytest.approx(0.5)


def test_the_pacer_starts_over_when_the_work_falls_behind():
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep)
    pacer.wait(0.0)
    clock.now += 5.0  # slow work: 5 s of wall time for 1 s of clock
    pacer.wait(1.0)
    assert clock.slept == []
    pacer.wait(2.0)  # then at the rate again, not a burst to catch up
    assert clock.now - 100.0 == pytest.approx(6.0)


def test_the_pacer_waits_for_nothing_at_rate_zero_or_once_stopped():
    clock = FakeClock()
    for pacer in (
        Pacer(0.0, clock=clock, sleep=clock.sleep),
        Pacer(1.0, stop=True, clock=clock, sleep=clock.sleep),
    ):
        for t in range(100):
            pacer.wait(float(t))
    assert clock.slept == []
    with pytest.raises(ValueError):
        Pacer(-1.0)
    with pytest.raises(ValueError):
        Pacer(math.nan)


# -- the command line ----------------------------------------------------------------------


def test_the_command_line_defaults_match_the_live_view():
    assert DEFAULT_ADDRESS == (DEFAULT_HOST, DEFAULT_PORT) == ('127.0.0.1', 8765)


@pytest.mark.parametrize(
    'argv, option',
    [
        (['sim', '--foxglove', '127.0.0.1:70000'], '--foxglove'),
        (['sim', '--foxglove', 'a host:80'], '--foxglove'),
        (['sim', '--foxglove', 'localhost:port'], '--foxglove'),
        (['replay', 'x.mcap', '--foxglove', '[::1'], '--foxglove'),
        (['sim', '--foxglove', '--speed', '-1'], '--speed'),
        (['sim', '--foxglove', '--speed', 'nan'], '--speed'),
        (['sim', '--speed', '1e6'], '--speed'),
        (['replay', 'x.mcap', '--foxglove', '--speed', 'fast'], '--speed'),
    ],
)
def test_bad_foxglove_options_are_one_usage_line(argv, option, capsys):
    rc, out, err = run_cli(argv, capsys)
    assert rc == 2 and out == ''
    assert option in usage_error(err)


def test_a_taken_port_is_one_line(tmp_path, capsys):
    small = ROOT / 'maps' / 'l_shaped_lawn.geojson'
    with FoxgloveLive('127.0.0.1', 0) as taken:
        address = f'127.0.0.1:{taken.port}'
        argv = ['sim', small, '--out', tmp_path / 'b', '--foxglove', address]
        rc, _, err = run_cli(argv, capsys)
    assert rc == 1 and address in one_line(err)
    assert 'cannot serve Foxglove' in err
    with pytest.raises(LiveError):
        FoxgloveLive('no-such-host.invalid', 0)


def test_replay_with_foxglove_on_the_command_line(tmp_path, capsys):
    bag = make_bag(tmp_path / 'field')
    argv = ['replay', bag, '--out', tmp_path / 'out', '--json', '--no-video']
    rc, out, err = run_cli([*argv, '--foxglove', '127.0.0.1:0', '--speed', '0'], capsys)
    assert rc == 0, err
    assert json.loads(out)['frames_processed'] == 12
    (line,) = [x for x in err.splitlines() if x.startswith('foxglove:')]
    assert 'live on ws://127.0.0.1:' in line and LAYOUT in line
