"""build_plan: pure, so every rule is checked on constructed recordings and
on real Autobahn reports without a socket."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from servers import (
    REPORTS,
    SEED,
    SEED_CLOSE,
    SEED_PING,
    SEED_REQUEST,
    SEED_RESPONSE,
    seed_connection,
)

from wirelog.enums import nanoseconds
from wirelog.errors import PlanError
from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Role
from wirelog.pipeline import read
from wirelog.protocol.frames import encode_frame
from wirelog.replay.plan import build_plan

TX, RX = Direction.TX, Direction.RX


def _timed(gaps: list[tuple[Direction, float, bytes]]) -> Connection:
    conn = Connection(conn=0, source="t", recorder=Role.CLIENT)
    for i, (d, ts, data) in enumerate(gaps):
        conn.chunks.append(Chunk(d, data, len(data), i, nanoseconds(ts)))
    return conn


def _frame(op: int, payload: bytes, client: bool = True) -> bytes:
    return encode_frame(op, payload, mask=b"abcd" if client else None)


def test_seed_plan_is_the_recorded_octets_in_the_recorded_chops() -> None:
    plan = build_plan(seed_connection(cut=True))
    assert [w.data for w in plan.writes] == [SEED_REQUEST, SEED_PING, SEED_CLOSE]
    # The 239-octet head was cut to 64 in the log and rebuilt from httpRequest.
    assert [w.rebuilt for w in plan.writes] == [True, False, False]
    assert plan.writes[0].head and not plan.writes[1].head
    assert plan.request_key == "pKZMnrfgxQewKsfiO39oBQ=="
    assert plan.octets == len(SEED_REQUEST) + len(SEED_PING) + len(SEED_CLOSE)
    assert plan.synthesized == []


def test_seed_plan_waits_for_the_answers_in_protocol_units() -> None:
    needs = [w.need for w in build_plan(seed_connection()).writes]
    assert needs[0].none
    assert (needs[1].head, needs[1].frames) == (True, 0)
    assert (needs[2].head, needs[2].frames) == (True, 1)  # the pong came first


def test_seed_timer_and_drop() -> None:
    plan = build_plan(seed_connection())
    (t,) = plan.timers
    assert (t.kind, t.after, t.delay, t.fired) == (MarkerKind.CLOSE_AFTER, 2, 1.0, False)
    assert t.fired_kind is MarkerKind.CLOSE_FIRED
    assert plan.dropped_by is Role.SERVER
    assert build_plan(seed_connection(), speed=4).timers[0].delay == 0.25


@pytest.mark.parametrize("speed", [0, -1.0])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(PlanError, match="speed must be positive"):
        build_plan(seed_connection(), speed=speed)


def test_the_real_seed_report_gives_the_same_plan() -> None:
    conn = read(SEED).connections[0]
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
    assert plan.request_key is None  # only a client's head carries a key


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
    conn.chunks = [
        replace(conn.chunks[0], ts_ns=None),
        replace(conn.chunks[1], index=3, ts_ns=None),
    ]
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


def test_a_fired_entry_without_its_timer_gates_nothing() -> None:
    conn = _timed([(TX, 0.0, _frame(1, b"x")), (TX, 0.0, _frame(1, b"y"))])
    conn.chunks[1] = replace(conn.chunks[1], index=3)
    conn.markers = [Marker(MarkerKind.DELAY_FIRED, 2, tag="A")]
    plan = build_plan(conn, handshake=False)
    assert plan.timers == () and [w.gate for w in plan.writes] == [None, None]


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


def test_the_recorded_pause_before_our_own_drop() -> None:
    conn = _timed(
        [
            (TX, 10.0, _frame(1, b"a")),
            (RX, 10.2, _frame(1, b"a", False)),
        ]
    )
    conn.markers.append(Marker(MarkerKind.FIN, 5, TX, ts_ns=10_500_000_000))
    plan = build_plan(conn, handshake=False)
    assert plan.dropped_by is Role.CLIENT and not plan.reset
    assert round(plan.end_delay, 6) == 0.3  # after the echo, not after our write
    assert plan.final.frames == 1
    conn.markers[0] = Marker(MarkerKind.RST, 5, TX, ts_ns=10_500_000_000)
    assert build_plan(conn, handshake=False, speed=3).end_delay == pytest.approx(0.1)
    assert build_plan(conn, handshake=False).reset


def test_who_dropped_falls_back_to_the_report_flag() -> None:
    """No FIN/RST/DROPPED entry: Autobahn's ``droppedByMe`` decides."""
    conn = _timed([(TX, 0.0, _frame(1, b"a"))])
    assert build_plan(conn, handshake=False).dropped_by is None
    conn.meta["droppedByMe"] = True
    assert build_plan(conn, handshake=False).dropped_by is Role.CLIENT
    conn.meta["droppedByMe"] = False
    plan = build_plan(conn, handshake=False)
    assert plan.dropped_by is Role.SERVER and plan.end_delay == 0.0
