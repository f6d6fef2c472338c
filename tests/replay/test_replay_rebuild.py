"""What a replay can know of one side's octets: heads and TF claims rebuild
what Autobahn's 64-octet cut lost, ``fill`` guesses the rest, and traffic
the recording never held is refused."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from servers import SEED_REQUEST, SERVER_REPORTS, seed_connection

from wirelog.errors import PlanError
from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    Direction,
    Frame,
    Marker,
    MarkerKind,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.pipeline import read
from wirelog.protocol.frames import decode_frames, encode_frame
from wirelog.replay.plan import build_plan
from wirelog.replay.rebuild import FILL_LIMIT, hidden, known_chunks, recorded_head, side_chunks

TX, RX = Direction.TX, Direction.RX


def _cut(data: bytes, keep: int = 64) -> Connection:
    conn = Connection(conn=0, source="t", recorder=Role.CLIENT)
    conn.chunks.append(Chunk(TX, data[:keep], len(data), 0))
    return conn


def test_unknown_octets_are_refused_with_the_chunks_listed() -> None:
    big = encode_frame(2, bytes(range(200)), mask=b"abcd")
    conn = _cut(big)
    with pytest.raises(PlanError, match=r"chunk 0 \(144 of 208 octets\).*--fill"):
        build_plan(conn, handshake=False)
    plan = build_plan(conn, handshake=False, fill=True)
    (w,) = plan.writes
    assert len(w.data) == 208 and w.data[:64] == big[:64] and w.synthesized == 144
    assert w.data[64:128] == big[:64]
    assert plan.synthesized == [(0, 144)]


def test_a_long_list_of_unknown_chunks_is_shortened() -> None:
    conn = Connection(conn=0, source="t", recorder=Role.CLIENT)
    frame = encode_frame(2, bytes(100), mask=b"abcd")
    conn.chunks = [Chunk(TX, frame[:10], len(frame), i) for i in range(15)]
    with pytest.raises(PlanError, match=r"15 chunk\(s\).*chunk 0 .*, 11 \(.* and 3 more;"):
        known_chunks(conn, Role.CLIENT, fill=False)


def test_fill_needs_some_octets_to_repeat() -> None:
    conn = _cut(encode_frame(2, bytes(100), mask=b"abcd"), keep=0)
    with pytest.raises(PlanError, match="chunk 0: no octets at all to repeat"):
        known_chunks(conn, Role.CLIENT, fill=True)


def _claimed(payload: bytes, mask: bytes, repeat: int | None = None, keep: int = 64) -> Connection:
    """A client-mode Autobahn-like log: the frame's chunk cut at 64 octets
    beside its TF claim."""
    full = payload if repeat is None else (payload * (repeat // len(payload) + 1))[:repeat]
    wire = encode_frame(1, full, mask=mask)
    conn = Connection(conn=0, source="ab", recorder=Role.CLIENT)
    conn.claims.append(
        ClaimedFrame(TX, 0, 1, True, 0, True, mask, len(full), payload[:keep], len(payload), repeat)
    )
    conn.chunks.append(Chunk(TX, wire[:64], len(wire), 1))
    return conn


def test_frames_are_rebuilt_exactly_from_tf_with_repeat_len() -> None:
    conn = _claimed(b"BAsd7&jh23", b"\x01\x02\x03\x04", repeat=262144)
    (w,) = build_plan(conn, handshake=False).writes
    full = (b"BAsd7&jh23" * 26215)[:262144]
    assert w.data == encode_frame(1, full, mask=b"\x01\x02\x03\x04")
    assert w.rebuilt and not w.synthesized


def test_a_payload_known_by_its_prefix_needs_fill_and_is_filled_per_frame() -> None:
    conn = _claimed(b"*" * 125, b"\x11\x22\x33\x44")
    with pytest.raises(PlanError, match="chunk 1"):
        build_plan(conn, handshake=False)
    (w,) = build_plan(conn, handshake=False, fill=True).writes
    # The payload prefix (not the masked chunk prefix) is what gets repeated,
    # so the guess is the right frame here.
    assert w.data == encode_frame(1, b"*" * 125, mask=b"\x11\x22\x33\x44")
    assert w.synthesized == 125 - 64 and not w.rebuilt


def test_claims_of_the_other_side_are_not_used() -> None:
    conn = _claimed(b"*" * 125, b"\x11\x22\x33\x44")
    conn.claims = [replace(c, direction=RX) for c in conn.claims]
    with pytest.raises(PlanError, match="chunk 1"):
        known_chunks(conn, Role.CLIENT, fill=False)


def test_chopped_autobahn_frames_are_rebuilt_from_the_claims() -> None:
    conn = read(os.path.join(SERVER_REPORTS, "websock_server_case_7_1_6.json")).connections[0]
    plan = build_plan(conn)
    tx = [c for c in conn.chunks if c.direction is TX]
    assert [len(w.data) for w in plan.writes] == [c.length for c in tx]
    big = next(w for w in plan.writes if len(w.data) > 262144)
    (f,) = [e for e in decode_frames(big.data, TX, Role.CLIENT) if isinstance(e, Frame)]
    assert f.length == 262144 and f.payload.startswith(b"BAsd7&jh23BAsd7&jh23")


def test_chopsize_997_case_replays_with_fill() -> None:
    conn = read(os.path.join(SERVER_REPORTS, "websock_server_case_1_1_8.json")).connections[0]
    with pytest.raises(PlanError, match="66 chunk"):
        build_plan(conn)
    plan = build_plan(conn, fill=True)
    sizes = [len(w.data) for w in plan.writes]
    assert sizes == [c.length for c in conn.chunks if c.direction is TX]
    assert sizes.count(997) == 65
    stream = b"".join(w.data for w in plan.writes[1:])
    frames = [e for e in decode_frames(stream, TX, Role.CLIENT) if isinstance(e, Frame)]
    assert frames[0].length == 65536 and frames[0].payload == b"*" * 65536


def test_heads_and_sides() -> None:
    conn = seed_connection()
    assert recorded_head(conn, Role.CLIENT) == SEED_REQUEST
    assert [c.index for c in side_chunks(conn, Role.SERVER)] == [1, 5, 9]
    (head, *_) = known_chunks(conn, Role.CLIENT, fill=False)
    assert head.data == SEED_REQUEST and head.rebuilt


def test_traffic_the_recording_never_held_is_refused() -> None:
    """9.x/12.x switch Autobahn's wire log off for the data phase: replaying
    only the handshake and the close would not be that session."""
    for case in ("9_1_1", "9_7_1"):
        path = os.path.join(SERVER_REPORTS, f"websock_server_case_{case}.json")
        conn = read(path).connections[0]
        with pytest.raises(PlanError, match="wire log was switched off"):
            build_plan(conn)
        plan = build_plan(conn, fill=True)
        assert plan.notes and "not replayed" in plan.notes[0]
    conn = seed_connection()
    conn.markers.append(Marker(MarkerKind.GAP, 6, TX, value=100))
    with pytest.raises(PlanError, match="lost 100 octets of this side in 1 gap"):
        build_plan(conn)
    assert build_plan(conn, Role.SERVER).writes  # the gap is on the other side


def test_logging_off_seen_only_as_a_finding() -> None:
    conn = seed_connection()
    assert hidden(conn, TX) is None
    conn.findings.append(Violation(ViolationKind.LOGGING_OFF, "off"))
    assert hidden(conn, TX) == (
        "the wire log was switched off, so what was sent then is not recorded"
    )


@pytest.mark.parametrize("length", [10**15, 2**64])
def test_fill_is_bounded_per_input_and_refused_in_one_line(length: int) -> None:
    """A cut chunk claiming 10**15 octets (or 2**64) is refused, never
    allocated (issue 11)."""
    conn = _cut(encode_frame(2, bytes(100), mask=b"abcd"), keep=10)
    conn.chunks[0] = replace(conn.chunks[0], length=length)
    with pytest.raises(PlanError, match=f"{length - 10} octets of the client side are not in"):
        build_plan(conn, handshake=False, fill=True)


def test_fill_limit_counts_the_whole_side() -> None:
    """Chunks each under the limit, over it together."""
    conn = _cut(encode_frame(2, bytes(100), mask=b"abcd"), keep=10)
    piece = conn.chunks[0]
    conn.chunks = [
        replace(piece, length=FILL_LIMIT // 4 + 10, index=i, data=piece.data) for i in range(5)
    ]
    with pytest.raises(PlanError, match=f"more than the {FILL_LIMIT} a replay rebuilds"):
        known_chunks(conn, Role.CLIENT, fill=True)


def test_the_claimed_stream_stops_where_the_chunks_end() -> None:
    """Seven TF claims of 64 MiB each after the one frame the chunks hold:
    the rebuild makes what the chunks need, not half a gigabyte."""
    import tracemalloc

    conn = _claimed(b"BAsd7&jh23", b"\x01\x02\x03\x04", repeat=1000)
    big = replace(conn.claims[0], repeat_len=64 << 20, length=64 << 20)
    conn.claims += [replace(big, index=i) for i in range(1, 8)]
    tracemalloc.start()
    try:
        (c,) = known_chunks(conn, Role.CLIENT, fill=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert c.complete and c.rebuilt
    assert peak < 200 << 20, peak


def _messages_only(*messages: tuple[Direction, bytes]) -> Connection:
    """A messages-only connection (what a HAR or mitmproxy flow gives), through the sink."""
    from wirelog.pipeline import Recorder
    from wirelog.sources.messages import Recorded, Socket, head, push_sockets

    request, _ = head("GET / HTTP/1.1", [("Host", "a"), ("Upgrade", "websocket")])
    recorded = [Recorded(d, 1, data, 10**9 + i) for i, (d, data) in enumerate(messages)]
    sink = Recorder("mem", "har")
    for _ in push_sockets("mem", "a test", [Socket("ws://a/", request, None, 1, recorded)], sink):
        pass
    (conn,) = sink.recording.connections
    return conn


def _frame(data: bytes) -> Frame:
    (f,) = decode_frames(data, Direction.TX, Role.CLIENT)
    assert isinstance(f, Frame)
    return f


def test_messages_only_client_frames_get_fresh_random_masks() -> None:
    conn = _messages_only((Direction.TX, b"hello"), (Direction.RX, b"hello"), (Direction.TX, b""))
    recorded = side_chunks(conn, Role.CLIENT)
    assert [_frame(c.data).mask for c in recorded[1:]] == [b"\0\0\0\0"] * 2
    one, two = known_chunks(conn, Role.CLIENT, False), known_chunks(conn, Role.CLIENT, False)
    assert one[0] == recorded[0]  # the head is sent as it is
    frames = [_frame(c.data) for c in one[1:] + two[1:]]
    assert [(f.opcode, f.fin, f.payload) for f in frames] == [
        (1, True, b"hello"),
        (1, True, b""),
    ] * 2
    keys = [f.mask for f in frames]
    assert all(k is not None and k != b"\0\0\0\0" for k in keys) and len(set(keys)) == 4
    assert all(c.length == len(c.data) for c in one)
    # the server's side is not masked; a recording of frames keeps its masks
    assert known_chunks(conn, Role.SERVER, False) == side_chunks(conn, Role.SERVER)
    seed = seed_connection(cut=False)
    assert known_chunks(seed, Role.CLIENT, False) == known_chunks(seed, Role.CLIENT, False)
