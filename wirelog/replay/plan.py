"""Turn one side of a recorded connection into timed writes (pure, no I/O).

A :class:`Plan` is what the replayer executes: one :class:`Write` per recorded
chunk of the replayed side, with its exact octets, the peer progress it must
wait for (causal order comes first: a chunk that followed the peer's data in
the recording is not sent before the target has answered as much), the
recorded pause that then applies, and the Autobahn timers (CT/KL/TI,
spec §3.6) armed at their recorded positions.

"As much" is counted in protocol units, not octets: the peer's HTTP head,
then whole frames, then octets into the next frame. A different server (or
the same one on another day, with another ``Date:`` header) answers with
other octet counts but the same frames, and a replay must not stall on that.

Every chunk is one write, and the replayer lets it leave before the next
(see :mod:`~wirelog.replay.client`): what Autobahn's ``sync`` flag asks for
(spec §3.2), for every chunk, so the flag is kept but needs nothing more.

Chunks whose octets the recorder cut (Autobahn keeps 64 bytes, spec §1.4) are
rebuilt by the parsers where the log determines them (``Chunk.rebuilt``);
the handshake head is also rebuilt here from ``Connection.handshake_request``
/ ``handshake_response``. What remains unknown makes :func:`build_plan` raise
:class:`~wirelog.errors.PlanError` listing the chunks, unless ``fill`` is
set: then the known prefix is repeated to the recorded length and each write
says how many of its bytes were synthesized.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field, replace

from wirelog.errors import PlanError
from wirelog.model import (
    Chunk,
    Connection,
    Direction,
    Frame,
    Marker,
    MarkerKind,
    Role,
    ViolationKind,
)
from wirelog.protocol.connection import ConnectionDecoder, iter_items
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for, head_length

#: Timers a replay arms; the others (CTE/KLE/TIE) say the timer fired.
_ARMING = {MarkerKind.DELAY, MarkerKind.KILL_AFTER, MarkerKind.CLOSE_AFTER}
_FIRED = {
    MarkerKind.DELAY_FIRED: MarkerKind.DELAY,
    MarkerKind.KILL_FIRED: MarkerKind.KILL_AFTER,
    MarkerKind.CLOSE_FIRED: MarkerKind.CLOSE_AFTER,
}


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

    @property
    def none(self) -> bool:
        return self.octets == 0

    def covers(self, need: Need) -> bool:
        """This progress (a snapshot of a live peer) has reached ``need``."""
        if not need.units or not self.units:
            return self.octets >= need.octets
        if need.head and not self.head:
            return False
        if self.frames != need.frames:
            return self.frames > need.frames
        return self.extra >= need.extra

    def describe(self) -> str:
        parts = []
        if self.head:
            parts.append("the HTTP head")
        if self.frames:
            parts.append(f"{self.frames} frame{'s' if self.frames != 1 else ''}")
        if self.extra:
            parts.append(f"{self.extra} more octets")
        return " + ".join(parts) or f"{self.octets} octets"


class Progress:
    """How far a peer's stream has come, in the units :class:`Need` counts.

    Fed with the peer's octets (and declared lengths, for recordings that
    lost some), it drives the same sans-I/O decoder every input uses.
    """

    def __init__(self, peer: Role, *, handshake: bool = True, head: bytes | None = None) -> None:
        self._dir = Direction.TX
        self._dec = ConnectionDecoder(
            peer,
            handshake=handshake,
            messages=False,
            request_head=head if peer is Role.CLIENT else None,
            response_head=head if peer is Role.SERVER else None,
        )
        self._side = self._dec.sides[self._dir]
        self.octets = 0
        self.frames = 0
        self.boundary = 0 if not handshake else -1
        """Stream offset of the last head end or frame end (-1: none yet)."""
        self.close_seen = False
        self.events: list[Frame] = []

    @property
    def head(self) -> bool:
        return not self._side.in_head

    @property
    def lost(self) -> bool:
        return self._side.dead or self._side.frames.lost

    def feed(self, data: bytes, length: int | None = None) -> list[Frame]:
        was_in_head = self._side.in_head
        total = len(data) if length is None else length
        events = self._dec.feed(self._dir, data, length=total)
        self.octets += total
        frames = [e for e in events if isinstance(e, Frame)]
        if was_in_head and not self._side.in_head:
            self.boundary = len(self._side.head)
        for f in frames:
            self.frames += 1
            assert f.offset is not None
            self.boundary = f.offset + f.header_length + f.length
            if f.opcode == 8:
                self.close_seen = True
        return frames

    @property
    def extra(self) -> int:
        return self.octets - max(self.boundary, 0)

    def need(self) -> Need:
        return Need(self.head, self.frames, self.extra, self.octets, not self.lost)

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


@dataclass(frozen=True, slots=True)
class Write:
    """One TCP write: the octets of one recorded chunk."""

    index: int
    """The chunk's position in the recording."""
    data: bytes
    need: Need = field(default_factory=Need)
    delay: float = 0.0
    """Pause (already scaled) once ``need`` and ``gate`` are met."""
    gate: int | None = None
    """Index into :attr:`Plan.timers` of the timer that must fire first."""
    sync: bool = False
    rebuilt: bool = False
    synthesized: int = 0
    head: bool = False
    """This write carries (part of) the HTTP head."""


@dataclass(frozen=True, slots=True)
class Timer:
    """An Autobahn timer (CT/KL/TI) armed after ``after`` writes."""

    kind: MarkerKind
    after: int
    delay: float
    fired: bool
    """It fired in the recording (a CTE/KLE/TIE entry follows)."""
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    source: str
    conn: int
    role: Role
    """The side being replayed."""
    direction: Direction
    """Direction of that side's chunks in the recording."""
    writes: tuple[Write, ...]
    timers: tuple[Timer, ...] = ()
    final: Need = field(default_factory=Need)
    """Everything the peer sent in the recording."""
    end_delay: float = 0.0
    """Pause between the last event of the recording and our own drop."""
    dropped_by: Role | None = None
    """Who dropped TCP first in the recording, if known."""
    reset: bool = False
    """The recording ended with a reset by ``dropped_by``."""
    handshake: bool = True
    request_key: str | None = None
    notes: tuple[str, ...] = ()
    """What the replay will not reproduce (said in the verdict)."""

    @property
    def octets(self) -> int:
        return sum(len(w.data) for w in self.writes)

    @property
    def synthesized(self) -> list[tuple[int, int]]:
        return [(w.index, w.synthesized) for w in self.writes if w.synthesized]


def side_chunks(conn: Connection, role: Role) -> list[Chunk]:
    d = conn.direction_of(role)
    return [c for c in conn.chunks if c.direction is d]


def _rebuild_head(conn: Connection, role: Role, chunks: list[Chunk]) -> list[Chunk]:
    """Fill chunks cut inside the HTTP head from the complete head the input
    kept apart (Autobahn's ``httpRequest``/``httpResponse``)."""
    head = conn.handshake_request if role is Role.CLIENT else conn.handshake_response
    if not head:
        return chunks
    out: list[Chunk] = []
    pos = 0
    for c in chunks:
        if pos < len(head) and not c.complete:
            want = head[pos : pos + c.length]
            if len(want) == c.length and want.startswith(c.data):
                c = replace(c, data=want, rebuilt=True)
        out.append(c)
        pos += c.length
    return out


def _claimed_stream(conn: Connection, role: Role, fill: bool) -> tuple[bytes, list[range]]:
    """``role``'s octet stream as the log claims it: the complete head, then
    every TF frame whose payload the log determines (spec §3.1: the payload,
    or its base repeated to PAYLOAD-REPEAT-LEN, masked with the logged key).
    With ``fill`` a payload known only by its prefix is that prefix repeated
    (the ranges of guessed octets are returned); otherwise the stream stops
    at the first frame it cannot rebuild."""
    head = conn.handshake_request if role is Role.CLIENT else conn.handshake_response
    parts = [head or b""]
    pos = len(parts[0])
    guessed: list[range] = []
    mine = conn.direction_of(role)
    for c in conn.claims:
        if c.direction is not mine:
            continue
        known = c.payload
        if c.repeat_len is not None:
            length = c.repeat_len
            exact = bool(known) and len(known) == c.logged_len
        else:
            length = c.length
            exact = len(known) == length
        if not exact and not (fill and known):
            break
        reps = length // max(1, len(known)) + 1
        payload = (known * reps)[:length]
        frame = encode_frame(c.opcode, payload, fin=c.fin, rsv=c.rsv, mask=c.mask)
        if not exact:
            start = pos + len(frame) - length + len(known)
            guessed.append(range(start, pos + len(frame)))
        parts.append(frame)
        pos += len(frame)
    return b"".join(parts), guessed


def _rebuild_from_claims(
    conn: Connection, role: Role, chunks: list[Chunk], fill: bool
) -> list[Chunk]:
    """Fill cut chunks (Autobahn chops of frames longer than 64 octets, e.g.
    1.1.8's 997-octet pieces) from the claimed stream, as far as every octet
    the log did keep agrees with it."""
    if all(c.complete for c in chunks) or not conn.claims:
        return chunks
    stream, guessed = _claimed_stream(conn, role, fill)
    out: list[Chunk] = []
    pos = 0
    agree = True
    for c in chunks:
        want = stream[pos : pos + c.length]
        agree = agree and len(want) == c.length and want.startswith(c.data)
        if agree and not c.complete:
            synth = sum(max(0, min(g.stop, pos + c.length) - max(g.start, pos)) for g in guessed)
            c = replace(c, data=want, rebuilt=not synth, synthesized=synth)
        out.append(c)
        pos += c.length
    return out


def _fill(c: Chunk) -> Chunk:
    if not c.data:
        raise PlanError(f"chunk {c.index}: no octets at all to repeat for --fill")
    reps = c.length // len(c.data) + 1
    return replace(c, data=(c.data * reps)[: c.length], synthesized=c.missing)


def build_plan(
    conn: Connection,
    role: Role = Role.CLIENT,
    *,
    speed: float = 1.0,
    asap: bool = False,
    fill: bool = False,
    handshake: bool = True,
) -> Plan:
    """The writes that replay ``role``'s side of ``conn``.

    ``speed`` divides every recorded pause and Autobahn delay (2.0 = twice as
    fast); ``asap`` drops pauses and CT delays but keeps causal order.
    Timers that did not fire in the recording (KL/TI safety nets) keep their
    delay divided by ``speed`` only.
    """
    if speed <= 0:
        raise PlanError(f"speed must be positive, not {speed}")
    mine = conn.direction_of(role)
    items = iter_items(conn)
    chunks = _rebuild_head(conn, role, [c for c in conn.chunks if c.direction is mine])
    chunks = _rebuild_from_claims(conn, role, chunks, fill)
    missing = [c for c in chunks if not c.complete]
    if missing and not fill:
        listed = ", ".join(f"{c.index} ({c.missing} of {c.length} octets)" for c in missing[:12])
        more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
        raise PlanError(
            f"{conn.label}: octets of {len(missing)} chunk(s) are unknown: chunk {listed}{more}; "
            "--fill repeats the known prefix to the recorded length"
        )
    rebuilt = {c.index: (_fill(c) if not c.complete else c) for c in chunks}
    notes: list[str] = []
    hidden = _hidden(conn, mine)
    if hidden:
        if not fill:
            raise PlanError(f"{conn.label}: {hidden}; --fill replays what was recorded anyway")
        notes.append(f"not replayed: {hidden}")

    scale = 0.0 if asap else 1.0 / speed
    peer_head = conn.handshake_response if role is Role.CLIENT else conn.handshake_request
    progress = Progress(role.other, handshake=handshake, head=peer_head)
    writes: list[Write] = []
    timers: list[Timer] = []
    gate: int | None = None
    last_ts: float | None = None  # ts of the latest event (own write or peer data)
    open_timers: dict[MarkerKind, list[int]] = {}
    head_left = _own_head_length(chunks, rebuilt) if handshake else 0
    pos = 0
    dropped_by: Role | None = None
    reset = False
    end_gap = 0.0
    for it in items:
        if isinstance(it, Chunk):
            if it.direction is mine:
                ch = rebuilt[it.index]
                delay = 0.0
                if ch.ts is not None and last_ts is not None:
                    delay = max(0.0, ch.ts - last_ts) * scale
                writes.append(
                    Write(
                        index=ch.index,
                        data=ch.data,
                        need=progress.need(),
                        delay=delay,
                        gate=gate,
                        sync=ch.sync,
                        rebuilt=ch.rebuilt,
                        synthesized=ch.synthesized,
                        head=pos < head_left,
                    )
                )
                pos += len(ch.data)
                gate = None
            else:
                progress.feed(it.data, it.length)
            if it.ts is not None:
                last_ts = it.ts
            continue
        m: Marker = it
        # Autobahn's timers are the recorder's (the fuzzer's) own; the other
        # side's replay neither arms them nor waits for them.
        if (m.kind in _ARMING or m.kind in _FIRED) and role is not conn.recorder:
            continue
        if m.kind in _ARMING:
            delay = float(m.value or 0.0)
            open_timers.setdefault(m.kind, []).append(len(timers))
            timers.append(Timer(m.kind, len(writes), delay / speed, fired=False, tag=m.tag))
        elif m.kind in _FIRED:
            pending = open_timers.get(_FIRED[m.kind])
            if pending:
                t = pending.pop(0)
                delay = timers[t].delay * speed * scale
                timers[t] = replace(timers[t], fired=True, delay=delay)
                gate = t
        elif (
            m.kind in (MarkerKind.FIN, MarkerKind.RST, MarkerKind.DROPPED)
            and dropped_by is None
            and m.direction is not None
        ):
            dropped_by = conn.sender(m.direction)
            reset = m.kind is MarkerKind.RST
            if m.ts is not None and last_ts is not None:
                end_gap = max(0.0, m.ts - last_ts)
        if m.ts is not None:
            last_ts = m.ts
    if dropped_by is None and "droppedByMe" in conn.meta:
        dropped_by = conn.recorder if conn.meta.get("droppedByMe") else conn.recorder.other
    end_delay = end_gap * scale if dropped_by is role else 0.0
    return Plan(
        source=conn.source,
        conn=conn.conn,
        role=role,
        direction=mine,
        writes=tuple(writes),
        timers=tuple(timers),
        final=progress.need(),
        end_delay=end_delay,
        dropped_by=dropped_by,
        reset=reset,
        handshake=handshake,
        request_key=_header(_stream_head(writes), "sec-websocket-key")
        if role is Role.CLIENT
        else None,
        notes=tuple(notes),
    )


def _hidden(conn: Connection, mine: Direction) -> str | None:
    """Traffic of the replayed side that the recording does not hold at all:
    Autobahn's wire log switched off (9.x, 12.x, 13.x data phases; only the
    statistics saw it) or a capture gap."""
    off = [m for m in conn.markers if m.kind is MarkerKind.WIRELOG and m.value is False]
    if off or any(f.kind is ViolationKind.LOGGING_OFF for f in conn.findings):
        where = f" at entry {off[0].index}" if off else ""
        return f"the wire log was switched off{where}, so what was sent then is not recorded"
    gaps = [m for m in conn.markers if m.kind is MarkerKind.GAP and m.direction is mine]
    if gaps:
        lost = sum(int(m.value or 0) for m in gaps)
        return f"the capture lost {lost} octets of this side in {len(gaps)} gap(s)"
    return None


def _own_head_length(chunks: list[Chunk], rebuilt: dict[int, Chunk]) -> int:
    stream = b"".join(rebuilt[c.index].data for c in chunks[:8])
    return head_length(stream) or 0


def _stream_head(writes: list[Write]) -> bytes:
    return b"".join(w.data for w in writes if w.head)


_HEADER = re.compile(rb"\r?\n([A-Za-z0-9-]+)[ \t]*:[ \t]*([^\r\n]*)")


def _header(head: bytes, name: str) -> str | None:
    for m in _HEADER.finditer(head):
        if m.group(1).decode("latin-1").lower() == name:
            return m.group(2).decode("latin-1").strip()
    return None


def new_key() -> str:
    """A fresh Sec-WebSocket-Key (RFC 6455 §4.1: 16 random bytes, base64)."""
    return base64.b64encode(os.urandom(16)).decode()


def edit_head(plan: Plan, headers: dict[str, str]) -> Plan:
    """Replace header values in the replayed HTTP head, keeping every other
    octet and the chop boundaries (a boundary inside an edited value stays
    at the value's start; later ones shift by the length change)."""
    head_writes = [i for i, w in enumerate(plan.writes) if w.head]
    if not head_writes or not headers:
        return plan
    stream = b"".join(plan.writes[i].data for i in head_writes)
    end = head_length(stream) or len(stream)
    bounds: list[int] = []
    acc = 0
    for i in head_writes:
        acc += len(plan.writes[i].data)
        bounds.append(acc)
    for name, value in headers.items():
        for m in _HEADER.finditer(stream[:end]):
            if m.group(1).decode("latin-1").lower() != name.lower():
                continue
            start, stop = m.span(2)
            new = value.encode("latin-1")
            delta = len(new) - (stop - start)
            stream = stream[:start] + new + stream[stop:]
            end += delta
            bounds = [
                b if b <= start else (b + delta if b >= stop else min(b, start + len(new)))
                for b in bounds
            ]
            break
    writes = list(plan.writes)
    prev = 0
    for i, b in zip(head_writes, bounds, strict=True):
        writes[i] = replace(writes[i], data=stream[prev:b])
        prev = b
    key = headers.get("Sec-WebSocket-Key", plan.request_key)
    return replace(plan, writes=tuple(writes), request_key=key)


def answer_key(plan: Plan, client_key: str) -> Plan:
    """Server replay: make the recorded 101's accept value fit the live
    client's key (RFC 6455 §4.2.2), or no client could accept it."""
    return edit_head(plan, {"Sec-WebSocket-Accept": accept_for(client_key)})


def request_key(data: bytes) -> str | None:
    """The Sec-WebSocket-Key of a request head."""
    return _header(data, "sec-websocket-key")
