"""The serial protocol between the computer and the motor-controller board.

A frame is a COBS-encoded packet followed by a zero byte. A packet is::

    version (u8) | type (u8) | sequence (u8) | body (per type) | CRC-16/CCITT-FALSE (u16, LE)

with the CRC over everything before it. COBS is written here rather than taken from a package
(``cobs`` on PyPI is unmaintained and C-only for speed); it is 30 lines and tested against the
standard examples. The decoder never raises on bad input: it counts CRC errors, framing errors
and unknown types, and resynchronises at the next zero byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

VERSION = 1
MAX_PACKET = 64  # bytes before COBS; longer frames are framing errors


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_ccitt(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): 0x29B1 for b'123456789'. Table-driven."""
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def cobs_encode(data: bytes) -> bytes:
    """Consistent overhead byte stuffing: the result holds no zero byte."""
    out = bytearray([0])
    code_at, code = 0, 1
    last = len(data) - 1
    for i, byte in enumerate(data):
        if byte == 0:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
        else:
            out.append(byte)
            code += 1
            if code == 0xFF and i != last:  # a full block; a new one only if data follows
                out[code_at] = code
                code_at, code = len(out), 1
                out.append(0)
    out[code_at] = code
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """The inverse of :func:`cobs_encode`; None for an invalid encoding."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        end = i + code
        if code == 0 or end > n:
            return None
        block = data[i + 1 : end]
        if 0 in block:
            return None
        out += block
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


def astuple_shallow(msg: Any) -> tuple:
    """A dataclass's field values in order (dataclasses.astuple without its deep copy)."""
    names = _FIELD_NAMES.get(type(msg))
    if names is None:
        names = _FIELD_NAMES[type(msg)] = tuple(f.name for f in fields(msg))
    return tuple(getattr(msg, n) for n in names)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Message:
    """Base of all messages: a type id and a struct layout for the body."""

    TYPE: ClassVar[int] = 0
    LAYOUT: ClassVar[str] = ''

    def body(self) -> bytes:
        """Packed body."""
        return struct.pack('<' + self.LAYOUT, *self.values())

    def values(self) -> tuple:
        """Field values in layout order."""
        return astuple_shallow(self)


@dataclass(frozen=True)
class WheelSpeedCommand(Message):
    """Wheel speed set-points, mm/s (computer -> board)."""

    TYPE: ClassVar[int] = 0x01
    LAYOUT: ClassVar[str] = 'hh'
    left_mm_s: int = 0
    right_mm_s: int = 0


@dataclass(frozen=True)
class BladeCommand(Message):
    """Blade on/off and speed (computer -> board)."""

    TYPE: ClassVar[int] = 0x02
    LAYOUT: ClassVar[str] = 'BH'
    on: int = 0
    rpm: int = 0


@dataclass(frozen=True)
class EncoderTicks(Message):
    """Cumulative wheel encoder ticks and the board's time (board -> computer)."""

    TYPE: ClassVar[int] = 0x10
    LAYOUT: ClassVar[str] = 'iiI'
    left: int = 0
    right: int = 0
    time_us: int = 0


@dataclass(frozen=True)
class MotorCurrents(Message):
    """Motor currents in mA (board -> computer)."""

    TYPE: ClassVar[int] = 0x11
    LAYOUT: ClassVar[str] = 'HHH'
    left_ma: int = 0
    right_ma: int = 0
    blade_ma: int = 0


@dataclass(frozen=True)
class Faults(Message):
    """Fault bits (board -> computer): see FAULT_BITS."""

    TYPE: ClassVar[int] = 0x12
    LAYOUT: ClassVar[str] = 'H'
    bits: int = 0


FAULT_BITS = {
    0: 'left motor overcurrent',
    1: 'right motor overcurrent',
    2: 'blade overcurrent',
    3: 'motor driver overtemperature',
    4: 'undervoltage',
    5: 'blade stalled',
    6: 'watchdog expired on the board',
}


@dataclass(frozen=True)
class Battery(Message):
    """Battery state (board -> computer)."""

    TYPE: ClassVar[int] = 0x13
    LAYOUT: ClassVar[str] = 'HhBB'
    voltage_mv: int = 0
    current_ma: int = 0
    charge_pct: int = 0
    charging: int = 0


@dataclass(frozen=True)
class EmergencyStopInput(Message):
    """The hardware emergency-stop input (board -> computer)."""

    TYPE: ClassVar[int] = 0x14
    LAYOUT: ClassVar[str] = 'B'
    pressed: int = 0


MESSAGES: dict[int, type[Message]] = {
    m.TYPE: m
    for m in (
        WheelSpeedCommand,
        BladeCommand,
        EncoderTicks,
        MotorCurrents,
        Faults,
        Battery,
        EmergencyStopInput,
    )
}


def encode(msg: Message, seq: int) -> bytes:
    """A complete frame (COBS packet and the zero delimiter)."""
    packet = bytes([VERSION, msg.TYPE, seq & 0xFF]) + msg.body()
    packet += struct.pack('<H', crc16_ccitt(packet))
    return cobs_encode(packet) + b'\x00'


@dataclass
class DecoderStats:
    """What the decoder has seen."""

    frames: int = 0
    crc_errors: int = 0
    framing_errors: int = 0  # bad COBS, too short, too long, wrong body size
    unknown_types: int = 0
    version_errors: int = 0
    sequence_gaps: int = 0


@dataclass
class Decoder:
    """Streaming decoder: feed bytes, get messages; never raises on bad input."""

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buf: bytearray = field(default_factory=bytearray)
    _last_seq: int | None = None  # the sender numbers all its frames in one sequence

    def feed(self, data: bytes) -> list[tuple[int, Message]]:
        """Decode whatever complete frames ``data`` finishes: [(sequence, message)]."""
        out: list[tuple[int, Message]] = []
        parts = bytes(data).split(b'\x00')
        cap = 2 * MAX_PACKET + 1  # longer is a framing error anyway; keep memory bounded
        for i, part in enumerate(parts[:-1]):  # each ends at a delimiter
            frame = bytes(self._buf + part)[:cap] if i == 0 else part[:cap]
            if i == 0:
                self._buf = bytearray()
            if not frame:
                continue  # idle zeros between frames
            msg = self._packet(frame)
            if msg is not None:
                out.append(msg)
        if len(parts) == 1:
            self._buf += parts[0][: max(0, cap - len(self._buf))]
        else:
            self._buf = bytearray(parts[-1][:cap])
        return out

    def _packet(self, frame: bytes) -> tuple[int, Message] | None:
        s = self.stats
        if len(frame) > MAX_PACKET + 2:
            s.framing_errors += 1
            return None
        packet = cobs_decode(frame)
        if packet is None or len(packet) < 5:
            s.framing_errors += 1
            return None
        (crc,) = struct.unpack('<H', packet[-2:])
        if crc16_ccitt(packet[:-2]) != crc:
            s.crc_errors += 1
            return None
        version, mtype, seq = packet[0], packet[1], packet[2]
        if version != VERSION:
            s.version_errors += 1
            return None
        cls = MESSAGES.get(mtype)
        if cls is None:
            s.unknown_types += 1
            return None
        body = packet[3:-2]
        if len(body) != struct.calcsize('<' + cls.LAYOUT):
            s.framing_errors += 1
            return None
        if self._last_seq is not None and seq != (self._last_seq + 1) & 0xFF:
            s.sequence_gaps += 1  # frames lost on the way (or the sender restarted)
        self._last_seq = seq
        s.frames += 1
        return seq, cls(*struct.unpack('<' + cls.LAYOUT, body))
