"""wirelog.outputs.results: a query's result as table, JSON, CSV and Parquet."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from wirelog.outputs import results

WHEN = dt.datetime(2026, 11, 25, 10, 43, 3, 204995, tzinfo=dt.UTC)


def _batches() -> tuple[list[str], list[pa.RecordBatch]]:
    cols = ["conn", "text", "t", "time", "violations", "fin"]
    first = pa.record_batch(
        [
            pa.array([0, 1]),
            pa.array(["a\tb", None]),
            pa.array([0.000123, None], pa.float64()),
            pa.array([WHEN, None], pa.timestamp("us", tz="UTC")),
            pa.array([["bad_utf8", "rsv"], []], pa.list_(pa.string())),
            pa.array([True, False]),
        ],
        names=cols,
    )
    second = pa.record_batch(
        [
            pa.array([2]),
            pa.array(["x" * 100]),
            pa.array([1.5]),
            pa.array([WHEN], pa.timestamp("us", tz="UTC")),
            pa.array([[]], pa.list_(pa.string())),
            pa.array([True]),
        ],
        names=cols,
    )
    return cols, [first, second]


def test_json_is_one_array_of_objects_keyed_by_column() -> None:
    cols, batches = _batches()
    out = io.StringIO()
    assert results.write_text("json", cols, batches, out) == 3
    rows = json.loads(out.getvalue())
    assert [list(r) for r in rows] == [cols] * 3
    assert rows[0] == {
        "conn": 0, "text": "a\tb", "t": 0.000123, "time": WHEN.isoformat(),
        "violations": ["bad_utf8", "rsv"], "fin": True,
    }  # fmt: skip
    assert rows[1]["text"] is None and rows[1]["t"] is None


def test_an_empty_result_is_an_empty_array_a_header_or_a_table_head() -> None:
    empties = {"json": "[]\n", "csv": "conn,text\r\n", "table": "conn  text\n(0 rows)\n"}
    for fmt, want in empties.items():
        out = io.StringIO()
        assert results.write_text(fmt, ["conn", "text"], [], out) == 0
        assert out.getvalue() == want


def test_csv_follows_the_decode_cells() -> None:
    cols, batches = _batches()
    out = io.StringIO()
    results.write_text("csv", cols, batches, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["violations"] == "bad_utf8;rsv" and rows[0]["time"] == WHEN.isoformat()
    assert rows[1]["text"] == "" and rows[1]["t"] == "" and rows[1]["time"] == ""


def test_table_aligns_every_column_across_batches() -> None:
    cols, batches = _batches()
    out = io.StringIO()
    results.write_text("table", cols, batches, out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == cols and lines[-1] == "(3 rows)"
    assert "a\\tb" in lines[1] and "0.000123" in lines[1] and "bad_utf8,rsv" in lines[1]
    assert lines[2].split()[1:3] == ["-", "-"]  # NULLs
    assert lines[3].split()[1] == "x" * 47 + "…"
    one = io.StringIO()
    results.write_text("table", ["n"], [pa.record_batch([pa.array([7])], names=["n"])], one)
    assert one.getvalue().endswith("(1 row)\n")


def test_json_values_of_other_types() -> None:
    assert results.json_value(b"\x01\xff") == "01ff"
    assert results.json_value({"a": math.inf, 1: [dt.date(2026, 1, 2)]}) == {
        "a": None,
        "1": ["2026-01-02"],
    }
    assert results.json_value(decimal.Decimal("1.50")) == "1.50"
    assert results.cell(math.nan) == "-" and results.csv_value(math.nan) == ""


def test_parquet_keeps_the_result_schema(tmp_path: Path) -> None:
    cols, batches = _batches()
    path = tmp_path / "r.parquet"
    assert results.write_parquet(batches, batches[0].schema, str(path)) == 3
    back = pq.read_table(path)
    assert back.column_names == cols and back.num_rows == 3
    assert back.schema.field("violations").type == pa.list_(pa.string())
