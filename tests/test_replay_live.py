"""Replays against real servers on 127.0.0.1 (the ``websockets`` library's
echo server and AutobahnPython's), started here and always stopped."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from servers import Server, have_tcpdump, run_server, segments, tcpdump
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.model import Direction, Marker, MarkerKind, Opcode, Recording, Role
from wirelog.pipeline import read
from wirelog.protocol.connection import decode_connection
from wirelog.replay import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")
SEED = os.path.join(SAMPLES, "autobahnpython_case_2_2.txt")
REPORTS = os.path.join(ROOT, "..", "shared", "autobahn-reports")


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def ws_echo() -> Iterator[Server]:
    with run_server("websockets") as s:
        yield s


@pytest.fixture(scope="module")
def ab_echo() -> Iterator[Server]:
    with run_server("autobahn") as s:
        yield s


def test_seed_against_autobahnpython_gets_the_pong_and_a_clean_close(
    ab_echo: Server, tmp_path: object
) -> None:
    code, out, err = cli("replay", SEED, "--target", ab_echo.url)
    assert code == 0, out + err
    assert "Observed: [('pong', 'Hello, world!')]" in out
    assert "clientCloseCode  1000       1000" in out
    assert "serverCloseCode  1000       1000" in out
    assert "wasClean         True       True" in out
    assert "Verdict: EQUIVALENT" in out
    # The same through the library, looking at the decoded wire itself.
    report = run.replay(read(SEED), ab_echo.url)
    dc = decode_connection(report.result.connection)
    got = [(f.opcode, f.payload) for f in dc.frames if f.direction is Direction.RX]
    assert got == [(Opcode.PONG, b"Hello, world!"), (Opcode.CLOSE, b"\x03\xe8")]
    assert dc.handshake is not None and dc.handshake.accept_ok
    # The recorded key was kept, so the accept is the one in the report.
    assert dc.handshake.accept == "YIxrIiLD42I3Ax0HMkqxV24gCGM="
    sent = [c.data for c in report.result.connection.chunks if c.direction is Direction.TX]
    assert sent[1:] == [w.data for w in report.plan.writes][1:]
    assert b"Host: 127.0.0.1:%d\r\n" % ab_echo.port in sent[0]


def test_new_key_and_keep_host(ab_echo: Server) -> None:
    opts = run.Options(new_key=True, keep_host=True)
    report = run.replay(read(SEED), ab_echo.url, opts)
    dc = decode_connection(report.result.connection)
    assert dc.handshake is not None and dc.handshake.accept_ok
    assert dc.handshake.key != "pKZMnrfgxQewKsfiO39oBQ=="
    assert dc.handshake.host == "127.0.0.1:9001"
    assert report.verdict.equivalent


def test_seed_against_websockets(ws_echo: Server) -> None:
    code, out, err = cli("replay", SEED, "--target", ws_echo.url, "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["equivalent"] and doc["events"]["b"] == [["pong", "Hello, world!"]]
    assert [w["length"] for w in doc["writes"]][1:] == [19, 8]


@pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")
@pytest.mark.parametrize("sample", ["ws_basic.pcap", "ws_fragmented.pcap"])
def test_sample_capture_is_equivalent_and_each_chop_is_one_segment(
    ws_echo: Server, sample: str
) -> None:
    path = os.path.join(SAMPLES, sample)
    with tcpdump(ws_echo.port) as pcap:
        report = run.replay(read(path), ws_echo.url, run.Options(asap=True, keep_host=True))
    assert report.verdict.equivalent, report.verdict.as_dict()
    sent = [len(w.data) for w in report.plan.writes]
    recorded = [c.length for c in report.original.connection.chunks if c.direction is Direction.TX]
    assert sent == recorded
    wire = [s.size for s in segments(pcap) if s.dport == ws_echo.port and s.size > 0]
    assert wire == sent


def test_record_then_diff_then_replay_the_replay(
    ab_echo: Server, tmp_path: os.PathLike[str]
) -> None:
    out_json = os.path.join(tmp_path, "replay.json")
    code, out, err = cli("replay", SEED, "--target", ab_echo.url, "--record", out_json)
    assert code == 0, out + err
    with open(out_json) as fh:
        doc = json.load(fh)
    kinds = [e[0] for e in doc["wirelog"]]
    assert kinds[:2] == ["TO", "RO"] and "TF" in kinds and "RF" in kinds and "TI" in kinds
    assert doc["txOctetStats"] == {"8": 1, "19": 1, str(len(doc["httpRequest"])): 1}
    rec = read(out_json)
    assert rec.kind == "autobahn-json"
    assert [c.length for c in rec.connections[0].chunks if c.direction is Direction.TX][1:] == [
        19,
        8,
    ]
    code, out, err = cli("diff", SEED, out_json)
    assert code == 0, out + err
    assert "Verdict: EQUIVALENT" in out
    code, out, err = cli("replay", out_json, "--target", ab_echo.url)
    assert code == 0, out + err


def test_diff_reports_what_differs() -> None:
    other = os.path.join(REPORTS, "testing-a-server", "websock_server_case_2_2.json")
    code, out, err = cli("diff", SEED, other)
    assert code == 1, out + err
    # nim-websock never answered the close: the closing behaviour differs.
    assert "serverCloseCode: 1000 → -" in out
    assert "wasClean: True → False" in out
    assert "Verdict: DIFFERENT" in out
    multi = os.path.join(SAMPLES, "multi_conn.pcap")
    code, out, _ = cli("diff", multi, multi, "--conn-a", "0", "--conn-b", "1")
    assert code == 1 and "+ message" in out
    code, out, _ = cli("diff", multi, multi, "--conn-a", "2", "--conn-b", "2")
    assert code == 0
    code, _, err = cli("diff", multi, multi)
    assert code == 2 and "pick one with --conn" in err


def test_server_mode_replays_the_server_side_to_a_live_client() -> None:
    """A server replay of ws_basic.pcap, and a client replay of it as the
    live client: both must find the other behaving as recorded."""
    rec = read(os.path.join(SAMPLES, "ws_basic.pcap"))
    ready = threading.Event()
    where: list[int] = []
    box: list[run.Report] = []

    def on_ready(host: str, port: int) -> None:
        where.append(port)
        ready.set()

    def serve() -> None:
        box.append(run.listen(rec, "127.0.0.1", 0, run.Options(asap=True), ready=on_ready))

    t = threading.Thread(target=serve)
    t.start()
    try:
        assert ready.wait(10)
        client = run.replay(rec, f"ws://127.0.0.1:{where[0]}/", run.Options(asap=True))
    finally:
        t.join(15)
    assert client.verdict.equivalent, client.verdict.as_dict()
    (server,) = box
    assert server.verdict.equivalent, server.verdict.as_dict()
    sent = [c.length for c in server.result.connection.chunks if c.direction is Direction.TX]
    recorded = [c.length for c in rec.connections[0].chunks if c.direction is Direction.RX]
    assert sent == recorded


def test_server_mode_with_a_websockets_client() -> None:
    import asyncio

    from websockets.asyncio.client import connect

    rec = read(SEED)
    ready = threading.Event()
    where: list[int] = []
    box: list[run.Report] = []

    def serve() -> None:
        box.append(
            run.listen(
                rec,
                "127.0.0.1",
                0,
                run.Options(timeout=2),
                ready=lambda h, p: (where.append(p), ready.set()),
            )
        )

    async def client() -> None:
        async with connect(f"ws://127.0.0.1:{where[0]}/", compression=None) as ws:
            pong = await ws.ping(b"Hello, world!")
            await asyncio.wait_for(pong, 5)
            await ws.close(1000)

    t = threading.Thread(target=serve)
    t.start()
    try:
        assert ready.wait(10)
        asyncio.run(client())
    finally:
        t.join(15)
    (server,) = box
    v = server.verdict
    # Octets differ (a random mask) but the behaviour is the recorded one.
    assert not v.faults and v.b_closing is not None and v.b_closing.clean
    assert v.b_closing.dropped_by is Role.SERVER
    assert [d.topic for d in v.differences if d.topic.startswith("server")] == []


def test_load_mode(ws_echo: Server) -> None:
    fds = len(os.listdir("/proc/self/fd"))
    code, out, err = cli(
        "replay", SEED, "--target", ws_echo.url, "--concurrency", "20", "--repeat", "200"
    )
    assert code == 0, out + err
    assert "sessions     200 in" in out
    assert "mismatches   0" in out and "errors       0" in out
    assert len(os.listdir("/proc/self/fd")) <= fds + 2
    report = run.load(read(SEED), ws_echo.url, concurrency=10, repeat=30)
    assert report.sessions == report.equivalent == 30 and report.rate > 0
    assert report.percentile(50) <= report.percentile(99)


def test_load_mode_counts_mismatches(ab_echo: Server) -> None:
    """An echo server answering text messages differently than recorded:
    use a report whose recorded server failed the case (nim-websock 2.2
    never closed), so every replay mismatches."""
    path = os.path.join(REPORTS, "testing-a-server", "websock_server_case_2_2.json")
    report = run.load(read(path), ab_echo.url, run.Options(timeout=1), concurrency=5, repeat=5)
    assert report.sessions == 5 and report.different == 5 and report.equivalent == 0


def test_chopped_autobahn_case_with_fill(ws_echo: Server) -> None:
    path = os.path.join(REPORTS, "testing-a-server", "websock_server_case_1_1_8.json")
    code, _, err = cli("replay", path, "--target", ws_echo.url)
    assert code == 2 and "--fill" in err and len(err.splitlines()) == 1
    report = run.replay(read(path), ws_echo.url, run.Options(fill=True, asap=True))
    v = report.verdict
    # The echo matches; only the close differs: nim-websock, recorded, never
    # answered the close, the websockets library does.
    lines = [line for d in v.differences if d.topic == "server messages" for line in d.lines]
    assert lines == ["+ message 1: CLOSE len=2 code=1000 ''"]
    assert [d.topic for d in v.differences if "violations" in d.topic] == []
    assert any("synthesized 65472 octets" in n for n in v.notes)
    dc = decode_connection(report.result.connection)
    (echo,) = [m for m in dc.messages if m.direction is Direction.RX and m.opcode == 1]
    assert echo.data == b"*" * 65536


def _timed_session() -> Recording:
    """A client that writes, pauses, waits for the echo, pauses again."""
    from wirelog.model import Chunk, Connection
    from wirelog.protocol.frames import encode_frame
    from wirelog.protocol.handshake import accept_for

    key = "dGhlIHNhbXBsZSBub25jZQ=="
    req = (
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    resp = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(key).encode() + b"\r\n\r\n"
    )
    m = b"\x01\x02\x03\x04"
    tx, rx = Direction.TX, Direction.RX
    items = [
        (tx, 0.000, req),
        (rx, 0.001, resp),
        (tx, 0.101, encode_frame(1, b"one", mask=m)),  # 100 ms after the 101
        (tx, 0.251, encode_frame(1, b"two", mask=m)),  # 150 ms after our write
        (rx, 0.252, encode_frame(1, b"one")),
        (rx, 0.253, encode_frame(1, b"two")),
        (tx, 0.333, encode_frame(8, b"\x03\xe8", mask=m)),  # 80 ms after the echo
        (rx, 0.334, encode_frame(8, b"\x03\xe8")),
    ]
    conn = Connection(conn=0, source="timed", recorder=Role.CLIENT)
    for i, (d, ts, data) in enumerate(items):
        conn.chunks.append(Chunk(d, data, len(data), i, 1000.0 + ts))
    conn.markers.append(Marker(MarkerKind.FIN, len(items), rx, 1000.335))
    return Recording("timed", "pcap", [conn])


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_recorded_pauses_are_kept_after_the_causal_waits(ws_echo: Server, speed: float) -> None:
    report = run.replay(_timed_session(), ws_echo.url, run.Options(speed=speed))
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
    asap = run.replay(_timed_session(), ws_echo.url, run.Options(asap=True))
    assert asap.result.outcome.duration < 0.05


def test_autobahn_delay_gates_the_next_write(ws_echo: Server) -> None:
    """CT 0.2 then CTE (spec §3.6): the write after it goes 0.2 s after the
    one before, although the log has no times at all."""
    rec = _timed_session()
    conn = rec.connections[0]
    conn.chunks = [replace(c, ts=None, index=c.index * 10) for c in conn.chunks]
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


def test_wss_needs_insecure_for_a_self_signed_certificate() -> None:
    with run_server("websockets-tls") as tls:
        url = f"wss://127.0.0.1:{tls.port}/"
        (
            code,
            _,
            err,
        ) = cli("replay", SEED, "--target", url)
        assert code == 2 and "TLS failed" in err and len(err.splitlines()) == 1
        code, out, err = cli("replay", SEED, "--target", url, "--insecure")
        assert code == 0, out + err
        assert "Observed: [('pong', 'Hello, world!')]" in out


def test_the_installed_wirelog_command(ab_echo: Server) -> None:
    """Through the real entry point, as a user runs it."""
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "wirelog"
    if not exe.exists():
        pytest.skip("wirelog is not installed in this environment")
    p = subprocess.run(
        [str(exe), "replay", SEED, "--target", ab_echo.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Verdict: EQUIVALENT" in p.stdout
    p = subprocess.run(
        [str(exe), "replay", SEED, "--target", "ws://127.0.0.1/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_ipv6_loopback_capture_against_an_ipv6_server() -> None:
    """The aiohttp sample was captured on ::1; replayed to a websockets echo
    server on ::1 it differs exactly where the servers differ."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with run_server("websockets6") as s6:
        url = f"ws://[::1]:{s6.port}/"
        report = run.replay(read(os.path.join(SAMPLES, "aiohttp_ipv6.pcap")), url)
    assert report.result.target == f"[::1]:{s6.port}"
    v = report.verdict
    assert not v.faults
    # aiohttp agreed on the offered subprotocol and answered the client's
    # close 4000 with 1000; the websockets library does neither.
    topics = {d.topic: d.lines for d in v.differences}
    assert topics == {
        "handshake": ["subprotocol: chat.v1 → None"],
        "server messages": [
            "- message 4: CLOSE len=2 code=1000 ''",
            "+ message 4: CLOSE len=14 code=4000 'aiohttp done'",
        ],
        "server frames": [
            "- frame 4: CLOSE fin=1 rsv=0 len=2 '0x03e8'",
            "+ frame 4: CLOSE fin=1 rsv=0 len=14 '0x0fa061696f6874747020646f6e65'",
        ],
        "closing": ["serverCloseCode: 1000 → 4000"],
    }
    head = next(c.data for c in report.result.connection.chunks if c.direction is Direction.TX)
    assert f"Host: [::1]:{s6.port}\r\n".encode() in head


def test_a_recording_that_does_not_say_who_closed(ws_echo: Server) -> None:
    """A capture that stopped before the end: no FIN/RST, no close frame.
    The replay takes the last recorded answer, waits a moment, and closes."""
    rec = _timed_session()
    conn = rec.connections[0]
    conn.chunks = conn.chunks[:-2]  # no close handshake
    conn.markers = []
    report = run.replay(rec, ws_echo.url, run.Options(asap=True, timeout=3))
    o = report.result.outcome
    assert report.verdict.equivalent, report.verdict.as_dict()
    assert o.dropped_by_me and not o.never_closed
    assert 0.5 <= o.duration < 1.5
