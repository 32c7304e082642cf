"""The motor-board protocol.

COBS and CRC against known values, round trips, and a fuzzed decoder that never raises, never
accepts a bad CRC and resynchronises after garbage.
"""

from __future__ import annotations

import binascii
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from mower_control.protocol import (
    MESSAGES,
    Battery,
    Decoder,
    EncoderTicks,
    WheelSpeedCommand,
    cobs_decode,
    cobs_encode,
    crc16_ccitt,
    encode,
)


def test_crc_check_value():
    assert crc16_ccitt(b'123456789') == 0x29B1


def test_cobs_standard_examples():
    cases = {
        b'\x00': b'\x01\x01',
        b'\x00\x00': b'\x01\x01\x01',
        b'\x11\x22\x00\x33': b'\x03\x11\x22\x02\x33',
        b'\x11\x22\x33\x44': b'\x05\x11\x22\x33\x44',
        b'\x11\x00\x00\x00': b'\x02\x11\x01\x01\x01',
        bytes(range(1, 255)): b'\xff' + bytes(range(1, 255)),
        bytes(range(1, 256)): b'\xff' + bytes(range(1, 255)) + b'\x02\xff',
    }
    for raw, enc in cases.items():
        assert cobs_encode(raw) == enc
        assert cobs_decode(enc) == raw


@given(st.binary(max_size=600))
def test_cobs_round_trip_has_no_zero(data):
    enc = cobs_encode(data)
    assert 0 not in enc
    assert cobs_decode(enc) == data


def test_messages_round_trip_with_sequence():
    d = Decoder()
    frames = encode(WheelSpeedCommand(-350, 420), 7) + encode(Battery(25400, -1200, 81, 0), 8)
    assert d.feed(frames) == [(7, WheelSpeedCommand(-350, 420)), (8, Battery(25400, -1200, 81, 0))]
    assert d.stats.frames == 2 and d.stats.crc_errors == 0


def valid_frames():
    return st.lists(
        st.tuples(
            st.sampled_from(sorted(MESSAGES)),
            st.integers(0, 255),
            st.randoms(use_true_random=False),
        ),
        min_size=1,
        max_size=5,
    )


def random_message(mtype, rnd):
    cls = MESSAGES[mtype]
    fmt = '<' + cls.LAYOUT
    raw = bytes(rnd.getrandbits(8) for _ in range(struct.calcsize(fmt)))
    return cls(*struct.unpack(fmt, raw))


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    d = Decoder()
    for chunk in (data[:7], data[7:]):
        for seq, msg in d.feed(chunk):
            assert isinstance(seq, int) and type(msg).TYPE in MESSAGES


def oracle(stream: bytes) -> tuple[int, int]:
    """(frames with a good CRC, frames with a bad CRC), checked with binascii's CRC-CCITT."""
    good = bad = 0
    for frame in stream.split(b'\x00')[:-1]:
        packet = cobs_decode(frame) if frame else None
        if packet is None or len(packet) < 5 or len(frame) > 66:
            continue
        if binascii.crc_hqx(packet[:-2], 0xFFFF) != struct.unpack('<H', packet[-2:])[0]:
            bad += 1
        elif (
            packet[0] == 1
            and packet[1] in MESSAGES
            and len(packet) - 5 == struct.calcsize('<' + MESSAGES[packet[1]].LAYOUT)
        ):
            good += 1
    return good, bad


@settings(max_examples=300)
@given(valid_frames(), st.data())
def test_corrupted_frames_are_never_accepted_with_a_bad_crc(frames, data):
    msgs = [(seq, random_message(t, rnd)) for t, seq, rnd in frames]
    stream = bytearray(b''.join(encode(m, seq) for seq, m in msgs))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(stream) - 1))
        stream[i] ^= 1 << data.draw(st.integers(0, 7))
    d = Decoder()
    got = d.feed(bytes(stream))
    good, bad = oracle(bytes(stream))
    assert len(got) == good  # exactly the frames whose CRC an independent check accepts
    assert d.stats.crc_errors == bad


@settings(max_examples=200)
@given(st.binary(max_size=200), st.integers(0, 255))
def test_resynchronises_after_garbage(garbage, seq):
    msg = EncoderTicks(123456, -654321, 987654321)
    d = Decoder()
    got = d.feed(garbage + b'\x00' + encode(msg, seq))
    assert got[-1] == (seq, msg)


def test_single_bit_errors_are_always_caught():
    frame = bytearray(encode(EncoderTicks(1, 2, 3), 9))
    for i in range(len(frame) - 1):  # every bit except the delimiter
        for b in range(8):
            bad = bytearray(frame)
            bad[i] ^= 1 << b
            d = Decoder()
            assert d.feed(bytes(bad) + b'\x00') == []
            assert d.stats.frames == 0
