"""One path for every input: sources push, one sink decodes, consumers read.

The CLI, the library and notebooks all come through here, so an input
decodes the same way everywhere::

    capture file --files--> records --flows--> Sink  <--replay-- Recording <-- Autobahn report
                                                |
                                  Decoding: ConnectionDecoder.push(item)
                                                |
                         stream() / read() / decode() / load() / JSONL lane

* A **source** pushes each connection into a :class:`~wirelog.sources.sink.Sink`:
  ``opened``, then its chunks, markers (gap, FIN, RST, timers) and findings
  in recorded order, then ``closed``; ``done`` ends the input with a
  :class:`~wirelog.sources.sink.Summary`. Captures push as they are read
  (:mod:`wirelog.sources.pcap.capture`); Autobahn reports are parsed whole
  into a :class:`~wirelog.model.Recording` and :func:`replay`-ed into the same
  interface, each connection's items in index order.
* :class:`Decoding` is the one sink that decodes: the only caller of
  :meth:`~wirelog.protocol.connection.ConnectionDecoder.push`, the one place
  items reach the sans-I/O decoder.

**The order of events**, the same for every input. Per connection:

1. its items in recorded order (``index``): each :class:`~wirelog.model.Chunk`,
   each :class:`~wirelog.model.Marker` (gap, FIN, RST, Autobahn's timers
   and drops, a TLS connection's TCP segments) and each finding (a finding
   placed at an index comes before the item with that index), and, right
   after each item, the events the decoder derives from it (frames, messages, violations, the
   :class:`~wirelog.model.Handshake` once the response head is complete);
2. what the end of the connection releases (frames cut by the end,
   the handshake of a connection without a response);
3. one :class:`ConnectionEnd`.

A connection whose frames an Autobahn log also claims (TF/RF) is decoded at
its end, because the claims fill what the octets cannot show and are
cross-checked against every decoded frame first (:mod:`wirelog.protocol.claims`):
its derived events all come in step 2, as handshake, frames, messages,
violations. Connections of a capture interleave as their packets do; those
of a report follow one another.

:func:`stream` yields ``(connection, item)`` in that order (by batches too,
and the input's summary at the end); :func:`read` returns the
:class:`~wirelog.model.Recording`; :func:`decode` every connection decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import repeat

from wirelog.enums import MarkerKind
from wirelog.errors import InputError
from wirelog.model import Chunk, Connection, Frame, Handshake, Marker, Message, Recording, Violation
from wirelog.protocol.claims import reconcile
from wirelog.protocol.connection import (
    ConnectionDecoder,
    DecodedConnection,
    decode_connection,
    iter_items,
)
from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE
from wirelog.protocol.events import ConnectionEnd, StreamItem
from wirelog.protocol.records import RecordNumbers
from wirelog.sources.detect import detect
from wirelog.sources.options import Options
from wirelog.sources.share import shared
from wirelog.sources.sink import Sink, Summary

__all__ = [
    "ConnectionEnd",
    "Decoding",
    "Options",
    "Recorder",
    "Sink",
    "Stream",
    "StreamItem",
    "Summary",
    "decode",
    "decode_recording",
    "decoded_events",
    "detect",
    "read",
    "recorded",
    "replay",
    "stream",
]

CAPTURES = ("pcap", "pcapng")
#: Inputs read by a source that pushes (the others are Autobahn reports,
#: parsed whole, then replayed).
PUSHED = (*CAPTURES, "har", "mitmproxy")
END = ConnectionEnd()
Batch = list[tuple[Connection, StreamItem]]
Push = Callable[[str, Options, Sink], Iterator[None]]


def _pusher(kind: str) -> Push:
    """The source that pushes an input of this kind (heavy imports deferred)."""
    if kind == "har":
        from wirelog.sources.har.reader import push as push_har

        return push_har
    if kind == "mitmproxy":
        from wirelog.sources.mitm.reader import push as push_mitm

        return push_mitm
    from wirelog.sources.pcap.capture import push

    return push


class Decoding:
    """The sink that decodes: each connection's items go through one
    :class:`~wirelog.protocol.connection.ConnectionDecoder`, and the items
    with what they yield are appended to :attr:`out` in the module's order.

    ``findings=False`` leaves the pushed findings out of :attr:`out` (they
    are already on a materialized connection)."""

    def __init__(self, options: Options | None = None, *, findings: bool = True) -> None:
        opts = options or Options()
        self.out: Batch = []
        self.summary: Summary | None = None
        self._frames = opts.frames
        self._messages = opts.frames and opts.messages
        self._keep = opts.keep_data
        self._limit = opts.max_message_size
        self._findings = findings
        self._decoders: dict[int, ConnectionDecoder | None] = {}
        self._records: dict[int, RecordNumbers] = {}
        """TLS connections' record numbers, to give their frames."""
        self._last: Connection | None = None
        """The connection of the latest chunk, and its decoder."""
        self._last_decoder: ConnectionDecoder | None = None

    def opened(self, conn: Connection) -> None:
        dec = None
        if self._frames and not conn.claims:
            dec = ConnectionDecoder(
                conn.recorder,
                request_head=conn.handshake_request,
                response_head=conn.handshake_response,
                # A capture connection decoded by port (``--ws-port``) has no handshake.
                handshake=conn.meta.get("handshake", True) is not False,
                messages=self._messages,
                keep_data=self._keep,
                max_message_size=self._limit,
            )
            if conn.tls is not None:  # chunks are TLS records: resync after gaps there
                for side in dec.sides.values():
                    side.frames.boundaries = True
                self._records[id(conn)] = RecordNumbers()
        self._decoders[id(conn)] = dec

    def chunk(self, conn: Connection, chunk: Chunk) -> None:
        out = self.out
        out.append((conn, chunk))
        if conn is self._last:
            dec = self._last_decoder  # the common case: the same connection again
        else:
            dec = self._last_decoder = self._decoders[id(conn)]
            self._last = conn
        if dec is not None:
            if chunk.record is not None:  # TLS: each frame says its record
                records = self._records[id(conn)]
                records.note(chunk)
                events = records.number(dec.push(chunk))
            else:
                events = dec.push(chunk)
            if events:
                out.extend(zip(repeat(conn), events))

    def marker(self, conn: Connection, marker: Marker) -> None:
        self.out.append((conn, marker))
        if marker.kind is MarkerKind.SEGMENT:  # a TLS chop: for chop tables, not the decoder
            return
        dec = self._decoders[id(conn)]
        if dec is not None:
            events = dec.push(marker)
            records = self._records.get(id(conn))
            self.out.extend(zip(repeat(conn), records.number(events) if records else events))

    def finding(self, conn: Connection, finding: Violation) -> None:
        if self._findings:
            self.out.append((conn, finding))

    def closed(self, conn: Connection) -> None:
        dec = self._decoders.pop(id(conn))
        records = self._records.pop(id(conn), None)
        if conn is self._last:
            self._last = self._last_decoder = None
        out = self.out
        if dec is not None:
            events = dec.finish()
            out.extend(zip(repeat(conn), records.number(events) if records else events))
        elif self._frames:
            # Log claims: decoded whole, the claims reconciled (see above).
            dc = decode_connection(conn, reconcile=reconcile, max_message_size=self._limit)
            if dc.handshake is not None:
                out.append((conn, dc.handshake))
            out.extend((conn, f) for f in dc.frames)
            if self._messages:
                out.extend((conn, m) for m in dc.messages)
            out.extend((conn, v) for v in dc.violations[len(conn.findings) :])
        out.append((conn, END))

    def done(self, summary: Summary) -> None:
        self.summary = summary


class Recorder:
    """The sink that materializes: pushed items become a :class:`Recording`."""

    def __init__(self, source: str, kind: str) -> None:
        self.recording = Recording(source=source, kind=kind)
        self.summary: Summary | None = None

    def opened(self, conn: Connection) -> None:
        self.recording.connections.append(conn)

    def chunk(self, conn: Connection, chunk: Chunk) -> None:
        conn.chunks.append(chunk)

    def marker(self, conn: Connection, marker: Marker) -> None:
        conn.markers.append(marker)

    def finding(self, conn: Connection, finding: Violation) -> None:
        conn.findings.append(finding)

    def closed(self, conn: Connection) -> None:
        pass

    def done(self, summary: Summary) -> None:
        self.summary = summary
        self.recording.connections.sort(key=lambda c: c.conn)
        self.recording.findings.extend(summary.findings())


def replay(recording: Recording, sink: Sink, conns: tuple[int, ...] = ()) -> Iterator[None]:
    """Push a materialized recording into ``sink`` (only ``conns``, when
    given), yielding after each connection; ``sink.done`` ends it."""
    pushed = 0
    for conn in recording.connections:
        if conns and conn.conn not in conns:
            continue
        pushed += 1
        sink.opened(conn)
        for item in recorded(conn):
            if type(item) is Chunk:
                sink.chunk(conn, item)
            elif type(item) is Marker:
                sink.marker(conn, item)
            else:
                assert isinstance(item, Violation)
                sink.finding(conn, item)
        sink.closed(conn)
        yield
    sink.done(Summary(websocket=pushed))


def recorded(conn: Connection) -> Iterator[Chunk | Marker | Violation]:
    """A materialized connection's chunks, markers and findings in recorded
    order: by index, a finding before the item at its index (where a
    capture pushed it), findings without an index first."""
    findings = sorted(conn.findings, key=_at)
    f = 0
    for item in iter_items(conn):
        while f < len(findings) and _at(findings[f]) <= item.index:
            yield findings[f]
            f += 1
        yield item
    yield from findings[f:]


def _at(v: Violation) -> int:
    return -1 if v.chunk is None else v.chunk


class Stream:
    """``(connection, item)`` pairs of one input in the module's order.

    Iterate it for pairs, or call :meth:`batches` for lists of them (the
    JSONL lane writes a batch at a time). :attr:`summary` is set once the
    input has been read to its end."""

    def __init__(self, path: str, options: Options | None = None) -> None:
        self.path = path
        self.options = options or Options()
        self.summary: Summary | None = None
        self._pairs: Iterator[tuple[Connection, StreamItem]] | None = None

    def __iter__(self) -> Iterator[tuple[Connection, StreamItem]]:
        return self

    def __next__(self) -> tuple[Connection, StreamItem]:
        if self._pairs is None:
            self._pairs = (pair for batch in self.batches() for pair in batch)
        return next(self._pairs)

    def batches(self) -> Iterator[Batch]:
        """The pairs, a list at a time, memory bounded by a batch."""
        sink = Decoding(self.options)
        kind = detect(self.path)
        if kind != "folder":
            yield from self._batches(self.path, kind, sink)
            self.summary = sink.summary
            return
        # A folder of inputs: each read in turn; one that fails does not
        # stop the others, and the first failure is raised at the end.
        from wirelog.sources.folder import first_error, members

        errors: list[InputError] = []
        total = Summary()
        for file, sub in members(self.path):
            if isinstance(sub, InputError):
                errors.append(sub)
                continue
            try:
                yield from self._batches(file, sub, sink)
            except InputError as exc:
                errors.append(exc)
            if sink.summary is not None:
                total.add(sink.summary)
            sink.summary = None
        self.summary = total
        if errors:
            raise first_error(self.path, errors)

    def _batches(self, path: str, kind: str, sink: Decoding) -> Iterator[Batch]:
        if kind in PUSHED:
            steps = _pusher(kind)(path, self.options, sink)
            failure = None
        else:
            recording, failure = _parse(path, kind)
            # a report shares out its connections as a capture does
            steps = replay(recording, shared(sink, self.options.share), self.options.conns)
        try:
            for _ in steps:
                if sink.out:
                    batch, sink.out = sink.out, []
                    yield batch
        except InputError:
            # What came before a read error is delivered, then the error.
            self.summary = sink.summary
            if sink.out:
                batch, sink.out = sink.out, []
                yield batch
            raise
        if sink.out:
            batch, sink.out = sink.out, []
            yield batch
        if failure is not None:
            raise failure


def stream(path: str, options: Options | None = None) -> Stream:
    """Every event of one input, in the module's order; see :class:`Stream`.

    For captures the connection objects carry no chunks (they stream past as
    items); for Autobahn inputs they are complete."""
    return Stream(path, options)


def _parse(path: str, kind: str) -> tuple[Recording, InputError | None]:
    """A report parsed whole; a folder with an unreadable case still gives
    the readable ones, and the error to raise after them."""
    from wirelog.sources.autobahn.reader import parse as parse_report

    try:
        return parse_report(path, kind), None
    except InputError as exc:
        if not isinstance(exc.partial, Recording):
            raise
        return exc.partial, exc


def read(path: str, options: Options | None = None) -> Recording:
    """Read any input into a materialized recording."""
    opts = options or Options()
    kind = detect(path)
    if kind == "folder":
        from wirelog.sources.folder import read_folder

        return read_folder(path, opts, read)
    if kind not in PUSHED:
        from wirelog.sources.autobahn.reader import parse as parse_report

        return parse_report(path, kind)
    sink = Recorder(path, kind)
    try:
        for _ in _pusher(kind)(path, opts, sink):
            pass
    except InputError as exc:
        exc.partial = sink.recording
        raise
    return sink.recording


def decode_recording(
    recording: Recording, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
) -> list[DecodedConnection]:
    """Every connection of a recording, decoded through :class:`Decoding`."""
    sink = Decoding(Options(max_message_size=max_message_size), findings=False)
    for _ in replay(recording, sink):
        pass
    return _collect(sink.out)


def _collect(pairs: Batch) -> list[DecodedConnection]:
    done: list[DecodedConnection] = []
    current: dict[int, DecodedConnection] = {}
    for conn, item in pairs:
        dc = current.get(id(conn))
        if dc is None:
            dc = current[id(conn)] = DecodedConnection(conn, None, [], [], list(conn.findings))
        if isinstance(item, Frame):
            dc.frames.append(item)
        elif isinstance(item, Message):
            dc.messages.append(item)
        elif isinstance(item, Violation):
            dc.violations.append(item)
        elif isinstance(item, Handshake):
            dc.handshake = item
        elif isinstance(item, ConnectionEnd):
            done.append(current.pop(id(conn)))
    return done


def decode(path: str, options: Options | None = None) -> list[DecodedConnection]:
    """Every connection of an input, decoded."""
    return decode_recording(read(path, options), (options or Options()).max_message_size)


def decoded_events(dc: DecodedConnection) -> Iterator[tuple[Connection, StreamItem]]:
    """A connection decoded elsewhere as stream items, in the module's order
    for a connection decoded at its end: chunks and findings in recorded
    order, then handshake, frames, messages, the other violations."""
    conn = dc.connection
    for item in recorded(conn):
        yield conn, item
    if dc.handshake is not None:
        yield conn, dc.handshake
    for fr in dc.frames:
        yield conn, fr
    for m in dc.messages:
        yield conn, m
    for v in dc.violations[len(conn.findings) :]:
        yield conn, v
    yield conn, END
