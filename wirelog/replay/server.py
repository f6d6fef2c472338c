"""Server mode: wait for a client and replay the server side of a recording.

The same :class:`~wirelog.replay.session.Runner` plays the plan; the only
edit is the 101's ``Sec-WebSocket-Accept``, fitted to the live client's key
(RFC 6455 §4.2.2), without which no client would go on. Everything else
(octets, chops, pauses, timers, who drops TCP) is as recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from wirelog.errors import TargetError
from wirelog.replay.options import DEFAULT_TIMEOUT
from wirelog.replay.outcome import ReplayResult
from wirelog.replay.session import Runner
from wirelog.replay.steps import Plan
from wirelog.replay.transport import Wire


class _Accepted(Wire):
    def __init__(self, runner: Runner, started: asyncio.Future[asyncio.Task[object]]) -> None:
        super().__init__(runner)
        self.runner = runner
        self.started = started

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        if peer:
            self.runner.peer = f"{peer[0]}:{peer[1]}"
        if not self.started.done():
            self.started.set_result(asyncio.ensure_future(self.runner.run()))
        else:  # one session per listen: later clients are turned away
            assert isinstance(transport, asyncio.Transport)
            transport.abort()


async def serve_once(
    plan: Plan,
    host: str,
    port: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ready: Callable[[str, int], None] | None = None,
) -> ReplayResult:
    """Listen, serve the first client, stop listening, return the result."""
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
        task = await started
        server.close()
        await task
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
    return ReplayResult(plan, runner.conn, runner.outcome, runner.peer)
