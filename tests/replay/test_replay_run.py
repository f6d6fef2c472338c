"""The library calls behind ``wirelog replay`` against real servers on
127.0.0.1 (the ``websockets`` library's echo server and AutobahnPython's),
started here and always stopped."""

from __future__ import annotations

import os

import pytest
from servers import (  # noqa: F401
    SEED,
    SERVER_REPORTS,
    Server,
    ab_echo,
    refused_port,
    seed_connection,
    ws_echo,
)

from wirelog.errors import PlanError, UsageError
from wirelog.model import Direction, Opcode, Recording, Role
from wirelog.pipeline import read
from wirelog.protocol.connection import decode_connection
from wirelog.replay import run


def test_seed_against_autobahnpython_decoded_on_the_wire(ab_echo: Server) -> None:  # noqa: F811
    report = run.replay(read(SEED), ab_echo.url)
    assert report.verdict.equivalent
    dc = decode_connection(report.result.connection)
    got = [(f.opcode, f.payload) for f in dc.frames if f.direction is Direction.RX]
    assert got == [(Opcode.PONG, b"Hello, world!"), (Opcode.CLOSE, b"\x03\xe8")]
    assert dc.handshake is not None and dc.handshake.accept_ok
    # The recorded key was kept, so the accept is the one in the report.
    assert dc.handshake.accept == "YIxrIiLD42I3Ax0HMkqxV24gCGM="
    sent = [c.data for c in report.result.connection.chunks if c.direction is Direction.TX]
    assert sent[1:] == [w.data for w in report.plan.writes][1:]
    assert b"Host: 127.0.0.1:%d\r\n" % ab_echo.port in sent[0]
    assert report.recording.kind == "replay"
    assert report.recording.connections == [report.result.connection]
    doc = report.as_dict()
    assert doc["equivalent"] and [w["length"] for w in doc["writes"]][1:] == [19, 8]
    assert doc["writes"][0] == {
        "index": 0,
        "length": len(report.plan.writes[0].data),
        "delay": 0.0,
        "sync": False,
        "rebuilt": True,  # the text report cut the head; httpRequest rebuilt it
        "synthesized": 0,
    }


def test_new_key_and_keep_host(ab_echo: Server) -> None:  # noqa: F811
    opts = run.Options(new_key=True, keep_host=True)
    report = run.replay(read(SEED), ab_echo.url, opts)
    dc = decode_connection(report.result.connection)
    assert dc.handshake is not None and dc.handshake.accept_ok
    assert dc.handshake.key != "pKZMnrfgxQewKsfiO39oBQ=="
    assert dc.handshake.host == "127.0.0.1:9001"
    assert report.verdict.equivalent


def test_the_connection_is_picked_before_anything_is_sent() -> None:
    multi = read(os.path.join(os.path.dirname(SEED), "multi_conn.pcap"))
    with pytest.raises(UsageError, match="pick one with --conn"):
        run.replay(multi, f"ws://127.0.0.1:{refused_port()}/")
    with pytest.raises(UsageError, match="no connection 7"):
        run.prepare(multi, Role.CLIENT, run.Options(conn=7))
    original, plan = run.prepare(multi, Role.CLIENT, run.Options(conn=2))
    assert original.conn == 2 and plan.conn == 2
    with pytest.raises(UsageError, match="no connections"):
        run.prepare(Recording("empty", "pcap"), Role.CLIENT, run.Options())


def test_load_mode(ws_echo: Server) -> None:  # noqa: F811
    report = run.load(read(SEED), ws_echo.url, concurrency=10, repeat=30)
    assert report.sessions == report.equivalent == 30 and report.rate > 0
    assert report.errors == 0 and report.first_error is None and len(report.latencies) == 30
    assert report.percentile(50) <= report.percentile(99)
    doc = report.as_dict()
    assert doc["sessions"] == 30 and doc["mismatches"] == 0 and doc["first_difference"] is None
    assert set(doc["latency_ms"]) == {"p50", "p90", "p99"}


def test_load_mode_counts_mismatches(ab_echo: Server) -> None:  # noqa: F811
    """An echo server answering text messages differently than recorded:
    use a report whose recorded server failed the case (nim-websock 2.2
    never closed), so every replay mismatches."""
    path = os.path.join(SERVER_REPORTS, "websock_server_case_2_2.json")
    report = run.load(read(path), ab_echo.url, run.Options(timeout=1), concurrency=5, repeat=5)
    assert report.sessions == 5 and report.different == 5 and report.equivalent == 0
    assert report.first_difference is not None


def test_load_mode_counts_errors_and_keeps_the_first() -> None:
    port = refused_port()
    report = run.load(
        Recording("seed", "autobahn-text", [seed_connection()]),
        f"ws://127.0.0.1:{port}/",
        concurrency=2,
        repeat=3,
    )
    assert report.sessions == report.errors == 3 and report.equivalent == 0
    assert report.first_error == f"127.0.0.1:{port}: connection refused"
    assert report.percentile(50) is None and report.latencies == []
    # No session happened: no rate, no latency (issue 11: not 12,678/s, p50 nan).
    doc = report.as_dict()
    assert report.rate is None and doc["sessions_per_s"] is None
    assert doc["latency_ms"] is None and doc["completed"] == 0


def test_an_empty_load_run_has_no_rate() -> None:
    assert run.LoadReport().rate is None


def test_chopped_autobahn_case_with_fill(ws_echo: Server) -> None:  # noqa: F811
    rec = read(os.path.join(SERVER_REPORTS, "websock_server_case_1_1_8.json"))
    with pytest.raises(PlanError, match="--fill"):
        run.replay(rec, ws_echo.url)
    report = run.replay(rec, ws_echo.url, run.Options(fill=True, asap=True))
    v = report.verdict
    # The echo matches; only the close differs: nim-websock, recorded, never
    # answered the close, the websockets library does.
    lines = [line for d in v.differences if d.topic == "server messages" for line in d.lines]
    assert lines == ["+ message 1: CLOSE len=2 code=1000 ''"]
    assert [d.topic for d in v.differences if "violations" in d.topic] == []
    assert any("synthesized 65472 octets" in n for n in v.notes)
    assert any("and 60 more chunks" in n for n in v.notes)
    dc = decode_connection(report.result.connection)
    (echo,) = [m for m in dc.messages if m.direction is Direction.RX and m.opcode == 1]
    assert echo.data == b"*" * 65536


def test_the_reports_close_reason_is_the_servers(ws_echo: Server) -> None:  # noqa: F811
    """websockets answers a close with the same code and reason: the
    replay's report carries the reason the server's close frame holds."""
    from sessions import PING, PONG, echo_session

    from wirelog.model import Recording
    from wirelog.protocol.connection import decode_connection
    from wirelog.replay.record import to_autobahn

    bye = b"\x08\x0f\xa0" + b"wirelog: bye"
    rec = Recording(source="s", kind="test", connections=[echo_session([PING, bye], [PONG, bye])])
    report = run.replay(rec, ws_echo.url, run.Options(asap=True))
    replayed = decode_connection(report.result.connection)
    doc = to_autobahn(report.result.connection, decoded=replayed)
    got = [f.payload for f in replayed.frames if f.opcode == 8 and f.direction.value == "rx"]
    assert got and got[0][:2] == b"\x0f\xa0"  # the oracle: the server's own close frame
    assert doc["remoteCloseReason"] == got[0][2:].decode() == "wirelog: bye"
    assert doc["localCloseReason"] == "wirelog: bye" and doc["remoteCloseCode"] == 4000


def test_a_replay_result_reprs_as_a_summary(ws_echo: Server) -> None:  # noqa: F811
    """Not every octet: asyncio.run formats the finished task's result."""
    report = run.replay(read(SEED), ws_echo.url, run.Options(asap=True))
    res = report.result
    text = repr(res)
    octets = sum(c.length for c in res.connection.chunks)
    assert text == (
        f"<ReplayResult {res.target}: {len(res.connection.chunks)} chunks, {octets} octets,"
        f" {res.outcome.writes_sent}/{res.outcome.writes_planned} writes,"
        f" {res.outcome.duration:.3f} s>"
    )
    assert len(text) < 200 and res.outcome.writes_sent > 0
