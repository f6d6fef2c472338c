"""Execute a :class:`~wirelog.replay.plan.Plan` over TCP (asyncio).

This module and :mod:`wirelog.replay.server` are the only asyncio users.
:class:`Runner` is the engine both share: it writes each planned chunk as
one ``send()`` with TCP_NODELAY and waits until the kernel has put it on the
wire (``SIOCOUTQNSD`` reaches 0) before the next one, so recorded chops leave
as separate segments; it records everything that comes back with
timestamps, arms the Autobahn timers, and ends the connection the way the
recording did. The result is a new :class:`~wirelog.model.Connection`
(kind ``replay``) that the same decoder reads.

No wait is unbounded: causal waits share one ``timeout`` budget, the end of
the session has its own, and each fault (refused, reset, stalled, never
closed, not a WebSocket answer) ends as a one-line outcome, never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from wirelog.errors import TargetError, UsageError
from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Recording, Role
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for
from wirelog.replay.plan import Need, Plan, Progress, Write, edit_head, new_key, request_key

SIOCOUTQNSD = 0x894B
"""Linux ioctl: octets in the send queue not yet sent (``linux/sockios.h``)."""

DEFAULT_TIMEOUT = 3.0
#: How long a replay whose recording does not say who closed waits for the
#: peer to close before closing itself.
UNKNOWN_END_GRACE = 0.5


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int

    @property
    def peer(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def secure(self) -> bool:
        return self.scheme == "wss"


def parse_target(url: str) -> Target:
    """``ws://host:port/`` or ``wss://host:port/``; host and port are required
    so that nothing is ever sent to a place the user did not name."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise UsageError(f"target {url!r}: the scheme must be ws:// or wss://")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise UsageError(f"target {url!r}: give both host and port, e.g. ws://127.0.0.1:9001/")
    return Target(parts.scheme, parts.hostname, port)


def parse_listen(spec: str) -> tuple[str, int]:
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise UsageError(f"--listen {spec!r}: expected HOST:PORT, e.g. 127.0.0.1:9001")
    return host.strip("[]"), int(port)


@dataclass(slots=True)
class Outcome:
    """What happened, in words and flags the verdict reads."""

    notes: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    """Target misbehaviour that ended the replay early or made it wait out
    a timeout (reset, stall, never closed)."""
    stalled: bool = False
    never_closed: bool = False
    reset_by_peer: bool = False
    eof_by_peer: bool = False
    dropped_by_me: bool = False
    writes_sent: int = 0
    writes_planned: int = 0
    duration: float = 0.0


@dataclass(slots=True)
class ReplayResult:
    plan: Plan
    connection: Connection
    outcome: Outcome
    target: str

    @property
    def recording(self) -> Recording:
        return Recording(
            source=self.connection.source, kind="replay", connections=[self.connection]
        )


class _Wire(asyncio.Protocol):
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert isinstance(transport, asyncio.Transport)
        self.runner.attach(transport)

    def data_received(self, data: bytes) -> None:
        self.runner.on_data(data)

    def eof_received(self) -> bool:
        self.runner.on_eof()
        return True  # keep our half open: the runner decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self.runner.on_lost(exc)

    def pause_writing(self) -> None:
        self.runner.writable.clear()

    def resume_writing(self) -> None:
        self.runner.writable.set()


class Runner:
    """Plays one plan on one connection and records both directions."""

    def __init__(
        self,
        plan: Plan,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        label: str = "replay",
        peer: str = "",
        answer_key: bool = False,
    ) -> None:
        self.plan = plan
        self.timeout = timeout
        self.peer = peer
        self.answer_key = answer_key
        """Server mode: fit the 101's accept value to the live client's key."""
        self.transport: asyncio.Transport | None = None
        self.progress = Progress(plan.role.other, handshake=plan.handshake)
        self.own = Progress(plan.role, handshake=plan.handshake)
        self.changed = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.done = asyncio.Event()
        self.outcome = Outcome(writes_planned=len(plan.writes))
        self.conn = Connection(conn=plan.conn, source=label, recorder=plan.role)
        self._index = 0
        self._t0 = time.perf_counter()
        self._epoch = time.time()
        self._fired: dict[int, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._budget = timeout
        self._rx_head = bytearray()
        self._rx_marks: list[tuple[float, Need]] = []
        """(perf time, peer progress) after each read, to anchor pauses."""
        self._last_write = 0.0
        self.eof = False
        self.lost = False
        self.abandoned = False
        """A timer the recording never needed sent a close: stop replaying."""

    # -- transport callbacks -------------------------------------------------

    def now(self) -> float:
        return self._epoch + (time.perf_counter() - self._t0)

    def _next(self) -> int:
        i = self._index
        self._index += 1
        return i

    def attach(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._t0 = self._last_write = time.perf_counter()
        self._epoch = time.time()
        self.conn.start_ts = self._epoch

    def on_data(self, data: bytes) -> None:
        peer_dir = Direction.RX
        self.conn.chunks.append(Chunk(peer_dir, data, len(data), self._next(), self.now()))
        if not self.progress.head and len(self._rx_head) < 65536:
            self._rx_head.extend(data)
        self.progress.feed(data)
        self._rx_marks.append((time.perf_counter(), self.progress.need()))
        self.changed.set()

    def on_eof(self) -> None:
        if not self.eof:
            self.eof = True
            self.outcome.eof_by_peer = True
            self._marker(MarkerKind.FIN, Direction.RX)
            self._marker(MarkerKind.DROPPED, Direction.RX)
        self.changed.set()

    def on_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, ConnectionResetError) and not self.outcome.dropped_by_me:
            self.outcome.reset_by_peer = True
            self._marker(MarkerKind.RST, Direction.RX)
            if not self.eof:
                self._marker(MarkerKind.DROPPED, Direction.RX)
        elif not self.eof and not self.outcome.dropped_by_me:
            self.outcome.eof_by_peer = True
            self._marker(MarkerKind.FIN, Direction.RX)
            self._marker(MarkerKind.DROPPED, Direction.RX)
        self.eof = True
        self.lost = True
        self.writable.set()
        self.changed.set()
        self.done.set()

    def _marker(
        self, kind: MarkerKind, direction: Direction | None, value: float | None = None
    ) -> None:
        self.conn.markers.append(Marker(kind, self._next(), direction, self.now(), value))

    # -- the plan --------------------------------------------------------------

    async def run(self) -> Outcome:
        start = time.perf_counter()
        try:
            await self._writes()
            if not self.lost:
                await self._end()
        finally:
            for t in self._tasks:
                t.cancel()
            for t in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            # After the peer's FIN a plain close answers it; otherwise (a
            # timeout, an error) abort so nothing lingers.
            self._close(abort=not self.eof)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.done.wait(), 0.5)
            self.outcome.duration = time.perf_counter() - start
            self.conn.meta.update(self._meta())
        return self.outcome

    def _meta(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "isServer": self.plan.role is Role.SERVER,
            "droppedByMe": o.dropped_by_me,
            "resetByPeer": o.reset_by_peer,
            "stalled": o.stalled,
            "neverClosed": o.never_closed,
            "notes": list(o.notes),
            "faults": list(o.faults),
            "writesSent": o.writes_sent,
            "writesPlanned": o.writes_planned,
            "replayOf": f"{self.plan.source}#{self.plan.conn}",
            "target": self.peer,
        }

    def _arm(self, count: int) -> None:
        for i, t in enumerate(self.plan.timers):
            if t.after == count and i not in self._fired:
                self._fired[i] = asyncio.Event()
                self._marker(t.kind, None, t.delay)
                self._tasks.append(asyncio.ensure_future(self._timer(i)))

    async def _timer(self, i: int) -> None:
        t = self.plan.timers[i]
        await asyncio.sleep(t.delay)
        if self.lost or self.eof:
            return
        fired = {
            MarkerKind.DELAY: MarkerKind.DELAY_FIRED,
            MarkerKind.KILL_AFTER: MarkerKind.KILL_FIRED,
            MarkerKind.CLOSE_AFTER: MarkerKind.CLOSE_FIRED,
        }[t.kind]
        self._marker(fired, None)
        if t.fired:
            self._fired[i].set()  # releases the writes the recording sent next
            return
        # Autobahn's safety nets (spec §3.6), which the recorded session never
        # needed: closeAfter sends an empty close, killAfter fails the
        # connection (close 1001, or a drop once a close was sent).
        if t.kind is MarkerKind.DELAY:
            return
        self.outcome.notes.append(
            f"{'FAIL CONNECTION' if t.kind is MarkerKind.KILL_AFTER else 'CLOSE CONNECTION'} "
            f"AFTER {t.delay:g} s fired, which it did not in the recording"
        )
        if self.own.close_seen:
            if t.kind is MarkerKind.KILL_AFTER:  # already CLOSING: drop TCP
                self.outcome.dropped_by_me = True
                self._marker(MarkerKind.FIN, Direction.TX)
                self._marker(MarkerKind.DROPPED, Direction.TX)
                self._close(abort=False)
            return
        payload = b"" if t.kind is MarkerKind.CLOSE_AFTER else b"\x03\xe9Going Away"
        mask = os.urandom(4) if self.plan.role is Role.CLIENT else None
        # Like the fuzzer, which is CLOSING now, send no more recorded frames.
        self.abandoned = True
        self.changed.set()
        await self._send(encode_frame(8, payload, mask=mask))

    async def _wait(self, need: Need, what: str) -> bool:
        """Wait for the peer to reach ``need``; False if it stalled."""
        if self.progress.satisfies(need):
            return True
        deadline = time.perf_counter() + self._budget
        while not self.progress.satisfies(need) and not self.eof and not self.abandoned:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        self._budget = max(0.0, deadline - time.perf_counter())
        if self.progress.satisfies(need):
            return True
        if not self.eof and not self.abandoned and not self.outcome.stalled:
            self.outcome.stalled = True
            self.outcome.faults.append(
                f"stalled: no answer within {self.timeout:g} s while waiting for "
                f"{need.describe()} before {what} (got {self.progress.describe()})"
            )
        return False

    async def _writes(self) -> None:
        writes = self.plan.writes
        for n, w in enumerate(writes):
            self._arm(n)
            if w.gate is not None:
                ev = self._fired.get(w.gate)
                if ev is not None:
                    await self._gate(ev)
            if self.eof or self.abandoned:
                break
            await self._wait(w.need, f"chunk {w.index}")
            if self.eof or self.abandoned:
                break
            if self._not_websocket():
                break
            if w.delay > 0:
                await _pause_until(self._anchor(w.need) + w.delay)
            data = self._prepare(w)
            if not await self._send(data):
                break
            self.outcome.writes_sent += 1
        else:
            self._arm(len(writes))
        left = self.outcome.writes_planned - self.outcome.writes_sent
        if left:
            who = "reset" if self.outcome.reset_by_peer else "closed"
            if self.eof:
                self.outcome.notes.append(
                    f"the peer {who} the connection before {left} recorded write(s)"
                )
            elif self.abandoned:
                self.outcome.notes.append(f"{left} recorded write(s) not sent after that close")

    def _anchor(self, need: Need) -> float:
        """When the recorded pause starts: after our previous write, or when
        the answer it followed arrived, whichever came later."""
        at = self._last_write
        if not need.none:
            for when, snap in self._rx_marks:
                if snap.covers(need):
                    at = max(at, when)
                    break
        return at

    async def _gate(self, ev: asyncio.Event) -> None:
        waiter = asyncio.ensure_future(ev.wait())
        closer = asyncio.ensure_future(self.done.wait())
        try:
            await asyncio.wait({waiter, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            closer.cancel()

    def _not_websocket(self) -> bool:
        """A peer that refused the upgrade gets nothing more, as a real client
        would send nothing more (RFC 6455 §4.1)."""
        hs = self.progress.handshake_status
        if self.plan.role is Role.CLIENT and hs is not None and hs != 101:
            line = bytes(self._rx_head).split(b"\r\n", 1)[0].decode("latin-1", "replace")
            self.outcome.notes.append(f"not upgraded: the server answered {line[:80]!r}")
            return True
        return False

    def _prepare(self, w: Write) -> bytes:
        if self.answer_key and w.head and self.plan.role is Role.SERVER:
            key = request_key(bytes(self._rx_head))
            if key is not None:
                single = Plan(
                    self.plan.source, self.plan.conn, self.plan.role, self.plan.direction, (w,)
                )
                return edit_head(single, {"Sec-WebSocket-Accept": accept_for(key)}).writes[0].data
        return w.data

    async def _send(self, data: bytes) -> bool:
        tr = self.transport
        if tr is None or self.lost or tr.is_closing():
            return False
        ts = self.now()
        try:
            tr.write(data)
        except (OSError, RuntimeError):
            return False
        self.conn.chunks.append(Chunk(Direction.TX, data, len(data), self._next(), ts))
        self.own.feed(data)
        await self._drain(tr)
        self._last_write = time.perf_counter()
        return not self.lost

    async def _drain(self, tr: asyncio.Transport) -> None:
        """Wait until the octets have left: asyncio's buffer is empty and the
        kernel has nothing unsent, so the next write starts a new segment."""
        deadline = time.perf_counter() + self.timeout
        spins = 0
        sock = tr.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
        while not self.lost and time.perf_counter() < deadline:
            if tr.get_write_buffer_size() == 0 and _unsent(fd) == 0:
                return
            spins += 1
            await asyncio.sleep(0 if spins < 20 else 0.0005)

    async def _end(self) -> None:
        """Close as the recording did: wait for the peer's drop when it
        dropped first, otherwise for its last recorded answer, then drop."""
        plan = self.plan
        peer = plan.role.other
        if plan.dropped_by is plan.role:
            await self._wait(plan.final, "the end of the session")
            if plan.end_delay > 0 and not self.eof:
                await _pause_until(self._anchor(plan.final) + plan.end_delay)
            if not self.eof:
                self.outcome.dropped_by_me = True
                self._marker(MarkerKind.RST if plan.reset else MarkerKind.FIN, Direction.TX)
                self._marker(MarkerKind.DROPPED, Direction.TX)
                self._close(abort=plan.reset)
            return
        grace = self.timeout
        if plan.dropped_by is None:
            # The recording does not say who closed (a capture that stopped
            # early): take the peer's last recorded answer, give it a moment
            # to close on its own, then close as a client would.
            await self._wait(plan.final, "the end of the session")
            grace = min(self.timeout, UNKNOWN_END_GRACE)
        deadline = time.perf_counter() + grace
        while not self.eof:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        if not self.eof:
            if plan.dropped_by is None:
                self.outcome.dropped_by_me = True
                self._marker(MarkerKind.FIN, Direction.TX)
                self._marker(MarkerKind.DROPPED, Direction.TX)
                self._close(abort=False)
                return
            if plan.dropped_by is peer:
                self.outcome.never_closed = True
                self.outcome.faults.append(
                    f"never closed: the {peer.value} did not drop TCP within {self.timeout:g} s"
                    " as it did in the recording"
                )
            self.outcome.dropped_by_me = True
            self._marker(MarkerKind.RST, Direction.TX)
            self._marker(MarkerKind.DROPPED, Direction.TX)
            self._close(abort=True)

    def _close(self, abort: bool) -> None:
        tr = self.transport
        if tr is None or tr.is_closing():
            return
        if abort:
            tr.abort()
        else:
            with contextlib.suppress(OSError, RuntimeError):
                if tr.can_write_eof():
                    tr.write_eof()
            tr.close()


#: The loop's timer wakes up to a few ms late (epoll has millisecond
#: resolution, and a VM adds jitter): the last stretch is yielded away instead.
_SPIN = 0.003


async def _pause_until(deadline: float) -> None:
    """Sleep until a ``perf_counter`` deadline, to well under a millisecond:
    the loop's timer sleeps most of it, the rest is yielded away."""
    left = deadline - time.perf_counter()
    if left > _SPIN:
        await asyncio.sleep(left - _SPIN)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0)


def _unsent(fd: int) -> int:
    if fd < 0:
        return 0
    try:
        raw = fcntl.ioctl(fd, SIOCOUTQNSD, b"\0\0\0\0")
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])


def client_plan(plan: Plan, target: Target, *, keep_host: bool, fresh_key: bool) -> Plan:
    """The handshake edits a client replay makes: Host to the target (so
    virtual hosts route as they did), and optionally a new key."""
    edits: dict[str, str] = {}
    if not keep_host:
        default = 443 if target.secure else 80
        edits["Host"] = target.peer if target.port != default else target.host
    if fresh_key:
        edits["Sec-WebSocket-Key"] = new_key()
    return edit_head(plan, edits)


def ssl_context(insecure: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def replay_client(
    plan: Plan,
    target: Target,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    insecure: bool = False,
) -> ReplayResult:
    """Connect to ``target`` and play ``plan`` (already edited for it)."""
    loop = asyncio.get_running_loop()
    runner = Runner(plan, timeout=timeout, label=f"replay:{target.peer}", peer=target.peer)
    ctx = ssl_context(insecure) if target.secure else None
    try:
        await asyncio.wait_for(
            loop.create_connection(
                lambda: _Wire(runner),
                target.host,
                target.port,
                ssl=ctx,
                server_hostname=target.host if ctx else None,
            ),
            timeout,
        )
    except TimeoutError:
        raise TargetError(target.peer, f"no connection within {timeout:g} s") from None
    except ssl.SSLError as exc:
        raise TargetError(target.peer, f"TLS failed: {exc.reason or exc}") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, ConnectionRefusedError) or "refused" in reason.lower():
            reason = "connection refused"
        raise TargetError(target.peer, reason) from None
    await runner.run()
    return ReplayResult(plan, runner.conn, runner.outcome, target.peer)
