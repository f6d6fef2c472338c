"""SQL over decoded traffic: DuckDB reading the tables :func:`wirelog.load` builds.

``wirelog sql`` and ``wirelog decode --where`` are both this module. The
tables are exactly the DataFrames of :class:`~wirelog.analysis.loaded.Capture`
(one schema, :data:`wirelog.analysis.table.SCHEMAS`), handed to DuckDB as
Arrow tables in the schema's Arrow types; only the tables a query names are
built, so ``SELECT ... FROM connections`` never makes a frame row.

A query that reads one of the tables that grow with the capture (frames,
messages or chops) once, and no other wirelog table, is streamed: DuckDB
pulls Arrow batches from one pass over the inputs
(:mod:`wirelog.analysis.batches`), so memory stays flat and ``LIMIT`` stops
the decoding early. A query that reads a table twice (a join, a subquery,
a CTE) or needs ``connections``/``violations`` (known only at the end)
gets the whole tables, as :func:`run` builds them: the same rows either way.

A query is first bound against empty tables of the same schema, so a typo
fails at once with DuckDB's message, before a long capture is decoded.
DuckDB's messages span lines (a caret under the culprit); they are folded
into one line for the one-line error convention.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.analysis.batches import EVENTS, Batches
from wirelog.errors import InputError, UsageError
from wirelog.pipeline import Options

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    from wirelog.analysis.loaded import Capture
    from wirelog.analysis.walk import Source

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
    con.execute("SET enable_progress_bar = false")  # on stdout, amid the results
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
        self.errors: list[InputError] = []
        """Inputs that failed part-way (complete once the rows are read)."""
        self.streamed: Batches | None = None
        """The pass a streamed query reads (``streamed.rows``: how far it read)."""
        self._failure: list[BaseException] = []

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
            if self._failure:  # the decoding under a streamed query failed
                raise self._failure[0] from None
            raise query_error(exc) from None
        if self._failure:
            raise self._failure[0]

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


def run_inputs(sources: Sequence[Source], query: str, options: Options | None = None) -> Result:
    """Run ``query`` over the inputs, streamed when it allows (see above)."""
    import duckdb
    import pyarrow as pa

    check(query)
    level = streamable(query)
    if level is None:
        from wirelog.analysis.loaded import Capture

        cap = Capture(sources, options)
        res = run(cap, query)
        res.errors = cap.errors
        return res
    passing = Batches(sources, options, [level])
    failure: list[BaseException] = []
    batches = _arrow_batches(passing, level)
    first = next(batches, None)  # an input with nothing readable fails here, as itself
    reader = pa.RecordBatchReader.from_batches(
        table.arrow_schema(level), _guarded(first, batches, failure)
    )
    con = connect({level: reader})
    try:
        rel = con.sql(query)
    except duckdb.Error as exc:
        con.close()
        raise failure[0] if failure else query_error(exc) from None
    res = Result(con, rel)
    res.errors, res.streamed, res._failure = passing.errors, passing, failure
    return res


def streamable(query: str) -> str | None:
    """The event table (:data:`~wirelog.analysis.batches.EVENTS`) ``query``
    reads exactly once, when it reads no other wirelog table and has no CTE
    (DuckDB may inline one at each use); None when it must be materialised.

    DuckDB's own parse tree (``json_serialize_sql``) is read: a name in a
    string or a column (``frames_tx``) is no table."""
    import duckdb

    con = connect({})
    try:
        got = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    tree = json.loads(got[0]) if got else {}
    if tree.get("error") or len(tree.get("statements", ())) != 1:
        return None
    names: list[str] = []
    ctes = _walk_tree(tree, names)
    ours = [n for n in names if n in TABLES]
    if ctes or len(ours) != 1 or ours[0] not in EVENTS:
        return None
    return ours[0]


def _walk_tree(node: Any, names: list[str]) -> bool:
    """Collect the base tables under ``node``; True if it holds a CTE."""
    cte = False
    if isinstance(node, dict):
        if node.get("type") == "BASE_TABLE":
            names.append(str(node.get("table_name", "")).lower())
        cte = bool((node.get("cte_map") or {}).get("map"))
        for v in node.values():
            cte = _walk_tree(v, names) or cte
    elif isinstance(node, list):
        for v in node:
            cte = _walk_tree(v, names) or cte
    return cte


def _arrow_batches(passing: Batches, level: str) -> Iterator[pa.RecordBatch]:
    for df in passing.level(level):
        yield from table.arrow_table(df, level).to_batches()


def _guarded(
    first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch], failure: list[BaseException]
) -> Iterator[pa.RecordBatch]:
    """``first``, then ``rest``; a failure while DuckDB pulls is kept (DuckDB
    would bury it in a message of its own) and ends the stream."""
    if first is None:
        return
    yield first
    try:
        yield from rest
    except Exception as exc:
        failure.append(exc)


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
    return matching_rows(cap.table(level), level, condition)


def row_local(level: str, condition: str) -> bool:
    """Whether ``condition`` holds or not for a row by that row alone (it
    reads no table: no subquery over ``level``), so it can be asked of each
    batch of a streamed pass."""
    return level in EVENTS and streamable(where_query(level, condition)) == level


def matching_rows(df: pd.DataFrame, level: str, condition: str) -> list[int]:
    """Positions of the rows of one batch (a DataFrame of ``level``) that
    ``condition`` holds for (a :func:`row_local` condition)."""
    import duckdb

    con = connect({level: _numbered(table.arrow_table(df, level))})
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
