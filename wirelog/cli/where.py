"""``wirelog decode --where``: the rows of one level a SQL condition holds for.

The condition is DuckDB SQL over the level's columns
(:data:`wirelog.analysis.table.SCHEMAS`, derived ``t``/``time``/``opcode_name``
included), checked before anything is decoded. Each input is loaded as a
notebook would load it, :func:`wirelog.analysis.sql.matching` says which
rows hold, and those rows are printed by the same writer and row functions
as an unfiltered ``decode`` (so a filtered line is byte for byte the line
``decode`` prints), or kept for one Parquet file.

A condition that a row answers alone (no subquery over the table:
:func:`wirelog.analysis.sql.row_local`) on chops, frames or messages is
asked of each batch of one streamed pass (:mod:`wirelog.analysis.batches`),
so memory holds a batch and the matches, not the capture; any other is
asked of the whole table.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wirelog.cli.app import ExitCode, each_input
from wirelog.cli.output import atomic_path, atomic_text
from wirelog.errors import PartialInputWarning
from wirelog.sources.options import Options

if TYPE_CHECKING:
    import pandas as pd

Match = tuple["pd.DataFrame", list[dict[str, Any]], list[int]]


def decode_where(
    inputs: list[str], fmt: str, level: str, output: str | None, opts: Options, condition: str
) -> ExitCode:
    """Run ``decode --where``; raises :class:`~wirelog.errors.UsageError`
    (before any decoding) when the condition does not bind."""
    from wirelog.analysis import sql

    sql.check_where(level, condition)
    if fmt == "parquet":
        assert output is not None
        return _parquet(inputs, level, output, opts, condition)
    if output:
        with atomic_text(output) as fh:
            return _listing(inputs, fmt, level, fh, opts, condition)
    return _listing(inputs, fmt, level, sys.stdout, opts, condition)


def _matches(path: str, level: str, opts: Options, condition: str) -> Iterator[Match]:
    """Per batch of one input: its table rows, their row dicts and the
    positions that match. Raises the input's error once its rows are out."""
    from wirelog.analysis import sql
    from wirelog.analysis.batches import Batches
    from wirelog.analysis.loaded import Capture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialInputWarning)
        if sql.row_local(level, condition):
            passing = Batches([path], opts, [level], keep_rows=True)
            for df in passing.level(level):
                yield df, passing.kept[level], sql.matching_rows(df, level, condition)
            errors = passing.errors
        else:
            cap = Capture([path], opts)
            df = cap.table(level)
            yield df, list(cap.rows(level)), sql.matching_rows(df, level, condition)
            errors = cap.errors
    if errors:
        raise errors[0]


def _listing(
    inputs: list[str], fmt: str, level: str, out: Any, opts: Options, condition: str
) -> ExitCode:
    from wirelog.outputs import formats, tableview

    table = fmt == "table"
    cols = tableview.columns(level) if table else formats.COLUMNS[level]
    writer = formats.Writer(fmt, cols, out, show_source=len(inputs) > 1)

    def body(path: str) -> None:
        try:
            for df, rows, hits in _matches(path, level, opts, condition):
                t = df["t"].tolist() if table else []
                for i in hits:
                    row = rows[i]
                    if table:  # t as the DataFrame has it, NaN as no time
                        row = tableview.shown({**row, "t": t[i] if t[i] == t[i] else None})
                    writer.row(row)
                if not table:
                    out.flush()
        finally:
            writer.flush()

    return each_input(inputs, body)


def _parquet(inputs: list[str], level: str, output: str, opts: Options, condition: str) -> ExitCode:
    import pandas as pd

    from wirelog.analysis import table

    parts: list[pd.DataFrame] = []

    def body(path: str) -> None:
        for df, _, hits in _matches(path, level, opts, condition):
            parts.append(df.iloc[hits])

    code = each_input(inputs, body)
    df = pd.concat(parts, ignore_index=True) if parts else table.from_rows([], level)
    with atomic_path(output) as tmp:
        table.write_frame_parquet(df.reset_index(drop=True), level, tmp)
    return code
