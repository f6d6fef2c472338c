"""``wirelog sql``, ``decode --where`` and ``-o`` files, run in-process on real captures."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import wirelog
import wirelog.errors
from wirelog.cli import app
from wirelog.cli.output import atomic_path, atomic_text, pick_format
from wirelog.errors import UsageError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
BASIC = str(SAMPLES / "ws_basic.pcap")
MULTI = str(SAMPLES / "multi_conn.pcap")


@dataclass
class Run:
    code: int
    out: str
    err: str


def wirelog_cli(*args: str) -> Run:
    r = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, list(args))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return Run(r.exit_code, r.stdout, r.stderr)


def test_sql_json_over_two_captures() -> None:
    run = wirelog_cli(
        "sql", "SELECT source, conn, target FROM connections ORDER BY source, conn",
        BASIC, MULTI, "-f", "json",
    )  # fmt: skip
    assert run.code == 0, run.err
    rows = json.loads(run.out)
    want = wirelog.load([BASIC, MULTI]).connections().sort_values(["source", "conn"])
    assert [r["target"] for r in rows] == want.target.tolist()
    assert [r["source"] for r in rows] == [MULTI] * 3 + [BASIC]


def test_sql_table_and_csv() -> None:
    query = "SELECT opcode_name, count(*) AS n FROM frames GROUP BY ALL ORDER BY n DESC, 1"
    table = wirelog_cli("sql", query, BASIC)
    df = wirelog.load(BASIC).frames()
    counts = df.opcode_name.astype(str).value_counts()
    lines = table.out.splitlines()
    assert lines[0].split() == ["opcode_name", "n"]
    assert lines[-1] == f"({len(counts)} rows)"
    assert {ln.split()[0]: int(ln.split()[1]) for ln in lines[1:-1]} == counts.to_dict()
    rows = list(csv.DictReader(io.StringIO(wirelog_cli("sql", query, BASIC, "-f", "csv").out)))
    assert {r["opcode_name"]: int(r["n"]) for r in rows} == counts.to_dict()


def test_sql_output_file_takes_its_format_from_the_name(tmp_path: Path) -> None:
    q = "SELECT conn, index, payload FROM frames WHERE opcode = 2"
    pq_path = tmp_path / "binary.parquet"
    assert wirelog_cli("sql", q, BASIC, "-o", str(pq_path)).code == 0
    back = pq.read_table(pq_path).to_pylist()
    df = wirelog.load(BASIC).frames()
    assert [r["payload"] for r in back] == df[df.opcode == 2].payload.tolist()
    js = tmp_path / "binary.json"
    assert wirelog_cli("sql", q, BASIC, "-o", str(js)).code == 0
    assert json.loads(js.read_text()) == back
    assert sorted(os.listdir(tmp_path)) == ["binary.json", "binary.parquet"]  # no temp left


def test_sql_parquet_needs_an_output_file() -> None:
    run = wirelog_cli("sql", "SELECT 1", BASIC, "-f", "parquet")
    assert run.code == 2 and "--output" in run.err


def test_a_bad_query_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    run = wirelog_cli("sql", "SELECT nope FROM frames", BASIC, "-o", str(target))
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and run.err.startswith("wirelog: SQL: Binder Error")
    assert not target.exists() and os.listdir(tmp_path) == []
    late = wirelog_cli(
        "sql", "SELECT CAST(text AS INTEGER) FROM messages WHERE opcode = 1", BASIC,
        "-o", str(target),
    )  # fmt: skip
    assert late.code == 2 and "Conversion Error" in late.err
    assert os.listdir(tmp_path) == []  # the half-written result was removed


def test_one_bad_input_does_not_hide_the_others(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all " * 20)
    run = wirelog_cli("sql", "SELECT DISTINCT source FROM frames", str(junk), BASIC, "-f", "json")
    assert run.code == 2
    assert json.loads(run.out) == [{"source": BASIC}]
    assert str(junk) in run.err and run.err.count("\n") == 1


def test_decode_where_prints_what_decode_prints() -> None:
    full = wirelog_cli("decode", BASIC, "-f", "jsonl").out.splitlines()
    picked = wirelog_cli("decode", BASIC, "-f", "jsonl", "--where", "opcode IN (9, 10)")
    assert picked.code == 0, picked.err
    want = [ln for ln in full if json.loads(ln)["opcode"] in (9, 10)]
    assert picked.out.splitlines() == want and len(want) == 2


def test_decode_where_on_messages_text_and_time() -> None:
    run = wirelog_cli(
        "decode", MULTI, "-l", "messages", "-f", "csv", "--where", "text LIKE '%1%' AND t < 5"
    )
    rows = list(csv.DictReader(io.StringIO(run.out)))
    df = wirelog.load(MULTI).messages()
    want = df[df.text.fillna("").str.contains("1") & (df.t < 5)]
    assert [r["text"] for r in rows] == want.text.tolist() and rows


def test_decode_where_to_parquet_and_a_bad_condition(tmp_path: Path) -> None:
    path = tmp_path / "close.parquet"
    run = wirelog_cli("decode", BASIC, MULTI, "--where", "opcode = 8", "-o", str(path))
    assert run.code == 0, run.err
    back = wirelog.analysis.table.read_parquet(str(path), "frames")
    assert set(back.opcode) == {8} and len(back) == 2 + 3 * 2
    bad = wirelog_cli("decode", BASIC, "--where", "opcode = ")
    assert bad.code == 2 and bad.err.startswith("wirelog: SQL: Parser Error")


def test_decode_output_name_picks_the_format(tmp_path: Path) -> None:
    out = tmp_path / "frames.csv"
    assert wirelog_cli("decode", BASIC, "-o", str(out)).code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(wirelog.load(BASIC).frames()) and "payload" in rows[0]
    run = wirelog_cli("decode", BASIC, "-f", "parquet")
    assert run.code == 2 and "--output" in run.err


def test_pick_format() -> None:
    choices = ("table", "jsonl", "csv", "parquet")
    assert pick_format(None, "a.JSONL", choices, "table") == "jsonl"
    assert pick_format("csv", "a.parquet", choices, "table") == "csv"  # -f wins
    assert pick_format(None, "a.xyz", choices, "table") == "table"
    assert pick_format(None, "a.txt", ("text", "html"), "html") == "text"
    assert pick_format(None, None, choices, "jsonl") == "jsonl"


def test_an_interrupted_output_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("the old content\n")
    with pytest.raises(KeyboardInterrupt), atomic_text(str(target)) as fh:
        fh.write("half of it")
        raise KeyboardInterrupt
    assert target.read_text() == "the old content\n" and os.listdir(tmp_path) == ["out.txt"]
    with atomic_text(str(target)) as fh:
        fh.write("all of it\n")
    assert target.read_text() == "all of it\n" and os.listdir(tmp_path) == ["out.txt"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_an_output_that_cannot_be_written_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--output .*is a directory"), atomic_path(str(tmp_path)):
        pass
    target = tmp_path / "x"
    with (
        pytest.raises(UsageError, match=re.escape(f"--output {target}: No such file")),
        atomic_path(str(target)) as tmp,
    ):
        os.remove(tmp)  # the finished file vanished before its rename
    assert os.listdir(tmp_path) == []


def test_decode_where_with_a_subquery_reads_the_whole_table() -> None:
    """A condition that compares with the whole table (not row-local) is
    asked of the whole table, not of each batch: the table's own answer."""
    run = wirelog_cli(
        "decode", MULTI, "-f", "table", "--where", "length > (SELECT avg(length) FROM frames)"
    )
    assert run.code == 0, run.err
    df = wirelog.load(MULTI).frames()
    want = df[df.length > df.length.mean()]
    body = [ln for ln in run.out.splitlines()[1:] if ln.strip() and not set(ln) <= set("-+| ")]
    assert len(body) == len(want) > 0


def test_decode_where_on_a_cut_capture_prints_what_came_before(tmp_path: Path) -> None:
    raw = Path(MULTI).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    out = tmp_path / "rx.jsonl"
    run = wirelog_cli("decode", str(cut), "--where", "dir = 'rx'", "-o", str(out))
    assert run.code == 2 and run.err.count("\n") == 1 and "packet" in run.err
    with pytest.warns(wirelog.errors.PartialInputWarning):
        df = wirelog.load(str(cut)).frames()
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["conn"], x["index"]) for x in lines] == list(
        df[df.dir == "rx"][["conn", "index"]].itertuples(index=False, name=None)
    )
