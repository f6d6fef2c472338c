"""Printing a query's result (``wirelog sql``): table, JSON, CSV or Parquet.

A result has whatever columns the query made, so nothing here knows the
decode schemas: the table shows every column it is given (the decode table
hides some; a query's author chose these), JSON is one array of objects
keyed by the result's column names, CSV follows the decode CSV's cell
conventions (lists ``;``-joined, NULL as an empty cell). Rows arrive as
Arrow record batches and leave a batch at a time, each flushed, so a long
result reaches a pipe as it is made.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("table", "json", "csv", "parquet")
WIDTH = 48
"""Widest table cell; longer ones are cut with an ellipsis."""


def cell(v: Any, width: int = WIDTH) -> str:
    """A value as one table cell: NULL is ``-``, floats keep only the digits
    they hold (repr, not a fixed six places), no control characters."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        s = "-"
    elif isinstance(v, bool):
        s = "true" if v else "false"
    elif isinstance(v, dt.datetime):
        s = v.isoformat()
    elif isinstance(v, list):
        s = ",".join(str(x) for x in v) or "-"
    else:
        s = str(v)
    s = s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return s if len(s) <= width else s[: width - 1] + "…"


def json_value(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_value(x) for x in v]
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    return str(v)  # decimals, intervals, UUIDs...


def csv_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return v


def write_text(
    fmt: str, columns: Sequence[str], batches: Iterable[pa.RecordBatch], out: IO[str]
) -> int:
    """Print a result as ``table``, ``json`` or ``csv``; returns the row count."""
    return write_rows(fmt, columns, (b.to_pylist() for b in batches), out)


def write_rows(
    fmt: str, columns: Sequence[str], batches: Iterable[list[dict[str, Any]]], out: IO[str]
) -> int:
    """:func:`write_text` for rows as dicts, a list of them per batch."""
    n = 0
    if fmt == "json":
        out.write("[")
        for batch in batches:
            for row in batch:
                body = json.dumps({k: json_value(row[k]) for k in columns}, ensure_ascii=False)
                out.write(("," if n else "") + "\n  " + body)
                n += 1
            out.flush()
        out.write("\n]\n" if n else "]\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        for batch in batches:
            for row in batch:
                w.writerow([csv_value(row[k]) for k in columns])
                n += 1
            out.flush()
    else:
        widths = [len(c) for c in columns]
        head = False
        for batch in batches:
            cells = [[cell(row[k]) for k in columns] for row in batch]
            widths = [max([w] + [len(r[i]) for r in cells]) for i, w in enumerate(widths)]
            if not head:
                out.write(_line(list(columns), widths))
                head = True
            out.write("".join(_line(r, widths) for r in cells))
            n += len(cells)
            out.flush()
        if not head:
            out.write(_line(list(columns), widths))
        out.write(f"({n} row{'' if n == 1 else 's'})\n")
    out.flush()
    return n


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"


def write_parquet(batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: str) -> int:
    """Write a result to a Parquet file; returns the row count."""
    import pyarrow.parquet as pq

    n = 0
    with pq.ParquetWriter(path, schema) as w:
        for batch in batches:
            w.write_batch(batch)
            n += batch.num_rows
    return n
