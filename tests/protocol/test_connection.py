"""The connection driver: heads, then frames, both ways, whatever the split."""

from __future__ import annotations

import zlib

import pytest

from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    DeflateParams,
    Direction,
    Frame,
    Handshake,
    Marker,
    MarkerKind,
    Message,
    Role,
    Violation,
)
from wirelog.model import ViolationKind as V
from wirelog.protocol.connection import ConnectionDecoder, assemble, decode_connection
from wirelog.protocol.frames import decode_frames, encode_frame
from wirelog.protocol.handshake import MAX_HEAD, accept_for

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


def test_a_60_kib_head_fed_one_octet_at_a_time() -> None:
    """The head buffer scans each octet once (not the whole head again per
    feed); the result must not depend on the split."""
    filler = b"".join(b"X-Filler-%05d: %s\r\n" % (i, b"v" * 40) for i in range(1100))
    req = REQ[:-2] + filler + b"\r\n"
    assert 60 * 1024 < len(req) < 64 * 1024
    frame = encode_frame(1, b"after", mask=MASK)
    stream = req + frame
    dec = ConnectionDecoder(Role.CLIENT)
    events = []
    for i in range(len(stream)):
        events += dec.feed(TX, stream[i : i + 1], index=i)
    events += dec.feed(RX, response()) + dec.finish()
    (hs,) = [e for e in events if isinstance(e, Handshake)]
    assert hs.request == req and hs.accept_ok
    assert len(hs.request_headers) == 1100 + 5
    assert hs.request_headers[-1] == ("X-Filler-01099", "v" * 40)
    (f,) = [e for e in events if isinstance(e, Frame)]
    assert (f.payload, f.offset, f.chunk) == (b"after", len(req), len(req))
    assert not [e for e in events if isinstance(e, Violation)]
    # The same stream in one piece says the same.
    whole = ConnectionDecoder(Role.CLIENT)
    again = whole.feed(TX, stream, index=0) + whole.feed(RX, response()) + whole.finish()
    (g,) = [e for e in again if isinstance(e, Frame)]
    assert (g.payload, g.offset) == (f.payload, f.offset)


def test_a_head_end_split_across_feeds_is_found() -> None:
    for cut in range(len(REQ) - 4, len(REQ)):
        dec = ConnectionDecoder(Role.CLIENT)
        out = dec.feed(TX, REQ[:cut]) + dec.feed(TX, REQ[cut:] + encode_frame(1, b"x", mask=MASK))
        out += dec.feed(RX, response())
        assert [e.payload for e in out if isinstance(e, Frame)] == [b"x"], cut


def test_no_head_end_within_the_limit() -> None:
    dec = ConnectionDecoder(Role.CLIENT)
    events = []
    for _ in range(70):
        events += dec.feed(TX, b"GET / HTTP/1.1\r\nX: " + b"y" * 1000, index=3)
    (v,) = [e for e in events if isinstance(e, Violation)]
    assert (v.kind, v.detail, v.chunk) == (
        V.BAD_HANDSHAKE,
        f"no end of HTTP head within {MAX_HEAD} octets",
        3,
    )
    assert dec.sides[TX].dead
    assert dec.feed(TX, encode_frame(1, b"x")) == []


def test_push_routes_chunks_and_markers() -> None:
    dec = ConnectionDecoder(Role.CLIENT, handshake=False)
    big = encode_frame(2, b"B" * 100)
    out = dec.push(Chunk(RX, big[:40], 40, 0))
    out += dec.push(Marker(MarkerKind.GAP, 1, RX, value=30))
    out += dec.push(Chunk(RX, big[70:], len(big) - 70, 2))
    out += dec.push(Marker(MarkerKind.DELAY, 3, None, value=1.0))
    out += dec.push(Marker(MarkerKind.WIRELOG, 4, RX, value=False))
    out += dec.push(Chunk(TX, encode_frame(1, b"xyz", mask=MASK)[:7], 9, 5))
    out += dec.push(Marker(MarkerKind.FIN, 6, TX))
    frames = [e for e in out if isinstance(e, Frame)]
    assert [(f.direction, f.complete) for f in frames] == [(RX, False), (TX, False)]
    assert frames[0].violations == (V.MISSING_OCTETS,)
    assert dec.sides[TX].ended and not dec.sides[RX].ended
    # RST ends both directions; the open fragmented message is closed.
    dec.push(Chunk(RX, encode_frame(1, b"a", fin=False), 3, 7))
    out = dec.push(Marker(MarkerKind.RST, 8, RX))
    assert dec.sides[RX].ended
    (m,) = [e for e in out if isinstance(e, Message)]
    assert V.INCOMPLETE_MESSAGE in m.violations
    assert dec.push(Marker(MarkerKind.RST, 9, RX)) == []


def test_octets_missing_in_a_known_head_cost_nothing() -> None:
    resp = response()
    dec = ConnectionDecoder(Role.CLIENT, request_head=REQ, response_head=resp)
    out = dec.feed(TX, REQ) + dec.feed(RX, resp[:10])
    out += dec.gap(RX, len(resp) - 10) + dec.feed(RX, encode_frame(1, b"ok"))
    assert [e.payload for e in out if isinstance(e, Frame)] == [b"ok"]
    assert not [e for e in out if isinstance(e, Violation)]
    # A gap that runs past the head's end goes on to the frame layer.
    dec = ConnectionDecoder(Role.CLIENT, request_head=REQ, response_head=resp)
    out = dec.feed(TX, REQ) + dec.gap(RX, len(resp) + 5)
    assert [e.kind for e in out if isinstance(e, Violation)] == [V.DESYNCHRONIZED]


def test_octets_missing_in_an_unknown_head_stop_that_side() -> None:
    dec = ConnectionDecoder(Role.CLIENT)
    out = dec.feed(TX, REQ[:20], length=len(REQ), index=4)
    (v,) = [e for e in out if isinstance(e, Violation)]
    assert (v.kind, v.offset, v.chunk) == (V.MISSING_OCTETS, 20, 4)
    assert dec.feed(TX, encode_frame(1, b"x", mask=MASK)) == []
    assert dec.gap(TX, 10) == []


def test_a_chunk_whose_tail_is_missing() -> None:
    dec = ConnectionDecoder(Role.CLIENT, handshake=False, messages=False)
    wire = encode_frame(2, b"Z" * 50)
    out = dec.feed(RX, wire[:20], length=len(wire)) + dec.finish()
    (f,) = out
    assert isinstance(f, Frame) and f.violations == (V.MISSING_OCTETS,)
    assert f.payload == b"Z" * 18


def test_explicit_deflate_parameters_without_a_handshake() -> None:
    comp = zlib.compressobj(wbits=-15)
    payload = comp.compress(b"abc" * 30) + comp.flush(zlib.Z_SYNC_FLUSH)
    dec = ConnectionDecoder(Role.CLIENT, handshake=False, deflate=DeflateParams())
    out = dec.feed(RX, encode_frame(1, payload[:-4], rsv=4)) + dec.finish()
    (m,) = [e for e in out if isinstance(e, Message)]
    assert m.compressed and m.text == "abc" * 30


def test_decode_connection_with_claims_goes_through_the_hook() -> None:
    rx = response() + encode_frame(1, b"hello") + encode_frame(1, b"world")
    c = conn_of([(TX, REQ), (RX, rx)], meta={"x": 1})
    c.claims = [ClaimedFrame(RX, 9, 1, True, 0, False, None, 5, b"hello", 5)]
    seen = []

    def reconcile(
        conn: Connection,
        direction: Direction,
        frames: list[Frame],
        claims: list[ClaimedFrame],
        lost: bool,
    ) -> tuple[list[Frame], list[Violation]]:
        seen.append((direction, len(frames), len(claims), lost))
        extra = [Violation(V.CLAIM_MISMATCH, "test", direction)] if claims else []
        return frames, extra

    d = decode_connection(c, reconcile=reconcile)
    assert seen == [(TX, 0, 0, False), (RX, 2, 1, False)]
    assert [m.text for m in d.messages] == ["hello", "world"]
    assert [v.kind for v in d.violations] == [V.CLAIM_MISMATCH]
    assert (d.conn, d.source) == (0, "test")
    assert [f.payload for f in d.frames_of(RX)] == [b"hello", b"world"] and d.frames_of(TX) == []


def test_assemble() -> None:
    frames = [
        e
        for e in decode_frames(
            encode_frame(1, b"a", fin=False) + encode_frame(0, b"b", fin=False), RX, Role.SERVER
        )
        if isinstance(e, Frame)
    ]
    (m,) = assemble(frames, RX, Role.SERVER, None)
    assert m.data == b"ab" and V.INCOMPLETE_MESSAGE in m.violations


def test_no_frame_factory_and_no_side_door() -> None:
    """Decoders make real Frame objects only, and chunks reach them through
    ``feed``/``push`` alone."""
    from wirelog.protocol.frames import FrameDecoder

    # Asked of the constructors themselves, so that the compiled build (whose
    # classes have no inspectable signature) answers too.
    with pytest.raises(TypeError):
        ConnectionDecoder(Role.CLIENT, frame_factory=Frame)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        FrameDecoder(Direction.TX, Role.CLIENT, frame_factory=Frame)  # type: ignore[call-arg]
    assert not hasattr(ConnectionDecoder, "frames_feed")


def test_a_refused_side_takes_nothing_more_and_an_empty_connection_has_no_handshake() -> None:
    dec = ConnectionDecoder(Role.CLIENT)
    dec.feed(TX, REQ)
    dec.feed(RX, b"HTTP/1.1 403 Forbidden\r\n\r\n")
    assert dec.feed(RX, encode_frame(1, b"x")) == [] and dec.feed(TX, b"more") == []
    empty = ConnectionDecoder(Role.CLIENT)
    assert empty.finish() == [] and empty.handshake is None


def test_a_frames_only_side_refused_after_its_head_takes_nothing_more() -> None:
    """Without a message layer a side past its head takes chunks straight
    to the frame decoder; a refused upgrade must end that for both sides,
    whichever entry (push or feed) the next octets come through."""
    dec = ConnectionDecoder(Role.CLIENT, messages=False)
    sent = [
        (TX, REQ + encode_frame(1, b"early", mask=MASK)),
        (RX, b"HTTP/1.1 403 Forbidden\r\n\r\n"),
        (TX, encode_frame(1, b"late", mask=MASK)),
        (RX, encode_frame(1, b"x")),
    ]
    out = [dec.push(Chunk(d, b, len(b), i)) for i, (d, b) in enumerate(sent)]
    assert [type(e) for e in out[0]] == [Frame]  # the client's side already took frames
    assert [type(e) for e in out[1]] == [Handshake, Violation] and out[2] == out[3] == []
    assert dec.feed(TX, sent[2][1]) == []


def test_frames_only_decoder_after_the_handshake() -> None:
    dec = ConnectionDecoder(Role.CLIENT, messages=False)
    out = dec.feed(TX, REQ) + dec.feed(RX, response() + encode_frame(1, b"a", fin=False))
    out += dec.feed(RX, encode_frame(0, b"b")) + dec.finish()
    assert [type(e) for e in out] == [Handshake, Frame, Frame]


def test_any_buffer_may_be_fed() -> None:
    dec = ConnectionDecoder(Role.CLIENT)
    out = dec.feed(TX, memoryview(REQ + encode_frame(1, b"m", mask=MASK)))
    out += dec.feed(RX, bytearray(response() + encode_frame(1, b"b")))
    out += dec.feed(RX, memoryview(encode_frame(1, b"v")))
    assert [e.payload for e in out if isinstance(e, Frame)] == [b"m", b"b", b"v"]
