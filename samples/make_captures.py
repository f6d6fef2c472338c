"""Record the sample captures: real WebSocket libraries talking over loopback,
captured by tcpdump, plus a JSON manifest of every message each side sent.

Run as root (tcpdump needs it) from the repository root::

    .venv/bin/python samples/make_captures.py            # all samples
    .venv/bin/python samples/make_captures.py ws_basic   # one

Each scenario starts tcpdump (``-U``, full snap length, a filter on the
scenario's port), runs a server and a client of the ``websockets`` or
``aiohttp`` library, waits for tcpdump to catch up (it lags behind bursts on
loopback), then stops it with SIGINT. What each client sent and what the
server echoed back is written to ``samples/manifest.json``, so tests can
compare decoded messages with what the libraries really sent.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"

Sent = list[dict[str, Any]]


def describe(kind: str, data: bytes | str, **extra: Any) -> dict[str, Any]:
    raw = data.encode() if isinstance(data, str) else data
    entry: dict[str, Any] = {
        "type": kind,
        "length": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    if len(raw) <= 64:
        entry["hex"] = raw.hex()
    entry.update(extra)
    return entry


def pattern(n: int, seed: int = 0) -> bytes:
    """Deterministic, compressible-but-not-trivial bytes (so gzip keeps the
    multi-MiB samples small while permessage-deflate still has work)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 8  # 256 bytes
    return (block * (n // len(block) + 1))[:n]


# -- scenarios --------------------------------------------------------------------


async def websockets_echo(
    host: str, port: int, client_body: Callable[[Any, Sent], Awaitable[None]], **kw: Any
) -> Sent:
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def echo(ws: Any) -> None:
        try:
            async for msg in ws:
                await ws.send(msg)
        except Exception:
            pass

    sent: Sent = []
    server_kw = {k[7:]: v for k, v in kw.items() if k.startswith("server_")}
    client_kw = {k[7:]: v for k, v in kw.items() if k.startswith("client_")}
    async with serve(echo, host, port, **server_kw):
        url = f"ws://[{host}]:{port}/" if ":" in host else f"ws://{host}:{port}/"
        async with connect(url, **client_kw) as ws:
            await client_body(ws, sent)
    return sent


async def basic_body(ws: Any, sent: Sent) -> None:
    """Every length encoding boundary, both data opcodes, empties, ping/pong."""
    msgs: list[str | bytes] = [
        "hello",
        b"\x00\x01\x02binary",
        "",
        b"",
        "é✓ unicode ✓",
        pattern(125, 1),
        pattern(126, 2),
        pattern(65535, 3),
        pattern(65536, 4),
    ]
    for m in msgs:
        await ws.send(m)
        sent.append(describe("text" if isinstance(m, str) else "binary", m))
        assert await ws.recv() == m
    pong = await ws.ping(b"ping-data")
    await pong
    sent.append(describe("ping", b"ping-data"))
    await ws.close(1000, "bye now")
    sent.append({"type": "close", "code": 1000, "reason": "bye now"})


async def fragmented_body(ws: Any, sent: Sent) -> None:
    parts = ["frag", "mented ", "text"]
    await ws.send(iter(parts))
    # websockets sends each part as a frame, then an empty FIN continuation
    # (it cannot know which part of an iterator is the last).
    sent.append(describe("text", "".join(parts), frames=len(parts) + 1))
    assert await ws.recv() == "".join(parts)
    bparts = [pattern(1000, 5), pattern(70000, 6), b"", pattern(10, 7)]
    await ws.send(iter(bparts))
    sent.append(describe("binary", b"".join(bparts), frames=len(bparts) + 1))
    assert await ws.recv() == b"".join(bparts)
    await ws.close(4001, "custom close")
    sent.append({"type": "close", "code": 4001, "reason": "custom close"})


async def deflate_body(ws: Any, sent: Sent) -> None:
    for i in range(6):
        m = "the same words compress better the second time " * (20 + i)
        await ws.send(m)
        sent.append(describe("text", m))
        assert await ws.recv() == m
    b = pattern(200_000, 8)
    await ws.send(b)
    sent.append(describe("binary", b))
    assert await ws.recv() == b
    await ws.close()
    sent.append({"type": "close", "code": 1000, "reason": ""})


async def large_body(ws: Any, sent: Sent) -> None:
    for i, n in enumerate((3 * 1024 * 1024, 1024 * 1024 + 7)):
        b = pattern(n, 10 + i)
        await ws.send(b)
        sent.append(describe("binary", b))
        assert await ws.recv() == b
    await ws.close()
    sent.append({"type": "close", "code": 1000, "reason": ""})


async def aiohttp_scenario(host: str, port: int, compress: int) -> Sent:
    import aiohttp
    from aiohttp import web

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=bool(compress), protocols=("chat.v1",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="plain HTTP, not a WebSocket")

    app = web.Application()
    app.router.add_get("/ws", handler)
    app.router.add_get("/plain", plain)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sent: Sent = []
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/plain") as resp:
                await resp.text()
            async with session.ws_connect(
                base + "/ws", compress=compress, autoping=True, protocols=("chat.v1",)
            ) as ws:
                for m in ("aiohttp text", "x" * 300):
                    await ws.send_str(m)
                    sent.append(describe("text", m))
                    assert (await ws.receive()).data == m
                b = pattern(5000, 9)
                await ws.send_bytes(b)
                sent.append(describe("binary", b))
                assert (await ws.receive()).data == b
                await ws.ping(b"aio-ping")
                sent.append(describe("ping", b"aio-ping"))
                await ws.close(code=4000, message=b"aiohttp done")
                sent.append({"type": "close", "code": 4000, "reason": "aiohttp done"})
    finally:
        await runner.cleanup()
    return sent


async def multi_scenario(host: str, port: int) -> list[Sent]:
    """Three concurrent websockets connections, each its own messages."""
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def echo(ws: Any) -> None:
        try:
            async for msg in ws:
                await ws.send(msg)
        except Exception:
            pass

    async def one(i: int) -> Sent:
        sent: Sent = []
        async with connect(f"ws://{host}:{port}/c{i}", compression=None) as ws:
            for j in range(3 + i):
                m = f"conn {i} message {j}"
                await ws.send(m)
                sent.append(describe("text", m))
                assert await ws.recv() == m
                await asyncio.sleep(0.01)
            await ws.close()
        sent.append({"type": "close", "code": 1000, "reason": ""})
        return sent

    async def not_websocket(payload: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(payload)
        await writer.drain()
        await reader.read()
        writer.close()

    async with serve(echo, host, port, compression=None):
        results = []
        for i in range(3):  # sequential starts keep the tcp.stream order known
            results.append(asyncio.create_task(one(i)))
            await asyncio.sleep(0.05)
        conns = list(await asyncio.gather(*results))
        # Traffic wirelog must skip and count: plain HTTP, then not HTTP at all.
        await not_websocket(b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await not_websocket(b"\x16\x03\x01 not http at all\r\n\r\n")
        return conns


# -- recording --------------------------------------------------------------------


def record(name: str, port: int, scenario: Callable[[], Awaitable[Any]], iface: str = "lo") -> Any:
    out = HERE / f"{name}.pcap"
    cmd = ["tcpdump", "-i", iface, "-U", "-s", "0", "-B", "65536", "-w", str(out)]
    cmd += ["tcp", "port", str(port)]
    dump = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # tcpdump needs a moment before it captures
    try:
        result = asyncio.run(scenario())
    finally:
        time.sleep(2.0)  # tcpdump lags behind bursts on loopback
        dump.send_signal(signal.SIGINT)
        _, err = dump.communicate(timeout=20)
    dropped = re.search(rb"(\d+) packets? dropped by kernel", err)
    if dropped and int(dropped.group(1)):
        print(err.decode(), file=sys.stderr)
        raise SystemExit(f"{name}: tcpdump dropped packets; run again")
    return result


SCENARIOS: dict[str, dict[str, Any]] = {
    "ws_basic": {
        "port": 8765,
        "library": "websockets",
        "host": "127.0.0.1",
        "run": lambda: websockets_echo(
            "127.0.0.1", 8765, basic_body, client_compression=None, server_compression=None
        ),
    },
    "ws_fragmented": {
        "port": 8766,
        "library": "websockets",
        "host": "127.0.0.1",
        "run": lambda: websockets_echo(
            "127.0.0.1", 8766, fragmented_body, client_compression=None, server_compression=None
        ),
    },
    "ws_deflate": {
        "port": 8767,
        "library": "websockets",
        "host": "::1",
        "run": lambda: websockets_echo("::1", 8767, deflate_body),
    },
    "ws_deflate_no_context": {
        "port": 8768,
        "library": "websockets",
        "host": "127.0.0.1",
        "run": lambda: websockets_echo(
            "127.0.0.1",
            8768,
            deflate_body,
            client_compression=None,
            client_extensions=[_no_context_client()],
            server_compression=None,
            server_extensions=[_no_context_server()],
        ),
    },
    "aiohttp_ipv6": {
        "port": 8769,
        "library": "aiohttp",
        "host": "::1",
        "run": lambda: aiohttp_scenario("::1", 8769, compress=0),
    },
    "aiohttp_deflate": {
        "port": 8770,
        "library": "aiohttp",
        "host": "127.0.0.1",
        "run": lambda: aiohttp_scenario("127.0.0.1", 8770, compress=15),
    },
    "multi_conn": {
        "port": 8771,
        "library": "websockets",
        "host": "127.0.0.1",
        "iface": "any",
        "run": lambda: multi_scenario("127.0.0.1", 8771),
    },
    "ws_large": {
        "port": 8772,
        "library": "websockets",
        "host": "127.0.0.1",
        "gzip": True,
        "run": lambda: websockets_echo(
            "127.0.0.1",
            8772,
            large_body,
            client_compression=None,
            server_compression=None,
            client_max_size=None,
            server_max_size=None,
        ),
    },
}


def _no_context_client() -> Any:
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=10,
        client_max_window_bits=11,
    )


def _no_context_server() -> Any:
    from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

    return ServerPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True
    )


def main(names: list[str]) -> None:
    if shutil.which("tcpdump") is None:
        raise SystemExit("tcpdump is needed")
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    for name in names or list(SCENARIOS):
        spec = SCENARIOS[name]
        result = record(name, spec["port"], spec["run"], spec.get("iface", "lo"))
        conns = result if name == "multi_conn" else [result]
        file = f"{name}.pcap"
        if spec.get("gzip"):
            raw = HERE / file
            with open(raw, "rb") as src, gzip.open(HERE / (file + ".gz"), "wb", 9) as dst:
                shutil.copyfileobj(src, dst)
            raw.unlink()
            file += ".gz"
        manifest[name] = {
            "file": file,
            "library": spec["library"],
            "host": spec["host"],
            "port": spec["port"],
            "interface": spec.get("iface", "lo"),
            "connections": [{"client_sent": c, "server_echoes": True} for c in conns],
        }
        size = os.path.getsize(HERE / file)
        print(f"{file}: {size} bytes", file=sys.stderr)
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
