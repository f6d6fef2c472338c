"""SQL over decoded traffic: DuckDB reading the tables :func:`wirelog.load` builds.

``wirelog sql`` and ``wirelog decode --where`` are both this module. The
tables are exactly the DataFrames of :class:`~wirelog.analysis.loaded.Capture`
(one schema, :data:`wirelog.analysis.table.SCHEMAS`), handed to DuckDB as
Arrow tables in the schema's Arrow types; only the tables a query names are
built, so ``SELECT ... FROM connections`` never makes a frame row.

A query is first bound against empty tables of the same schema, so a typo
fails at once with DuckDB's message, before a long capture is decoded.
DuckDB's messages span lines (a caret under the culprit); they are folded
into one line for the one-line error convention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.errors import UsageError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from wirelog.analysis.loaded import Capture

TABLES = ("frames", "messages", "chops", "connections", "violations")
"""The tables a query can name (and ``decode --where`` levels among them)."""

ROW = "__wirelog_row"
"""A row-number column added for ``--where``: which rows of the table matched."""


def tables_of(query: str) -> list[str]:
    """The wirelog tables ``query`` may read, in :data:`TABLES` order.

    DuckDB's own parser finds them (CTE names and aliases excluded); where
    it cannot (duckdb 2.0 fails on ``JOIN ... USING``), every table whose
    name appears as a word is taken: one table too many costs time, never a
    wrong answer."""
    import duckdb

    try:
        named = {n.lower() for n in duckdb.get_table_names(query)}
    except duckdb.Error:
        named = {w.lower() for w in re.findall(r"\w+", query)}
    return [t for t in TABLES if t in named]


def query_error(exc: BaseException) -> UsageError:
    """DuckDB's message as the one-line error (``wirelog: SQL: ...``)."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip().strip("^")]  # no caret lines
    return UsageError("SQL: " + " ".join(" ".join(lines).split()))


def connect(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB with ``tables`` registered under their names."""
    import duckdb

    # A query is about the capture: it must not download DuckDB extensions
    # behind the user's back (a URL in FROM would fetch httpfs).
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    for name, t in tables.items():
        con.register(name, t)
    return con


def empty(level: str) -> pa.Table:
    """A table of ``level``'s schema with no rows (for binding a query early)."""
    return table.arrow_table(table.from_rows([], level), level)


def check(query: str) -> list[str]:
    """Bind ``query`` against empty tables; returns the tables it needs.
    Raises :class:`UsageError` with DuckDB's message when it cannot run."""
    import duckdb

    con = connect({n: empty(n) for n in TABLES})
    try:
        con.sql(query)  # binds (and plans) a SELECT without running it
    except duckdb.Error as exc:
        raise query_error(exc) from None
    finally:
        con.close()
    return tables_of(query)


class Result:
    """A running query: its column names, Arrow schema and rows, a batch at
    a time. Close it (or use it as a context manager) to free DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection, rel: Any, size: int = 2000) -> None:
        self._con = con
        self._rel = rel
        self._size = size
        self._reader: pa.RecordBatchReader | None = None
        self.columns: list[str] = list(rel.columns) if rel is not None else []

    def _open(self) -> pa.RecordBatchReader:
        import duckdb
        import pyarrow as pa

        if self._reader is None:
            if self._rel is None:  # pragma: no cover - duckdb < 2 for SET, CREATE...
                self._reader = pa.RecordBatchReader.from_batches(pa.schema([]), [])
            else:
                try:
                    # to_arrow_reader since duckdb 2.0; fetch_record_batch before
                    fetch = getattr(self._rel, "to_arrow_reader", None)
                    fetch = fetch or self._rel.fetch_record_batch
                    self._reader = fetch(self._size)
                except duckdb.Error as exc:
                    raise query_error(exc) from None
        return self._reader

    @property
    def schema(self) -> pa.Schema:
        return self._open().schema

    def batches(self) -> Iterator[pa.RecordBatch]:
        import duckdb
        import pyarrow as pa

        reader = self._open()
        try:
            yield from reader
        except (duckdb.Error, pa.ArrowException) as exc:  # found only while running
            raise query_error(exc) from None

    def arrow(self) -> pa.Table:
        import pyarrow as pa

        return pa.Table.from_batches(list(self.batches()), schema=self.schema)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Result:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run(cap: Capture, query: str) -> Result:
    """Run ``query`` over ``cap``'s tables (only those it names are built)."""
    import duckdb

    names = check(query)
    con = connect({n: table.arrow_table(cap.table(n), n) for n in names})
    try:
        rel = con.sql(query)
    except duckdb.Error as exc:
        con.close()
        raise query_error(exc) from None
    return Result(con, rel)


def where_query(level: str, condition: str) -> str:
    if level not in TABLES:
        raise UsageError(f"--where: unknown level {level!r}; one of {', '.join(TABLES)}")
    return f"SELECT {ROW} FROM {level} WHERE ({condition}) ORDER BY {ROW}"


def check_where(level: str, condition: str) -> None:
    """Bind a ``--where`` condition on ``level``'s columns before any decoding."""
    import duckdb

    con = connect({level: _numbered(empty(level))})
    try:
        con.sql(where_query(level, condition))
    except duckdb.Error as exc:
        raise query_error(exc) from None
    finally:
        con.close()


def matching(cap: Capture, level: str, condition: str) -> list[int]:
    """Positions (in ``cap.table(level)`` order) of the rows ``condition`` holds for."""
    import duckdb

    arrow = _numbered(table.arrow_table(cap.table(level), level))
    con = connect({level: arrow})
    try:
        got = con.sql(where_query(level, condition)).fetchall()
    except duckdb.Error as exc:
        raise query_error(exc) from None
    finally:
        con.close()
    return [int(r[0]) for r in got]


def _numbered(t: pa.Table) -> pa.Table:
    import pyarrow as pa

    return t.append_column(ROW, pa.array(range(t.num_rows), pa.int64()))
