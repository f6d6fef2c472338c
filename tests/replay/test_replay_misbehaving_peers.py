"""Misbehaving peers on 127.0.0.1 (issue 11): each replay ends within
``--timeout`` + 1 s with one non-empty line on stderr naming the peer, a
non-zero exit and bounded memory (the child's peak RSS), and a server that
never completes its handshake gets nothing past the request."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from peers import CLIENT_MODES, MAIN, Hostile, child_env, hostile_client, run_cli
from servers import SEED, SEED_REQUEST

from wirelog.errors import TargetError
from wirelog.pipeline import read
from wirelog.replay import run

TIMEOUT = 1.0
#: Peak RSS a replay may reach against any of them (the CLI alone takes ~40 MB).
RSS_MB = 200

#: What the line on stderr says, after "wirelog: 127.0.0.1:PORT: ".
SAYS: dict[str, str | tuple[str, ...]] = {
    "silent": "stalled: no answer within 1 s while waiting for the HTTP head before chunk 3",
    # Closed unread, the request makes the server's kernel answer with a reset.
    "close": (
        "closed: the server dropped TCP before completing the handshake",
        "reset: the server reset the connection after 1 of 3 writes",
    ),
    "garbage-head": "not a WebSocket answer: its first octets start no HTTP status line",
    "403": "not upgraded: the server answered 'HTTP/1.1 403 Forbidden' instead of 101",
    "reset": "reset: the server reset the connection after 1 of 3 writes",
    "slowloris": "stalled: no answer within 1 s while waiting for the HTTP head",
    "huge-head": "not a WebSocket answer: no end of an HTTP head within the first 65536 octets",
    "endless-frames": "never closed: the server did not drop TCP within 1 s",
    "endless-zeros": "the server sent what is not valid WebSocket framing",
    "frame-2-62": "stalled: no answer within 1 s while waiting for the HTTP head + 1 frame",
    "deflate-bomb": "never closed: the server did not drop TCP within 1 s",
}
#: Servers that never send a 101: the replay may send them its request only.
NO_UPGRADE = {"silent", "close", "garbage-head", "403", "reset", "slowloris", "huge-head"}


@pytest.fixture(scope="module")
def startup() -> float:
    """Seconds a child ``wirelog`` takes to start and exit, to subtract."""
    return run_cli("replay", "--help").took


@pytest.mark.parametrize("mode", sorted(SAYS))
def test_a_misbehaving_server(mode: str, startup: float) -> None:
    with Hostile(mode) as srv:
        r = run_cli("replay", SEED, "--target", srv.url, "--timeout", str(TIMEOUT))
        sent = srv.received
    assert r.code == 2, r.out + r.err
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wirelog: 127.0.0.1:{srv.port}: "), r.err
    says = SAYS[mode]
    assert any(x in lines[0] for x in ((says,) if isinstance(says, str) else says)), lines[0]
    assert r.took < TIMEOUT + 1 + startup, (r.took, startup)
    assert r.rss_mb < RSS_MB, r.rss_mb
    if mode in NO_UPGRADE:
        assert sent == 0, f"{sent} octets sent past the request"


def test_forbidden_window_bits(startup: float) -> None:
    """RFC 7692 §7.1.2.1 allows 8 to 15; 16 must be a finding, not a crash."""
    with Hostile("window-bits") as srv:
        r = run_cli("replay", SEED, "--target", srv.url, "--timeout", str(TIMEOUT))
    assert r.code == 2 and len(r.err.splitlines()) == 1, r.err
    assert "internal error" not in r.err
    assert r.took < TIMEOUT + 1 + startup and r.rss_mb < RSS_MB


def test_a_peer_that_reads_nothing_is_a_stall() -> None:
    """A 16 MiB write to a server that never reads: the write cannot leave,
    and that is a stall after one timeout, not a wait per write."""
    from servers import Misbehaving, seed_connection

    from wirelog.model import Chunk, Direction, Recording
    from wirelog.protocol.frames import encode_frame

    conn = seed_connection()
    big = encode_frame(2, bytes(16 << 20), mask=b"abcd")
    conn.chunks[2] = Chunk(Direction.TX, big, len(big), conn.chunks[2].index)
    with Misbehaving("mute") as srv:
        report = run.replay(Recording("big", "t", [conn]), srv.url, run.Options(timeout=TIMEOUT))
    faults = report.verdict.faults
    assert faults and faults[0].startswith(
        "stalled: the server did not read our write within 1 s ("
    ), faults
    assert report.result.outcome.duration < TIMEOUT + 0.7
    assert report.result.outcome.writes_sent == 1


def _listen(opts: run.Options) -> tuple[threading.Thread, list[int], list[object]]:
    where: list[int] = []
    ready = threading.Event()
    box: list[object] = []

    def on_ready(port: int) -> None:
        where.append(port)
        ready.set()

    def serve() -> None:
        try:
            box.append(
                run.listen(
                    read(SEED),
                    "127.0.0.1",
                    0,
                    opts,
                    ready=lambda h, p: (where.append(p), ready.set()),
                )
            )
        except TargetError as exc:
            box.append(exc)

    t = threading.Thread(target=serve)
    t.start()
    assert ready.wait(10)
    return t, where, box


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("silent", "stalled: no answer within 1 s while waiting for the HTTP head before chunk 1"),
        ("garbage", "not a WebSocket request: its first octets start no HTTP GET request"),
        ("reset", "reset: the client reset the connection after 0 of 3 writes"),
    ],
)
def test_a_misbehaving_client(mode: str, says: str) -> None:
    assert mode in CLIENT_MODES
    start = time.monotonic()
    t, where, box = _listen(run.Options(timeout=TIMEOUT))
    stop = threading.Event()
    c = threading.Thread(target=hostile_client, args=(mode, where[0], SEED_REQUEST, stop))
    c.start()
    t.join(TIMEOUT + 5)
    took = time.monotonic() - start
    stop.set()
    c.join(5)
    (report,) = box
    assert isinstance(report, run.Report)
    assert report.verdict.faults and says in report.verdict.faults[0], report.verdict.faults
    assert took < TIMEOUT + 1
    assert report.result.outcome.writes_sent == 0


def test_a_second_client_is_turned_away_and_the_first_session_goes_on() -> None:
    """Both connect before the first sends its request: the second gets a
    503 and closes, the first gets the whole recorded session."""
    from servers import SEED_CLOSE, SEED_PING

    t, where, box = _listen(run.Options(timeout=TIMEOUT))
    first = socket.create_connection(("127.0.0.1", where[0]), 5)
    stop = threading.Event()
    second = threading.Thread(target=hostile_client, args=("second", where[0], SEED_REQUEST, stop))
    try:
        second.start()
        time.sleep(0.1)
        first.settimeout(5)
        first.sendall(SEED_REQUEST)
        assert first.recv(4096).startswith(b"HTTP/1.1 101 ")
        first.sendall(SEED_PING)
        assert first.recv(4096) == b"\x8a\x0dHello, world!"
        first.sendall(SEED_CLOSE)
        assert first.recv(4096) == b"\x88\x02\x03\xe8"
        t.join(TIMEOUT + 5)
    finally:
        stop.set()
        first.close()
        second.join(5)
    (report,) = box
    assert isinstance(report, run.Report)
    assert report.verdict.equivalent, report.verdict.as_dict()


def test_the_second_connection_never_reaches_the_session() -> None:
    """Two connections accepted in one go (both in the backlog): the second
    must not take the session's transport or feed it octets."""
    import asyncio

    from servers import seed_connection

    from wirelog.model import Role
    from wirelog.replay.plan import build_plan
    from wirelog.replay.server import BUSY, _Accepted
    from wirelog.replay.session import Runner

    class Fake(asyncio.Transport):
        def __init__(self) -> None:
            super().__init__()
            self.out = b""
            self.closed = False

        def get_extra_info(self, name: str, default: object = None) -> object:
            return ("127.0.0.1", 1) if name == "peername" else default

        def write(self, data: bytes | bytearray | memoryview) -> None:
            self.out += bytes(data)

        def close(self) -> None:
            self.closed = True

        def is_closing(self) -> bool:
            return self.closed

    async def main() -> None:
        runner = Runner(build_plan(seed_connection(), Role.SERVER), timeout=0.1)
        started: asyncio.Future[asyncio.Task[object]] = asyncio.get_running_loop().create_future()
        a, b = _Accepted(runner, started), _Accepted(runner, started)
        ta, tb = Fake(), Fake()
        a.connection_made(ta)
        b.connection_made(tb)
        b.data_received(b"GET / HTTP/1.1\r\n\r\n")
        b.connection_lost(None)
        assert runner.transport is ta and not runner.conn.chunks and not runner.lost
        assert tb.out == BUSY and tb.closed
        (await started).cancel()

    asyncio.run(main())


def test_listen_without_a_client_ends_after_the_accept_timeout() -> None:
    start = time.monotonic()
    t, where, box = _listen(run.Options(accept_timeout=0.3))
    t.join(5)
    (exc,) = box
    assert isinstance(exc, TargetError)
    assert str(exc) == f"127.0.0.1:{where[0]}: no client connected within 0.3 s"
    assert time.monotonic() - start < 1.5


def test_ctrl_c_during_a_replay_is_one_line_and_exit_130() -> None:
    with Hostile("silent") as srv:
        proc = subprocess.Popen(
            [sys.executable, "-c", MAIN, "replay", SEED, "--target", srv.url, "--timeout", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        try:
            deadline = time.monotonic() + 10
            while not srv.connections and time.monotonic() < deadline:
                time.sleep(0.02)
            assert srv.connections, "the replay never connected"
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            sent = time.monotonic()
            _, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130
    assert err == "wirelog: interrupted\n"
    assert time.monotonic() - sent < 3
