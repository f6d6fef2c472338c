"""Reconciling frames decoded from octets with the frames a log claims."""

from __future__ import annotations

from dataclasses import replace

from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    Direction,
    Frame,
    Role,
    ViolationKind,
)
from wirelog.protocol.claims import align, cross_check, reconcile
from wirelog.protocol.connection import decode_connection
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for

TX, RX = Direction.TX, Direction.RX
MASK = bytes.fromhex("1bbc4f88")
KEY = "pKZMnrfgxQewKsfiO39oBQ=="
REQ = (
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
RESP = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {accept_for(KEY)}\r\n\r\n"
).encode()


def claim(
    direction: Direction,
    index: int,
    opcode: int,
    payload: bytes,
    *,
    length: int | None = None,
    mask: bytes | None = None,
    fin: bool = True,
) -> ClaimedFrame:
    n = len(payload) if length is None else length
    return ClaimedFrame(direction, index, opcode, fin, 0, mask is not None, mask, n, payload, n)


def client_conn(chunks: list[Chunk], claims: list[ClaimedFrame], **meta: object) -> Connection:
    """The fuzzer as client: tx masked; heads known apart from the octets."""
    conn = Connection(0, "test", Role.CLIENT, chunks=chunks, claims=claims, meta=dict(meta))
    conn.handshake_request = REQ
    conn.handshake_response = RESP
    return conn


def test_matching_claims_keep_the_decoded_frames() -> None:
    ping = encode_frame(9, b"hi", mask=MASK)
    conn = client_conn(
        [Chunk(TX, REQ, len(REQ), 0), Chunk(RX, RESP, len(RESP), 1), Chunk(TX, ping, 8, 3)],
        [claim(TX, 2, 9, b"hi", mask=MASK)],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    (f,) = dc.frames
    assert (f.opcode, f.payload, f.from_log, f.offset) == (9, b"hi", False, len(REQ))
    assert dc.violations == []


def test_lost_octets_take_the_frames_from_the_claims() -> None:
    """Two 100-byte frames in one 204-byte read, logged cut at 64 bytes: the
    second header is never seen, so its frame comes from the RF entry."""
    f1 = encode_frame(1, b"a" * 100)
    f2 = encode_frame(2, b"b" * 100)
    wire = f1 + f2
    conn = client_conn(
        [
            Chunk(TX, REQ, len(REQ), 0),
            Chunk(RX, RESP, len(RESP), 1),
            Chunk(RX, wire[:64], len(wire), 2),
        ],
        [claim(RX, 3, 1, b"a" * 64, length=100), claim(RX, 4, 2, b"b" * 64, length=100)],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    kinds = [v.kind for v in dc.violations]
    assert ViolationKind.DESYNCHRONIZED in kinds
    assert ViolationKind.CLAIM_MISMATCH not in kinds
    first, second = dc.frames
    assert (first.opcode, first.from_log, first.offset, first.length) == (1, False, len(RESP), 100)
    # The claim's longer prefix fills the frame whose octets were cut.
    assert first.payload == b"a" * 64
    assert (second.opcode, second.from_log, second.offset, second.chunk) == (2, True, None, 4)
    assert (second.length, second.payload, second.index) == (100, b"b" * 64, 1)
    assert [m.opcode for m in dc.messages] == [1, 2]


def test_a_disagreeing_claim_is_a_finding_not_a_crash() -> None:
    wire = encode_frame(1, b"hello", mask=MASK)
    conn = client_conn(
        [Chunk(TX, REQ, len(REQ), 0), Chunk(RX, RESP, len(RESP), 1), Chunk(TX, wire, len(wire), 3)],
        [claim(TX, 2, 1, b"jello", mask=bytes(4))],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    found = [v for v in dc.violations if v.kind is ViolationKind.CLAIM_MISMATCH]
    assert len(found) == 1
    assert "mask" in found[0].detail and "payload differs" in found[0].detail
    assert found[0].chunk == 2 and found[0].direction is TX
    assert dc.frames[0].payload == b"hello"  # the octets win; the claim is reported


def test_tf_without_to_is_not_a_frame_when_the_octets_are_complete() -> None:
    """A close queued behind chopped writes never left (spec §3.2)."""
    text = encode_frame(1, b"x", mask=MASK)
    conn = client_conn(
        [Chunk(TX, REQ, len(REQ), 0), Chunk(RX, RESP, len(RESP), 1), Chunk(TX, text, len(text), 3)],
        [claim(TX, 2, 1, b"x", mask=MASK), claim(TX, 4, 8, b"\x03\xe8", mask=MASK)],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    assert [f.opcode for f in dc.frames] == [1]
    assert dc.violations == []


def test_streaming_frames_without_tf_are_kept() -> None:
    """6.4.3: a header-only write and data writes with no TF, then an empty
    FIN continuation that has one."""
    head = encode_frame(1, b"abc", fin=False)[:2]
    cont = encode_frame(0, b"")
    conn = Connection(0, "t", Role.SERVER, meta={})
    conn.handshake_request, conn.handshake_response = REQ, RESP
    conn.chunks = [
        Chunk(RX, REQ, len(REQ), 0),
        Chunk(TX, RESP, len(RESP), 1),
        Chunk(TX, head, 2, 2),
        Chunk(TX, b"abc", 3, 3),
        Chunk(TX, cont, 2, 5),
    ]
    conn.claims = [claim(TX, 4, 0, b"")]
    dc = decode_connection(conn, reconcile=reconcile)
    assert [(f.opcode, f.fin, f.from_log) for f in dc.frames] == [
        (1, False, False),
        (0, True, False),
    ]
    assert dc.violations == []
    assert [m.data for m in dc.messages] == [b"abc"]


def test_rf_len_zero_after_failed_by_me_is_no_mismatch() -> None:
    payload = b"z" * 10
    wire = encode_frame(1, payload, mask=MASK)
    rf = ClaimedFrame(RX, 3, 1, True, 0, True, MASK, 0, b"", 0)
    frame = Frame(RX, Role.CLIENT, 0, True, 0, 1, True, MASK, 10, payload, 6, 100, chunk=2)
    assert cross_check(frame, rf, failed_by_me=True) == []
    assert cross_check(frame, rf, failed_by_me=False) != []
    conn = Connection(0, "t", Role.SERVER, meta={"failedByMe": True})
    conn.handshake_request, conn.handshake_response = REQ, RESP
    conn.chunks = [Chunk(RX, REQ, len(REQ), 0), Chunk(TX, RESP, len(RESP), 1)]
    conn.chunks.append(Chunk(RX, wire, len(wire), 2))
    conn.claims = [rf]
    dc = decode_connection(conn, reconcile=reconcile)
    assert dc.violations == []
    assert dc.frames[0].payload == payload


def test_no_claims_means_frames_from_octets_alone() -> None:
    frame = Frame(TX, Role.CLIENT, 0, True, 0, 1, True, MASK, 1, b"x", 6, 0, chunk=1)
    conn = client_conn([], [])
    assert reconcile(conn, TX, [frame], [], False) == ([frame], [])


def test_alignment_skips_unclaimed_frames_and_orders_by_position() -> None:
    """Decoded frames and claims pair in order; a TF is logged before its TO,
    an RF after the RO that completed the frame."""
    f = [
        Frame(RX, Role.SERVER, i, True, 0, op, False, None, 0, b"", 2, 10 * i, chunk=c)
        for i, (op, c) in enumerate([(9, 1), (10, 3), (8, 5)])
    ]
    claims = [claim(RX, 4, 10, b""), claim(RX, 6, 8, b"")]
    pairs = align(f, claims)
    assert [(p[0] is not None and p[0].opcode, p[1] is not None and p[1].index) for p in pairs] == [
        (9, False),
        (10, 4),
        (8, 6),
    ]
    # An RF logged *before* the octets of a frame cannot describe it.
    early = [claim(RX, 0, 9, b"")]
    assert align(f[:1], early) == [(None, early[0]), (f[0], None)]


def test_a_claim_that_completes_a_cut_frame_clears_its_missing_octets() -> None:
    """2.10-like: several pongs in one read cut at 64 bytes; the RF entry
    keeps the whole 60-byte payload the octets lost the end of."""
    f1 = encode_frame(10, b"p" * 10)
    f2 = encode_frame(10, b"q" * 60)
    f3 = encode_frame(10, b"r" * 60)
    wire = f1 + f2 + f3
    conn = client_conn(
        [
            Chunk(TX, REQ, len(REQ), 0),
            Chunk(RX, RESP, len(RESP), 1),
            Chunk(RX, wire[:64], len(wire), 2),
        ],
        [claim(RX, 3, 10, b"p" * 10), claim(RX, 4, 10, b"q" * 60), claim(RX, 5, 10, b"r" * 60)],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    got = [(f.payload, f.complete, f.from_log, f.violations) for f in dc.frames]
    assert got == [
        (b"p" * 10, True, False, ()),
        (b"q" * 60, True, False, ()),
        (b"r" * 60, True, True, ()),
    ]


def test_a_tf_whose_header_was_cut_is_a_truncated_frame_from_the_log() -> None:
    """4.1.5 in chop-1 mode: the connection ended after 3 octets of a frame
    (spec §3.2); the octets cannot show it, the TF entry can. The close
    queued behind it never left."""
    text = encode_frame(1, b"x", mask=MASK)
    odd = encode_frame(7, b"abc", mask=MASK)
    conn = client_conn(
        [
            Chunk(TX, REQ, len(REQ), 0),
            Chunk(RX, RESP, len(RESP), 1),
            Chunk(TX, text, len(text), 3),
            *[Chunk(TX, odd[i : i + 1], 1, 6 + i) for i in range(3)],
        ],
        [
            claim(TX, 2, 1, b"x", mask=MASK),
            claim(TX, 4, 7, b"abc", mask=MASK),
            claim(TX, 5, 9, b"", mask=MASK),
        ],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    got = [(f.opcode, f.from_log, f.violations) for f in dc.frames]
    assert got == [
        (1, False, ()),
        (7, True, (ViolationKind.RESERVED_OPCODE, ViolationKind.TRUNCATED_FRAME)),
    ]


def test_a_frame_the_wire_cut_is_not_filled_from_its_claim() -> None:
    """3.4 in chop-1 mode: two octets of "Hello, world!" left before the
    connection died; the TF says what was meant, the wire what was sent."""
    wire = encode_frame(1, b"Hello, world!", mask=MASK)
    conn = client_conn(
        [
            Chunk(TX, REQ, len(REQ), 0),
            Chunk(RX, RESP, len(RESP), 1),
            *[Chunk(TX, wire[i : i + 1], 1, 3 + i) for i in range(8)],
        ],
        [claim(TX, 2, 1, b"Hello, world!", mask=MASK)],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    (f,) = dc.frames
    assert (f.payload, f.complete, f.from_log) == (b"He", False, False)
    assert ViolationKind.TRUNCATED_FRAME in f.violations
    assert not [v for v in dc.violations if v.kind is ViolationKind.CLAIM_MISMATCH]


def rx_frame(index: int, opcode: int, chunk: int | None, **kw: object) -> Frame:
    fields: dict[str, object] = {"payload": b"", "length": 0, "offset": 10 * index}
    fields.update(kw)
    return Frame(
        RX,
        Role.SERVER,
        index,
        True,
        int(fields.pop("rsv", 0)),  # type: ignore[call-overload]
        opcode,
        False,
        None,
        header_length=2,
        chunk=chunk,
        **fields,  # type: ignore[arg-type]
    )


def test_alignment_pairs_a_frame_told_differently_and_skips_to_the_nearer_match() -> None:
    # No claim matches the frame's header bits anywhere: the same position,
    # told differently, is one pair (a mismatch for cross_check).
    f = rx_frame(0, 1, 1)
    c = claim(RX, 2, 2, b"")
    assert align([f], [c]) == [(f, c)]
    assert cross_check(f, c, False) == ["opcode is 1 on the wire but 2 in the log"]
    # A TF logged after the octets of a frame cannot describe it.
    tx = replace(f, direction=TX, chunk=1)
    late = claim(TX, 5, 2, b"")
    assert align([tx], [late]) == [(tx, None), (None, late)]
    # A frame with no chunk pairs with whatever claim stands in its place.
    loose = replace(f, chunk=None)
    assert align([loose], [c]) == [(loose, c)]
    # The claims that match later are nearer than the frames: skip claims.
    frames = [rx_frame(0, 9, 1)]
    claims = [claim(RX, 2, 10, b""), claim(RX, 3, 9, b"")]
    assert align(frames, claims) == [(None, claims[0]), (frames[0], claims[1])]


def test_claims_the_octets_do_not_show_are_findings() -> None:
    pong = encode_frame(10, b"")
    conn = client_conn(
        [Chunk(TX, REQ, len(REQ), 0), Chunk(RX, RESP + pong, len(RESP) + 2, 1)],
        [claim(RX, 2, 9, b""), claim(RX, 3, 10, b""), claim(RX, 4, 8, b"\x03\xe8")],
    )
    dc = decode_connection(conn, reconcile=reconcile)
    found = [v.detail for v in dc.violations if v.kind is ViolationKind.CLAIM_MISMATCH]
    assert len(found) == 2
    assert "that the octets do not show here" in found[0]
    assert "the log claims a received frame (CLOSE, 2 bytes)" in found[1]
    # Frames taken from the log stand where the log has them (after the RO).
    assert [(f.opcode, f.from_log) for f in dc.frames] == [(10, False), (9, True), (8, True)]


def test_a_tf_after_the_last_write_never_left_when_octets_were_lost() -> None:
    frames = [replace(rx_frame(0, 1, 2), direction=TX)]
    conn = client_conn([Chunk(TX, REQ, len(REQ), 0)], [])
    conn.handshake_request = None
    out, findings = reconcile(conn, TX, [], [claim(TX, 5, 8, b"")], True)
    assert (out, findings) == ([], [])
    out, _ = reconcile(conn, TX, frames, [claim(TX, 1, 1, b"")], False)
    assert out == frames


def test_compressed_rf_payloads_are_not_compared_nor_filled() -> None:
    f = rx_frame(0, 1, 1, rsv=4, payload=b"xy", length=5)
    c = replace(claim(RX, 2, 1, b"hello"), rsv=4)
    assert cross_check(f, c, False) == []
    from wirelog.protocol.claims import _fill_payload

    assert _fill_payload(f, c) is f
    other = replace(claim(RX, 2, 1, b"zzzzz"), rsv=0)
    assert _fill_payload(replace(f, rsv=0), other) == replace(f, rsv=0)


def test_a_frame_taken_from_a_claim_gets_the_decoders_header_checks() -> None:
    from wirelog.protocol.claims import claimed_frame

    c = replace(claim(TX, 1, 9, b"p" * 64, length=200), fin=False, rsv=2)
    f = claimed_frame(c, Role.SERVER)
    assert f.violations == (
        ViolationKind.RSV_WITHOUT_EXTENSION,
        ViolationKind.CONTROL_FRAME_TOO_LONG,
        ViolationKind.CONTROL_FRAME_FRAGMENTED,
    )
    assert f.header_length == 4 and f.from_log and f.offset is None
    masked = claimed_frame(claim(TX, 1, 1, b"x", mask=MASK), Role.SERVER)
    assert masked.violations == (ViolationKind.MASKED_SERVER_FRAME,)
    bare = claimed_frame(claim(TX, 1, 1, b"x" * 70000), Role.CLIENT)
    assert bare.violations == (ViolationKind.UNMASKED_CLIENT_FRAME,)
    assert bare.header_length == 10
