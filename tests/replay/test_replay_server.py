"""Server mode: replay the server side of a recording to a live client."""

from __future__ import annotations

import asyncio
import os
import socket
import threading

import pytest
from servers import SAMPLES, SEED

from wirelog.errors import TargetError
from wirelog.model import Direction, Role
from wirelog.pipeline import read
from wirelog.replay import run


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
    assert server.result.connection.meta["isServer"] is True
    assert server.result.target.startswith("127.0.0.1:") and server.result.target != "127.0.0.1:0"


def test_server_mode_with_a_websockets_client() -> None:
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
    assert server.result.target.startswith("127.0.0.1:")


def test_an_address_in_use_is_one_line() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        with pytest.raises(TargetError, match=f"127.0.0.1:{port}: cannot listen"):
            run.listen(read(SEED), "127.0.0.1", port)
    finally:
        busy.close()
