"""One replay session: play a :class:`~wirelog.replay.steps.Plan` on one
connection and record both directions (the state machine, over asyncio).

:class:`Runner` is what client and server replays share. It writes each
planned chunk as one ``send()`` and lets it leave before the next (see
:mod:`~wirelog.replay.transport`); it records everything that comes back
with timestamps, arms the Autobahn timers, and ends the connection the way
the recording did. The result is a new :class:`~wirelog.model.Connection`
(kind ``replay``) that the same decoder reads.

No wait is unbounded: causal waits share one ``timeout`` budget, the end of
the session has its own, and each fault (reset, stalled, never closed, not
a WebSocket answer) ends as a one-line outcome, never a hang. A stall ends
the session at once: nothing more is sent and nothing more is waited for.

Nothing past the handshake is sent before the peer's handshake is complete
(RFC 6455 §4.1: a client "MUST wait for a response from the server before
sending any further data"; a server answers a request it has read), so a
peer that stays silent, closes or answers with no HTTP head gets the
request and nothing else.

Memory and time are bounded whatever the peer sends: what it sends is kept
within the window of :mod:`~wirelog.replay.window`, and counted past it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
from collections.abc import Callable
from typing import Any

from wirelog.model import Chunk, CloseCode, Connection, Direction, Marker, MarkerKind, Opcode, Role
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import split_head
from wirelog.replay.head import answer_key, request_key
from wirelog.replay.options import DEFAULT_TIMEOUT
from wirelog.replay.outcome import Outcome
from wirelog.replay.progress import Need, Progress
from wirelog.replay.steps import Plan, Write
from wirelog.replay.transport import close, drain, pause_until
from wirelog.replay.window import Positions, Window

#: How long a replay whose recording does not say who closed waits for the
#: peer to close before closing itself.
UNKNOWN_END_GRACE = 0.5
#: What Autobahn's killAfter sends when it fails a connection (spec §3.6).
_GOING_AWAY = struct.pack("!H", CloseCode.GOING_AWAY) + b"Going Away"
#: How much of the peer's HTTP head is kept to read its status line and key.
_MAX_RX_HEAD = 65536


class Runner:
    """Plays one plan on one connection and records both directions."""

    def __init__(
        self,
        plan: Plan,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        label: str = "replay",
        peer: str = "",
        fit_accept: bool = False,
    ) -> None:
        self.plan = plan
        self.timeout = timeout
        self.peer = peer
        self.fit_accept = fit_accept
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
        self._positions = Positions()
        self._t0 = time.perf_counter()
        self._t0_ns = time.perf_counter_ns()
        self._epoch = time.time_ns()
        self._fired: dict[int, asyncio.Event] = {}
        self._deferred: int | None = None  # timers armed once the 101 is in (_writes)
        self._tasks: list[asyncio.Task[None]] = []
        self._budget = timeout
        self._rx_head = bytearray()
        self.window = Window(plan, self.progress, self.conn, self._positions, self.outcome.notes)
        self._rx_marks: list[tuple[float, Need]] = []
        """(perf time, peer progress) after each read, to anchor pauses."""
        self._last_write = 0.0
        self.eof = False
        self.lost = False
        self.abandoned = False
        """A timer the recording never needed sent a close: stop replaying."""
        self.gave_up = False
        """The peer stalled or answered what is no WebSocket handshake: the
        session ends at once, with nothing more sent or waited for."""

    # -- transport callbacks (the Endpoint of wirelog.replay.transport) -------

    def now(self) -> int:
        """Nanoseconds since the epoch, on a monotonic clock from the start."""
        return self._epoch + (time.perf_counter_ns() - self._t0_ns)

    def _next(self) -> int:
        return self._positions.next()

    def attach(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._t0 = self._last_write = time.perf_counter()
        self._t0_ns = time.perf_counter_ns()
        self._epoch = time.time_ns()
        self.conn.start_ts_ns = self._epoch

    def on_data(self, data: bytes) -> None:
        room = _MAX_RX_HEAD - len(self._rx_head)
        if not self.progress.head and room > 0:
            self._rx_head.extend(data[:room])
        if self.window.take(data, self.now()):
            self._rx_marks.append((time.perf_counter(), self.progress.need()))
        if self._deferred is not None and self.progress.upgraded:
            self._arm(self._deferred)
            self._deferred = None
        self.changed.set()

    def on_eof(self) -> None:
        if not self.eof:
            self.eof = True
            self._peer_dropped(MarkerKind.FIN)
        self.changed.set()

    def on_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, ConnectionResetError) and not self.outcome.dropped_by_me:
            self.outcome.reset_by_peer = True
            self._marker(MarkerKind.RST, Direction.RX)
            if not self.eof:
                self._marker(MarkerKind.DROPPED, Direction.RX)
        elif not self.eof and not self.outcome.dropped_by_me:
            self._peer_dropped(MarkerKind.FIN)
        self.eof = True
        self.lost = True
        self.writable.set()
        self.changed.set()
        self.done.set()

    def _peer_dropped(self, kind: MarkerKind) -> None:
        self.outcome.eof_by_peer = True
        self._marker(kind, Direction.RX)
        self._marker(MarkerKind.DROPPED, Direction.RX)

    def _drop(self, *, reset: bool) -> None:
        """We drop TCP: a FIN, or a reset when ``reset``."""
        self.outcome.dropped_by_me = True
        self._marker(MarkerKind.RST if reset else MarkerKind.FIN, Direction.TX)
        self._marker(MarkerKind.DROPPED, Direction.TX)
        close(self.transport, abort=reset)

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
            close(self.transport, abort=not self.eof)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.done.wait(), 0.5)
            self.outcome.duration = time.perf_counter() - start
            self.conn.meta.update(self._meta())
        return self.outcome

    def _meta(self) -> dict[str, Any]:
        return {
            "isServer": self.plan.role is Role.SERVER,
            **self.outcome.meta(),
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
            # Release the writes gated on it: they see the end and stop (a
            # peer's FIN alone never sets ``done``, so they would wait forever).
            self._fired[i].set()
            return
        self._marker(t.fired_kind, None)
        if t.fired:
            self._fired[i].set()  # releases the writes the recording sent next
            return
        # Autobahn's safety nets (spec §3.6), which the recorded session never
        # needed: closeAfter sends an empty close, killAfter fails the
        # connection (close 1001, or a drop once a close was sent).
        if t.kind is MarkerKind.DELAY:
            return
        kill = t.kind is MarkerKind.KILL_AFTER
        self.outcome.notes.append(
            f"{'FAIL CONNECTION' if kill else 'CLOSE CONNECTION'} "
            f"AFTER {t.delay:g} s fired, which it did not in the recording"
        )
        if self.own.close_seen:
            if kill:  # already CLOSING: drop TCP
                self._drop(reset=False)
            return
        payload = _GOING_AWAY if kill else b""
        mask = os.urandom(4) if self.plan.role is Role.CLIENT else None
        # Like the fuzzer, which is CLOSING now, send no more recorded frames.
        self.abandoned = True
        self.changed.set()
        await self._send(encode_frame(Opcode.CLOSE, payload, mask=mask))

    async def _until(self, done: Callable[[], bool], deadline: float) -> None:
        """Wake on each change until ``done()`` or the ``perf_counter`` deadline."""
        while not done():
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    def _refused(self) -> bool:
        """The peer's handshake can no longer complete: a head with no end,
        or a status other than 101."""
        status = self.progress.handshake_status
        return self.progress.no_head is not None or status not in (None, 101)

    async def _wait(self, need: Need, what: str, *, upgraded: bool = False) -> bool:
        """Wait for the peer to reach ``need`` (and, with ``upgraded``, to
        complete its handshake); False if it stalled or cannot."""

        def ready() -> bool:
            return self.progress.satisfies(need) and (not upgraded or self.progress.upgraded)

        if ready():
            return True
        deadline = time.perf_counter() + self._budget
        await self._until(
            lambda: ready() or self.eof or self.abandoned or self._refused(), deadline
        )
        self._budget = max(0.0, deadline - time.perf_counter())
        if ready():
            return True
        if self.eof or self.abandoned:
            return False
        no_head = self.progress.no_head
        if no_head is not None:
            what = "answer" if self.plan.role is Role.CLIENT else "request"
            self.outcome.faults.append(f"not a WebSocket {what}: {no_head}")
        elif self._short() and not self.outcome.short:
            # An upgraded peer, at a frame boundary, that simply answered
            # less than the recording did behaves differently; it is not
            # broken (issue 13 item 4).
            self.outcome.short = True
            self.outcome.notes.append(
                f"short: the {self.plan.role.other.value} answered less than recorded "
                f"(waited {self.timeout:g} s for {need.describe()} before {what}, "
                f"got {self.progress.describe()})"
            )
        elif not self._refused() and not self.outcome.stalled and not self.outcome.short:
            self.outcome.stalled = True
            self.outcome.faults.append(
                f"stalled: no answer within {self.timeout:g} s while waiting for "
                f"{need.describe()} before {what} (got {self.progress.describe()})"
            )
        return False

    def _short(self) -> bool:
        """The peer completed its handshake and its stream ends on a whole
        frame: it is alive and well-formed, it only sent fewer answers."""
        p = self.progress
        return p.upgraded and p.extra == 0 and not p.lost and not self._refused()

    def _handshake_cut(self) -> bool:
        """The peer completed its handshake in the recording, not here."""
        return self.plan.handshake and self.plan.final.head and not self.progress.upgraded

    def _gated(self, w: Write) -> bool:
        """Whether ``w`` waits for the peer's handshake: a client's writes
        after its own head (RFC 6455 §4.1), all of a server's."""
        return self.plan.handshake and (self.plan.role is Role.SERVER or not w.head)

    async def _writes(self) -> None:
        writes = self.plan.writes
        for n, w in enumerate(writes):
            # Autobahn arms its timers in onOpen or later: a client's, once the 101 is in.
            if self.plan.role is Role.SERVER or not self._gated(w) or self.progress.upgraded:
                self._arm(n)
            else:
                self._deferred = n
            if w.gate is not None:
                ev = self._fired.get(w.gate)
                if ev is not None:
                    await self._gate(ev)
            if self.eof or self.abandoned:
                break
            gated = self._gated(w)
            ok = await self._wait(w.need, f"chunk {w.index}", upgraded=gated)
            if self._not_websocket():
                self.gave_up = True
                break
            if self.eof or self.abandoned:
                break
            if not ok:
                self.gave_up = True
                break
            if w.delay > 0:
                await pause_until(self._anchor(w.need) + w.delay)
            if not await self._send(self._prepare(w)):
                break
            self.outcome.writes_sent += 1
        else:
            self._arm(len(writes))
        left = self.outcome.writes_planned - self.outcome.writes_sent
        o = self.outcome
        if left and self.eof and not o.reset_by_peer and self._handshake_cut():
            o.faults.append(
                f"closed: the {self.plan.role.other.value} dropped TCP before completing "
                f"the handshake (got {self.progress.describe()})"
            )
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
            line, _ = split_head(bytes(self._rx_head))
            self.outcome.notes.append(f"not upgraded: the server answered {line[:80]!r}")
            return True
        return False

    def _prepare(self, w: Write) -> bytes:
        if self.fit_accept and w.head and self.plan.role is Role.SERVER:
            key = request_key(bytes(self._rx_head))
            if key is not None:
                return answer_key((w,), key)[0].data
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
        left = await drain(tr, self.timeout, lambda: self.lost)
        self._last_write = time.perf_counter()
        if left and not self.lost and not self.outcome.stalled:
            self.outcome.stalled = self.gave_up = True
            self.outcome.faults.append(
                f"stalled: the {self.plan.role.other.value} did not read our write within "
                f"{self.timeout:g} s ({left} of {len(data)} octets not sent)"
            )
            return False
        return not self.lost

    async def _end(self) -> None:
        """Close as the recording did: wait for the peer's drop when it
        dropped first, otherwise for its last recorded answer, then drop."""
        plan = self.plan
        if self.gave_up:
            self._drop(reset=self.outcome.stalled)
            return
        if plan.dropped_by is plan.role:
            await self._wait(plan.final, "the end of the session")
            if plan.end_delay > 0 and not self.eof:
                await pause_until(self._anchor(plan.final) + plan.end_delay)
            if not self.eof:
                self._drop(reset=plan.reset)
            return
        grace = self.timeout
        if plan.dropped_by is None:
            # The recording does not say who closed (a capture that stopped
            # early): take the peer's last recorded answer, give it a moment
            # to close on its own, then close as a client would.
            await self._wait(plan.final, "the end of the session")
            grace = min(self.timeout, UNKNOWN_END_GRACE)
        await self._until(lambda: self.eof, time.perf_counter() + grace)
        if self.eof:
            return
        if plan.dropped_by is None:
            self._drop(reset=False)
            return
        peer = plan.role.other
        self.outcome.never_closed = True
        self.outcome.faults.append(
            f"never closed: the {peer.value} did not drop TCP within {self.timeout:g} s"
            " as it did in the recording"
        )
        self._drop(reset=True)
