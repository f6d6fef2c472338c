"""The tables of :func:`wirelog.load`, a batch of rows at a time, in one pass.

:class:`~wirelog.analysis.loaded.Capture` keeps every decoded object until
its DataFrames are built: right for a notebook, but memory grows with the
capture. A query that reads a table once (``wirelog sql``, ``decode
--where``) and ``wirelog export`` need the rows only once, in order, so
here the same :class:`~wirelog.analysis.walk.Walk` pauses every few
thousand items and its objects become DataFrames of those rows
(:class:`wirelog.analysis.table.Builder`, as ``load`` builds them) and are
dropped. The rows, their order and their ``t`` are ``load``'s: a
connection's start is taken from its first chunk as
:func:`wirelog.summary.start_time` takes it, before its frames come. The
``connections`` and ``violations`` tables (a row per connection or
finding) are known only at the end, from :meth:`Batches.tail`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.analysis.walk import Source, Walk
from wirelog.errors import InputError
from wirelog.pipeline import Options
from wirelog.summary import start_time

if TYPE_CHECKING:
    import pandas as pd

EVENTS = ("chops", "frames", "messages")
"""The tables that grow with the capture, streamed a batch at a time."""

SIZE = 5_000
"""Items decoded between batches: some 4,000 frames, about 100 MiB at the
high-water mark on 1 KB frames (20,000 took 270 MiB more than the imports)."""


class Batches:
    """One pass over ``sources``: :meth:`events` gives the new rows of the
    ``levels`` asked for (of :data:`EVENTS`) after each :data:`SIZE` items,
    :meth:`tail` the connections and violations once it is over."""

    def __init__(
        self,
        sources: Sequence[Source],
        options: Options | None = None,
        levels: Sequence[str] = EVENTS,
        size: int = 0,
        *,
        keep_rows: bool = False,
    ) -> None:
        self.sources = list(sources)
        self.walk = Walk(options or Options())
        self.levels = [lv for lv in EVENTS if lv in levels]
        self.size = size or SIZE
        self.starts: dict[tuple[str, int], float] = {}
        self.errors: list[InputError] = self.walk.errors
        """Inputs that failed part-way (filled as the pass goes)."""
        self.rows = dict.fromkeys(EVENTS, 0)
        """Rows given so far per level (how far a query read)."""
        self.done = False
        self.keep_rows = keep_rows
        self.kept: dict[str, list[dict[str, Any]]] = {}
        """With ``keep_rows``: the last batch's row dicts (what ``decode`` prints)."""

    def events(self) -> Iterator[dict[str, pd.DataFrame]]:
        """Per pause, the levels' new rows (a level without new rows is left out)."""
        for _ in self.walk.steps(self.sources, self.size):
            got = self._drain()
            if got:
                yield got
        got = self._drain()
        self.done = True
        if got:
            yield got

    def level(self, level: str) -> Iterator[pd.DataFrame]:
        """One level's rows, a DataFrame per batch."""
        for got in self.events():
            df = got.get(level)
            if df is not None:
                yield df

    def tail(self) -> dict[str, pd.DataFrame]:
        """``connections`` and ``violations``, once :meth:`events` is over."""
        assert self.done, "the pass is not over"
        walk = self.walk
        b = table.Builder("violations")
        b.extend(walk.rows("violations"))
        return {"connections": walk.conns.frame(), "violations": b.frame(self.known_starts())}

    def _drain(self) -> dict[str, pd.DataFrame]:
        objs = self.walk.objs
        for conn, ch in objs["chops"]:
            key = (conn.source, conn.conn)
            if key not in self.starts:
                start = start_time(conn, ch.ts)
                if start is not None:
                    self.starts[key] = start
        out: dict[str, pd.DataFrame] = {}
        starts = self.known_starts()
        for level in self.levels:
            if objs[level]:
                b = table.Builder(level)
                rows = list(self.walk.rows(level))
                b.extend(rows)
                if self.keep_rows:
                    self.kept[level] = rows
                out[level] = b.frame(starts)
                self.rows[level] += len(b)
        for level in EVENTS:
            objs[level].clear()
        return out

    def known_starts(self) -> dict[tuple[str, int], float]:
        """Each connection's start so far, ``(source, conn)`` -> epoch seconds."""
        return {**self.starts, **self.walk.starts}
