"""Decode a whole connection: handshake, then frames and messages, both ways.

:class:`ConnectionDecoder` is the sans-I/O driver every input shares. The
pcap reader feeds it reassembled TCP payload as it streams; the Autobahn
parsers and the replayer build a :class:`~wirelog.model.Connection` and call
:func:`decode_connection`, which feeds the same driver from the chunks. Each
direction starts with its HTTP head (unless the caller says the capture
began after the handshake) and continues with frames; the response decides
the permessage-deflate parameters the message layer inflates with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    DeflateParams,
    Direction,
    Frame,
    Handshake,
    Marker,
    MarkerKind,
    Message,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE
from wirelog.protocol.events import Event
from wirelog.protocol.frames import FrameDecoder
from wirelog.protocol.handshake import HEAD_END, MAX_HEAD, parse_handshake
from wirelog.protocol.messages import MessageAssembler

_TX = Direction.TX  # a module global: ten times faster to look up than an Enum member

#: A hook that merges frames decoded from octets with frames a log claims (see
#: :mod:`wirelog.protocol.claims`): the final frames of one direction, and findings.
Reconciler = Callable[
    [Connection, Direction, list[Frame], list[ClaimedFrame], bool],
    tuple[list[Frame], list[Violation]],
]


@dataclass(slots=True)
class _Side:
    direction: Direction
    sender: Role
    frames: FrameDecoder
    messages: MessageAssembler | None
    head: bytearray = field(default_factory=bytearray)
    head_scanned: int = 0
    """How much of ``head`` the search for its end has covered (the end
    cannot lie before ``head_scanned - 3``): each feed scans new octets only."""
    head_len: int | None = None
    """Known length of this side's HTTP head (from the input), if any."""
    in_head: bool = True
    head_before: int = 0
    dead: bool = False
    """After a refused upgrade the rest is an HTTP body, not frames."""
    ended: bool = False


class ConnectionDecoder:
    """Sans-I/O: feed each direction's octets in recorded order; get events.

    ``handshake=False`` is for captures that start after the Upgrade
    exchange (the ``--ws-port`` option): frames begin at the first octet.
    """

    def __init__(
        self,
        recorder: Role,
        *,
        request_head: bytes | None = None,
        response_head: bytes | None = None,
        handshake: bool = True,
        deflate: DeflateParams | None = None,
        messages: bool = True,
        keep_data: bool = True,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.recorder = recorder
        self.handshake: Handshake | None = None
        self._request = request_head
        self._response = response_head
        self._deflate = deflate
        self.sides: dict[Direction, _Side] = {}
        for direction in Direction:
            sender = recorder if direction is Direction.TX else recorder.other
            known = request_head if sender is Role.CLIENT else response_head
            side = _Side(
                direction,
                sender,
                FrameDecoder(direction, sender, allowed_rsv=4 if deflate else 0),
                MessageAssembler(
                    direction, sender, deflate, limit=max_message_size, keep_data=keep_data
                )
                if messages
                else None,
            )
            side.head_len = len(known) if known is not None else None
            side.in_head = handshake
            self.sides[direction] = side
        self._plain_tx: FrameDecoder | None = None
        self._plain_rx: FrameDecoder | None = None
        self._settle()

    def _settle(self) -> None:
        """Which sides take chunks straight: past the head, alive, frames only."""
        tx, rx = self.sides[Direction.TX], self.sides[Direction.RX]
        self._plain_tx = tx.frames if tx.messages is None and not (tx.in_head or tx.dead) else None
        self._plain_rx = rx.frames if rx.messages is None and not (rx.in_head or rx.dead) else None

    # -- feeding -------------------------------------------------------------

    def feed(
        self,
        direction: Direction,
        data: bytes | bytearray | memoryview,
        *,
        length: int | None = None,
        ts: int | None = None,
        index: int | None = None,
    ) -> list[Event]:
        """``data`` arrived at ``ts`` (epoch ns); ``length`` > len(data): its tail is missing."""
        plain = self._plain_tx if direction is _TX else self._plain_rx
        if plain is not None and (length is None or length == len(data)):
            # Frames only, past the handshake, nothing missing: the common case.
            return plain.feed(data, ts, index)  # type: ignore[return-value]
        side = self.sides[direction]
        events: list[Event] = []
        total = len(data) if length is None else length
        if side.dead:
            return events
        if type(data) is not bytes:
            data = bytes(data)
        if side.in_head:
            data = self._head_bytes(side, data, ts, index, events)
            total -= len(side.head) - side.head_before
            if side.dead:
                return events
            if side.in_head:
                if total > 0:
                    self._gap(side, total, ts, index, events)
                return events
        if data:
            self._frames(side, side.frames.feed(data, ts, index), events)
        if total > len(data):
            self._gap(side, total - len(data), ts, index, events)
        return events

    def push(self, item: Chunk | Marker) -> list[Event]:
        """The one place recorded items reach the decoder, whatever the source.

        A chunk is fed; a ``GAP`` marker reports missing octets; ``FIN`` ends
        the sender's direction; ``RST`` ends both (a reset aborts the whole
        connection: nothing more arrives either way). Timers and wire-log
        switches carry no octets and produce nothing here.
        """
        if type(item) is Chunk:
            data = item.data
            plain = self._plain_tx if item.direction is _TX else self._plain_rx
            if plain is not None and item.length == len(data):
                # What :meth:`feed` does first, without its keyword layer.
                return plain.feed(data, item.ts_ns, item.index)  # type: ignore[return-value]
            length, ts, index = item.length, item.ts_ns, item.index
            return self.feed(item.direction, data, length=length, ts=ts, index=index)
        assert isinstance(item, Marker)
        kind = item.kind
        if item.direction is None:
            return []
        if kind is MarkerKind.GAP:
            return self.gap(item.direction, int(item.value or 0), ts=item.ts_ns, index=item.index)
        if kind is MarkerKind.FIN:
            return self.finish(item.direction)
        if kind is MarkerKind.RST:
            return self.finish()
        return []

    def gap(
        self,
        direction: Direction,
        missing: int,
        *,
        ts: int | None = None,
        index: int | None = None,
    ) -> list[Event]:
        """``missing`` octets were on the wire but are not in the recording."""
        events: list[Event] = []
        self._gap(self.sides[direction], missing, ts, index, events)
        return events

    def finish(self, direction: Direction | None = None) -> list[Event]:
        """The stream(s) ended (FIN, RST, end of recording)."""
        events: list[Event] = []
        for d in [direction] if direction is not None else list(Direction):
            side = self.sides[d]
            if side.ended:
                continue
            side.ended = True
            if not side.dead and not side.in_head:
                self._frames(side, side.frames.eof(), events)
                if side.messages is not None:
                    events.extend(side.messages.eof())
        if direction is None or all(s.ended for s in self.sides.values()):
            self._emit_handshake(events)
        return events

    # -- internals -------------------------------------------------------------

    def _frames(self, side: _Side, produced: list[Frame | Violation], events: list[Event]) -> None:
        if side.messages is None:
            events.extend(produced)
            return
        for ev in produced:
            events.append(ev)
            if isinstance(ev, Frame):
                events.extend(side.messages.add(ev))

    def _gap(
        self, side: _Side, missing: int, ts: int | None, index: int | None, events: list[Event]
    ) -> None:
        if side.dead or missing <= 0:
            return
        if side.in_head:
            if side.head_len is None:
                events.append(
                    Violation(
                        ViolationKind.MISSING_OCTETS,
                        f"{missing} octets missing inside the HTTP head; the rest is not decoded",
                        side.direction,
                        None,
                        len(side.head),
                        index,
                    )
                )
                side.dead = True
                self._settle()
                return
            # The head is known from elsewhere: octets missing inside it cost nothing.
            take = min(missing, side.head_len - len(side.head))
            side.head.extend(bytes(take))
            missing -= take
            if len(side.head) >= side.head_len:
                known = self._request if side.sender is Role.CLIENT else self._response
                assert known is not None
                self._head_done(side, known, ts, events)
            if side.in_head or missing <= 0:
                return
        self._frames(side, side.frames.gap(missing, ts, index), events)

    def _head_bytes(
        self, side: _Side, data: bytes, ts: int | None, index: int | None, events: list[Event]
    ) -> bytes:
        """Move this side's HTTP head from the front of ``data`` into
        ``side.head``; return what is left for the frame layer."""
        side.head_before = len(side.head)
        if side.head_len is not None:
            take = min(side.head_len - len(side.head), len(data))
            side.head.extend(data[:take])
            if len(side.head) >= side.head_len:
                known = self._request if side.sender is Role.CLIENT else self._response
                assert known is not None
                self._head_done(side, known, ts, events)
            return data[take:]
        head = side.head
        head.extend(data)
        found = head.find(HEAD_END, side.head_scanned - 3 if side.head_scanned > 3 else 0)
        if found < 0:
            side.head_scanned = len(head)
            if len(head) > MAX_HEAD:
                events.append(
                    Violation(
                        ViolationKind.BAD_HANDSHAKE,
                        f"no end of HTTP head within {MAX_HEAD} octets",
                        side.direction,
                        None,
                        0,
                        index,
                    )
                )
                side.dead = True
                self._settle()
            return b""
        end = found + len(HEAD_END)
        used = end - side.head_before
        del head[end:]
        self._head_done(side, bytes(head), ts, events)
        return data[used:]

    def _head_done(self, side: _Side, head: bytes, ts: int | None, events: list[Event]) -> None:
        side.in_head = False
        side.frames.offset = len(head)
        if side.sender is Role.CLIENT:
            self._request = head
        else:
            self._response = head
        if self._response is not None and side.sender is Role.SERVER:
            self._emit_handshake(events)
        self._settle()

    def _emit_handshake(self, events: list[Event]) -> None:
        """Once: when the response head is complete, or at the end."""
        if self.handshake is not None:
            return
        if self._request is None and self._response is None:
            return
        hs, problems = parse_handshake(self._request, self._response)
        self.handshake = hs
        events.append(hs)
        server_dir = Direction.TX if self.recorder is Role.SERVER else Direction.RX
        for p in problems:
            on_server = p.kind is not ViolationKind.BAD_HANDSHAKE
            events.append(Violation(p.kind, p.detail, server_dir if on_server else None, None, 0))
        if hs.status is not None and hs.status != 101:
            for side in self.sides.values():
                side.dead = True
            self._settle()
            return
        if hs.deflate is not None and self._deflate is None:
            self._deflate = hs.deflate
            for side in self.sides.values():
                side.frames.allowed_rsv |= 4
                if side.messages is not None:
                    side.messages.set_deflate(hs.deflate)


# -- the materialized path ------------------------------------------------------


@dataclass(slots=True)
class DecodedConnection:
    """A connection with everything derived from it."""

    connection: Connection
    handshake: Handshake | None
    frames: list[Frame]
    messages: list[Message]
    violations: list[Violation]

    @property
    def conn(self) -> int:
        return self.connection.conn

    @property
    def source(self) -> str:
        return self.connection.source

    def frames_of(self, direction: Direction) -> list[Frame]:
        return [f for f in self.frames if f.direction is direction]


def iter_items(conn: Connection) -> list[Chunk | Marker]:
    """Chunks and markers of a connection in recorded order."""
    items: list[Chunk | Marker] = [*conn.chunks, *conn.markers]
    items.sort(key=lambda it: it.index)
    return items


def decode_connection(
    conn: Connection,
    *,
    handshake: bool = True,
    reconcile: Reconciler | None = None,
    deflate: DeflateParams | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> DecodedConnection:
    """Derive frames and messages from a recorded connection.

    When the connection carries log claims and a ``reconcile`` hook is given,
    frames are first decoded from octets alone, then merged with the claims
    (frames whose octets are missing come from the log), and only then joined
    into messages, so both sources go through the same message layer.
    """
    with_claims = bool(conn.claims) and reconcile is not None
    # A capture connection decoded by port (``--ws-port``) has no handshake.
    handshake = handshake and conn.meta.get("handshake", True) is not False
    dec = ConnectionDecoder(
        conn.recorder,
        request_head=conn.handshake_request,
        response_head=conn.handshake_response,
        handshake=handshake,
        deflate=deflate,
        messages=not with_claims,
        max_message_size=max_message_size,
    )
    if conn.tls is not None:  # chunks are TLS records: resync after gaps there
        for side in dec.sides.values():
            side.frames.boundaries = True
    events: list[Event] = []
    for item in iter_items(conn):
        events.extend(dec.push(item))
    events.extend(dec.finish())
    frames = [e for e in events if isinstance(e, Frame)]
    messages = [e for e in events if isinstance(e, Message)]
    violations = list(conn.findings) + [e for e in events if isinstance(e, Violation)]
    if with_claims:
        assert reconcile is not None
        hs = dec.handshake
        params = deflate or (hs.deflate if hs else None)
        frames, messages, extra = _merge_claims(
            conn, frames, reconcile, dec, params, max_message_size
        )
        violations.extend(extra)
    return DecodedConnection(conn, dec.handshake, frames, messages, violations)


def _merge_claims(
    conn: Connection,
    frames: list[Frame],
    reconcile: Reconciler,
    dec: ConnectionDecoder,
    deflate: DeflateParams | None,
    limit: int,
) -> tuple[list[Frame], list[Message], list[Violation]]:
    final: list[Frame] = []
    messages: list[Message] = []
    findings: list[Violation] = []
    for direction in Direction:
        mine = [f for f in frames if f.direction is direction]
        claims = [c for c in conn.claims if c.direction is direction]
        lost = dec.sides[direction].frames.lost or dec.sides[direction].dead
        merged, problems = reconcile(conn, direction, mine, claims, lost)
        final.extend(merged)
        findings.extend(problems)
        messages.extend(assemble(merged, direction, conn.sender(direction), deflate, limit))
    final.sort(key=lambda f: (f.chunk if f.chunk is not None else -1, f.direction.value, f.index))
    where = {(f.direction, f.index): f.chunk or 0 for f in final}
    messages.sort(key=lambda m: (where.get((m.direction, m.first_frame), 0), m.direction.value))
    return final, messages, findings


def assemble(
    frames: Iterable[Frame],
    direction: Direction,
    sender: Role,
    deflate: DeflateParams | None,
    limit: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> list[Message]:
    """Join one direction's frames into messages (each at most ``limit`` octets)."""
    asm = MessageAssembler(direction, sender, deflate, limit=limit)
    out: list[Message] = []
    for f in frames:
        out.extend(m for m in asm.add(f) if isinstance(m, Message))
    out.extend(m for m in asm.eof() if isinstance(m, Message))
    return out
