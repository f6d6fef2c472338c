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
"""

from __future__ import annotations

import asyncio
import os

from wirelog.model import Opcode, Role
from wirelog.protocol.frames import encode_frame
from wirelog.replay.session import Runner


class FuzzerRunner(Runner):
    """A :class:`Runner` that answers pings and closes (module docstring)."""

    _answered_pings = 0
    _answered_close = False

    def _mask(self) -> bytes | None:
        return os.urandom(4) if self.plan.role is Role.CLIENT else None

    def on_data(self, data: bytes) -> None:
        super().on_data(data)
        peer = self.progress
        frames: list[bytes] = []
        while self._answered_pings < len(peer.pings):
            ping = peer.pings[self._answered_pings]
            self._answered_pings += 1
            if not self.own.close_seen:
                frames.append(encode_frame(Opcode.PONG, ping, mask=self._mask()))
        if peer.close_seen and not self._answered_close and not self.own.close_seen:
            self._answered_close = True
            body = peer.close_payload or b""
            # Echo the code only: a reason from the peer is its own.
            frames.append(encode_frame(Opcode.CLOSE, body[:2], mask=self._mask()))
            self.abandoned = True
            self.changed.set()
        if frames:
            self.outcome.notes.append(
                "answered the peer's " + ("close" if self._answered_close else "ping")
            )
            self._tasks.append(asyncio.ensure_future(self._answer(b"".join(frames))))
        elif peer.close_seen and self.own.close_seen:
            self._closed()

    async def _answer(self, data: bytes) -> None:
        await self._send(data)
        if self.progress.close_seen and self.own.close_seen:
            self._closed()

    def _closed(self) -> None:
        """Both closes went by: a server drops TCP now, as Autobahn's does
        (RFC 6455 §7.1.1: the server closes the TCP connection first)."""
        if self.plan.role is Role.SERVER and not self.eof and not self.outcome.dropped_by_me:
            self._drop(reset=False)


__all__ = ["FuzzerRunner"]
