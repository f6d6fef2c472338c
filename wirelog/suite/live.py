"""What the fuzzer observed in a live run, recorded as Autobahn records it
(spec §1.6, §3.7), from the replayed connection decoded by the one decoder.

* **Events**: each data message the peer completed, as
  ``("message", asciiLogData(payload), binary)``, each pong as
  ``("pong", payload)`` (pings are answered, not recorded), and each
  ``continueLater`` that fired as ``("timeout", tag)`` (6.4.x), in the order
  they happened (the untagged pauses of 5.19/5.20 record nothing).
  Autobahn's fuzzer fails the connection at the peer's first protocol
  violation (an invalid UTF-8 text, a bad frame), and from then on its
  handlers hear nothing: neither does this record.
* **Closing facts**: :func:`wirelog.summary.closing_of`, the one rule.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter

from wirelog.model import Direction, MarkerKind, Opcode, Role
from wirelog.protocol.connection import DecodedConnection
from wirelog.replay.steps import Plan
from wirelog.sources.autobahn.encoding import ascii_log
from wirelog.suite.model import Event, Observation
from wirelog.summary import closing_of


def _position(dc: DecodedConnection) -> dict[tuple[Direction, int], int]:
    """Each frame's position in the recording: the chunk completing it (the
    first whose end reaches the frame's; ends grow: a binary search)."""
    ends: list[tuple[int, int]] = []
    pos = 0
    for c in dc.connection.chunks:
        if c.direction is Direction.RX:
            pos += c.length
            ends.append((pos, c.index))
    out: dict[tuple[Direction, int], int] = {}
    for f in dc.frames_of(Direction.RX):
        if f.offset is None:
            continue
        at = bisect_left(ends, (f.offset + f.header_length + f.length, -1))
        out[(f.direction, f.index)] = ends[at][1] if at < len(ends) else 1 << 60
    return out


def received(dc: DecodedConnection, plan: Plan) -> tuple[Event, ...]:
    """The fuzzer's ``received`` list (module docstring)."""
    where = _position(dc)
    bad = [
        where.get((v.direction, v.frame), 1 << 60)
        for v in dc.violations
        if v.direction is Direction.RX and v.frame is not None and not v.kind.is_finding
    ]
    failed_at = min(bad, default=1 << 61)
    timed: list[tuple[int, Event]] = []
    for m in dc.messages:
        if m.direction is not Direction.RX:
            continue
        at = where.get((m.direction, m.first_frame + m.frames - 1), 1 << 60)
        if m.violations or at >= failed_at:
            continue
        if m.opcode in (Opcode.TEXT, Opcode.BINARY):
            timed.append((at, ("message", ascii_log(m.data, m.length), m.opcode == Opcode.BINARY)))
        elif m.opcode == Opcode.PONG:
            timed.append((at, ("pong", ascii_log(m.data, m.length))))
    tags = [t.tag for t in plan.timers if t.kind is MarkerKind.DELAY]
    fired = [m for m in dc.connection.markers if m.kind is MarkerKind.DELAY_FIRED]
    for mark, tag in zip(fired, tags, strict=False):
        if tag is not None:  # only 6.4.x's tagged pauses record themselves
            timed.append((mark.index, ("timeout", tag)))
    timed.sort(key=lambda t: t[0])
    return tuple(e for _, e in timed)


def observed(dc: DecodedConnection, plan: Plan) -> Observation:
    """The observation a live run gives the judge."""
    keys = closing_of(dc).autobahn()
    hs = dc.handshake
    return Observation(
        received=received(dc, plan),
        was_open=hs is not None and hs.upgraded,
        closed_by_me=bool(keys.get("closedByMe")),
        was_clean=bool(keys.get("wasClean")),
        remote_close_code=keys.get("remoteCloseCode"),
        dropped_by_me=bool(keys.get("droppedByMe")),
        is_server=dc.connection.recorder is Role.SERVER,
        tx_frames=dict(Counter(int(f.opcode) for f in dc.frames_of(Direction.TX))),
        deflate=hs is not None and hs.deflate is not None,
    )


__all__ = ["observed", "received"]
