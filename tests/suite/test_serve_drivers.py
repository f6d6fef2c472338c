"""``wirelog suite serve`` (the command, in its own process) driven by two
more libraries' client drivers, written as their Autobahn drivers are
(connect to ``/getCaseCount``, echo every message of each ``/runCase``, then
``/updateReports``): AutobahnPython's asyncio client and aiohttp's. Both
run against one server, one after the other, as a CI job runs its drivers:
the index keeps both agents, and every case passes, as Autobahn's own
fuzzingserver passes those libraries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from suite_data import REPORTS

CASES = "1.*,2.*,3.*,4.*,5.*,6.1.*,7.1.*,7.7.*"
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


@contextlib.contextmanager
def suite_serve(out: Path) -> Iterator[str]:
    """The CLI on a free port; its URL, stopped by ``/stopServer`` after."""
    cmd = [sys.executable, "-c", "from wirelog.cli import main; main()", "suite", "serve"]
    ref = str(REPORTS / "testing-a-client")
    args = [ref, "--listen", "127.0.0.1:0", "--out", str(out), "--cases", CASES]
    proc = subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "serving the fuzzingserver API on ws://HOST:PORT"
        assert " on ws://" in line, line
        url = line.split(" on ", 1)[1].strip()
        yield url
        asyncio.run(_aiohttp_call(f"{url}/stopServer"))
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def _aiohttp_call(url: str) -> str | None:
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        msg = await ws.receive()
        return msg.data if msg.type is aiohttp.WSMsgType.TEXT else None


async def aiohttp_driver(base: str, agent: str) -> int:
    count = int(await _aiohttp_call(f"{base}/getCaseCount") or 0)
    async with aiohttp.ClientSession() as s:
        for n in range(1, count + 1):
            url = f"{base}/runCase?case={n}&agent={agent}"
            async with s.ws_connect(url, max_msg_size=0) as ws:
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        await ws.send_str(msg.data)
                    elif msg.type is aiohttp.WSMsgType.BINARY:
                        await ws.send_bytes(msg.data)
    await _aiohttp_call(f"{base}/updateReports?agent={agent}")
    return count


async def autobahn_driver(base: str, agent: str) -> int:
    import txaio

    txaio.use_asyncio()
    from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol

    loop = asyncio.get_running_loop()

    async def one(url: str) -> list[bytes]:
        done: asyncio.Future[None] = loop.create_future()
        got: list[bytes] = []

        class Echo(WebSocketClientProtocol):  # type: ignore[misc]
            def onMessage(self, payload: bytes, isBinary: bool) -> None:
                got.append(payload)
                self.sendMessage(payload, isBinary)

            def onClose(self, wasClean: bool, code: int, reason: str) -> None:
                if not done.done():
                    done.set_result(None)

        factory = WebSocketClientFactory(url)
        factory.protocol = Echo
        factory.setProtocolOptions(maxMessagePayloadSize=0, maxFramePayloadSize=0)
        host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        await loop.create_connection(factory, host, int(port))
        await asyncio.wait_for(done, 60)
        return got

    count = int((await one(f"{base}/getCaseCount"))[0])
    for n in range(1, count + 1):
        await one(f"{base}/runCase?case={n}&agent={agent}")
    await one(f"{base}/updateReports?agent={agent}")
    return count


def test_autobahnpython_and_aiohttp_client_drivers(tmp_path: Path) -> None:
    out = tmp_path / "clients"
    with suite_serve(out) as url:
        count = asyncio.run(autobahn_driver(url, "autobahnpython"))
        assert asyncio.run(aiohttp_driver(url, "aiohttp")) == count
    index = json.loads((out / "index.json").read_text())
    assert set(index) == {"autobahnpython", "aiohttp"}  # the second driver kept the first's
    reference = json.loads((REPORTS / "testing-a-client" / "index.json").read_text())
    (ref,) = reference.values()
    for agent, cases in index.items():
        assert len(cases) == count, agent
        bad = {
            k: (v["behavior"], v["behaviorClose"])
            for k, v in cases.items()
            if v["behavior"] not in PASSING or v["behaviorClose"] not in {"OK", "INFORMATIONAL"}
        }
        assert bad == {}, agent
        # The same verdict as the reference run's compliant client wherever it passed.
        for k, v in cases.items():
            if ref[k]["behavior"] == "OK":
                assert v["behavior"] == "OK", (agent, k)
        for k, v in cases.items():
            assert (out / v["reportfile"]).exists() and k in ref
