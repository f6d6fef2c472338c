"""``wirelog decode`` as library calls: list an input's chops, frames or
messages as JSON lines, CSV or a table, or collect them into Parquet.

The CLI is a thin wrapper over these, and a notebook or script can call
them the same way. Which way a listing goes is decided here, not in the
CLI: frames as JSON lines (the bulk export of big captures) are written by
:func:`wirelog.outputs.formats.frame_line` a batch at a time, straight from
the decoding sink's batches; everything else becomes rows
(:mod:`wirelog.outputs.formats`) printed by a :class:`~wirelog.outputs.formats.Writer`.
Parquet goes through :func:`wirelog.load`'s tables and
:mod:`wirelog.analysis.table`'s writer, so a Parquet file holds exactly
the DataFrame a notebook gets.
"""

from __future__ import annotations

import gc
import os
import warnings
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

from wirelog.model import Chunk, Frame, Message
from wirelog.outputs import formats, tableview
from wirelog.pipeline import Options, Summary, detect, stream
from wirelog.stats import chop

if TYPE_CHECKING:
    import pandas as pd

LEVELS = ("chops", "frames", "messages")


def layers(level: str, options: Options | None = None) -> Options:
    """``options`` running only the layers ``level`` lists: chops need no
    frame layer, frames no message layer."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    return replace(options or Options(), frames=level != "chops", messages=level == "messages")


def tune_for_bulk() -> None:
    """Set the process up for a long decode that makes millions of objects.

    numpy, imported to unmask large payloads, would start BLAS threads this
    process never uses (50 ms of CPU on a 2-core machine): one thread,
    unless the user said otherwise. The decode makes no reference cycles,
    but the garbage collector would still walk every object imported so far
    at each full pass: ``gc.freeze`` sets them aside. And it would walk the
    batch in flight (frames, pairs) every 700 allocations: every 100,000
    still collects any cycle, for 27 M instructions less per 20,000 frames
    (callgrind; the same as with the collector off)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    gc.freeze()
    gc.set_threshold(100_000)


def write_frame_lines(path: str, out: IO[str], options: Options | None = None) -> Summary | None:
    """Every frame of one input as a JSON line (``decode -f jsonl``), a
    batch at a time; returns the input's summary."""
    s = stream(path, layers("frames", options))
    write = out.write
    line = formats.frame_line
    flush = out.flush
    for batch in s.batches():
        # One write per batch: ``writelines`` saves the join's copy but makes
        # a system call per line of a redirected stdout (measured: 50,000
        # writes for 50,000 frames, against 132).
        write("".join([line(c, f) for c, f in batch if type(f) is Frame]))
        flush()  # a live pipe gets each batch as it is decoded
    return s.summary


_KINDS: dict[str, type[Any]] = {"chops": Chunk, "frames": Frame, "messages": Message}
_ROWS: dict[str, Any] = {
    "chops": formats.chunk_row,
    "frames": formats.frame_row,
    "messages": formats.message_row,
}


class Listing:
    """One ``decode`` output over several inputs: one table header, one
    CSV header, column widths shared.

    ``tune=True`` is for a caller that owns its process (the CLI): before
    a capture's frame lines it calls :func:`tune_for_bulk`, which a notebook
    would not want done behind its back."""

    def __init__(
        self,
        fmt: str,
        level: str,
        out: IO[str],
        options: Options | None = None,
        *,
        show_source: bool | None = None,
        tune: bool = False,
    ) -> None:
        self.fmt = fmt
        self.tune = tune
        self.level = level
        self.out = out
        self.options = layers(level, options)
        # The table is for eyes: t and printable payloads (outputs.tableview).
        self.view = tableview.TableRows() if fmt == "table" else None
        cols = tableview.columns(level) if self.view else formats.COLUMNS[level]
        self.writer = formats.Writer(fmt, cols, out, show_source=show_source)

    def add(self, path: str) -> Summary | None:
        """List one input; returns its summary."""
        try:
            if self.fmt == "jsonl" and self.level == "frames":
                if self.tune and detect(path) in ("pcap", "pcapng"):
                    tune_for_bulk()
                return write_frame_lines(path, self.out, self.options)
            kind, to_row = _KINDS[self.level], _ROWS[self.level]
            chops = self.level == "chops"  # TLS: the TCP segments, not the plaintext
            s = stream(path, self.options)
            row = self.writer.row
            view = self.view
            for batch in s.batches():
                for c, item in batch:
                    if chop(item) is not None if chops else isinstance(item, kind):
                        row(view.row(c, to_row(c, item)) if view else to_row(c, item))
                if self.fmt != "table":  # the table keeps its batches for column widths
                    self.out.flush()
            return s.summary
        finally:
            self.writer.flush()


class ParquetExport:
    """The rows of several inputs, collected for one Parquet file."""

    def __init__(self, level: str, options: Options | None = None) -> None:
        layers(level)  # raises on an unknown level
        self.level = level
        self.options = options or Options()
        self.tables: list[pd.DataFrame] = []

    def add(self, path: str) -> None:
        """Add one input's table; an input that failed part-way adds what
        came before the failure, then raises the error."""
        from wirelog import load
        from wirelog.errors import PartialInputWarning

        o = self.options
        cap = load(path, ws_ports=o.ws_ports, ports=o.ports, conns=o.conns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialInputWarning)
            self.tables.append(cap.table(self.level))
        if cap.errors:
            raise cap.errors[0]

    def write(self, path: str) -> None:
        import pandas as pd

        from wirelog.analysis import table

        if self.tables:
            df = (
                pd.concat(self.tables, ignore_index=True)
                if len(self.tables) > 1
                else self.tables[0]
            )
        else:
            df = table.from_rows([], self.level)
        table.write_frame_parquet(df, self.level, path)
