"""The octets of one side that a recording determines (pure).

Autobahn keeps only the first 64 octets of each chunk in its wire log
(spec §1.4), but the report holds enough to rebuild most of them: the
complete heads apart (``httpRequest``/``httpResponse``) and a TF entry per
frame with its payload, or a base repeated to PAYLOAD-REPEAT-LEN, and its
mask (spec §3.1). :func:`known_chunks` rebuilds what those determine
(``Chunk.rebuilt``); what stays unknown makes it raise
:class:`~wirelog.errors.PlanError` listing the chunks, unless ``fill`` is
set: then the known prefix is repeated to the recorded length and each chunk
says how many of its octets were synthesized. :func:`hidden` names traffic
the recording does not hold at all, which no rebuilding brings back.

Rebuilding and filling allocate what a length field says, so both are
bounded per input: at most :data:`FILL_LIMIT` octets of one side may be
absent from the recording (a chunk "of 10**15 octets" is refused in one
line, not allocated), and the claimed stream is built no further than the
side's chunks reach.
"""

from __future__ import annotations

import os
from dataclasses import replace

from wirelog.errors import PlanError
from wirelog.model import Chunk, Connection, Direction, Frame, MarkerKind, Role, ViolationKind
from wirelog.protocol.frames import FrameDecoder, encode_frame
from wirelog.protocol.handshake import looks_like_request

#: How many unknown chunks an error lists by number.
_LISTED = 12
#: Octets of one side a replay may rebuild or synthesize, per input.
FILL_LIMIT = 64 * 1024 * 1024


def recorded_head(conn: Connection, role: Role) -> bytes | None:
    """``role``'s complete HTTP head as the input kept it apart, if it did."""
    return conn.handshake_request if role is Role.CLIENT else conn.handshake_response


def side_chunks(conn: Connection, role: Role) -> list[Chunk]:
    d = conn.direction_of(role)
    return [c for c in conn.chunks if c.direction is d]


def known_chunks(conn: Connection, role: Role, fill: bool) -> list[Chunk]:
    """``role``'s chunks with every octet the recording determines, and with
    ``fill`` the rest guessed (see the module docstring)."""
    chunks = side_chunks(conn, role)
    absent = sum(c.missing for c in chunks)
    if absent > FILL_LIMIT:
        raise PlanError(
            f"{conn.label}: {absent} octets of the {role.value} side are not in the recording, "
            f"more than the {FILL_LIMIT} a replay rebuilds or fills"
        )
    chunks = _rebuild_head(conn, role, chunks)
    chunks = _rebuild_from_claims(conn, role, chunks, fill)
    missing = [c for c in chunks if not c.complete]
    if missing and not fill:
        listed = ", ".join(
            f"{c.index} ({c.missing} of {c.length} octets)" for c in missing[:_LISTED]
        )
        more = f" and {len(missing) - _LISTED} more" if len(missing) > _LISTED else ""
        raise PlanError(
            f"{conn.label}: octets of {len(missing)} chunk(s) are unknown: chunk {listed}{more}; "
            "--fill repeats the known prefix to the recorded length"
        )
    chunks = [c if c.complete else _fill(c) for c in chunks]
    return fresh_masks(conn, role, chunks)


def fresh_masks(conn: Connection, role: Role, chunks: list[Chunk]) -> list[Chunk]:
    """A messages-only recording's client frames (HAR, mitmproxy: the
    ``messages_only`` finding) with a fresh random masking key each.

    Such a recorder saw messages, not frames, so the source rebuilt each as
    one frame masked with zeros (:data:`~wirelog.sources.messages.ZERO_MASK`);
    a client must mask every frame with a new key "derived from a strong
    source of entropy" (RFC 6455 §5.3), so a replay may not send those
    zeros. Called once per plan, so every replay draws new keys."""
    if role is not Role.CLIENT or not any(
        f.kind is ViolationKind.MESSAGES_ONLY for f in conn.findings
    ):
        return chunks
    out = []
    for c in chunks:
        frame = None if looks_like_request(c.data) else _one_frame(c.data)
        if frame is not None:
            data = encode_frame(
                frame.opcode, frame.payload, fin=frame.fin, rsv=frame.rsv, mask=_key()
            )
            c = replace(c, data=data, length=len(data))
        out.append(c)
    return out


def _one_frame(data: bytes) -> Frame | None:
    """The one whole masked frame ``data`` is, else None."""
    events = FrameDecoder(Direction.TX, Role.CLIENT).feed(data)
    if len(events) != 1 or not isinstance(frame := events[0], Frame):
        return None
    whole = frame.complete and frame.wire_length == len(data)
    return frame if whole and frame.masked else None


def _key() -> bytes:
    """Four random octets, never all zero (a zero key would mask nothing)."""
    while (key := os.urandom(4)) == b"\0\0\0\0":
        continue  # pragma: no cover - one chance in 2**32
    return key


def hidden(conn: Connection, mine: Direction) -> str | None:
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


def unsent(conn: Connection, role: Role, chunks: list[Chunk], fill: bool) -> list[bytes]:
    """The octets of frames ``role`` passed to sendFrame (TF) that its log
    never shows written: the connection died first (a peer that dropped TCP
    while the fuzzer's chops were still queued, spec §3.2). Only when the
    recorded ``chunks`` are exactly the start of the claimed stream; cut
    into the claims' chop size, as the fuzzer's queue would have sent them."""
    total = sum(c.length for c in chunks)
    stream, _ = _claimed_stream(conn, role, fill, total + FILL_LIMIT)
    if len(stream) <= total or b"".join(c.data for c in chunks) != stream[:total]:
        return []
    tail = stream[total : total + FILL_LIMIT]
    mine = conn.direction_of(role)
    chop = next((c.chopsize for c in conn.claims if c.direction is mine and c.chopsize), None)
    if not chop:
        return [tail]
    return [tail[i : i + chop] for i in range(0, len(tail), chop)]


def _rebuild_head(conn: Connection, role: Role, chunks: list[Chunk]) -> list[Chunk]:
    """Fill chunks cut inside the HTTP head from the complete head the input
    kept apart (Autobahn's ``httpRequest``/``httpResponse``)."""
    head = recorded_head(conn, role)
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


def _claimed_stream(
    conn: Connection, role: Role, fill: bool, reach: int
) -> tuple[bytes, list[range]]:
    """``role``'s octet stream as the log claims it: the complete head, then
    every TF frame whose payload the log determines (spec §3.1: the payload,
    or its base repeated to PAYLOAD-REPEAT-LEN, masked with the logged key).
    With ``fill`` a payload known only by its prefix is that prefix repeated
    (the ranges of guessed octets are returned); otherwise the stream stops
    at the first frame it cannot rebuild, or once it is ``reach`` octets long."""
    parts = [recorded_head(conn, role) or b""]
    pos = len(parts[0])
    guessed: list[range] = []
    mine = conn.direction_of(role)
    for c in conn.claims:
        if pos >= reach:
            break
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
        payload = _repeat(known, length) if exact else extend(known, length)
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
    stream, guessed = _claimed_stream(conn, role, fill, sum(c.length for c in chunks))
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


def _repeat(known: bytes, length: int) -> bytes:
    """``known`` repeated to ``length`` octets (Autobahn's PAYLOAD-REPEAT-LEN)."""
    return (known * (length // max(1, len(known)) + 1))[:length]


#: The longest pattern :func:`extend` looks for, and where it may start.
_PERIOD = 16
_STARTS = (0, 2)


def extend(known: bytes, length: int) -> bytes:
    """A payload known by its prefix, extended to ``length`` octets as the
    pattern the prefix shows: Autobahn's long payloads repeat a short base
    (``*``, ``\\xfe``, ``BAsd7&jh23``, spec §4), a close payload after its
    two code octets (7.3.5's 123 ``*``). The shortest period (at most
    :data:`_PERIOD` octets, seen at least twice) from the first start that
    has one wins; without any, the whole prefix repeats."""
    for start in _STARTS:
        tail = known[start:]
        for p in range(1, min(_PERIOD, len(tail) // 2) + 1):
            if all(tail[i] == tail[i - p] for i in range(p, len(tail))):
                return known[:start] + _repeat(tail[:p], length - start)
    return _repeat(known, length)


def _fill(c: Chunk) -> Chunk:
    if not c.data:
        raise PlanError(f"chunk {c.index}: no octets at all to repeat for --fill")
    return replace(c, data=_repeat(c.data, c.length), synthesized=c.missing)
