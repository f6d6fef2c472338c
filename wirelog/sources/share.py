"""One capture read by several workers, each keeping its share of the connections.

A big capture is shared out by connection (``wirelog export --workers``):
every worker reads the whole file, because the read is cheap and must see
every packet (TCP reassembly, the capture-wide chunk ``index``), and only
the connections whose number hashes to its share reach its sink, because the
decode is not. :class:`Shared` stands between a source and its sink, so the
source numbers and indexes exactly as it does alone, and the union of the
shares' rows is the rows of one reader, whatever the order they finish in.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

from wirelog.errors import UsageError
from wirelog.model import Chunk, Connection, Marker, Violation
from wirelog.sources.sink import Sink, Summary


def share_of(conn: int, shares: int) -> int:
    """The share (0 to ``shares`` - 1) connection number ``conn`` belongs to.

    A CRC, not ``conn % shares``: connection numbers count every TCP
    connection, so a capture where each WebSocket connection follows a plain
    HTTP one would put them all in one share of two. The same in every
    process (``hash`` of a str is not)."""
    return zlib.crc32(conn.to_bytes(8, "little")) % shares


def check(share: tuple[int, int]) -> None:
    index, count = share
    if not 0 <= index < count:
        raise UsageError(f"share {index} of {count}: needs 0 <= share < shares")


class Shared:
    """A :class:`~wirelog.sources.sink.Sink` passing on only the
    connections of share ``index`` of ``count``; ``done`` always."""

    def __init__(self, sink: Sink, index: int, count: int) -> None:
        check((index, count))
        self.sink = sink
        self.index = index
        self.count = count
        self._kept: set[int] = set()

    def opened(self, conn: Connection) -> None:
        if share_of(conn.conn, self.count) == self.index:
            self._kept.add(conn.conn)
            self.sink.opened(conn)

    def chunk(self, conn: Connection, chunk: Chunk) -> None:
        if conn.conn in self._kept:
            self.sink.chunk(conn, chunk)

    def marker(self, conn: Connection, marker: Marker) -> None:
        if conn.conn in self._kept:
            self.sink.marker(conn, marker)

    def finding(self, conn: Connection, finding: Violation) -> None:
        if conn.conn in self._kept:
            self.sink.finding(conn, finding)

    def closed(self, conn: Connection) -> None:
        if conn.conn in self._kept:
            self._kept.discard(conn.conn)
            self.sink.closed(conn)

    def done(self, summary: Summary) -> None:
        # What the capture skipped belongs to the input, not to a share: the
        # first share reports it, the others would only repeat it.
        if self.index:
            summary = replace(
                summary, not_tcp=0, http=0, other=0, tls={}, framing={}, undecrypted=[]
            )
        self.sink.done(summary)


def shared(sink: Sink, share: tuple[int, int] | None) -> Sink:
    """``sink`` itself, or behind a :class:`Shared` for ``share = (index, count)``."""
    return sink if share is None else Shared(sink, *share)
