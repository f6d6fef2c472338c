"""The frame layer, against RFC 6455 §5 and an independent encoder (the
``websockets`` library)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from wirelog.builders import new_frame
from wirelog.model import Direction, Frame, Role, Violation, ViolationKind
from wirelog.protocol.frames import FrameDecoder, decode_frames, encode_frame, header_violations

V = ViolationKind
TX, RX = Direction.TX, Direction.RX
MASK = b"\x11\x22\x33\x44"


def frames_of(events: list[Frame | Violation]) -> list[Frame]:
    return [e for e in events if isinstance(e, Frame)]


def violations_of(events: list[Frame | Violation]) -> list[Violation]:
    return [e for e in events if isinstance(e, Violation)]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_length_encodings_against_websockets(size: int) -> None:
    from websockets.frames import Frame as WsFrame
    from websockets.frames import Opcode as WsOpcode

    payload = os.urandom(size)
    # websockets serializes as a client would: masked, with a random key.
    wire = WsFrame(WsOpcode.BINARY, payload).serialize(mask=True, extensions=[])
    (f,) = frames_of(decode_frames(wire, TX, Role.CLIENT))
    assert (f.opcode, f.fin, f.length, f.payload, f.masked) == (2, True, size, payload, True)
    assert f.header_length == len(wire) - size
    assert f.violations == ()


def test_server_frame_masked_and_client_frame_unmasked_are_flagged() -> None:
    (f,) = frames_of(decode_frames(encode_frame(1, b"hi", mask=b"abcd"), RX, Role.SERVER))
    assert V.MASKED_SERVER_FRAME in f.violations
    (f,) = frames_of(decode_frames(encode_frame(1, b"hi"), TX, Role.CLIENT))
    assert V.UNMASKED_CLIENT_FRAME in f.violations


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (encode_frame(3, b""), V.RESERVED_OPCODE),
        (encode_frame(1, b"x", rsv=2), V.RSV_WITHOUT_EXTENSION),
        (encode_frame(9, b"x" * 126), V.CONTROL_FRAME_TOO_LONG),
        (encode_frame(9, b"x", fin=False), V.CONTROL_FRAME_FRAGMENTED),
        (encode_frame(2, b"x" * 5, width=16), V.NON_MINIMAL_LENGTH),
        (encode_frame(2, b"x" * 5, width=64), V.NON_MINIMAL_LENGTH),
    ],
)
def test_frame_violations(wire: bytes, expected: ViolationKind) -> None:
    (f,) = frames_of(decode_frames(wire, RX, Role.SERVER))
    assert expected in f.violations


def test_header_rules_apply_to_every_frame_whatever_its_shape() -> None:
    """The rules live in one function: a frame inside one chunk, a frame
    split anywhere and a long frame all get them (there is no fast lane
    that skips a rule)."""
    wire = encode_frame(3, b"abc", rsv=2, fin=False, mask=MASK)
    expected = header_violations(wire[0], True, 3, 3, 0, False, False)
    assert expected == (V.RESERVED_OPCODE, V.RSV_WITHOUT_EXTENSION, V.MASKED_SERVER_FRAME)
    for cut in range(len(wire) + 1):
        (f,) = frames_of(decode_frames([wire[:cut], wire[cut:]], RX, Role.SERVER))
        assert f.violations == expected
    big = encode_frame(3, b"x" * 300, rsv=2, mask=MASK)
    (f,) = frames_of(decode_frames(big, RX, Role.SERVER))
    assert f.violations == expected


def test_remembered_rules_tell_apart_every_length_fact() -> None:
    """The decoder remembers the rules by a header's two octets and what a
    longer length field adds: frames that share those two octets but not
    the facts (minimal or not, control length, top bit) get their own rules,
    in whatever order they come, and a Close changes them for what follows
    in the same feed."""
    shapes = [
        (9, 5, 16), (9, 200, 16), (9, 5, 64), (9, 200, 64), (9, 70_000, 64),
        (2, 5, 16), (2, 300, 16), (2, 5, 64), (2, 300, 64), (2, 70_000, 64),
        (8, 2, 7), (2, 300, 16), (2, 5, 64), (9, 200, 64), (2, (1 << 63) + 1, 64),
    ]  # fmt: skip
    # Each declares its length and carries it (the last cannot: it ends the stream).
    wire = b"".join(
        encode_frame(op, bytes(min(length, 9)) if length >> 63 else bytes(length), length=length,
                     width=width)
        for op, length, width in shapes
    )  # fmt: skip
    dec = FrameDecoder(RX, Role.SERVER)
    got = [f.violations for f in frames_of(dec.feed(wire) + dec.eof())]
    closed = False
    for (op, length, width), rules in zip(shapes, got, strict=True):
        plen = {7: length, 16: 126, 64: 127}[width]
        expected = header_violations(0x80 | op, False, plen, length, 0, False, closed)
        assert rules[: len(expected)] == expected, (op, length, width)  # then TRUNCATED, if cut
        closed = closed or op == 8
    assert V.NON_MINIMAL_LENGTH in got[0] and V.NON_MINIMAL_LENGTH not in got[1]
    assert V.CONTROL_FRAME_TOO_LONG in got[1] and V.CONTROL_FRAME_TOO_LONG not in got[2]
    assert V.LENGTH_MSB_SET in got[14] and V.FRAME_AFTER_CLOSE in got[11]
    assert V.FRAME_AFTER_CLOSE not in got[6] and got[11] == (*got[6], V.FRAME_AFTER_CLOSE)


def test_absurd_length_allocates_nothing_and_reports_truncation() -> None:
    wire = encode_frame(2, b"abc", length=(1 << 63) + 5, width=64)
    events = decode_frames(wire, RX, Role.SERVER)
    (f,) = frames_of(events)
    assert f.length == (1 << 63) + 5
    assert f.payload == b"abc"
    assert not f.complete
    assert f.violations == (V.LENGTH_MSB_SET, V.TRUNCATED_FRAME)


def test_truncated_header_at_eof_is_reported() -> None:
    events = decode_frames(b"\x81\xfe\x00", TX, Role.CLIENT)
    (v,) = violations_of(events)
    assert v.kind is V.TRUNCATED_FRAME and v.offset == 0
    assert v.detail == "stream ends inside a frame header (3 of at least 8 octets)"
    (v,) = violations_of(decode_frames(b"\x81", TX, Role.CLIENT))
    assert v.detail == "stream ends inside a frame header (1 of at least 2 octets)"


def test_frame_after_close() -> None:
    late = encode_frame(1, b"late")
    wire = late + encode_frame(8, b"\x03\xe8") + late + late
    f = frames_of(decode_frames(wire, RX, Role.SERVER))
    assert f[0].violations == f[1].violations == ()
    assert f[2].violations == f[3].violations == (V.FRAME_AFTER_CLOSE,)


@pytest.mark.parametrize(
    ("size", "width", "minimal"),
    [(125, 16, False), (126, 16, True), (0xFFFF, 64, False), (0x10000, 64, True), (0, 64, False)],
)
def test_minimal_length_boundaries(size: int, width: int, minimal: bool) -> None:
    (f,) = frames_of(decode_frames(encode_frame(2, b"z" * size, width=width), RX, Role.SERVER))
    assert f.violations == (() if minimal else (V.NON_MINIMAL_LENGTH,))
    assert f.payload == b"z" * size


def test_a_close_split_across_feeds_still_closes() -> None:
    dec = FrameDecoder(RX, Role.SERVER)
    close = encode_frame(8, b"\x03\xe8" + b"r" * 100)
    out = dec.feed(close[:50]) + dec.feed(close[50:] + encode_frame(1, b"late"))
    assert [f.violations for f in frames_of(out)] == [(), (V.FRAME_AFTER_CLOSE,)]


def test_header_split_keeps_its_first_chunk_and_the_completing_time() -> None:
    wire = encode_frame(2, b"x" * 300, mask=MASK)
    dec = FrameDecoder(TX, Role.CLIENT, offset=10)
    out = dec.feed(wire[:1], ts=1_000_000_000, chunk=5) + dec.feed(
        wire[1:3], ts=2_000_000_000, chunk=6
    )
    assert out == [] and dec.pending
    out = dec.feed(wire[3:], ts=3_000_000_000, chunk=7)
    (f,) = frames_of(out)
    assert (f.offset, f.chunk, f.ts, f.payload) == (10, 5, 3.0, b"x" * 300)
    # Without a time, the frame keeps the time of its header's first octet.
    dec = FrameDecoder(TX, Role.CLIENT)
    (f,) = frames_of(dec.feed(wire[:1], ts=1_000_000_000, chunk=0) + dec.feed(wire[1:], chunk=1))
    assert (f.ts, f.chunk) == (1.0, 0)
    dec = FrameDecoder(TX, Role.CLIENT)
    (f,) = frames_of(dec.feed(wire[:9], ts=1_000_000_000, chunk=0) + dec.feed(wire[9:], chunk=1))
    assert (f.ts, f.chunk) == (1.0, 0)
    assert not dec.pending


def test_gap_inside_payload_keeps_step() -> None:
    a = encode_frame(2, b"A" * 100)
    b = encode_frame(1, b"next")
    dec = FrameDecoder(RX, Role.SERVER)
    out = dec.feed(a[:30]) + dec.gap(len(a) - 30) + dec.feed(b) + dec.eof()
    f = frames_of(out)
    assert [x.opcode for x in f] == [2, 1]
    assert f[0].payload == b"A" * 28 and not f[0].complete
    assert f[0].violations == (V.MISSING_OCTETS,)
    assert f[1].payload == b"next" and f[1].offset == len(a)


def test_two_gaps_in_one_payload_are_reported_once() -> None:
    a = encode_frame(2, b"A" * 100)
    dec = FrameDecoder(RX, Role.SERVER)
    out = dec.feed(a[:30]) + dec.gap(10) + dec.feed(a[40:50]) + dec.gap(10)
    out += dec.feed(a[60:]) + dec.eof()
    (f,) = frames_of(out)
    assert f.payload == a[2:30] and f.violations == (V.MISSING_OCTETS,)
    assert violations_of(out) == []


def test_gap_across_header_loses_step_once() -> None:
    a = encode_frame(2, b"A" * 10)
    dec = FrameDecoder(RX, Role.SERVER)
    out = dec.feed(a) + dec.gap(5) + dec.feed(a) + dec.gap(3) + dec.eof()
    assert len(frames_of(out)) == 1
    (v,) = violations_of(out)
    assert v.kind is V.DESYNCHRONIZED and v.offset == len(a) and v.frame == 1
    assert dec.offset == 2 * len(a) + 8 and dec.gap(0) == []


def test_gap_past_the_end_of_a_payload_finishes_it_then_loses_step() -> None:
    a = encode_frame(2, b"A" * 10)
    dec = FrameDecoder(RX, Role.SERVER)
    out = dec.feed(a[:5]) + dec.gap(20, chunk=3)
    (f,) = frames_of(out)
    assert f.payload == b"AAA" and f.violations == (V.MISSING_OCTETS,)
    (v,) = violations_of(out)
    assert (v.kind, v.offset, v.chunk) == (V.DESYNCHRONIZED, 5, 3)
    assert "20 octets missing at offset 5" in v.detail
    assert dec.feed(a) == [] and dec.eof() == []


def test_resync_after_a_lost_boundary() -> None:
    a = encode_frame(1, b"again")
    dec = FrameDecoder(RX, Role.SERVER)
    dec.feed(a[:1])
    dec.gap(3)
    assert dec.lost
    dec.resync()
    (f,) = frames_of(dec.feed(a))
    assert f.payload == b"again" and f.offset == 4


def test_allowed_rsv_may_change_midstream() -> None:
    """A handshake that agrees on permessage-deflate gives RSV1 meaning from
    then on; headers seen before must not answer for later ones."""
    wire = encode_frame(1, b"x", rsv=4)
    dec = FrameDecoder(RX, Role.SERVER)
    (before,) = frames_of(dec.feed(wire))
    dec.allowed_rsv |= 4
    (after,) = frames_of(dec.feed(wire))
    assert before.violations == (V.RSV_WITHOUT_EXTENSION,) and after.violations == ()
    assert dec.allowed_rsv == 4


def test_memoryview_and_bytearray_input() -> None:
    wire = encode_frame(1, b"view", mask=MASK) * 2
    dec = FrameDecoder(TX, Role.CLIENT)
    got = frames_of(dec.feed(memoryview(wire)[:9]) + dec.feed(bytearray(wire[9:])))
    assert [f.payload for f in got] == [b"view", b"view"]
    assert all(type(f.payload) is bytes and type(f.mask) is bytes for f in got)
    assert [f.payload for f in frames_of(decode_frames(bytearray(wire), TX, Role.CLIENT))] == [
        b"view",
        b"view",
    ]


def test_offsets_indices_and_header_lengths() -> None:
    parts = [
        encode_frame(1, b"a", mask=MASK),
        encode_frame(2, b"b" * 200, mask=MASK),
        encode_frame(2, b"c" * 70000, mask=MASK),
        encode_frame(9, b"", mask=MASK),
    ]
    f = frames_of(decode_frames(b"".join(parts), TX, Role.CLIENT))
    assert [x.index for x in f] == [0, 1, 2, 3]
    assert [x.header_length for x in f] == [6, 8, 14, 6]
    starts = [sum(map(len, parts[:i])) for i in range(4)]
    assert [x.offset for x in f] == starts
    assert [x.mask for x in f] == [MASK] * 4


def test_new_frame_is_a_frame() -> None:
    """Decoders make frames with ``new_frame``: what it returns must be an
    ordinary frozen Frame, equal to the one the constructor makes."""
    args = (TX, Role.CLIENT, 3, True, 0, 1, True, MASK, 2, b"hi", 6, 10, 1_500_000_000, 4)
    made = new_frame(*args, (V.RESERVED_OPCODE,))
    ref = Frame(*args, (V.RESERVED_OPCODE,))
    assert type(made) is Frame and made == ref and hash(made) == hash(ref)
    assert repr(made) == repr(ref)
    assert all(getattr(made, f.name) == getattr(ref, f.name) for f in dataclasses.fields(Frame))
    assert not made.from_log
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.index = 4  # type: ignore[misc]
    assert dataclasses.replace(made, index=9).index == 9
    assert new_frame(*args) == Frame(*args)


def test_encode_frame_widths() -> None:
    assert encode_frame(2, b"x" * 5, width=16)[1:4] == b"\x7e\x00\x05"
    assert encode_frame(2, b"x" * 5, width=64)[1:10] == b"\x7f" + (5).to_bytes(8, "big")
    assert encode_frame(1, b"ab", length=9)[:2] == b"\x81\x09"
    assert encode_frame(1, b"", fin=False, rsv=7) == b"\x71\x00"
