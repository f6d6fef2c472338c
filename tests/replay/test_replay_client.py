"""Connecting to a target: refused, unreachable, TLS and IPv6 targets."""

from __future__ import annotations

import contextlib
import os
import socket

import pytest
from servers import SAMPLES, SEED, refused_port, run_server

from wirelog.errors import TargetError
from wirelog.model import Direction
from wirelog.pipeline import read
from wirelog.replay import run
from wirelog.replay.client import ssl_context


def test_refused() -> None:
    port = refused_port()
    with pytest.raises(TargetError, match=f"127.0.0.1:{port}: connection refused"):
        run.replay(read(SEED), f"ws://127.0.0.1:{port}/")


def test_no_connection_within_the_timeout() -> None:
    """A listener whose backlog is full never completes the handshake."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", port))
            fillers.append(s)
        with pytest.raises(TargetError, match=r"no connection within 0\.3 s"):
            run.replay(read(SEED), f"ws://127.0.0.1:{port}/", run.Options(timeout=0.3))
    finally:
        for s in fillers:
            s.close()
        srv.close()


def test_wss_verifies_the_certificate_unless_insecure() -> None:
    with run_server("websockets-tls") as tls:
        url = f"wss://127.0.0.1:{tls.port}/"
        with pytest.raises(TargetError, match="TLS failed"):
            run.replay(read(SEED), url)
        report = run.replay(read(SEED), url, run.Options(insecure=True))
    assert report.verdict.equivalent
    assert ssl_context(insecure=False).check_hostname


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
