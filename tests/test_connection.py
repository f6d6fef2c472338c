"""The connection driver: heads, then frames, both ways, whatever the split."""

from __future__ import annotations

import zlib

from wirelog.model import Chunk, Connection, Direction, Frame, Handshake, Message, Role, Violation
from wirelog.model import ViolationKind as V
from wirelog.protocol.connection import ConnectionDecoder, decode_connection
from wirelog.protocol.decoder import encode_frame
from wirelog.protocol.handshake import accept_for

TX, RX = Direction.TX, Direction.RX
KEY = "pKZMnrfgxQewKsfiO39oBQ=="
REQ = (
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def response(extensions: str | None = None, accept: str | None = None) -> bytes:
    head = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + (accept or accept_for(KEY)).encode() + b"\r\n"
    )
    if extensions:
        head += b"Sec-WebSocket-Extensions: " + extensions.encode() + b"\r\n"
    return head + b"\r\n"


MASK = b"\x01\x02\x03\x04"


def conn_of(chunks: list[tuple[Direction, bytes]], **kw: object) -> Connection:
    c = Connection(0, "test", Role.CLIENT)
    c.chunks = [Chunk(d, b, len(b), i) for i, (d, b) in enumerate(chunks)]
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def test_head_and_frames_in_one_chunk_and_split_anywhere() -> None:
    rx = response() + encode_frame(1, b"hello") + encode_frame(8, b"\x03\xe8")
    tx = REQ + encode_frame(1, b"hi", mask=MASK)
    whole = decode_connection(conn_of([(TX, tx), (RX, rx)]))
    assert [(f.direction, f.opcode) for f in whole.frames] == [(TX, 1), (RX, 1), (RX, 8)]
    assert whole.handshake is not None and whole.handshake.accept_ok
    assert whole.frames[1].offset == len(response())
    for cut in range(1, len(rx)):
        parts = [(TX, tx), (RX, rx[:cut]), (RX, rx[cut:])]
        split = decode_connection(conn_of(parts))
        assert [(f.opcode, f.payload) for f in split.frames] == [
            (f.opcode, f.payload) for f in whole.frames
        ]
    assert whole.violations == []


def test_known_head_lets_a_cut_chunk_decode() -> None:
    """Autobahn keeps 64 octets of a chunk but has the complete head apart."""
    resp = response()
    c = Connection(0, "t", Role.CLIENT, handshake_request=REQ, handshake_response=resp)
    c.chunks = [
        Chunk(TX, REQ[:64], len(REQ), 0),
        Chunk(RX, resp[:64], len(resp), 1),
        Chunk(RX, encode_frame(10, b"x"), 3, 2),
    ]
    d = decode_connection(c)
    assert [(f.opcode, f.offset) for f in d.frames] == [(10, len(resp))]
    assert d.violations == []


def test_unknown_cut_head_is_reported_not_guessed() -> None:
    c = conn_of([])
    c.chunks = [Chunk(TX, REQ[:64], len(REQ), 0)]
    d = decode_connection(c)
    assert [v.kind for v in d.violations] == [V.MISSING_OCTETS]
    assert d.frames == []


def test_refused_upgrade_stops_frame_decoding() -> None:
    body = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n\x81\x00"
    d = decode_connection(conn_of([(TX, REQ), (RX, body)]))
    assert d.frames == []
    assert V.HANDSHAKE_REJECTED in [v.kind for v in d.violations]


def test_bad_accept() -> None:
    d = decode_connection(conn_of([(TX, REQ), (RX, response(accept="bogus"))]))
    assert [v.kind for v in d.violations] == [V.BAD_ACCEPT]


def test_negotiated_deflate_inflates_and_allows_rsv1() -> None:
    comp = zlib.compressobj(wbits=-15)
    payload = comp.compress(b"squeeze me " * 20) + comp.flush(zlib.Z_SYNC_FLUSH)
    rx = response("permessage-deflate") + encode_frame(1, payload[:-4], rsv=4)
    d = decode_connection(conn_of([(TX, REQ), (RX, rx)]))
    (m,) = d.messages
    assert m.compressed and m.text == "squeeze me " * 20
    assert d.violations == []
    # Without the agreement the same frame breaks the rules.
    d = decode_connection(conn_of([(TX, REQ), (RX, response() + encode_frame(1, b"x", rsv=4))]))
    assert V.RSV_WITHOUT_EXTENSION in d.frames[0].violations


def test_streaming_events_come_in_order() -> None:
    dec = ConnectionDecoder(Role.CLIENT)
    events = dec.feed(TX, REQ) + dec.feed(RX, response() + encode_frame(2, b"ab", fin=False))
    events += dec.feed(RX, encode_frame(0, b"cd")) + dec.finish()
    kinds = [type(e) for e in events]
    assert kinds == [Handshake, Frame, Frame, Message]
    assert isinstance(events[-1], Message) and events[-1].data == b"abcd"


def test_midstream_capture_without_handshake() -> None:
    dec = ConnectionDecoder(Role.CLIENT, handshake=False)
    events = dec.feed(RX, encode_frame(1, b"mid")) + dec.finish()
    assert [e.payload for e in events if isinstance(e, Frame)] == [b"mid"]
    assert not [e for e in events if isinstance(e, Violation)]
