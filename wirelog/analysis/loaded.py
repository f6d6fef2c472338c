"""``wirelog.load``: any input, decoded once, as DataFrames.

:func:`load` takes what the CLI takes (report files, report folders,
pcap/pcapng captures, several at once) and also in-memory
:class:`~wirelog.model.Recording` / :class:`~wirelog.model.Connection`
objects. It walks :func:`wirelog.pipeline.stream` (the same walk ``wirelog
decode`` and ``wirelog stats`` make), so a DataFrame row is exactly the row
the CLI prints and a statistics table holds exactly the numbers ``wirelog
stats`` prints. The schema of every table is declared once, in
:mod:`wirelog.analysis.table`.

The walk happens once, on first use, and fills every table at the same time;
later calls return copies of the cached DataFrames.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.errors import InputError, PartialInputWarning, UsageError
from wirelog.model import (
    Chunk,
    Connection,
    Direction,
    Frame,
    Handshake,
    Message,
    Opcode,
    Recording,
    Violation,
    ViolationKind,
)
from wirelog.outputs import formats as output
from wirelog.outputs.statsview import stats_entry
from wirelog.pipeline import (
    ConnectionEnd,
    Options,
    StreamItem,
    decode,
    decode_recording,
    decoded_events,
    stream,
)
from wirelog.problems import Problems
from wirelog.progress import progress
from wirelog.protocol.connection import DecodedConnection
from wirelog.stats import StatsAccumulator

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

Source = str | os.PathLike[str] | Recording | Connection | DecodedConnection


@dataclass(slots=True)
class _ConnSummary:
    conn: Connection
    acc: StatsAccumulator = field(default_factory=StatsAccumulator)
    handshake: Handshake | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    chops: dict[Direction, int] = field(default_factory=lambda: dict.fromkeys(Direction, 0))
    octets: dict[Direction, int] = field(default_factory=lambda: dict.fromkeys(Direction, 0))
    frames: dict[Direction, int] = field(default_factory=lambda: dict.fromkeys(Direction, 0))
    messages: dict[Direction, int] = field(default_factory=lambda: dict.fromkeys(Direction, 0))
    close: dict[Direction, int | None] = field(
        default_factory=lambda: dict.fromkeys(Direction, None)
    )
    violations: int = 0
    findings: int = 0

    def count(self, *kinds: ViolationKind) -> None:
        for kind in kinds:
            if kind.is_finding:
                self.findings += 1
            else:
                self.violations += 1

    @property
    def start(self) -> float | None:
        if self.conn.start_ts is not None:
            return self.conn.start_ts
        return self.first_ts


class Capture:
    """Decoded traffic of one or more inputs, as DataFrames.

    Every table method returns a new DataFrame in the schema of
    :data:`wirelog.analysis.table.SCHEMAS` (``wirelog.analysis.table.describe()``
    prints it).
    """

    def __init__(self, sources: Sequence[Source], options: Options | None = None) -> None:
        if not sources:
            raise UsageError("wirelog.load needs at least one input")
        self.sources = list(sources)
        self.options = options or Options()
        self._walked = False
        self._objs: dict[str, list[tuple[Connection, Any]]] = {lv: [] for lv in table.LEVELS}
        self._frames: dict[str, pd.DataFrame] = {}
        self._conns = table.Builder("connections")
        self._starts: dict[tuple[str, int], float] = {}
        self._entries: list[dict[str, Any]] = []
        self._decoded: list[DecodedConnection] | None = None
        self._taken = 0
        self.errors: list[InputError] = []
        """Inputs that failed part-way; what came before the failure is kept."""

    def __repr__(self) -> str:
        names = ", ".join(_name(s) for s in self.sources[:3])
        more = f" +{len(self.sources) - 3}" if len(self.sources) > 3 else ""
        return f"<wirelog.Capture {names}{more}>"

    # -- the tables ------------------------------------------------------------

    def chops(self) -> pd.DataFrame:
        """One row per recorded write/read (Autobahn's chops, a capture's segments)."""
        return self._table("chops")

    def frames(self) -> pd.DataFrame:
        """One row per WebSocket frame, both directions, in recorded order."""
        return self._table("frames")

    def messages(self) -> pd.DataFrame:
        """One row per message (fragments joined, inflated) or control frame."""
        return self._table("messages")

    def violations(self) -> pd.DataFrame:
        """Protocol violations and findings, one row each (filter on ``finding``)."""
        return self._table("violations")

    def connections(self) -> pd.DataFrame:
        """One row per connection: endpoints, handshake, counts, close codes."""
        return self._table("connections")

    def table(self, level: str) -> pd.DataFrame:
        """Any table by name: chops, frames, messages, violations, connections."""
        return self._table(level)

    # -- statistics (the numbers of ``wirelog stats``) --------------------------

    def stats_entries(self) -> list[dict[str, Any]]:
        """Exactly the objects ``wirelog stats --format json`` prints."""
        with _no_gc():
            self._walk()
        return [dict(e) for e in self._entries]

    def octet_stats(self, overall: bool = False) -> pd.DataFrame:
        """Octets by chop size: ``source, conn, dir, chop_size, count, octets``.

        ``overall=True`` sums all connections (``source``/``conn`` dropped)."""
        from wirelog.analysis.stats import octet_stats

        return octet_stats(self.stats_entries(), overall=overall)

    def frame_stats(self, overall: bool = False) -> pd.DataFrame:
        """Frames by opcode: ``source, conn, dir, opcode, opcode_name, count``."""
        from wirelog.analysis.stats import frame_stats

        return frame_stats(self.stats_entries(), overall=overall)

    # -- whole connections (reports, ladders) -------------------------------------

    def decoded(self) -> list[DecodedConnection]:
        """Every connection, materialized (chunks, markers, claims, frames...)."""
        if self._decoded is None:
            out: list[DecodedConnection] = []
            for src in self.sources:
                if isinstance(src, DecodedConnection):
                    out.append(src)
                elif isinstance(src, Recording | Connection):
                    out.extend(decode_recording(_as_recording(src)))
                else:
                    try:
                        out.extend(decode(os.fspath(src), self.options))
                    except InputError as exc:
                        if not isinstance(exc.partial, Recording):
                            raise
                        out.extend(decode_recording(exc.partial))
                        self._failed(exc)
            if self.options.conns:
                out = [d for d in out if d.conn in self.options.conns]
            self._decoded = out
        return self._decoded

    def report(self, conn: int | None = None, fmt: str = "text") -> str:
        """Autobahn-style report of every connection (or one), text or html."""
        from wirelog.outputs.report import render_html, render_text

        dcs = [d for d in self.decoded() if conn is None or d.conn == conn]
        if not dcs:
            raise UsageError(f"no connection {conn}")
        render = render_html if fmt == "html" else render_text
        if len(dcs) < 50:
            return render(dcs)
        with progress("rendering", len(dcs)) as bar:  # a folder of Autobahn cases

            def counted() -> Iterator[DecodedConnection]:
                for d in dcs:
                    yield d
                    bar.advance(1)

            return render(counted())

    # -- pictures -------------------------------------------------------------------

    def plot(self, kind: str, ax: Axes | None = None, **options: Any) -> Axes:
        """Draw one of :data:`wirelog.analysis.plots.KINDS` (``chops``,
        ``opcodes``, ``ladder``, ``throughput``, ``messages``, ``rtt``) from the
        table it needs; returns the Axes (pass ``ax`` to draw into your own)."""
        from wirelog.analysis import plots

        try:
            level, draw = plots.KINDS[kind]
        except KeyError:
            raise UsageError(f"unknown plot {kind!r}; one of {', '.join(plots.KINDS)}") from None
        return draw(self._table(level), ax, **options)

    # -- export -------------------------------------------------------------------

    def to_parquet(self, path: str, level: str = "frames") -> None:
        table.write_frame_parquet(self._table(level), level, path)

    def to_csv(self, path: str, level: str = "frames") -> None:
        table.write_csv(self._table(level), level, path)

    # -- internals ------------------------------------------------------------------

    def _table(self, level: str) -> pd.DataFrame:
        table.columns(level)  # raises on an unknown name
        with _no_gc():
            self._walk()
            df = self._frames.get(level)
            if df is None:
                df = self._frames[level] = self._build(level)
        return df.copy()

    def _build(self, level: str) -> pd.DataFrame:
        """Rows of one table from the objects the walk kept (built on first use,
        so ``load(...).frames()`` pays for frames only)."""
        if level == "connections":
            return self._conns.frame()
        b = table.Builder(level)
        objs = self._objs[level]
        if level == "chops":
            b.extend(output.chunk_row(c, x) for c, x in objs)
        elif level == "frames":
            b.extend(output.frame_row(c, x) for c, x in objs)
        elif level == "messages":
            b.extend(output.message_row(c, x) for c, x in objs)
        else:
            b.extend({**output.violation_row(c, v), "on": on} for c, (v, on) in objs)
        return b.frame(self._starts)

    def _walk(self) -> None:
        """One pass over every input: keep the objects, count what ``wirelog
        stats`` counts, summarize each connection."""
        if self._walked:
            return
        summaries: dict[int, _ConnSummary] = {}
        problems = Problems()
        # The unit is octets decoded (what DownloadColumn shows): a capture's
        # size is known only after it has been read, so the total stays open.
        with progress("decoding", None) as bar:
            for src in self.sources:
                taken = self._taken
                try:
                    self._take(src, summaries, problems, bar)
                except InputError as exc:
                    if self._taken == taken:
                        raise  # nothing readable at all: no partial result to keep
                    # Cut or corrupt part-way: keep what came before it.
                    self._failed(exc)
                for s in summaries.values():
                    self._close(s)
                summaries.clear()
        self._walked = True

    def _take(
        self,
        src: Source,
        summaries: dict[int, _ConnSummary],
        problems: Problems,
        bar: Any,
    ) -> None:
        chops, frames, msgs, viols = (self._objs[lv] for lv in table.LEVELS)
        for conn, item in self._items(src):
            self._taken += 1
            s = summaries.get(id(conn))
            if s is None:
                s = summaries[id(conn)] = _ConnSummary(conn)
                if conn.claims:
                    s.acc.claims(conn.claims)
            if isinstance(item, Chunk):
                s.acc.chunk(item.direction, item.length)
                s.chops[item.direction] += 1
                s.octets[item.direction] += item.length
                if item.ts is not None:
                    if s.first_ts is None:
                        s.first_ts = item.ts
                    s.last_ts = item.ts
                chops.append((conn, item))
                bar.advance(item.length)
            elif isinstance(item, Frame):
                s.acc.frame(item)
                s.frames[item.direction] += 1
                frames.append((conn, item))
                if item.violations:
                    _listed(s, viols, conn, problems.of(conn, item))
            elif isinstance(item, Message):
                s.messages[item.direction] += 1
                if item.opcode == Opcode.CLOSE and s.close[item.direction] is None:
                    s.close[item.direction] = item.close_code
                msgs.append((conn, item))
                if item.violations:
                    _listed(s, viols, conn, problems.of(conn, item))
            elif isinstance(item, Violation):
                _listed(s, viols, conn, problems.of(conn, item))
            elif isinstance(item, Handshake):
                s.handshake = item
            elif isinstance(item, ConnectionEnd):
                self._close(summaries.pop(id(conn)))

    def _close(self, s: _ConnSummary) -> None:
        conn = s.conn
        self._entries.append(stats_entry(conn, s.acc.stats))
        self._conns.add(_connection_row(s))
        if s.start is not None:
            self._starts[(conn.source, conn.conn)] = s.start

    def _failed(self, exc: InputError) -> None:
        """Record an input that failed part-way; notebooks get a warning,
        the CLI prints the error after rendering what there is."""
        if all(str(e) != str(exc) for e in self.errors):
            self.errors.append(exc)
            warnings.warn(PartialInputWarning(str(exc)), stacklevel=4)

    def _items(self, src: Source) -> Iterator[tuple[Connection, StreamItem]]:
        if isinstance(src, DecodedConnection):
            yield from decoded_events(src)
        elif isinstance(src, Recording | Connection):
            for dc in decode_recording(_as_recording(src)):
                if not self.options.conns or dc.conn in self.options.conns:
                    yield from decoded_events(dc)
        else:
            yield from stream(os.fspath(src), self.options)


def _listed(
    s: _ConnSummary,
    out: list[tuple[Connection, Any]],
    conn: Connection,
    found: list[tuple[Violation, str]],
) -> None:
    for v, on in found:
        s.count(v.kind)
        out.append((conn, (v, on)))


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic objects
    (rows, frames) are made: its full passes would scan them again and again
    (measured: 40% of ``load(...).frames()`` on 200,000 frames)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _as_recording(src: Recording | Connection) -> Recording:
    if isinstance(src, Connection):
        return Recording(src.source, "memory", [src])
    return src


def _connection_row(s: _ConnSummary) -> dict[str, Any]:
    c = s.conn
    hs = s.handshake
    start = s.start
    duration = None
    if start is not None and s.last_ts is not None:
        duration = max(0.0, s.last_ts - start)
    case = c.meta.get("id")
    behavior = c.meta.get("behavior")
    tx, rx = Direction.TX, Direction.RX
    return {
        "source": c.source,
        "conn": c.conn,
        "recorder": c.recorder.value,
        "client": c.client,
        "server": c.server,
        "start": start,
        "duration": duration,
        "status": hs.status if hs else None,
        "target": hs.target if hs else None,
        "subprotocol": hs.subprotocol if hs else None,
        "extensions": hs.extensions if hs else None,
        "chops_tx": s.chops[tx],
        "chops_rx": s.chops[rx],
        "octets_tx": s.octets[tx],
        "octets_rx": s.octets[rx],
        "frames_tx": s.frames[tx],
        "frames_rx": s.frames[rx],
        "messages_tx": s.messages[tx],
        "messages_rx": s.messages[rx],
        "close_tx": s.close[tx],
        "close_rx": s.close[rx],
        "violations": s.violations,
        "findings": s.findings,
        "case": str(case) if case is not None else None,
        "behavior": str(behavior) if behavior is not None else None,
    }


def _name(src: Source) -> str:
    if isinstance(src, Recording | Connection):
        return src.source
    if isinstance(src, DecodedConnection):
        return src.connection.label
    return os.fspath(src)


def load(paths: Source | Iterable[Source], **options: Any) -> Capture:
    """Load one input or several for analysis.

    ``paths``: a path (report, report folder, pcap/pcapng), a list of them,
    or in-memory Recording / Connection / DecodedConnection objects.
    Options are those of :class:`wirelog.pipeline.Options` (``ws_ports``,
    ``ports``, ``conns``; single ints are accepted).
    """
    if isinstance(paths, str | os.PathLike | Recording | Connection | DecodedConnection):
        sources: list[Source] = [paths]
    else:
        sources = list(paths)
    opts: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("ws_ports", "ports", "conns"):
            opts[key] = (value,) if isinstance(value, int) else tuple(value)
        elif key == "keep_data":
            opts[key] = bool(value)
        else:
            raise UsageError(f"wirelog.load: unknown option {key!r}")
    return Capture(sources, Options(**opts))
