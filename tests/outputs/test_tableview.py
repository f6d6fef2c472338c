"""wirelog.outputs.tableview: the decode table shows t and printable payloads as text."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import wirelog
from wirelog.cli import app
from wirelog.outputs import tableview

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _table(*args: str) -> list[dict[str, str]]:
    r = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, ["decode", *args])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines[0].split()
    return [dict(zip(head, ln.split(), strict=False)) for ln in lines[1:]]


def test_the_table_shows_t_as_the_dataframe_has_it() -> None:
    path = str(SAMPLES / "multi_conn.pcap")
    for level in ("chops", "frames", "messages"):
        rows = _table(path, "-l", level)
        df = getattr(wirelog.load(path), level)()
        assert "ts" not in rows[0] and len(rows) == len(df)
        assert [float(r["t"]) for r in rows] == [round(t, 6) for t in df.t]


def test_text_payloads_read_as_text_and_binary_stays_hex() -> None:
    rows = _table(str(SAMPLES / "ws_basic.pcap"), "--where", "opcode IN (1, 2) AND length < 20")
    got = {r["payload"] for r in rows}
    assert '"hello"' in got and "00010262696e617279" in got


def test_printable() -> None:
    assert tableview.printable("68690a") == '"hi\n"'  # the cell escapes the newline
    assert tableview.printable("0001") is None  # control octets
    assert tableview.printable("ff") is None  # not UTF-8
    assert tableview.printable("abc") is None  # not hex at all
    assert tableview.printable("") is None and tableview.printable(None) is None
    assert tableview.columns("frames")[5] == "t"


def test_an_input_without_times_has_no_t() -> None:
    rows = _table(str(SAMPLES / "autobahnpython_case_2_2.txt"))
    assert {r["t"] for r in rows} == {"-"}
    assert rows[0]["payload"] == '"Hello,' and rows[2]["payload"] == "03e8"
