"""Test peers for suite runs on 127.0.0.1, beside the shared ones of
``tests/servers.py``: aiohttp's echo server, and a deliberately broken echo
server that sends every data frame back as it came, never checking UTF-8
(nor anything else a WebSocket endpoint must check)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

from servers import LoopbackServer, _read_head, _upgrade

from wirelog.protocol.frames import encode_frame


@contextlib.contextmanager
def aiohttp_echo() -> Iterator[str]:
    """aiohttp's WebSocket echo server in a thread; yields its URL."""
    from aiohttp import WSMsgType, web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        app = web.Application()
        app.router.add_get("/", echo)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    assert ready.wait(10), "aiohttp did not start"
    try:
        yield f"ws://127.0.0.1:{holder['port']}/"
    finally:
        runner = holder["runner"]
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)  # type: ignore[attr-defined]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class NoUtf8Echo(LoopbackServer):
    """Echoes data frames unchanged (so invalid UTF-8 comes back as it
    went), answers pings, answers a close and drops TCP."""

    def __init__(self) -> None:
        super().__init__("no-utf8")

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(_upgrade(_read_head(conn)))
            conn.settimeout(0.2)
            buf = b""
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                buf += data
                while (frame := _frame(buf)) is not None:
                    _head, op, fin, payload, used = frame
                    buf = buf[used:]
                    if op == 9:
                        conn.sendall(encode_frame(10, payload))
                    elif op == 8:
                        conn.sendall(encode_frame(8, payload[:2]))
                        conn.close()
                        return
                    elif op in (0, 1, 2):
                        conn.sendall(encode_frame(op, payload, fin=fin))


def _frame(buf: bytes) -> tuple[int, int, bool, bytes, int] | None:
    """One masked client frame from the start of ``buf``, if complete."""
    if len(buf) < 2:
        return None
    n, pos = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, pos = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, pos = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < pos + 4 + n:
        return None
    mask = buf[pos : pos + 4]
    raw = buf[pos + 4 : pos + 4 + n]
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(raw))
    return buf[0], buf[0] & 0x0F, bool(buf[0] & 0x80), payload, pos + 4 + n
