"""The asyncio edge: each recorded chop leaves as one TCP segment, pauses
are precise, closing is safe at any point."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest
from servers import SAMPLES, Server, have_tcpdump, segments, tcpdump, ws_echo  # noqa: F401

from wirelog.model import Direction
from wirelog.pipeline import read
from wirelog.replay import run
from wirelog.replay.transport import close, pause_until, unsent


@pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")
@pytest.mark.parametrize("sample", ["ws_basic.pcap", "ws_fragmented.pcap"])
def test_sample_capture_is_equivalent_and_each_chop_is_one_segment(
    ws_echo: Server,  # noqa: F811
    sample: str,
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


def test_unsent_is_zero_without_a_socket_or_a_queue() -> None:
    assert unsent(-1) == 0
    r, w = os.pipe()
    try:
        assert unsent(r) == 0  # not a socket: the ioctl fails, nothing is pending
    finally:
        os.close(r)
        os.close(w)
    a, b = socket.socketpair()
    with a, b:
        assert unsent(a.fileno()) == 0


def test_pause_until_waits_at_least_the_time_and_not_much_more() -> None:
    async def pause(seconds: float) -> float:
        start = time.perf_counter()
        await pause_until(start + seconds)
        return time.perf_counter() - start

    for seconds in (0.001, 0.02):
        took = asyncio.run(pause(seconds))
        assert seconds <= took < seconds + 0.02
    assert asyncio.run(pause(-1.0)) < 0.001


def test_close_without_a_transport_is_a_no_op() -> None:
    close(None, abort=True)
    close(None, abort=False)
