"""The frame and message layers, against RFC 6455/7692 and an independent
encoder (the ``websockets`` library)."""

from __future__ import annotations

import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wirelog.model import DeflateParams, Direction, Frame, Message, Role, Violation, ViolationKind
from wirelog.protocol.decoder import (
    FrameDecoder,
    MessageAssembler,
    decode_frames,
    encode_frame,
    unmask,
)

V = ViolationKind
TX, RX = Direction.TX, Direction.RX


def frames_of(events: list[Frame | Violation]) -> list[Frame]:
    return [e for e in events if isinstance(e, Frame)]


def test_unmask_matches_bytewise_xor() -> None:
    data = os.urandom(1001)
    mask = b"\x01\x02\x03\xfe"
    assert unmask(data, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(data))


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


def test_absurd_length_allocates_nothing_and_reports_truncation() -> None:
    wire = encode_frame(2, b"abc", length=(1 << 63) + 5, width=64)
    events = decode_frames(wire, RX, Role.SERVER)
    (f,) = frames_of(events)
    assert f.length == (1 << 63) + 5
    assert f.payload == b"abc"
    assert not f.complete
    assert V.LENGTH_MSB_SET in f.violations and V.TRUNCATED_FRAME in f.violations


def test_truncated_header_at_eof_is_reported() -> None:
    events = decode_frames(b"\x81\xfe\x00", TX, Role.CLIENT)
    assert [e.kind for e in events if isinstance(e, Violation)] == [V.TRUNCATED_FRAME]


def test_frame_after_close() -> None:
    wire = encode_frame(8, b"\x03\xe8") + encode_frame(1, b"late")
    f = frames_of(decode_frames(wire, RX, Role.SERVER))
    assert f[0].violations == () and V.FRAME_AFTER_CLOSE in f[1].violations


def test_gap_inside_payload_keeps_step() -> None:
    a = encode_frame(2, b"A" * 100)
    b = encode_frame(1, b"next")
    dec = FrameDecoder(RX, Role.SERVER)
    out = dec.feed(a[:30]) + dec.gap(len(a) - 30) + dec.feed(b) + dec.eof()
    f = frames_of(out)
    assert [x.opcode for x in f] == [2, 1]
    assert f[0].payload == b"A" * 28 and not f[0].complete
    assert f[1].payload == b"next" and f[1].offset == len(a)


def test_gap_across_header_loses_step_once() -> None:
    a = encode_frame(2, b"A" * 10)
    dec = FrameDecoder(RX, Role.SERVER)
    out = dec.feed(a) + dec.gap(5) + dec.feed(a) + dec.eof()
    assert len(frames_of(out)) == 1
    assert [e.kind for e in out if isinstance(e, Violation)] == [V.DESYNCHRONIZED]


def _stream() -> bytes:
    mask = b"\x11\x22\x33\x44"
    return b"".join(
        [
            encode_frame(1, "héllo".encode(), mask=mask),
            encode_frame(2, os.urandom(300), mask=mask),
            encode_frame(1, b"frag", fin=False, mask=mask),
            encode_frame(9, b"ping", mask=mask),
            encode_frame(0, b"ment", mask=mask),
            encode_frame(2, os.urandom(70000), mask=mask),
            encode_frame(8, b"\x03\xe8bye", mask=mask),
        ]
    )


STREAM = _stream()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_any_split_gives_same_frames(cuts: list[int]) -> None:
    whole = frames_of(decode_frames(STREAM, TX, Role.CLIENT))
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    split = frames_of(decode_frames(pieces, TX, Role.CLIENT))
    key = [(f.opcode, f.fin, f.length, f.payload, f.offset) for f in whole]
    assert [(f.opcode, f.fin, f.length, f.payload, f.offset) for f in split] == key
    assert len(whole) == 7


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(list(Role)))
def test_arbitrary_bytes_never_raise(data: bytes, role: Role) -> None:
    events = decode_frames(data, TX, role)
    asm = MessageAssembler(TX, role, DeflateParams())
    for f in frames_of(events):
        asm.add(f)
    asm.eof()
    consumed = sum(f.header_length + len(f.payload) for f in frames_of(events) if f.complete)
    assert consumed <= len(data)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([0, 1, 2, 8, 9, 10]),
    st.binary(max_size=300),
    st.booleans(),
    st.integers(0, 7),
    st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
)
def test_encode_decode_round_trip(
    opcode: int, payload: bytes, fin: bool, rsv: int, mask: bytes | None
) -> None:
    (f,) = frames_of(
        decode_frames(encode_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask), RX, Role.SERVER)
    )
    assert (f.opcode, f.payload, f.fin, f.rsv, f.mask) == (opcode, payload, fin, rsv, mask)


def _messages(
    wire: bytes, deflate: DeflateParams | None = None, role: Role = Role.SERVER
) -> list[Message]:
    asm = MessageAssembler(RX, role, deflate)
    out: list[Message | Violation] = []
    for f in frames_of(decode_frames(wire, RX, role, allowed_rsv=4 if deflate else 0)):
        out.extend(asm.add(f))
    out.extend(asm.eof())
    return [m for m in out if isinstance(m, Message)]


def test_fragments_and_interleaved_control() -> None:
    wire = encode_frame(1, b"ab", fin=False) + encode_frame(9, b"p") + encode_frame(0, b"cd")
    msgs = _messages(wire)
    assert [(m.opcode, m.data, m.frames) for m in msgs] == [(9, b"p", 1), (1, b"abcd", 2)]
    assert msgs[1].text == "abcd"


def test_message_layer_violations() -> None:
    assert V.CONTINUATION_WITHOUT_START in _messages(encode_frame(0, b"x"))[0].violations
    m = _messages(encode_frame(1, b"a", fin=False) + encode_frame(1, b"b"))
    assert V.INCOMPLETE_MESSAGE in m[0].violations
    assert V.DATA_FRAME_IN_FRAGMENTED_MESSAGE in m[1].violations
    assert V.INVALID_UTF8 in _messages(encode_frame(1, b"\xed\xa0\x80"))[0].violations
    assert V.INVALID_CLOSE_CODE in _messages(encode_frame(8, b"\x03\xed"))[0].violations
    assert V.INVALID_CLOSE_PAYLOAD in _messages(encode_frame(8, b"\x03"))[0].violations
    assert V.INCOMPLETE_MESSAGE in _messages(encode_frame(1, b"a", fin=False))[0].violations
    close = _messages(encode_frame(8, b"\x03\xe8bye"))[0]
    assert (close.close_code, close.close_reason) == (1000, "bye")


def _deflate(messages: list[bytes], takeover: bool) -> list[bytes]:
    comp = zlib.compressobj(wbits=-15)
    out = []
    for m in messages:
        if not takeover:
            comp = zlib.compressobj(wbits=-15)
        data = comp.compress(m) + comp.flush(zlib.Z_SYNC_FLUSH)
        out.append(data[:-4])
    return out


@pytest.mark.parametrize("takeover", [True, False])
def test_permessage_deflate(takeover: bool) -> None:
    texts = [b"hello hello hello", b"hello hello hello", b"x" * 1000]
    wire = b"".join(encode_frame(1, c, rsv=4) for c in _deflate(texts, takeover))
    params = DeflateParams(server_no_context_takeover=not takeover)
    msgs = _messages(wire, params)
    assert [m.data for m in msgs] == texts
    assert all(m.compressed and not m.violations for m in msgs)


def test_deflate_against_websockets_extension() -> None:
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame as WsFrame
    from websockets.frames import Opcode as WsOpcode

    ext = PerMessageDeflate(False, False, 15, 15)
    wire = b""
    sent = [b"alpha " * 50, b"beta " * 50, os.urandom(500)]
    for i, payload in enumerate(sent):
        op = WsOpcode.TEXT if i < 2 else WsOpcode.BINARY
        wire += WsFrame(op, payload).serialize(mask=False, extensions=[ext])
    msgs = _messages(wire, DeflateParams())
    assert [m.data for m in msgs] == sent


def test_inflate_limit_stops_a_bomb() -> None:
    bomb = _deflate([b"\x00" * (4 * 1024 * 1024)], True)[0]
    asm = MessageAssembler(RX, Role.SERVER, DeflateParams(), inflate_limit=1024)
    (f,) = frames_of(decode_frames(encode_frame(2, bomb, rsv=4), RX, Role.SERVER, allowed_rsv=4))
    (m,) = asm.add(f)
    assert isinstance(m, Message)
    assert len(m.data) == 1024 and V.INFLATE_LIMIT in m.violations
