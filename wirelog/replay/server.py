"""Server mode: wait for a client and replay the server side of a recording.

The same :class:`~wirelog.replay.session.Runner` plays the plan; the only
edit is the 101's ``Sec-WebSocket-Accept``, fitted to the live client's key
(RFC 6455 §4.2.2), without which no client would go on. Everything else
(octets, chops, pauses, timers, who drops TCP) is as recorded.

One listen serves one client: a client that connects while the session
runs gets a 503 and is closed, and never touches the session (its octets
would otherwise land in the first client's recording). The wait for the
first client is bounded by ``accept_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from wirelog.errors import TargetError
from wirelog.replay.options import DEFAULT_ACCEPT_TIMEOUT, DEFAULT_TIMEOUT
from wirelog.replay.outcome import ReplayResult
from wirelog.replay.session import Runner
from wirelog.replay.steps import Plan
from wirelog.replay.transport import Wire

#: What a client gets that connects while another one is being served.
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class _Accepted(Wire):
    """The first client's connection feeds the session; any later one is
    turned away before it can reach it."""

    def __init__(self, runner: Runner, started: asyncio.Future[asyncio.Task[object]]) -> None:
        super().__init__(runner)
        self.runner = runner
        self.started = started
        self.turned_away = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self.started.done():
            self.turned_away = True
            transport.write(BUSY)
            transport.close()
            return
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        if peer:
            self.runner.peer = f"{peer[0]}:{peer[1]}"
        self.started.set_result(asyncio.ensure_future(self.runner.run()))

    def data_received(self, data: bytes) -> None:
        if not self.turned_away:
            super().data_received(data)

    def eof_received(self) -> bool:
        return False if self.turned_away else super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.turned_away:
            super().connection_lost(exc)

    def pause_writing(self) -> None:
        if not self.turned_away:
            super().pause_writing()

    def resume_writing(self) -> None:
        if not self.turned_away:
            super().resume_writing()


async def serve_once(
    plan: Plan,
    host: str,
    port: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    accept_timeout: float = DEFAULT_ACCEPT_TIMEOUT,
    ready: Callable[[str, int], None] | None = None,
) -> ReplayResult:
    """Listen, serve the first client, stop listening, return the result;
    no client within ``accept_timeout`` seconds is a
    :class:`~wirelog.errors.TargetError`."""
    loop = asyncio.get_running_loop()
    started: asyncio.Future[asyncio.Task[object]] = loop.create_future()
    runner = Runner(plan, timeout=timeout, label=f"replay-server:{host}:{port}", fit_accept=True)
    try:
        server = await loop.create_server(
            lambda: _Accepted(runner, started), host, port, reuse_address=True
        )
    except OSError as exc:
        raise TargetError(f"{host}:{port}", f"cannot listen: {exc.strerror or exc}") from None
    try:
        bound = server.sockets[0].getsockname()
        if ready is not None:
            ready(bound[0], bound[1])
        try:
            task = await asyncio.wait_for(started, accept_timeout)
        except TimeoutError:
            where = f"{bound[0]}:{bound[1]}"
            raise TargetError(where, f"no client connected within {accept_timeout:g} s") from None
        server.close()
        await task
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
    return ReplayResult(plan, runner.conn, runner.outcome, runner.peer)
