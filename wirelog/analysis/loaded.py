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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.analysis.walk import Source, Walk, as_recording
from wirelog.errors import InputError, UsageError
from wirelog.model import Connection, Recording
from wirelog.pipeline import Options, decode, decode_recording
from wirelog.progress import progress
from wirelog.protocol.connection import DecodedConnection

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["Capture", "Source", "load"]


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
        self._walk = Walk(self.options)
        self._walked = False
        self._frames: dict[str, pd.DataFrame] = {}
        self._decoded: list[DecodedConnection] | None = None
        self.errors: list[InputError] = self._walk.errors
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
            self._run()
        return [dict(e) for e in self._walk.entries]

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
                    out.extend(decode_recording(as_recording(src), self.options.max_message_size))
                else:
                    try:
                        out.extend(decode(os.fspath(src), self.options))
                    except InputError as exc:
                        if isinstance(exc.partial, Recording):
                            out.extend(decode_recording(exc.partial, self.options.max_message_size))
                        elif len(self.sources) == 1:
                            raise
                        self._walk.failed(exc)
            if self.options.conns:
                out = [d for d in out if d.conn in self.options.conns]
            self._decoded = out
        return self._decoded

    def report(self, conn: int | Sequence[int] | None = None, fmt: str = "text") -> str:
        """Autobahn-style report of every connection (or those numbered), text or html."""
        from wirelog.analysis.conns import no_such_connection, pick
        from wirelog.outputs.report import render_html, render_text

        where = ", ".join(_name(s) for s in self.sources[:3])
        wanted = [conn] if isinstance(conn, int) else list(conn or ())
        dcs = pick(self.decoded(), wanted, where)
        if not dcs:
            raise no_such_connection(wanted, [], where)
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
            self._run()
            df = self._frames.get(level)
            if df is None:
                df = self._frames[level] = self._build(level)
        return df.copy()

    def _build(self, level: str) -> pd.DataFrame:
        """Rows of one table from the objects the walk kept (built on first use,
        so ``load(...).frames()`` pays for frames only)."""
        if level == "connections":
            return self._walk.conns.frame()
        b = table.Builder(level)
        b.extend(self.rows(level))
        return b.frame(self._walk.starts)

    def rows(self, level: str) -> Iterator[dict[str, Any]]:
        """The :mod:`wirelog.outputs.formats` rows of an event table (what
        ``decode --format jsonl`` prints), in the DataFrame's order: row
        ``i`` is ``table(level).iloc[i]`` (``decode --where`` picks rows by
        position this way)."""
        if level not in table.LEVELS:
            raise UsageError(f"no rows for {level!r}; one of {', '.join(table.LEVELS)}")
        with _no_gc():
            self._run()
        return self._walk.rows(level)

    def _run(self) -> None:
        if not self._walked:
            self._walk.run(self.sources)
            self._walked = True


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
    ``ports``, ``conns``: single ints are accepted; ``keylog``: a TLS key log).

    A path that does not exist raises :class:`~wirelog.errors.InputError`
    at once. Among several inputs, one that cannot be read is warned about
    (:class:`~wirelog.errors.PartialInputWarning`) and listed in
    ``Capture.errors``; the others' rows are all there.
    """
    if isinstance(paths, str | os.PathLike | Recording | Connection | DecodedConnection):
        sources: list[Source] = [paths]
    else:
        sources = list(paths)
    for src in sources:
        # A mistyped path fails here, not at the first table, minutes later;
        # a file that exists but cannot be read is found when it is decoded
        # (and, among several inputs, listed in ``errors`` beside the others).
        if isinstance(src, str | os.PathLike) and not os.path.exists(src):
            raise InputError(os.fspath(src), "no such file or folder")
    opts: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("ws_ports", "ports", "conns"):
            opts[key] = (value,) if isinstance(value, int) else tuple(value)
        elif key == "keep_data":
            opts[key] = bool(value)
        elif key == "keylog":
            opts[key] = os.fspath(value) if value is not None else None
        else:
            raise UsageError(f"wirelog.load: unknown option {key!r}")
    return Capture(sources, Options(**opts))
