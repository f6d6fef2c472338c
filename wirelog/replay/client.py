"""Client replay: connect to a target and play a plan (asyncio).

This module and :mod:`wirelog.replay.server` open the sockets; the session
itself is :class:`~wirelog.replay.session.Runner`. A target that cannot be
reached (refused, no answer, TLS failure) is one
:class:`~wirelog.errors.TargetError` line, never a traceback or a hang.
"""

from __future__ import annotations

import asyncio
import ssl

from wirelog.errors import TargetError
from wirelog.replay.options import DEFAULT_TIMEOUT
from wirelog.replay.outcome import ReplayResult
from wirelog.replay.session import Runner
from wirelog.replay.steps import Plan
from wirelog.replay.target import Target
from wirelog.replay.transport import Wire


def ssl_context(insecure: bool) -> ssl.SSLContext:
    """The system's verification, or none at all with ``insecure`` (a
    self-signed test server)."""
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


#: Words for the errors asyncio raises without any (a peer that hangs up).
_NAMED = {
    ConnectionResetError: "connection reset",
    ConnectionAbortedError: "connection aborted",
    BrokenPipeError: "connection closed",
}


def connect_failure(exc: OSError, *, secure: bool) -> str:
    """Why a connection could not be made, in words, never empty. A peer
    that hangs up during a TLS handshake, or answers it with no TLS record,
    is most likely a plain ``ws://`` server."""
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or exc.strerror or str(exc) or type(exc).__name__
        hint = " (a plain ws:// server?)" if "WRONG_VERSION" in reason else ""
        return f"TLS failed: {reason}{hint}"
    said = exc.strerror or str(exc)
    if isinstance(exc, ConnectionRefusedError) or "refused" in said.lower():
        return "connection refused"
    said = said or next((w for t, w in _NAMED.items() if isinstance(exc, t)), type(exc).__name__)
    if secure and isinstance(exc, ConnectionError):
        return f"TLS failed: {said} during the TLS handshake (a plain ws:// server?)"
    return said


async def replay_client(
    plan: Plan,
    target: Target,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    insecure: bool = False,
    kind: type[Runner] = Runner,
) -> ReplayResult:
    """Connect to ``target`` and play ``plan`` (already edited for it);
    ``kind`` is the session (a :class:`~wirelog.replay.fuzzer.FuzzerRunner`
    reacts as Autobahn's fuzzer)."""
    loop = asyncio.get_running_loop()
    runner = kind(plan, timeout=timeout, label=f"replay:{target.peer}", peer=target.peer)
    ctx = ssl_context(insecure) if target.secure else None
    try:
        await asyncio.wait_for(
            loop.create_connection(
                lambda: Wire(runner),
                target.host,
                target.port,
                ssl=ctx,
                server_hostname=target.host if ctx else None,
            ),
            timeout,
        )
    except TimeoutError:
        tls = " (TCP and TLS handshakes)" if ctx else ""
        raise TargetError(target.peer, f"no connection within {timeout:g} s{tls}") from None
    except OSError as exc:
        raise TargetError(target.peer, connect_failure(exc, secure=ctx is not None)) from None
    await runner.run()
    return ReplayResult(plan, runner.conn, runner.outcome, target.peer)
