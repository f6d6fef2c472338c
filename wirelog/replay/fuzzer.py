"""A replay that reacts as Autobahn's fuzzer does (spec §3.3, §3.6).

A plain replay sends what the recording holds and nothing else. The fuzzer
also answers on its own: it answers every ping with a pong (RFC 6455
§5.5.2) and a peer's close with a close echoing its code (§5.5.1, §7.1.2:
"it MUST send a Close frame in response"), and as the server it drops TCP
once both closes went by. A target that closes where the
recorded peer only dropped TCP, or pings where it did not, must get those
answers, or it waits for them and the run judges a timeout instead of the
target. :class:`FuzzerRunner` is the :class:`~wirelog.replay.session.Runner`
with those reactions; after answering a close it sends no more recorded
frames (the fuzzer is CLOSING, as after its own timers).

It also keeps Autobahn's two protocol timeouts (spec §3.6), which decide
how long a case lasts against a peer that stops playing along, and two of
its report's keys:

* ``closeHandshakeTimeout``: once the fuzzer's own close went out, the peer
  has 1 s to send its close; else the fuzzer aborts (RST) and the report
  says ``wasCloseHandshakeTimeout``.
* ``serverConnectionDropTimeout`` (fuzzing client only): once the closing
  handshake is done on the fuzzer's side (its close answered, or both
  closes went by), the server has 1 s to drop TCP; else the fuzzer aborts
  and the report says ``wasServerConnectionDropTimeout``. The answer counts
  as sent when it is queued, as in Autobahn's send queue: a server that
  closed and stopped reading in the middle of a long write (9.3.x against a
  fragment limit) gets 1 s, not the case's 100 s.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from wirelog.model import Opcode, Role
from wirelog.protocol.frames import encode_frame
from wirelog.replay.session import Runner
from wirelog.replay.transport import unsent

#: Autobahn's factory defaults (spec §3.6), in seconds.
CLOSE_HANDSHAKE_TIMEOUT = 1.0
SERVER_CONNECTION_DROP_TIMEOUT = 1.0


class FuzzerRunner(Runner):
    """A :class:`Runner` that answers pings and closes (module docstring).

    An answer never goes inside one of its own frames: a peer that fails
    the connection while the fuzzer writes a frame octet by octet (5.x,
    6.x chop the frames) gets the answer once that frame is complete, as
    Autobahn's send queue writes it. Inserted mid-frame, the close would be
    read as payload: neither side would see it, nor drop TCP, and the case
    would last until the kill timer and the end-of-session timeout.
    """

    _answered_pings = 0
    _answered_close = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: list[bytes] = []
        """Answers waiting for the end of the frame being written."""
        self._held_close = False
        self._close_timer: asyncio.TimerHandle | None = None
        self._drop_timer: asyncio.TimerHandle | None = None

    def _mask(self) -> bytes | None:
        return os.urandom(4) if self.plan.role is Role.CLIENT else None

    def on_data(self, data: bytes) -> None:
        super().on_data(data)
        peer = self.progress
        while self._answered_pings < len(peer.pings):
            ping = peer.pings[self._answered_pings]
            self._answered_pings += 1
            if not self.own.close_seen and not self._answered_close:
                self._held.append(encode_frame(Opcode.PONG, ping, mask=self._mask()))
                self.outcome.notes.append("answered the peer's ping")
        if peer.close_seen and not self._answered_close and not self.own.close_seen:
            self._answered_close = self._held_close = True
            body = peer.close_payload or b""
            # Echo the code only: a reason from the peer is its own.
            self._held.append(encode_frame(Opcode.CLOSE, body[:2], mask=self._mask()))
            self.outcome.notes.append("answered the peer's close")
            self._handshake_done()
        if self._held and self._between_frames():
            if self._held_close:
                self.abandoned = True
                self.changed.set()
            self._tasks.append(asyncio.ensure_future(self._flush()))
        elif not self._held and peer.close_seen and self.own.close_seen:
            self._closed()
        if peer.close_seen and self.own.close_seen:
            self._handshake_done()

    def _between_frames(self) -> bool:
        """Our own stream ends on a whole frame or on our HTTP head (no
        answer goes before the head: the peer could not read it)."""
        return (self.own.head and self.own.extra == 0) or self.own.close_seen

    async def _send(self, data: bytes) -> bool:
        # Runs once the write is queued and fed to our own progress, while
        # the send waits for the kernel: when Autobahn counts a close sent.
        if self._close_timer is None and not self._answered_close:
            asyncio.get_running_loop().call_soon(self._queued)
        ok = await super()._send(data)
        if ok and self._held and self._between_frames():
            await self._flush()  # the frame the answers waited for is complete
        return ok

    async def _flush(self) -> None:
        if not self._held:
            return
        if not self._between_frames() and not self.abandoned:
            return  # a recorded write started a frame since: it sends them
        data = b"".join(self._held)
        self._held.clear()
        if self._held_close:
            # Like the fuzzer, CLOSING now: no more recorded frames.
            self.abandoned = True
            self.changed.set()
        await super()._send(data)
        if self.progress.close_seen and self.own.close_seen:
            self._closed()

    def on_eof(self) -> None:
        super().on_eof()
        # Autobahn's reactor loses the whole connection at the peer's FIN,
        # whatever it had still to send: a peer that failed the connection
        # mid-message and half-closed must not be waited for to read it.
        tr = self.transport
        if tr is None or self.lost or self.outcome.dropped_by_me:
            return
        sock = tr.get_extra_info("socket")
        if tr.get_write_buffer_size() or (sock is not None and unsent(sock.fileno())):
            self._abort("the peer dropped TCP before reading all we sent: aborted")

    def _queued(self) -> None:
        """A write of ours is queued: if it held our own close (not an
        answer), the peer's close is due within closeHandshakeTimeout."""
        ours = self.own.close_seen and not self._answered_close
        if self._close_timer is None and ours and not self.progress.close_seen:
            self._close_timer = self._later(CLOSE_HANDSHAKE_TIMEOUT, self._close_timeout)

    def _handshake_done(self) -> None:
        """The closing handshake is done on our side: a fuzzing client gives
        the server serverConnectionDropTimeout to drop TCP."""
        if self._drop_timer is None and self.plan.role is Role.CLIENT:
            self._drop_timer = self._later(SERVER_CONNECTION_DROP_TIMEOUT, self._drop_timeout)

    @staticmethod
    def _later(delay: float, fire: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, fire)

    def _close_timeout(self) -> None:
        if self.progress.close_seen or self._gone():
            return
        self.outcome.close_handshake_timeout = True
        self._abort(
            f"no close from the peer within {CLOSE_HANDSHAKE_TIMEOUT:g} s of ours: aborted"
            " (Autobahn's closeHandshakeTimeout)"
        )

    def _drop_timeout(self) -> None:
        if self._gone():
            return
        self.outcome.never_closed = True
        self._abort(
            f"the server did not drop TCP within {SERVER_CONNECTION_DROP_TIMEOUT:g} s of the"
            " closing handshake: aborted (Autobahn's serverConnectionDropTimeout)"
        )

    def _gone(self) -> bool:
        """TCP has ended, or is ending, without a timer's help."""
        return self.lost or self.eof or self.outcome.dropped_by_me

    def _abort(self, note: str) -> None:
        """End the connection as Autobahn's fuzzer does: no more recorded
        frames, and a reset (``abortConnection``), ``note`` saying why."""
        self.outcome.notes.append(note)
        self.abandoned = True
        self._drop(reset=True)
        self.changed.set()

    async def _end(self) -> None:
        await self._flush()  # answers held when the writes stopped
        try:
            await super()._end()
        finally:
            for t in (self._close_timer, self._drop_timer):
                if t is not None:
                    t.cancel()

    def _closed(self) -> None:
        """Both closes went by: a server drops TCP now, as Autobahn's does
        (RFC 6455 §7.1.1: the server closes the TCP connection first)."""
        if self.plan.role is Role.SERVER and not self.eof and not self.outcome.dropped_by_me:
            self._drop(reset=False)


__all__ = ["FuzzerRunner"]
