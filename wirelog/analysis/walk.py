"""The one pass :func:`wirelog.load` makes over its inputs.

It walks :func:`wirelog.pipeline.stream` (the walk ``wirelog decode`` and
``wirelog stats`` make), keeps the objects each table is built from, and
counts every connection with :class:`wirelog.summary.Tally`, so a DataFrame
row is the row the CLI prints and a statistics entry holds the numbers
``wirelog stats`` prints. An input that fails part-way keeps what came
before the failure.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from wirelog.analysis import table
from wirelog.errors import InputError, PartialInputWarning
from wirelog.model import (
    Chunk,
    Connection,
    Frame,
    Handshake,
    Marker,
    MarkerKind,
    Message,
    Recording,
    Violation,
)
from wirelog.outputs import formats as output
from wirelog.outputs.statsview import stats_entry
from wirelog.pipeline import (
    ConnectionEnd,
    Options,
    StreamItem,
    decode_recording,
    decoded_events,
    stream,
)
from wirelog.progress import progress
from wirelog.protocol.connection import DecodedConnection
from wirelog.summary import ConnectionSummary, Problem, Tally

Source = str | os.PathLike[str] | Recording | Connection | DecodedConnection
Kept = list[tuple[Connection, Any]]


class Walk:
    """What one pass over the inputs keeps: per table level the
    ``(connection, object)`` pairs, the connections table, each connection's
    start (for the ``t`` column) and its ``wirelog stats`` entry."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.objs: dict[str, Kept] = {lv: [] for lv in table.LEVELS}
        self.conns = table.Builder("connections")
        self.starts: dict[tuple[str, int], float] = {}
        self.entries: list[dict[str, Any]] = []
        self.errors: list[InputError] = []
        """Inputs that failed part-way; what came before the failure is kept."""
        self.inputs: list[tuple[str, Violation]] = []
        """Findings about a whole input (what a capture skipped), with its name."""
        self.tap: Callable[[Connection, StreamItem], None] | None = None
        """Given every item as it passes: what a consumer keeps besides the
        tables (``wirelog plot``'s ladder, :mod:`wirelog.analysis.plotdata`)."""
        self._taken = 0

    def run(self, sources: list[Source]) -> None:
        for _ in self.steps(sources):
            pass

    def steps(self, sources: list[Source], every: int = 0) -> Iterator[None]:
        """The pass, pausing after each ``every`` items taken (never, at 0):
        a consumer that drains :attr:`objs` at each pause (the streamed
        tables of :mod:`wirelog.analysis.batches`) holds a batch at a time."""
        # The unit is octets decoded (what DownloadColumn shows): a capture's
        # size is known only after it has been read, so the total stays open.
        with progress("decoding", None) as bar:
            for src in sources:
                tallies: dict[int, Tally] = {}
                taken = self._taken
                try:
                    yield from self._take(src, tallies, bar, every)
                except InputError as exc:
                    if self._taken == taken and len(sources) == 1:
                        raise  # nothing readable at all: no partial result to keep
                    # One bad input among several must not hide the others
                    # (as in the CLI): it is listed in errors, with a warning.
                    self.failed(exc)
                for tally in tallies.values():
                    self._close(tally.summary())

    def _take(self, src: Source, tallies: dict[int, Tally], bar: Any, every: int) -> Iterator[None]:
        chops, frames, msgs, viols = (self.objs[lv] for lv in table.LEVELS)
        tap = self.tap
        for conn, item in self.items(src):
            self._taken += 1
            if tap is not None:
                tap(conn, item)
            if every and not self._taken % every:
                yield  # before this item: the objects kept so far can be drained
            tally = tallies.get(id(conn))
            if tally is None:
                tally = tallies[id(conn)] = Tally(conn)
            if isinstance(item, Chunk):
                tally.chunk(item)
                if item.record is None:  # TLS: the chops are the segments below
                    chops.append((conn, item))
                bar.advance(item.length)
            elif isinstance(item, Marker):
                tally.marker(item)
                if item.kind is MarkerKind.SEGMENT:  # a TLS connection's TCP segment
                    chops.append((conn, item))
            elif isinstance(item, Frame):
                frames.append((conn, item))
                _listed(viols, conn, tally.frame(item))
            elif isinstance(item, Message):
                msgs.append((conn, item))
                _listed(viols, conn, tally.message(item))
            elif isinstance(item, Violation):
                _listed(viols, conn, tally.violation(item))
            elif isinstance(item, Handshake):
                tally.handshake(item)
            elif isinstance(item, ConnectionEnd):
                self._close(tallies.pop(id(conn)).summary())

    def _close(self, s: ConnectionSummary) -> None:
        conn = s.connection
        self.entries.append(stats_entry(conn, s.stats))
        self.conns.add(connection_row(s))
        if s.start is not None:
            self.starts[(conn.source, conn.conn)] = s.start

    def failed(self, exc: InputError) -> None:
        """Record an input that failed part-way; notebooks get a warning,
        the CLI prints the error after rendering what there is."""
        if all(str(e) != str(exc) for e in self.errors):
            self.errors.append(exc)
            warnings.warn(PartialInputWarning(str(exc)), stacklevel=5)

    def rows(self, level: str) -> Iterator[dict[str, Any]]:
        """The :mod:`wirelog.outputs.formats` rows of the objects kept for an
        event table (what ``decode --format jsonl`` prints), in order."""
        objs = self.objs[level]
        if level == "chops":
            return (output.chunk_row(c, x) for c, x in objs)
        if level == "frames":
            return (output.frame_row(c, x) for c, x in objs)
        if level == "messages":
            return (output.message_row(c, x) for c, x in objs)
        return itertools.chain(
            ({**output.violation_row(c, v), "on": on} for c, (v, on) in objs),
            ({**output.violation_row(p, v), "on": "input"} for p, v in self.inputs),
        )

    def items(self, src: Source) -> Iterator[tuple[Connection, StreamItem]]:
        if isinstance(src, DecodedConnection):
            yield from decoded_events(src)
        elif isinstance(src, Recording | Connection):
            limit = self.options.max_message_size
            for dc in decode_recording(as_recording(src), limit):
                if not self.options.conns or dc.conn in self.options.conns:
                    yield from decoded_events(dc)
        else:
            s = stream(os.fspath(src), self.options)
            yield from s
            # The finding about the input as a whole (what a capture skipped)
            # belongs to no connection: its row has the input's name only.
            for found in s.summary.listed() if s.summary is not None else []:
                self.inputs.append((s.path, found))


def _listed(out: Kept, conn: Connection, found: list[Problem]) -> None:
    for v, on in found:
        out.append((conn, (v, on)))


def as_recording(src: Recording | Connection) -> Recording:
    if isinstance(src, Connection):
        return Recording(src.source, "memory", [src])
    return src


def connection_row(s: ConnectionSummary) -> dict[str, Any]:
    """The ``connections`` table's row (:data:`wirelog.analysis.table.SCHEMAS`)."""
    c = s.connection
    hs = s.handshake
    case = c.meta.get("id")
    behavior = c.meta.get("behavior")
    tls = c.tls
    return {
        "source": c.source,
        "conn": c.conn,
        "recorder": c.recorder.value,
        "client": c.client,
        "server": c.server,
        "start": s.start,
        "duration": s.duration,
        "status": hs.status if hs else None,
        "target": hs.target if hs else None,
        "subprotocol": hs.subprotocol if hs else None,
        "extensions": hs.extensions if hs else None,
        "tls_version": tls.version if tls else None,
        "tls_cipher": tls.cipher if tls else None,
        "sni": tls.sni if tls else None,
        "alpn": tls.alpn if tls else None,
        "chops_tx": s.tx.chops,
        "chops_rx": s.rx.chops,
        "octets_tx": s.tx.octets,
        "octets_rx": s.rx.octets,
        "frames_tx": s.tx.frames,
        "frames_rx": s.rx.frames,
        "messages_tx": s.tx.messages,
        "messages_rx": s.rx.messages,
        "close_tx": s.tx.close_code,
        "close_rx": s.rx.close_code,
        "violations": s.violations,
        "findings": s.findings,
        "case": str(case) if case is not None else None,
        "behavior": str(behavior) if behavior is not None else None,
    }
