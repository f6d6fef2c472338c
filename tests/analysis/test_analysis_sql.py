"""wirelog.analysis.sql: DuckDB over the tables of wirelog.load, on real captures."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import wirelog
import wirelog.errors
from wirelog.analysis import batches, sql, table
from wirelog.errors import UsageError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
BASIC = str(SAMPLES / "ws_basic.pcap")
MULTI = str(SAMPLES / "multi_conn.pcap")


@pytest.fixture(scope="module")
def cap() -> wirelog.Capture:
    return wirelog.load([BASIC, MULTI])


def test_a_query_counts_what_the_dataframes_hold(cap: wirelog.Capture) -> None:
    frames = cap.frames()
    with sql.run(cap, "SELECT source, conn, count(*) AS n FROM frames GROUP BY ALL") as res:
        assert res.columns == ["source", "conn", "n"]
        got = {(r["source"], r["conn"]): r["n"] for r in res.arrow().to_pylist()}
    want = frames.groupby(["source", "conn"]).size().to_dict()
    assert got == want and len(got) == 4


def test_joins_and_derived_columns(cap: wirelog.Capture) -> None:
    query = (
        "SELECT c.target, m.text, m.t FROM messages m JOIN connections c USING (source, conn) "
        "WHERE m.opcode = 1 AND m.dir = 'tx' AND m.source LIKE '%multi%' ORDER BY c.target, m.t"
    )
    with sql.run(cap, query) as res:
        rows = res.arrow().to_pylist()
    df = cap.messages()
    texts = df[(df.opcode == 1) & (df.dir == "tx") & df.source.str.contains("multi")]
    assert sorted(r["text"] for r in rows) == sorted(texts.text)
    assert {r["target"] for r in rows} == {"/c0", "/c1", "/c2"}
    assert all(r["t"] > 0 for r in rows)


def test_tables_keep_their_declared_arrow_types(cap: wirelog.Capture) -> None:
    with sql.run(cap, "SELECT violations, time, dir FROM frames LIMIT 3") as res:
        schema = res.schema
        assert res.arrow().num_rows == 3
    assert schema.field("violations").type.value_type == pa.string()
    assert pa.types.is_list(schema.field("violations").type)
    stamp = schema.field("time").type
    assert stamp.unit == "us" and stamp.tz in ("UTC", "Etc/UTC")
    # No violation anywhere still gives list<string>, not list<null>.
    assert table.arrow_schema("frames").field("violations").type == pa.list_(pa.string())


def test_only_the_named_tables_are_built() -> None:
    assert sql.tables_of("SELECT * FROM connections") == ["connections"]
    assert sql.tables_of("WITH x AS (SELECT * FROM chops) SELECT * FROM x") == ["chops"]
    # messages has a column named frames; the frames table is not needed.
    assert sql.tables_of("SELECT frames FROM messages") == ["messages"]
    # duckdb cannot list the tables of a USING join: every named one is taken.
    using = "SELECT * FROM frames JOIN connections USING (source, conn)"
    assert sql.tables_of(using) == ["frames", "connections"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("SELEC 1", "syntax error"),
        ("SELECT opcod FROM frames", 'column "opcod" not found'),
        ("SELECT * FROM packets", "packets"),
    ],
)
def test_a_bad_query_fails_before_decoding_in_one_line(query: str, words: str) -> None:
    with pytest.raises(UsageError) as err:
        sql.check(query)
    msg = str(err.value)
    assert msg.startswith("SQL: ") and "\n" not in msg and words.lower() in msg.lower()


def test_an_error_found_only_while_running_is_one_line(cap: wirelog.Capture) -> None:
    sql.check("SELECT CAST(text AS INTEGER) FROM messages")  # binds on empty tables
    query = "SELECT CAST(text AS INTEGER) FROM messages WHERE opcode = 1"
    with sql.run(cap, query) as res, pytest.raises(UsageError, match=r"SQL: .*[Cc]onver"):
        res.arrow()


def test_where_positions_are_the_pandas_filter(cap: wirelog.Capture) -> None:
    df = cap.frames()
    hits = sql.matching(cap, "frames", "opcode = 2 AND length > 125 AND t < 1")
    want = df.index[(df.opcode == 2) & (df.length > 125) & (df.t < 1)].tolist()
    assert hits == want and hits
    rows = list(cap.rows("frames"))
    assert [rows[i]["payload"] for i in hits] == df.payload.iloc[hits].tolist()


def test_where_conditions_are_checked_against_the_level() -> None:
    sql.check_where("messages", "text LIKE '%x%'")
    with pytest.raises(UsageError, match="payload"):
        sql.check_where("messages", "payload = ''")  # a frames column, not a messages one
    with pytest.raises(UsageError, match="unknown level"):
        sql.where_query("packets", "1 = 1")


def test_rows_refuse_a_table_without_rows(cap: wirelog.Capture) -> None:
    with pytest.raises(UsageError, match="connections"):
        cap.rows("connections")


def test_a_query_does_not_fetch_extensions(cap: wirelog.Capture) -> None:
    query = "SELECT * FROM 'https://127.0.0.1:9/x.csv'"
    with pytest.raises(UsageError, match=r"SQL: .*httpfs"), sql.run(cap, query) as res:
        res.arrow()


# -- streaming -----------------------------------------------------------------------

STREAMED = [
    "SELECT source, conn, dir, index, t, payload FROM frames WHERE opcode = 1",
    "SELECT conn, count(*) AS n, sum(length) AS octets FROM frames GROUP BY conn ORDER BY conn",
    "SELECT * FROM messages WHERE text LIKE '%1%' OR text = 'frames'",
    "SELECT source, conn, t, length FROM chops WHERE dir = 'rx' LIMIT 5",
]
WHOLE = [
    "SELECT f.conn, c.target FROM frames f JOIN connections c USING (source, conn)",
    "SELECT conn, index FROM frames WHERE length > (SELECT avg(length) FROM frames)",
    "WITH x AS (SELECT * FROM messages) SELECT count(*) AS n FROM x a JOIN x b USING (conn)",
    "SELECT source, count(*) AS n FROM frames GROUP BY source "
    "UNION ALL SELECT source, count(*) FROM messages GROUP BY source",
    "SELECT * FROM connections",
]


def test_what_streams_is_one_read_of_one_event_table() -> None:
    assert [sql.streamable(q) for q in STREAMED] == ["frames", "frames", "messages", "chops"]
    assert [sql.streamable(q) for q in WHOLE] == [None] * len(WHOLE)
    assert sql.streamable("SELEC 1") is None and sql.streamable("SELECT 1; SELECT 2") is None
    assert sql.row_local("frames", "opcode = 1 AND t < 2")
    assert not sql.row_local("frames", "length > (SELECT avg(length) FROM frames)")
    assert not sql.row_local("violations", "finding")


@pytest.mark.parametrize("query", STREAMED + WHOLE)
def test_streamed_or_not_the_rows_are_the_materialised_ones(
    query: str, cap: wirelog.Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "SIZE", 5)  # many batches even on the samples
    with sql.run(cap, query) as res:
        want = res.arrow()
    with sql.run_inputs([BASIC, MULTI], query) as res:
        got = res.arrow()
        streamed = res.streamed
    assert want.num_rows > 0 and got.schema == want.schema
    if "ORDER BY" in query or "LIMIT" in query:
        assert got.equals(want)
    else:  # SQL gives no order without ORDER BY (a GROUP BY's comes from a hash table)
        assert sorted(got.to_pylist(), key=repr) == sorted(want.to_pylist(), key=repr)
    assert (streamed is not None) == (query in STREAMED)
    if streamed is not None and "LIMIT" not in query:
        level = sql.streamable(query)
        assert level is not None and streamed.rows[level] == len(cap.table(level))


def test_a_limit_stops_the_decoding_early(long_session: str) -> None:
    """Frames read, not time: a LIMIT over a long capture reads one batch."""
    query = "SELECT conn, index, text FROM messages WHERE opcode = 1 AND dir = 'tx' LIMIT 10"
    with sql.run_inputs([long_session], query) as res:
        rows = res.arrow().to_pylist()
        assert res.streamed is not None
        read = res.streamed.rows["messages"]
    assert [r["text"] for r in rows] == [f"round 0 message {i} " + "x" * i for i in range(10)]
    total = len(wirelog.load(long_session).messages())
    assert total >= 24_000 and 0 < read <= batches.SIZE < total // 4


def test_an_input_cut_short_streams_what_came_before_and_says_so(tmp_path: Path) -> None:
    raw = Path(MULTI).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    query = "SELECT conn, index FROM frames"
    want = wirelog.load([str(cut), BASIC])
    with pytest.warns(wirelog.errors.PartialInputWarning):
        n = len(want.frames())  # the walk fills want.errors
    with pytest.warns(wirelog.errors.PartialInputWarning):
        with sql.run_inputs([str(cut), BASIC], query) as res:
            got = res.arrow()
            assert res.streamed is not None
        assert [str(e) for e in res.errors] == [str(e) for e in want.errors] != []
    assert got.num_rows == n > 0


def test_an_unreadable_input_fails_before_the_query_runs(tmp_path: Path) -> None:
    with pytest.raises(wirelog.errors.InputError, match=r"nothing\.pcap"):
        sql.run_inputs([str(tmp_path / "nothing.pcap")], "SELECT * FROM frames")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT CAST(text AS INTEGER) AS n FROM messages WHERE opcode = 1",
        "SELECT CAST(m.text AS INTEGER) AS n FROM messages m JOIN connections USING (source, conn)"
        " WHERE m.opcode = 1",
    ],
)
def test_an_error_found_while_running_is_duckdbs_one_line(query: str) -> None:
    with (
        pytest.raises(UsageError, match=r"^SQL: Conversion Error") as err,
        sql.run_inputs([BASIC], query) as res,
    ):
        res.arrow()
    assert "\n" not in str(err.value)
