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
import heapq
from collections.abc import Iterator
from dataclasses import replace

from wirelog.analysis.conns import no_such_connection, pick_one
from wirelog.errors import InputError
from wirelog.model import (
    Chunk,
    Connection,
    Direction,
    Frame,
    Handshake,
    Marker,
    MarkerKind,
    Message,
    Opcode,
    Role,
)
from wirelog.pipeline import ConnectionEnd, Options, StreamItem, decoded_events, stream
from wirelog.protocol.connection import DecodedConnection
from wirelog.protocol.handshake import MAX_HEAD
from wirelog.sources.pcap.streams import is_stream
from wirelog.summary import Tally

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


_END = 1 << 60
"""The position of what has no chunk (frames a log claims): after everything."""


class Follower:
    """One connection's conversation, rendered as its stream items arrive.

    :meth:`add` takes the items of :func:`wirelog.pipeline.stream` (or
    :func:`~wirelog.pipeline.decoded_events`) and returns the lines that are
    ready. A message is shown where it began, so it waits while a message
    that began earlier is still open, or while a frame of either direction
    may yet begin before it; markers wait likewise. What waits is what no
    later item can come before, so memory follows the messages in flight,
    not the connection: a long conversation prints as it is decoded."""

    def __init__(self, conn: Connection, limit: int = 1024) -> None:
        self.conn = conn
        self.limit = limit
        self.done = False
        self._tally = Tally(conn)
        self._start: float | None = None
        self._begun = False
        self._handshake: Handshake | None = None
        self._waiting: list[tuple[int, int, int, Message | Marker | list[str]]] = []
        """A heap by position (chunk index), markers before messages there,
        then arrival: of what came before the start was known, the item;
        after, its lines (a waiting message holds ``limit`` octets, not all)."""
        self._n = 0
        self._open: dict[tuple[Direction, int], int] = {}
        """First frames whose message has not come yet, and where they began."""
        self._low: dict[Direction, int] = {}
        """Per direction, the earliest chunk its next frame can begin in."""
        self._latest: dict[Direction, int] = {}
        """Per direction, its latest chunk."""
        self._heads: dict[Direction, list[tuple[int, int]]] | None = {}
        """Until the handshake: each direction's chunks as (index, end offset),
        to find the chunk its HTTP head ends in (its first frame begins there)."""

    def add(self, item: StreamItem) -> list[str]:
        """Take one item; the lines it makes ready (the last ones at the
        :class:`~wirelog.pipeline.ConnectionEnd`)."""
        if isinstance(item, ConnectionEnd):
            return self.finish()
        self._tally.add(item)
        if isinstance(item, Chunk):
            d = item.direction
            self._latest[d] = item.index
            self._low.setdefault(d, item.index)
            heads = self._heads
            if heads is not None:
                chunks = heads.setdefault(d, [])
                end = chunks[-1][1] if chunks else 0
                if end <= MAX_HEAD:  # a head ends within that, or is no head
                    chunks.append((item.index, end + item.length))
            return self._ready()
        if isinstance(item, Frame):
            d = item.direction
            # The next frame of this direction begins in the chunk this one
            # ended in (it comes right after that chunk) or later.
            self._low[d] = self._latest.get(d, self._low.get(d, _END))
            if item.opcode != Opcode.CONT:
                self._open[(d, item.index)] = _END if item.chunk is None else item.chunk
            return self._begin() + self._ready()
        if isinstance(item, Message):
            self._message(item)
        elif isinstance(item, Marker) and item.kind not in _UNSHOWN:
            self._wait(item.index, 0, item)
        elif isinstance(item, Handshake):
            self._handshake = item
            self._head_ends(item)
            return self._begin() + self._ready()
        return self._ready()

    def finish(self) -> list[str]:
        """The connection ended: everything still waiting, then how it closed."""
        if self.done:
            return []
        self.done = True
        lines = self._begin()
        while self._waiting:
            lines += self._render(heapq.heappop(self._waiting)[3])
        closing = self._tally.summary().closing
        who = closing.closed_by.value if closing.closed_by else "nobody"
        lines.append("")
        lines.append(
            f"== closed by {who}; closing handshake "
            + ("complete" if closing.clean else "not complete")
            + (f"; TCP dropped by {closing.dropped_by.value}" if closing.dropped_by else "")
        )
        return lines

    def _message(self, m: Message) -> None:
        d = m.direction
        pos = self._open.pop((d, m.first_frame), _END)
        if m.opcode < Opcode.CLOSE:
            # Data messages of a direction end in order: a first frame before
            # this one whose message never came (a protocol violation) never will.
            for key in [k for k in self._open if k[0] is d and k[1] < m.first_frame]:
                del self._open[key]
        self._wait(pos, 1, m)

    def _wait(self, pos: int, kind: int, item: Message | Marker) -> None:
        shown = self._render(item) if self._begun else item
        heapq.heappush(self._waiting, (pos, kind, self._n, shown))
        self._n += 1

    def _head_ends(self, hs: Handshake) -> None:
        """Each direction's first frame begins in the chunk its head ends in."""
        heads, self._heads = self._heads or {}, None
        for d, chunks in heads.items():
            head = hs.request if self.conn.sender(d) is Role.CLIENT else hs.response
            if head:  # (not found, a head longer than its chunks: the latest, to be safe)
                latest = self._latest.get(d, _END)
                self._low[d] = next((i for i, end in chunks if end >= len(head)), latest)

    def _ready(self) -> list[str]:
        """The waiting events nothing can come before any more."""
        if not self._begun or not self._waiting:
            return []
        low = min(self._open.values(), default=_END)
        for d in (Direction.TX, Direction.RX):
            low = min(low, self._low.get(d, _END))
        lines: list[str] = []
        while self._waiting and self._waiting[0][0] < low:
            lines += self._render(heapq.heappop(self._waiting)[3])
        return lines

    def _begin(self) -> list[str]:
        """The connection's first lines, once its handshake (or, without one,
        its first frame) has come: by then its start is known."""
        if self._begun:
            return []
        self._begun = True
        c = self.conn
        start = self._start = self._tally.summary().start
        out = [f"== {c.source} conn {c.conn}: client {c.client or '?'}, server {c.server or '?'}"]
        if start is not None:
            begun = dt.datetime.fromtimestamp(start, dt.UTC).isoformat().replace("+00:00", "Z")
            out.append(f"== began {begun}; t is seconds since then")
        else:
            out.append("== the input has no times; events in recorded order")
        out.append("")
        hs = self._handshake
        if hs is not None and (hs.request or hs.response):
            out.extend(_head(hs.request, "> "))
            out.append("")
            out.extend(_head(hs.response, "< "))
            out.append("")
        return out

    def _render(self, item: Message | Marker | list[str]) -> list[str]:
        if isinstance(item, list):
            return item
        if isinstance(item, Marker):
            return [_marker(self.conn, item, self._start)]
        m = item
        name = Opcode.name_of(m.opcode)
        size = "" if m.opcode == Opcode.CLOSE else f" ({m.length} octets)"
        flags = (" compressed" if m.compressed else "") + ("" if m.complete else " incomplete")
        lines = [f"{_when(m.ts, self._start)}  {ARROW[m.sender]}  {name}{size}{flags}"]
        lines += ["    " + ln for ln in _body(m, self.limit)]
        return lines


def render(dc: DecodedConnection, limit: int = 1024) -> str:
    """The conversation of one decoded connection as text lines (what
    ``wirelog follow`` prints for it)."""
    follower = Follower(dc.connection, limit)
    lines: list[str] = []
    for _, item in decoded_events(dc):
        lines += follower.add(item)
    return "\n".join(lines) + "\n"


#: Markers that are not events of a conversation (a TLS segment is a chop).
_UNSHOWN = (MarkerKind.WIRELOG, MarkerKind.SEGMENT)


def _marker(c: Connection, mk: Marker, start: float | None) -> str:
    who = f"  {ARROW[c.sender(mk.direction)]}" if mk.direction is not None else ""
    what = _MARKERS.get(mk.kind, mk.kind.value)
    if mk.kind is MarkerKind.GAP:
        what = f"{mk.value} {what}"
    elif mk.kind in (MarkerKind.DELAY, MarkerKind.KILL_AFTER, MarkerKind.CLOSE_AFTER):
        what = f"{what} {mk.value} s" if mk.value is not None else what
    return f"{_when(mk.ts, start)}{who}  -- {what} --"


def conversations(path: str, options: Options | None = None, limit: int = 1024) -> Iterator[str]:
    """The text of the connections ``options.conns`` asks for, one after
    another in the order they began, as the input is decoded: the first
    prints as it goes, each later one once those before it are done.

    Without ``options.conns`` the input must hold one connection: a file is
    asked first (:func:`connections_in`), a stream (a pipe) is followed to
    its end and shown then. An input that fails part-way shows what it has,
    each connection as far as it got, then raises."""
    opts = options or Options()
    wanted = opts.conns
    if not wanted and not is_stream(path):
        have = connections_in(path, opts)
        if len(have) != 1:
            raise pick_one(have, path) if have else no_such_connection((), (), path)
        wanted = (have[0],)
    shown = _Shown(limit, only_one=not wanted)
    try:
        for conn, item in stream(path, replace(opts, conns=wanted)):
            yield from shown.add(conn, item)
    except InputError:
        if not shown.several:
            yield from shown.rest()
        raise
    if shown.several:
        raise pick_one(sorted(shown.seen), path)
    yield from shown.rest()
    missing = [c for c in wanted if c not in shown.seen]
    if missing or not shown.seen:
        have = sorted(shown.seen) if is_stream(path) else connections_in(path, opts)
        raise no_such_connection(missing, have, path)


def connections_in(path: str, options: Options) -> list[int]:
    """The numbers of an input's WebSocket connections, from a pass of the
    TCP layer alone (no frames decoded)."""
    layer = replace(options, conns=(), frames=False, messages=False)
    return sorted({c.conn for c, _ in stream(path, layer)})


class _Shown:
    """Several connections' followers, shown one after another: the first
    begun prints live, the lines of the others wait until it is done."""

    def __init__(self, limit: int, *, only_one: bool) -> None:
        self.limit = limit
        self.only_one = only_one
        """Follow the first connection only, and show it at the end (when it was the only one)."""
        self.seen: set[int] = set()
        self._index: dict[int, int] = {}
        self._order: list[Follower] = []
        self._held: list[list[str]] = []
        self._live = 0

    @property
    def several(self) -> bool:
        return self.only_one and len(self.seen) > 1

    def add(self, conn: Connection, item: StreamItem) -> Iterator[str]:
        self.seen.add(conn.conn)
        n = self._index.get(id(conn))
        if n is None:
            if self.only_one and self._order:
                return  # a second connection: said at the end
            n = self._index[id(conn)] = len(self._order)
            self._order.append(Follower(conn, self.limit))
            self._held.append([])
        lines = self._order[n].add(item)
        if n != self._live or self.only_one:
            self._held[n] += lines
            return
        if lines:
            yield _text(lines)
        while self._order[self._live].done and self._live + 1 < len(self._order):
            self._live += 1
            yield "\n" + _text(self._held[self._live])
            self._held[self._live] = []

    def rest(self) -> Iterator[str]:
        """What is left: each connection's waiting lines and its end."""
        for n in range(self._live, len(self._order)):
            lines = self._held[n] + self._order[n].finish()
            yield ("\n" if n > self._live else "") + _text(lines)


def _text(lines: list[str]) -> str:
    return "".join(ln + "\n" for ln in lines)
