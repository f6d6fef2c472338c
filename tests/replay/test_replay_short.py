"""A target that answers fewer messages than recorded is DIFFERENT (exit 1),
not a FAULT (issue 13 item 4): a real ``websockets`` server that echoes only
its first ``n`` messages, then reads on and answers the close."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import pytest
from servers import SAMPLES, Misbehaving, websockets_in_thread
from typer.testing import CliRunner
from websockets.asyncio.server import ServerConnection

from wirelog.cli import app
from wirelog.pipeline import read
from wirelog.replay import run

TIMEOUT = 1.0
BASIC = os.path.join(SAMPLES, "ws_basic.pcap")
"""Nine echoed messages, a ping, a close."""


@contextlib.contextmanager
def echoes_only(n: int) -> Iterator[str]:
    """A websockets server (in a thread) that echoes the first ``n``
    messages of each connection and only reads the rest."""

    async def handler(ws: ServerConnection) -> None:
        seen = 0
        async for msg in ws:
            seen += 1
            if seen <= n:
                await ws.send(msg)

    with websockets_in_thread(handler) as url:
        yield url


@pytest.mark.parametrize("n", [0, 2])
def test_fewer_answers_are_a_difference(n: int) -> None:
    with echoes_only(n) as url:
        start = time.monotonic()
        report = run.replay(read(BASIC), url, run.Options(timeout=TIMEOUT, asap=True))
        took = time.monotonic() - start
    o = report.result.outcome
    v = report.verdict
    assert o.short and not o.stalled and not v.faults, v.as_dict()
    assert not v.equivalent and v.differences
    assert any(n_.startswith("short: the server answered less than recorded") for n_ in v.notes)
    got = [e for e in v.b_events if e[0] == "message"]
    assert len(got) == n
    assert took < 2 * TIMEOUT + 1
    # nothing after the last echo it gave: the replay stops, TCP closed by us (FIN)
    assert o.dropped_by_me and not o.reset_by_peer
    assert report.result.connection.meta["short"] is True


def test_the_cli_says_different_and_exits_1() -> None:
    with echoes_only(2) as url:
        r = CliRunner().invoke(
            app, ["replay", BASIC, "--target", url, "--timeout", str(TIMEOUT), "--asap"]
        )
    assert r.exit_code == 1, r.output
    assert "Verdict: DIFFERENT" in r.output
    assert "short: the server answered less than recorded" in r.output


def test_a_peer_that_never_upgrades_is_still_a_stall() -> None:
    """No 101 at all is broken, not short (as a peer that stops inside a frame)."""
    with Misbehaving("stall") as srv:
        report = run.replay(read(BASIC), srv.url, run.Options(timeout=TIMEOUT, asap=True))
    assert report.result.outcome.stalled and not report.result.outcome.short
    assert report.verdict.faults[0].startswith("stalled: ")
