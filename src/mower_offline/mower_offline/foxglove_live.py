"""A run, live, in Foxglove: the recorded messages over Foxglove's WebSocket protocol.

:class:`FoxgloveLive` is a :class:`mower_offline.bag.MessageSink` like the rosbag2 recorder: it
takes the same messages (the run's :class:`mower_offline.run_recorder.RunRecorder`, the
replay's copies and outputs) and publishes them with foxglove-sdk's WebSocket server, on a
loopback address by default. Each topic is a channel of message encoding ``cdr`` whose schema
(encoding ``ros2msg``, named as ``nav_msgs/msg/Path``) is the message definition rosbags
generates, the text the MCAP writer stores: Foxglove shows the standard ROS 2 types, and one
layout (``config/foxglove_layout.json``) opens the live view and the MCAP files alike.

A viewer that subscribes to a topic gets its last message at once, as from a latched ROS topic
(the plan is written when it changes, the grids every 10 s), then the stream. The messages are
paced (:class:`mower_offline.schedule.Pacer`): ``rate`` simulated (or bag) seconds per wall
second, so that a viewer can follow a run that goes faster than real time.

The topics known beforehand (``topics``: a run's, a replay's) get their channels before the
server starts. foxglove-sdk 0.30.3 advertises a channel made while a viewer is connected a
moment before it accepts subscriptions to it, and refuses ("Unknown channel ID") a viewer that
subscribes within that moment; channels made first are advertised to each viewer as it
connects, before its subscriptions are read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import foxglove
from foxglove.websocket import ChannelView, Client, ServerListener

from mower_offline.bag import TYPESTORE, MessageSink
from mower_offline.schedule import Pacer

DEFAULT_HOST = '127.0.0.1'  # loopback: nothing leaves the machine unless asked
DEFAULT_PORT = 8765  # Foxglove's default WebSocket port
LAYOUT = 'foxglove_layout.json'  # in config/: the panels for the live view and the bags
_IDL = '=' * 80 + '\nIDL: '  # how rosbags starts a definition it has only as IDL


class LiveError(OSError):
    """The live view cannot start (the address is taken, the host unknown); says why."""


class _Latch(ServerListener):
    """Sends a new subscriber the last message of its topic (foxglove-sdk's listener)."""

    def __init__(self, live: FoxgloveLive) -> None:
        self.live = live

    def on_subscribe(self, client: Client, channel: ChannelView) -> None:
        """A client subscribed: the topic's last message to that client only."""
        self.live.resend_last(channel.topic, client.id)


class FoxgloveLive(MessageSink):
    """The messages of a run on a Foxglove WebSocket server; use as a context manager.

    ``rate``: simulated (bag) seconds per wall second, 0 as fast as it goes; ``stop`` (a
    :class:`mower_offline.out_dir.StopRequest`) ends the pacing at once when it is set.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        rate: float = 0.0,
        *,
        stop: object = None,
        name: str = 'mower',
        topics: Iterable[tuple[str, str, Any]] = (),
    ) -> None:
        """Start the server on ``host``:``port`` (0: a free port); LiveError if it cannot.

        ``topics``: (topic, message type, the typestore that defines it) advertised from the
        start; the others when they are first written.
        """
        super().__init__()
        self.pacer = Pacer(rate, stop=stop)
        self.context = foxglove.Context()  # this server's channels only
        self.host = host
        self.channels: dict[str, foxglove.Channel] = {}  # per topic
        self.types: dict[str, str] = {}  # the message type of each topic
        self.skipped: dict[str, str] = {}  # topics not published, and why
        self.counts: dict[str, int] = {}  # messages published per topic
        self._last: dict[str, tuple[int, bytes]] = {}  # per topic: (time ns, CDR)
        self._lock = threading.Lock()  # the server's thread reads what the run writes
        for topic, msgtype, typestore in topics:
            self.add_connection(topic, msgtype, typestore)
        try:
            self.server = foxglove.start_server(
                name=name,
                host=host,
                port=port,
                context=self.context,
                server_listener=_Latch(self),
            )
        except (RuntimeError, ValueError, OverflowError) as exc:
            why = str(exc).removeprefix('FoxgloveError: ')
            raise LiveError(f'{host}:{port}: cannot serve Foxglove there: {why}') from None
        self.closed = False

    @property
    def port(self) -> int:
        """The port the server listens on (the one chosen when 0 was asked)."""
        return self.server.port

    @property
    def url(self) -> str:
        """The address to open in Foxglove (``ws://127.0.0.1:8765``)."""
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'ws://{host}:{self.port}'

    def add_connection(self, topic: str, msgtype: str, typestore: Any = TYPESTORE) -> Any:
        """The channel of ``topic``, its schema from ``typestore``; None if it is not published.

        One channel per topic: a second message type on a topic is not published, nor is a
        type whose definition cannot be written out (both noted in :attr:`skipped`).
        """
        if topic in self.channels:
            return self.channels[topic] if self.types[topic] == msgtype else None
        try:
            msgdef, _ = typestore.generate_msgdef(msgtype, ros_version=2)
        except Exception as exc:  # a type the bag names but cannot define
            self.skipped[topic] = f'{msgtype}: no message definition ({exc})'
            return None
        schema = foxglove.Schema(
            name=msgtype,
            encoding='ros2idl' if msgdef.startswith(_IDL) else 'ros2msg',
            data=msgdef.encode(),
        )
        channel = foxglove.Channel(
            topic, schema=schema, message_encoding='cdr', context=self.context
        )
        with self._lock:
            self.channels[topic], self.types[topic] = channel, msgtype
        return channel

    def write_cdr(self, conn: Any, t_ns: int, data: bytes | memoryview) -> None:
        """Publish CDR bytes on a channel, at ``t_ns`` once the pacing lets it go."""
        self.pacer.wait(t_ns * 1e-9)
        if conn is None or self.closed:
            return
        topic, cdr = conn.topic(), bytes(data)
        with self._lock:
            self._last[topic] = (t_ns, cdr)
        conn.log(cdr, log_time=t_ns)
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def resend_last(self, topic: str, client_id: int) -> None:
        """The last message of ``topic`` again, to one client (it has just subscribed)."""
        with self._lock:
            channel, last = self.channels.get(topic), self._last.get(topic)
        if channel is not None and last is not None and not self.closed:
            channel.log(last[1], log_time=last[0], sink_id=client_id)

    def close(self) -> None:
        """Stop the server (the viewers see the connection end); once is enough."""
        if not self.closed:
            self.closed = True
            self.server.stop()

    def __enter__(self) -> FoxgloveLive:
        """The live view."""
        return self

    def __exit__(self, *exc: Any) -> None:
        """Close."""
        self.close()
