"""A long real session (a tcpdump capture of websockets), for the streamed paths:
import the fixture into a conftest to use it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from servers import have_tcpdump, run_server, tcpdump

ROUNDS, BURST = 12, 1000
"""Messages of the long session: ``ROUNDS`` bursts of ``BURST`` sent, then echoed."""


@pytest.fixture(scope="session")
def long_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tcpdump capture of a websockets client and server trading 12,000
    text messages and their echoes (24,000 frames and more: several
    batches of :mod:`wirelog.analysis.batches`)."""
    if not have_tcpdump():
        pytest.skip("needs tcpdump as root")
    from websockets.sync.client import connect

    out = tmp_path_factory.mktemp("long") / "long.pcap"
    with (
        run_server("websockets") as srv,
        tcpdump(srv.port, tail=1.0) as cap,
        connect(srv.url, compression=None) as ws,
    ):
        for r in range(ROUNDS):
            for i in range(BURST):
                ws.send(f"round {r} message {i} " + "x" * (i % 200))
            for _ in range(BURST):
                ws.recv()
    shutil.move(cap, out)
    yield str(out)
