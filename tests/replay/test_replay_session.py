"""The session state machine against live peers: causal waits, recorded
pauses, Autobahn timers, and how it ends, including against misbehaving
targets (each ends as a one-line outcome within the timeout, never a hang)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from servers import Misbehaving, Server, seed_connection, ws_echo  # noqa: F401
from sessions import timed_session

from wirelog.enums import nanoseconds
from wirelog.model import Direction, Marker, MarkerKind, Recording, Role
from wirelog.protocol.connection import decode_connection
from wirelog.replay import run
from wirelog.replay.plan import build_plan
from wirelog.replay.session import UNKNOWN_END_GRACE, Runner

TIMEOUT = 1.0


def _seed() -> Recording:
    return Recording("seed", "autobahn-text", [seed_connection()])


def test_404_sends_nothing_after_the_refusal() -> None:
    with Misbehaving("404") as srv:
        report = run.replay(_seed(), srv.url, run.Options(timeout=TIMEOUT))
    assert report.result.outcome.writes_sent == 1
    assert any("404" in f for f in report.verdict.faults)
    assert "not upgraded: the server answered 'HTTP/1.1 404 Not Found'" in report.verdict.notes


def test_a_refused_upgrade_that_stays_open_gets_nothing_more() -> None:
    """The 404 arrived but the server keeps the connection: a real client
    would send nothing more (RFC 6455 §4.1), nor does the replay."""
    runner = Runner(build_plan(seed_connection()))
    assert not runner._not_websocket()
    runner.on_data(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert runner._not_websocket()
    assert runner.outcome.notes == ["not upgraded: the server answered 'HTTP/1.1 404 Not Found'"]
    assert runner.conn.chunks[0].direction is Direction.RX


def test_a_stall_ends_the_session_within_one_timeout() -> None:
    """A server that never answers costs one timeout in all (not one for the
    writes and one for the close) and gets nothing past the request: no
    frame is sent before the 101 (RFC 6455 §4.1)."""
    with Misbehaving("stall") as srv:
        start = time.monotonic()
        report = run.replay(_seed(), srv.url, run.Options(timeout=TIMEOUT))
        took = time.monotonic() - start
    o = report.result.outcome
    assert o.stalled
    assert o.writes_sent == 1
    assert took < TIMEOUT + 0.5
    tx = [c for c in report.result.connection.chunks if c.direction is Direction.TX]
    assert [c.data for c in tx] == [report.plan.writes[0].data]
    assert o.faults[0].startswith(
        "stalled: no answer within 1 s while waiting for the HTTP head before chunk 3 (got nothing)"
    )
    assert report.result.connection.meta["stalled"] is True


def test_a_reset_ends_the_writes_and_says_so() -> None:
    with Misbehaving("reset") as srv:
        report = run.replay(_seed(), srv.url, run.Options(timeout=TIMEOUT))
    o = report.result.outcome
    assert o.reset_by_peer and o.writes_sent == 1
    assert "the peer reset the connection before 2 recorded write(s)" in o.notes
    kinds = [m.kind for m in report.result.connection.markers]
    assert kinds[:2] == [MarkerKind.RST, MarkerKind.DROPPED]


@pytest.mark.parametrize(
    ("kind", "payload"),
    [(MarkerKind.CLOSE_AFTER, b""), (MarkerKind.KILL_AFTER, b"\x03\xe9Going Away")],
)
def test_autobahn_safety_timers_fire_when_the_target_is_mute(
    kind: MarkerKind, payload: bytes
) -> None:
    """The seed's TI (or a KL) never fired in the recording; against a
    server that upgrades and then says nothing it fires as in Autobahn
    (spec §3.6): an empty close (TI) or close 1001 (KL), then nothing more."""
    conn = seed_connection()
    conn.markers[0] = Marker(kind, 4, value=0.2)
    rec = Recording("seed", "autobahn-text", [conn])
    with Misbehaving("mute") as srv:
        report = run.replay(rec, srv.url, run.Options(timeout=TIMEOUT))
    dc = decode_connection(report.result.connection)
    sent = [(f.opcode, f.payload) for f in dc.frames if f.direction is Direction.TX]
    assert sent == [(9, b"Hello, world!"), (8, payload)]
    fired = {
        MarkerKind.CLOSE_AFTER: MarkerKind.CLOSE_FIRED,
        MarkerKind.KILL_AFTER: MarkerKind.KILL_FIRED,
    }
    assert fired[kind] in [m.kind for m in report.result.connection.markers]
    o = report.result.outcome
    assert o.writes_sent == 2 and not o.stalled and o.never_closed
    assert any("did not in the recording" in n for n in report.verdict.notes)
    assert "1 recorded write(s) not sent after that close" in o.notes


def test_kill_after_drops_tcp_when_the_close_goes_unanswered() -> None:
    """KL fires after our close was sent and never answered (the fuzzer is
    CLOSING): it drops TCP, and the replay says the client dropped it."""
    conn = seed_connection()
    conn.markers[0] = Marker(MarkerKind.KILL_AFTER, 4, value=0.3)
    rec = Recording("seed", "autobahn-text", [conn])
    with Misbehaving("deaf-close") as srv:
        # The pong comes, the close is sent and never answered: KL fires
        # 0.3 s later, well within the 1 s the close would be waited for.
        report = run.replay(rec, srv.url, run.Options(timeout=TIMEOUT))
    o = report.result.outcome
    assert not o.stalled and o.writes_sent == 3 and o.dropped_by_me and not o.eof_by_peer
    kinds = [m.kind for m in report.result.connection.markers]
    assert MarkerKind.KILL_FIRED in kinds
    assert report.verdict.b_closing is not None
    assert report.verdict.b_closing.dropped_by is Role.CLIENT


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_recorded_pauses_are_kept_after_the_causal_waits(ws_echo: Server, speed: float) -> None:  # noqa: F811
    report = run.replay(timed_session(), ws_echo.url, run.Options(speed=speed))
    assert report.verdict.equivalent, report.verdict.as_dict()
    chunks = report.result.connection.chunks
    tx = [c for c in chunks if c.direction is Direction.TX]
    rx = [c for c in chunks if c.direction is Direction.RX]
    assert tx[1].ts is not None and tx[2].ts is not None and tx[3].ts is not None
    head_at = rx[0].ts
    assert head_at is not None
    echo_two = next(c.ts for c in rx if b"two" in c.data)
    assert echo_two is not None
    gaps = [tx[1].ts - head_at, tx[2].ts - tx[1].ts, tx[3].ts - echo_two]
    for got, want in zip(gaps, [0.100, 0.150, 0.080], strict=True):
        assert abs(got - want / speed) < 0.025, gaps
    asap = run.replay(timed_session(), ws_echo.url, run.Options(asap=True))
    assert asap.result.outcome.duration < 0.05


def test_autobahn_delay_gates_the_next_write(ws_echo: Server) -> None:  # noqa: F811
    """CT 0.2 then CTE (spec §3.6): the write after it goes 0.2 s after the
    one before, although the log has no times at all."""
    rec = timed_session()
    conn = rec.connections[0]
    conn.chunks = [replace(c, ts_ns=None, index=c.index * 10) for c in conn.chunks]
    conn.markers = [
        Marker(MarkerKind.DELAY, 25, value=0.2, tag="A"),
        Marker(MarkerKind.DELAY_FIRED, 26, tag="A"),
        Marker(MarkerKind.FIN, 100, Direction.RX),
    ]
    report = run.replay(rec, ws_echo.url)
    assert report.verdict.equivalent, report.verdict.as_dict()
    tx = [c for c in report.result.connection.chunks if c.direction is Direction.TX]
    assert tx[1].ts is not None and tx[2].ts is not None
    assert 0.19 < tx[2].ts - tx[1].ts < 0.26
    kinds = [m.kind for m in report.result.connection.markers]
    assert kinds[:2] == [MarkerKind.DELAY, MarkerKind.DELAY_FIRED]


def test_a_recording_that_does_not_say_who_closed(ws_echo: Server) -> None:  # noqa: F811
    """A capture that stopped before the end: no FIN/RST, no close frame.
    The replay takes the last recorded answer, waits a moment, and closes."""
    rec = timed_session()
    conn = rec.connections[0]
    conn.chunks = conn.chunks[:-2]  # no close handshake
    conn.markers = []
    report = run.replay(rec, ws_echo.url, run.Options(asap=True, timeout=3))
    o = report.result.outcome
    assert report.verdict.equivalent, report.verdict.as_dict()
    assert o.dropped_by_me and not o.never_closed
    assert UNKNOWN_END_GRACE <= o.duration < UNKNOWN_END_GRACE + 1.0


def test_our_own_recorded_drop_follows_the_recorded_pause() -> None:
    """The client dropped TCP 50 ms after the close reply in the recording:
    against a server that never drops, the replay waits for that reply,
    pauses as long, then sends its FIN; nothing is a fault."""
    conn = seed_connection()
    conn.chunks = [replace(c, ts_ns=nanoseconds(1000.0 + c.index / 1000)) for c in conn.chunks]
    conn.markers = [Marker(MarkerKind.FIN, 10, Direction.TX, 1000_059_000_000)]
    conn.meta = {}
    with Misbehaving("noclose") as srv:
        report = run.replay(Recording("s", "t", [conn]), srv.url, run.Options(timeout=TIMEOUT))
    o = report.result.outcome
    assert report.plan.dropped_by is Role.CLIENT and o.dropped_by_me
    assert not o.never_closed and not o.faults and not o.eof_by_peer
    rx_close = [c for c in report.result.connection.chunks if c.direction is Direction.RX][-1]
    assert rx_close.data.startswith(b"\x88") and rx_close.ts is not None
    fin = next(m for m in report.result.connection.markers if m.kind is MarkerKind.FIN)
    assert fin.direction is Direction.TX and fin.ts is not None
    assert 0.04 < fin.ts - rx_close.ts < 0.2
    meta = report.result.connection.meta
    assert meta["droppedByMe"] is True and meta["replayOf"] == "seed-2.2#1"
    assert meta["isServer"] is False and meta["writesSent"] == 3
