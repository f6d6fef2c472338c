"""How far a peer has come, counted the way a replay waits for it (pure).

A replay must not send a chunk before the target has answered as much as it
had in the recording (causal order). "As much" is counted in protocol units,
not octets: the peer's HTTP head, then whole frames, then octets into the
next frame. A different server (or the same one on another day, with another
``Date:`` header) answers with other octet counts but the same frames, and a
replay must not stall on that. :class:`Progress` measures a stream in those
units with the same sans-I/O decoder every input uses; :class:`Need` is one
snapshot of it, kept in a plan and compared with the live peer's.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirelog.model import Direction, Frame, Opcode, Role
from wirelog.protocol.connection import ConnectionDecoder
from wirelog.protocol.handshake import MAX_HEAD

_EVENTS = (Opcode.PONG, Opcode.CLOSE)
_DATA = (Opcode.CONT, Opcode.TEXT, Opcode.BINARY)
#: How each side's HTTP head starts, and what it is called.
_HEAD_STARTS = {Role.SERVER: b"HTTP/", Role.CLIENT: b"GET "}
_HEAD_NAMES = {Role.SERVER: "status line", Role.CLIENT: "GET request"}


@dataclass(frozen=True, slots=True)
class Need:
    """Peer progress required before a write: the HTTP head (when ``head``),
    ``frames`` complete frames, then ``extra`` octets into the next unit.
    ``octets`` (the raw count in the recording) is the fallback when the
    peer's stream cannot be decoded."""

    head: bool = False
    frames: int = 0
    extra: int = 0
    octets: int = 0
    units: bool = True
    """False when the recorded stream could not be decoded this far."""
    events: int = 0
    """Completed events: messages (a data frame with FIN), pongs and
    closes; the pings a fuzzer answers are not events (spec §3.7)."""
    by_events: bool = False
    """Wait in events alone (a fuzzer's replay): how a peer fragments a
    message, or whether it pings, does not make it stall."""
    head_octets: int = 0
    """The length of the HTTP head within ``octets`` (0 while it is not
    complete): the octet fallback counts past it, since another server's
    head (its ``Date:``, its header names) has another length."""

    @property
    def none(self) -> bool:
        return self.octets == 0

    def covers(self, need: Need) -> bool:
        """This progress (a snapshot of a live peer) has reached ``need``."""
        if need.by_events:
            return (self.head or not need.head) and self.events >= need.events
        if not need.units or not self.units:
            if need.head and self.head and need.head_octets:
                return self.octets - self.head_octets >= need.octets - need.head_octets
            return self.octets >= need.octets
        if need.head and not self.head:
            return False
        if self.frames != need.frames:
            return self.frames > need.frames
        return self.extra >= need.extra

    def describe(self) -> str:
        parts = []
        if self.by_events:
            parts = ["the HTTP head"] if self.head else []
            parts.append(f"{self.events} event{'s' if self.events != 1 else ''}")
            return " + ".join(parts)
        if self.head:
            parts.append("the HTTP head")
        if self.frames:
            parts.append(f"{self.frames} frame{'s' if self.frames != 1 else ''}")
        if self.extra:
            parts.append(f"{self.extra} more octets")
        return " + ".join(parts) or f"{self.octets} octets"


class Progress:
    """How far one side's stream has come, in the units :class:`Need` counts.

    Fed with that side's octets (and declared lengths, for recordings that
    lost some); the stream is always decoded as ``tx`` of a recorder playing
    ``sender``, whichever direction it had in the recording.
    """

    def __init__(self, sender: Role, *, handshake: bool = True, head: bytes | None = None) -> None:
        self._dec = ConnectionDecoder(
            sender,
            handshake=handshake,
            messages=False,
            request_head=head if sender is Role.CLIENT else None,
            response_head=head if sender is Role.SERVER else None,
        )
        self._side = self._dec.sides[Direction.TX]
        self.octets = 0
        self.frames = 0
        self.boundary = 0 if not handshake else -1
        """Stream offset of the last head end or frame end (-1: none yet)."""
        self.close_seen = False
        """A close frame (RFC 6455 §5.5.1) went by: this side is CLOSING."""
        self.close_payload: bytes | None = None
        """The payload of this side's first close frame."""
        self.events = 0
        """Messages, pongs and closes completed (:attr:`Need.events`)."""
        self.pings: list[bytes] = []
        """Payloads of the pings this side sent, oldest first (a fuzzer
        answers each, :mod:`wirelog.replay.fuzzer`)."""

    @property
    def head(self) -> bool:
        return not self._side.in_head

    @property
    def lost(self) -> bool:
        return self._side.dead or self._side.frames.lost

    def feed(self, data: bytes, length: int | None = None) -> list[Frame]:
        was_in_head = self._side.in_head
        total = len(data) if length is None else length
        events = self._dec.feed(Direction.TX, data, length=total)
        self.octets += total
        frames = [e for e in events if isinstance(e, Frame)]
        if was_in_head and not self._side.in_head:
            self.boundary = len(self._side.head)
        for f in frames:
            self.frames += 1
            assert f.offset is not None
            self.boundary = f.offset + f.header_length + f.length
            if f.opcode in _EVENTS or (f.fin and f.opcode in _DATA):
                self.events += 1
            if f.opcode == Opcode.CLOSE and not self.close_seen:
                self.close_seen = True
                self.close_payload = f.payload
            elif f.opcode == Opcode.PING:
                self.pings.append(f.payload)
        return frames

    @property
    def extra(self) -> int:
        return self.octets - max(self.boundary, 0)

    def need(self, by_events: bool = False) -> Need:
        return Need(
            self.head,
            self.frames,
            self.extra,
            self.octets,
            not self.lost,
            self.events,
            by_events,
            len(self._side.head) if self.head else 0,
        )

    @property
    def upgraded(self) -> bool:
        """This side's HTTP head is complete and, from a server, says 101
        (RFC 6455 §4.1): the other side may send frames."""
        side = self._side
        if side.in_head or side.dead:
            return False
        return side.sender is Role.CLIENT or self.handshake_status == 101

    @property
    def head_octets(self) -> int:
        """The length of this side's HTTP head once complete; while it is
        not, the most the decoder looks through for its end."""
        side = self._side
        return MAX_HEAD if side.in_head else len(side.head)

    @property
    def no_head(self) -> str | None:
        """Why this side's stream holds no HTTP head at all, if it does not:
        no end within :data:`MAX_HEAD` octets, or first octets that start no
        head a WebSocket peer sends (a server's status line starts
        ``HTTP/``, RFC 7230 §3.1.2; a client's request ``GET``, RFC 6455
        §4.1), which a replay need not wait a timeout to know."""
        side = self._side
        if not side.in_head:
            return None
        if side.dead:
            return f"no end of an HTTP head within the first {MAX_HEAD} octets"
        start = bytes(side.head[: len(_HEAD_STARTS[side.sender])])
        if not _HEAD_STARTS[side.sender].startswith(start):
            return f"its first octets start no HTTP {_HEAD_NAMES[side.sender]} ({start!r})"
        return None

    @property
    def handshake_status(self) -> int | None:
        hs = self._dec.handshake
        return hs.status if hs is not None else None

    def describe(self) -> str:
        if not self.octets:
            return "nothing"
        return f"{self.octets} octets, {self.need().describe()}"

    def satisfies(self, need: Need) -> bool:
        return self.need().covers(need)
