"""``wirelog follow``: one conversation as Wireshark's Follow WebSocket Stream shows it.

The handshake's two heads, then every message (fragments joined, inflated:
what the application saw) with its time since the connection began and its
direction, text as text and other payloads as a hex dump, the close frames
with code and reason, and between them what the recording itself says:
octets missing from the capture, FIN and RST, Autobahn's timers.

Messages and markers are put in recorded order: a message sits at the chunk
that holds its first frame's first header octet (where sending began), a
marker at its own index in the same sequence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from wirelog.model import Connection, Marker, MarkerKind, Message, Opcode, Role
from wirelog.protocol.connection import DecodedConnection
from wirelog.summary import summarize

ARROW = {Role.CLIENT: "client → server", Role.SERVER: "server → client"}
_MARKERS = {
    MarkerKind.GAP: "octets missing from the capture",
    MarkerKind.FIN: "FIN: TCP half-closed",
    MarkerKind.RST: "RST: TCP reset",
    MarkerKind.DROPPED: "TCP dropped",
    MarkerKind.DELAY: "timer: continue later",
    MarkerKind.DELAY_FIRED: "timer fired: continue later",
    MarkerKind.KILL_AFTER: "timer: fail the connection after",
    MarkerKind.KILL_FIRED: "timer fired: fail the connection",
    MarkerKind.CLOSE_AFTER: "timer: close after",
    MarkerKind.CLOSE_FIRED: "timer fired: close",
}
"""Autobahn's timers by what they do (spec §2: CT, KL, TI and their firings)."""


def hexdump(data: bytes, limit: int) -> Iterator[str]:
    """``xxd``-like lines (offset, 16 octets, printable ASCII), ``limit``
    octets at most (0: all)."""
    shown = data if not limit else data[:limit]
    for off in range(0, len(shown), 16):
        row = shown[off : off + 16]
        hexes = " ".join(f"{b:02x}" for b in row)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        yield f"{off:08x}  {hexes:<47}  |{text}|"
    if len(shown) < len(data):
        yield f"… {len(data) - len(shown)} more octets (--max 0 shows all)"


def _body(m: Message, limit: int) -> Iterator[str]:
    if m.length == 0 and m.opcode != Opcode.CLOSE:
        yield "(empty)"
        return
    if m.opcode == Opcode.CLOSE:
        if m.close_code is None:
            yield "(no close code)"
        else:
            reason = f' "{m.close_reason}"' if m.close_reason else ""
            yield f"code {m.close_code}{reason}"
        return
    if m.text is not None:
        text = m.text if not limit or len(m.text) <= limit else m.text[:limit]
        yield from (text.splitlines() or [""])
        if len(text) < len(m.text):
            yield f"… {len(m.text) - len(text)} more characters (--max 0 shows all)"
        return
    yield from hexdump(m.data, limit)


def _head(data: bytes | None, prefix: str) -> Iterator[str]:
    if not data:
        return
    text = data.decode("latin-1").rstrip("\r\n")
    for line in text.split("\r\n"):
        yield f"{prefix}{line}"


def _when(ts: float | None, start: float | None) -> str:
    if ts is None:
        return "t=?"
    if start is None:
        return f"ts={ts:.6f}"
    return f"t={round(ts - start, 6):.6f}"


def render(dc: DecodedConnection, limit: int = 1024) -> str:
    """The conversation of one decoded connection as text lines."""
    c = dc.connection
    s = summarize(dc)
    start = s.start
    out: list[str] = []
    out.append(f"== {c.source} conn {c.conn}: client {c.client or '?'}, server {c.server or '?'}")
    if start is not None:
        begun = dt.datetime.fromtimestamp(start, dt.UTC).isoformat().replace("+00:00", "Z")
        out.append(f"== began {begun}; t is seconds since then")
    else:
        out.append("== the input has no times; events in recorded order")
    out.append("")
    hs = dc.handshake
    if hs is not None and (hs.request or hs.response):
        out.extend(_head(hs.request, "> "))
        out.append("")
        out.extend(_head(hs.response, "< "))
        out.append("")
    first_chunk = {(f.direction, f.index): f.chunk for f in dc.frames}
    events: list[tuple[int, int, list[str]]] = []
    for n, m in enumerate(dc.messages):
        pos = first_chunk.get((m.direction, m.first_frame))
        name = Opcode.name_of(m.opcode)
        size = "" if m.opcode == Opcode.CLOSE else f" ({m.length} octets)"
        flags = (" compressed" if m.compressed else "") + ("" if m.complete else " incomplete")
        lines = [f"{_when(m.ts, start)}  {ARROW[m.sender]}  {name}{size}{flags}"]
        lines += ["    " + ln for ln in _body(m, limit)]
        events.append((pos if pos is not None else 1 << 60, n, lines))
    for n, mk in enumerate(c.markers):
        line = _marker(c, mk, start)
        if line:
            events.append((mk.index, -len(c.markers) + n, [line]))
    events.sort(key=lambda e: (e[0], e[1]))
    for _, _, lines in events:
        out.extend(lines)
    closing = s.closing
    out.append("")
    who = closing.closed_by.value if closing.closed_by else "nobody"
    out.append(
        f"== closed by {who}; closing handshake "
        + ("complete" if closing.clean else "not complete")
        + (f"; TCP dropped by {closing.dropped_by.value}" if closing.dropped_by else "")
    )
    return "\n".join(out) + "\n"


def _marker(c: Connection, mk: Marker, start: float | None) -> str | None:
    if mk.kind is MarkerKind.WIRELOG or mk.kind is MarkerKind.SEGMENT:  # TLS: chops, not events
        return None
    who = f"  {ARROW[c.sender(mk.direction)]}" if mk.direction is not None else ""
    what = _MARKERS.get(mk.kind, mk.kind.value)
    if mk.kind is MarkerKind.GAP:
        what = f"{mk.value} {what}"
    elif mk.kind in (MarkerKind.DELAY, MarkerKind.KILL_AFTER, MarkerKind.CLOSE_AFTER):
        what = f"{what} {mk.value} s" if mk.value is not None else what
    return f"{_when(mk.ts, start)}{who}  -- {what} --"
