"""A connection's facts gathered once as its items pass: the numbers of
``wirelog.load(...).connections()``, ``wirelog stats`` and the reports, and
the close frames the closing behaviour is decided from.

A :class:`Tally` takes one connection's stream items (the order of
:func:`wirelog.pipeline.stream`), so a capture is counted in memory per open
connection; :func:`summarize` runs one over a decoded connection. Autobahn's
four histograms are counted by :mod:`wirelog.stats` inside it and the close
frames by :class:`wirelog.summary.closing.FirstCloses`, so every consumer
gets the same numbers and the same closing from the same pass.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    Violation,
)
from wirelog.pipeline import StreamItem, decoded_events
from wirelog.problems import Problems
from wirelog.protocol.connection import DecodedConnection
from wirelog.stats import StatsAccumulator, WireStats
from wirelog.summary.closing import Closing, FirstCloses

Problem = tuple[Violation, str]
"""A located problem and what carries it (:meth:`wirelog.problems.Problems.of`)."""


@dataclass(slots=True)
class Counts:
    """One direction's traffic."""

    chops: int = 0
    """Recorded writes/reads (Autobahn's chops, a capture's TCP payloads)."""
    octets: int = 0
    """The chops' octets (TLS: the TCP payloads, ciphertext)."""
    frames: int = 0
    messages: int = 0
    """Messages and control frames (RFC 6455 §5.4-§5.5)."""
    close_code: int | None = None
    """The code of this direction's first close frame (None: none, or no code)."""


@dataclass(frozen=True, slots=True)
class ConnectionSummary:
    """The per-connection facts every table and report reads."""

    connection: Connection
    handshake: Handshake | None
    start: float | None
    """:func:`start_time`."""
    end: float | None
    """Time of the last timestamped chunk."""
    tx: Counts
    rx: Counts
    violations: int
    """Protocol violations listed for this connection, each once."""
    findings: int
    """Findings about the recording itself (``ViolationKind.is_finding``)."""
    stats: WireStats
    """Autobahn's four histograms (:mod:`wirelog.stats`)."""
    closing: Closing
    """How it ended; who dropped TCP from the FIN, RST and drop markers
    that passed."""

    @property
    def conn(self) -> int:
        """The connection's number (what ``--conn`` picks by)."""
        return self.connection.conn

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(0.0, self.end - self.start)

    def of(self, direction: Direction) -> Counts:
        return self.tx if direction is Direction.TX else self.rx


def start_time(conn: Connection, first_ts: float | None) -> float | None:
    """When the connection began: the input's own start (a capture's SYN,
    a replay's epoch), else the time of its first timestamped chunk."""
    return conn.start_ts if conn.start_ts is not None else first_ts


class Tally:
    """Counts one connection's stream items; :meth:`summary` gives the facts.

    Every ``add`` returns the problems the item adds (located, each once),
    which the caller may list; they are counted here either way.
    """

    __slots__ = (
        "_acc",
        "_closes",
        "_findings",
        "_first_ts",
        "_handshake",
        "_last_ts",
        "_problems",
        "_violations",
        "conn",
        "counts",
    )

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts = {Direction.TX: Counts(), Direction.RX: Counts()}
        self._acc = StatsAccumulator()
        if conn.claims:
            self._acc.claims(conn.claims)
        self._problems = Problems()
        self._closes = FirstCloses()
        self._handshake: Handshake | None = None
        self._first_ts: float | None = None
        self._last_ts: float | None = None
        self._findings = 0
        self._violations = 0

    def chunk(self, ch: Chunk) -> None:
        if ch.record is None:  # a TLS record's plaintext is no chop: its segments are
            self._chop(ch.direction, ch.length, ch.ts)

    def marker(self, m: Marker) -> None:
        """A marker: a TLS connection's chop (a ``SEGMENT``: one TCP segment),
        or one that may say who dropped TCP (:class:`FirstCloses`)."""
        if m.kind is MarkerKind.SEGMENT:
            assert m.direction is not None
            self._chop(m.direction, int(m.value or 0), m.ts)
        else:
            self._closes.marker(m)

    def _chop(self, direction: Direction, length: int, ts: float | None) -> None:
        self._acc.chunk(direction, length)
        c = self.counts[direction]
        c.chops += 1
        c.octets += length
        if ts is not None:
            if self._first_ts is None:
                self._first_ts = ts
            self._last_ts = ts

    def frame(self, f: Frame) -> list[Problem]:
        self._acc.frame(f)
        self.counts[f.direction].frames += 1
        if f.opcode == Opcode.CLOSE:
            self._closes.frame(f)
        return self._located(f) if f.violations else []

    def message(self, m: Message) -> list[Problem]:
        self.counts[m.direction].messages += 1
        if m.opcode == Opcode.CLOSE:
            self._closes.message(m)
        return self._located(m) if m.violations else []

    def violation(self, v: Violation) -> list[Problem]:
        return self._located(v)

    def handshake(self, h: Handshake) -> None:
        self._handshake = h

    def add(self, item: StreamItem) -> list[Problem]:
        """Any stream item (the generic form of the methods above)."""
        if isinstance(item, Chunk):
            self.chunk(item)
        elif isinstance(item, Marker):
            self.marker(item)
        elif isinstance(item, Frame):
            return self.frame(item)
        elif isinstance(item, Message):
            return self.message(item)
        elif isinstance(item, Violation):
            return self.violation(item)
        elif isinstance(item, Handshake):
            self.handshake(item)
        return []

    @property
    def stats(self) -> WireStats:
        return self._acc.stats

    def summary(self) -> ConnectionSummary:
        for d, close in self._closes.frames.items():
            self.counts[d].close_code = close.code
        return ConnectionSummary(
            connection=self.conn,
            handshake=self._handshake,
            start=start_time(self.conn, self._first_ts),
            end=self._last_ts,
            tx=self.counts[Direction.TX],
            rx=self.counts[Direction.RX],
            violations=self._violations,
            findings=self._findings,
            stats=self._acc.stats,
            closing=self._closes.closing(self.conn),
        )

    def _located(self, item: StreamItem) -> list[Problem]:
        found = self._problems.of(self.conn, item)
        for v, _ in found:
            if v.kind.is_finding:
                self._findings += 1
            else:
                self._violations += 1
        return found


def summarize(dc: DecodedConnection) -> ConnectionSummary:
    """The facts of a decoded connection, counted as :func:`wirelog.load` counts them."""
    tally = Tally(dc.connection)
    for _, item in decoded_events(dc):
        tally.add(item)
    return tally.summary()


def closing_of(dc: DecodedConnection) -> Closing:
    """How a decoded connection ended (:mod:`wirelog.summary.closing`):
    ``summarize(dc).closing``, from the markers, close frames and messages alone.

    The same :class:`FirstCloses` the :class:`Tally` feeds, in the order
    :func:`decoded_events` gives it (markers, frames, then messages), without the
    statistics of every other frame: a suite case is judged, recorded and
    reported from its closing, and one of 65,536 fragments counted them
    three times over (0.9 s)."""
    closes = FirstCloses()
    for mk in dc.connection.markers:
        closes.marker(mk)
    for f in dc.frames:
        if f.opcode == Opcode.CLOSE:
            closes.frame(f)
    for m in dc.messages:
        if m.opcode == Opcode.CLOSE:
            closes.message(m)
    return closes.closing(dc.connection)
