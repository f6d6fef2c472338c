"""The replay plan: pure, so every rule is checked on constructed recordings
and on real Autobahn reports without a socket."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from servers import (
    SEED_CLOSE,
    SEED_PING,
    SEED_REQUEST,
    SEED_RESPONSE,
    seed_connection,
)

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
)
from wirelog.pipeline import read
from wirelog.protocol.frames import decode_frames, encode_frame
from wirelog.protocol.handshake import accept_for
from wirelog.replay.plan import Need, Progress, build_plan, edit_head

TX, RX = Direction.TX, Direction.RX
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORTS = os.path.join(ROOT, "..", "shared", "autobahn-reports")


def test_seed_plan_is_the_recorded_octets_in_the_recorded_chops() -> None:
    plan = build_plan(seed_connection(cut=True))
    assert [w.data for w in plan.writes] == [SEED_REQUEST, SEED_PING, SEED_CLOSE]
    # The 239-octet head was cut to 64 in the log and rebuilt from httpRequest.
    assert [w.rebuilt for w in plan.writes] == [True, False, False]
    assert plan.writes[0].head and not plan.writes[1].head


def test_seed_plan_waits_for_the_answers_in_protocol_units() -> None:
    needs = [w.need for w in build_plan(seed_connection()).writes]
    assert needs[0].none
    assert (needs[1].head, needs[1].frames) == (True, 0)
    assert (needs[2].head, needs[2].frames) == (True, 1)  # the pong came first


def test_seed_timer_and_drop() -> None:
    plan = build_plan(seed_connection())
    (t,) = plan.timers
    assert (t.kind, t.after, t.delay, t.fired) == (MarkerKind.CLOSE_AFTER, 2, 1.0, False)
    assert plan.dropped_by is Role.SERVER
    assert build_plan(seed_connection(), speed=4).timers[0].delay == 0.25


def test_the_real_seed_report_gives_the_same_plan() -> None:
    conn = read(os.path.join(ROOT, "samples", "autobahnpython_case_2_2.txt")).connections[0]
    plan = build_plan(conn)
    assert [w.data for w in plan.writes] == [SEED_REQUEST, SEED_PING, SEED_CLOSE]
    assert plan.timers[0].kind is MarkerKind.CLOSE_AFTER


def test_server_side_of_the_seed() -> None:
    plan = build_plan(seed_connection(), Role.SERVER)
    assert [len(w.data) for w in plan.writes] == [129, 15, 4]
    assert plan.writes[0].data == SEED_RESPONSE
    assert plan.writes[0].need.head  # the 101 waits for the whole request
    assert plan.writes[1].need.frames == 1  # the pong waits for the ping
    assert plan.dropped_by is Role.SERVER


def _timed(gaps: list[tuple[Direction, float, bytes]]) -> Connection:
    conn = Connection(conn=0, source="t", recorder=Role.CLIENT)
    for i, (d, ts, data) in enumerate(gaps):
        conn.chunks.append(Chunk(d, data, len(data), i, ts))
    return conn


def _frame(op: int, payload: bytes, client: bool = True) -> bytes:
    return encode_frame(op, payload, mask=b"abcd" if client else None)


def test_gaps_come_from_the_capture_times_after_the_causal_wait() -> None:
    conn = _timed(
        [
            (TX, 100.0, _frame(1, b"a")),
            (TX, 100.5, _frame(1, b"b")),  # 0.5 s after our own write
            (RX, 101.0, _frame(1, b"a", False)),
            (TX, 101.2, _frame(1, b"c")),  # 0.2 s after the answer
        ]
    )
    plan = build_plan(conn, handshake=False)
    assert [round(w.delay, 6) for w in plan.writes] == [0.0, 0.5, 0.2]
    assert plan.writes[1].need.none
    assert plan.writes[2].need.frames == 1
    fast = build_plan(conn, handshake=False, speed=2.0)
    assert [round(w.delay, 6) for w in fast.writes] == [0.0, 0.25, 0.1]
    asap = build_plan(conn, handshake=False, asap=True)
    assert [w.delay for w in asap.writes] == [0.0, 0.0, 0.0]
    assert asap.writes[2].need.frames == 1  # causal order survives --asap


def test_fired_timers_gate_the_writes_that_followed_them() -> None:
    conn = _timed([(TX, 0.0, _frame(1, b"x")), (TX, 0.0, _frame(1, b"y"))])
    conn.chunks = [replace(conn.chunks[0], ts=None), replace(conn.chunks[1], index=3, ts=None)]
    conn.markers = [
        Marker(MarkerKind.DELAY, 1, value=1.5, tag="A"),
        Marker(MarkerKind.DELAY_FIRED, 2, tag="A"),
        Marker(MarkerKind.KILL_AFTER, 4, value=1),
    ]
    plan = build_plan(conn, handshake=False)
    ct, kl = plan.timers
    assert (ct.kind, ct.after, ct.delay, ct.fired, ct.tag) == (MarkerKind.DELAY, 1, 1.5, True, "A")
    assert (kl.kind, kl.after, kl.fired) == (MarkerKind.KILL_AFTER, 2, False)
    assert plan.writes[1].gate == 0 and plan.writes[0].gate is None
    assert build_plan(conn, handshake=False, asap=True).timers[0].delay == 0.0


def test_unknown_octets_are_refused_with_the_chunks_listed() -> None:
    big = _frame(2, bytes(range(200)))
    conn = _timed([(TX, 0.0, big)])
    conn.chunks[0] = replace(conn.chunks[0], data=big[:64])
    with pytest.raises(PlanError, match=r"chunk 0 \(144 of 208 octets\).*--fill"):
        build_plan(conn, handshake=False)
    plan = build_plan(conn, handshake=False, fill=True)
    (w,) = plan.writes
    assert len(w.data) == 208 and w.data[:64] == big[:64] and w.synthesized == 144
    assert w.data[64:128] == big[:64]
    assert plan.synthesized == [(0, 144)]


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


def test_chopped_autobahn_frames_are_rebuilt_from_the_claims() -> None:
    path = os.path.join(REPORTS, "testing-a-server", "websock_server_case_7_1_6.json")
    conn = read(path).connections[0]
    plan = build_plan(conn)
    tx = [c for c in conn.chunks if c.direction is TX]
    assert [len(w.data) for w in plan.writes] == [c.length for c in tx]
    big = next(w for w in plan.writes if len(w.data) > 262144)
    (f,) = [e for e in decode_frames(big.data, TX, Role.CLIENT) if isinstance(e, Frame)]
    assert f.length == 262144 and f.payload.startswith(b"BAsd7&jh23BAsd7&jh23")


def test_chopsize_997_case_replays_with_fill() -> None:
    path = os.path.join(REPORTS, "testing-a-server", "websock_server_case_1_1_8.json")
    conn = read(path).connections[0]
    with pytest.raises(PlanError, match="66 chunk"):
        build_plan(conn)
    plan = build_plan(conn, fill=True)
    sizes = [len(w.data) for w in plan.writes]
    assert sizes == [c.length for c in conn.chunks if c.direction is TX]
    assert sizes.count(997) == 65
    stream = b"".join(w.data for w in plan.writes[1:])
    frames = [e for e in decode_frames(stream, TX, Role.CLIENT) if isinstance(e, Frame)]
    assert frames[0].length == 65536 and frames[0].payload == b"*" * 65536


def test_host_edit_keeps_the_chop_boundaries() -> None:
    conn = seed_connection(cut=False)
    # Split the request in two chunks, the boundary inside the Host value.
    cut = SEED_REQUEST.index(b"9001")
    conn.chunks[0:1] = [
        Chunk(TX, SEED_REQUEST[:cut], cut, 0),
        Chunk(TX, SEED_REQUEST[cut:], len(SEED_REQUEST) - cut, 0),
    ]
    conn.chunks[1] = replace(conn.chunks[1], index=2)
    conn.chunks.sort(key=lambda c: c.index)
    plan = build_plan(conn)
    edited = edit_head(plan, {"Host": "localhost:12345"})
    head = edited.writes[0].data + edited.writes[1].data
    assert head == SEED_REQUEST.replace(b"127.0.0.1:9001", b"localhost:12345")
    assert len(edited.writes) == len(plan.writes) == 4
    assert edited.writes[2].data == SEED_PING


def test_progress_counts_units_not_octets() -> None:
    need = build_plan(seed_connection()).writes[2].need
    p = Progress(Role.SERVER)
    longer = SEED_RESPONSE.replace(b"\r\n\r\n", b"\r\nServer: x" + b"y" * 100 + b"\r\n\r\n")
    p.feed(longer[:150])  # more octets than recorded, head not complete yet
    assert p.octets >= need.octets and not p.satisfies(need)
    p.feed(longer[150:])
    assert not p.satisfies(need)  # the pong is still missing
    p.feed(_frame(10, b"Hello, world!", client=False))
    assert p.satisfies(need)


def test_undecodable_recordings_fall_back_to_octets() -> None:
    assert Progress(Role.SERVER).satisfies(Need(units=False, octets=0))
    p = Progress(Role.SERVER)
    p.feed(b"HTTP/1.1 101 OK\r\n\r\n")
    assert not p.satisfies(Need(units=False, octets=30))
    p.feed(b"x" * 11)
    assert p.satisfies(Need(units=False, octets=30))


def test_accept_for_is_what_a_server_replay_fits() -> None:
    plan = build_plan(seed_connection(), Role.SERVER)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    edited = edit_head(plan, {"Sec-WebSocket-Accept": accept_for(key)})
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in edited.writes[0].data
    assert edited.writes[1:] == plan.writes[1:]


def test_timers_belong_to_the_recorder() -> None:
    assert build_plan(seed_connection(), Role.SERVER).timers == ()


def test_server_mode_reports_replay_their_client_side_from_rx() -> None:
    """``isServer`` reports: the fuzzer was the server, so the client side
    (what a replay sends to a live server) is the rx chunks."""
    path = os.path.join(REPORTS, "testing-a-client", "websock_client_case_2_2.json")
    conn = read(path).connections[0]
    assert conn.recorder is Role.SERVER
    plan = build_plan(conn)
    assert plan.direction is RX and plan.role is Role.CLIENT
    assert [len(w.data) for w in plan.writes] == [
        c.length for c in conn.chunks if c.direction is RX
    ]
    assert plan.writes[0].data.startswith(b"GET /runCase?")
    assert plan.timers == ()


def test_traffic_the_recording_never_held_is_refused() -> None:
    """9.x/12.x switch Autobahn's wire log off for the data phase: replaying
    only the handshake and the close would not be that session."""
    for case in ("9_1_1", "9_7_1"):
        path = os.path.join(REPORTS, "testing-a-server", f"websock_server_case_{case}.json")
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


def test_the_recorded_pause_before_our_own_drop() -> None:
    conn = _timed(
        [
            (TX, 10.0, _frame(1, b"a")),
            (RX, 10.2, _frame(1, b"a", False)),
        ]
    )
    conn.markers.append(Marker(MarkerKind.FIN, 5, TX, ts=10.5))
    plan = build_plan(conn, handshake=False)
    assert plan.dropped_by is Role.CLIENT and not plan.reset
    assert round(plan.end_delay, 6) == 0.3  # after the echo, not after our write
    assert plan.final.frames == 1
    conn.markers[0] = Marker(MarkerKind.RST, 5, TX, ts=10.5)
    assert build_plan(conn, handshake=False, speed=3).end_delay == pytest.approx(0.1)
    assert build_plan(conn, handshake=False).reset
