"""Parquet and CSV exports: the same schema as the DataFrames, round trip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from analysis_seed import SEED
from typer.testing import CliRunner

import wirelog
from wirelog.analysis import table
from wirelog.cli.app import app
from wirelog.outputs import formats as output

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
INPUTS = [SAMPLES / "ws_basic.pcap", SAMPLES / "multi_conn.pcap", SEED]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False, rtol=1e-12
    )


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
@pytest.mark.parametrize("level", ["chops", "frames", "messages"])
def test_cli_parquet_equals_load(tmp_path: Path, path: Path, level: str) -> None:
    target = tmp_path / "out.parquet"
    args = ["decode", str(path), "--format", "parquet", "--level", level, "-o", str(target)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    back = table.read_parquet(str(target))
    want = wirelog.load(str(path)).table(level)
    assert len(want) > 0
    _same(back, want)
    # A plain Arrow reader (DuckDB, Spark) sees the declared column names.
    assert pq.read_schema(target).names == list(table.columns(level))


@pytest.mark.parametrize("path", INPUTS[:2], ids=lambda p: p.name)
def test_cli_csv_reads_back_into_the_schema(tmp_path: Path, path: Path) -> None:
    target = tmp_path / "frames.csv"
    args = ["decode", str(path), "--format", "csv", "-o", str(target)]
    assert CliRunner().invoke(app, args).exit_code == 0
    back = table.read_csv(str(target), "frames")
    want = wirelog.load(str(path)).frames()
    cols = list(output.FRAME_COLUMNS)  # what the CLI's CSV holds
    _same(back[cols], want[cols])
    _same(back[["time"]], want[["time"]])  # derived from ts, exactly


def test_capture_csv_and_parquet_round_trip(tmp_path: Path) -> None:
    cap = wirelog.load(str(SAMPLES / "ws_basic.pcap"))
    for level in ("chops", "frames", "messages", "violations", "connections"):
        want = cap.table(level)
        cap.to_parquet(str(tmp_path / f"{level}.parquet"), level)
        _same(table.read_parquet(str(tmp_path / f"{level}.parquet")), want)
    for level in ("chops", "frames", "messages"):
        cap.to_csv(str(tmp_path / f"{level}.csv"), level)
        back, want = table.read_csv(str(tmp_path / f"{level}.csv"), level), cap.table(level)
        # CSV has one empty cell for both NA and "": in the nullable string
        # columns (table.NULLABLE_STRINGS) an empty value reads back as NA.
        for col in table.NULLABLE_STRINGS & set(want.columns):
            empty = (want[col] == "").fillna(False)
            assert back.loc[empty, col].isna().all()
            want.loc[empty, col] = pd.NA
        _same(back, want)


def test_a_csv_of_an_older_wirelog_gets_its_integers_and_t(tmp_path: Path) -> None:
    """A CSV written before ``ts_ns`` (no ``ts_ns``, no ``t`` on chops and
    messages): ``ts_ns`` comes back from ``ts`` to the microsecond (all a
    microsecond capture has), ``t`` from each connection's first time."""
    cap = wirelog.load(str(SAMPLES / "multi_conn.pcap"))
    for level in ("chops", "messages"):
        want = cap.table(level)
        old = tmp_path / f"old-{level}.csv"
        want.drop(columns=["ts_ns", "t", "time"]).to_csv(old, index=False)
        back = table.read_csv(str(old), level)
        assert back["ts_ns"].tolist() == want["ts_ns"].tolist()
        assert back["time"].tolist() == want["time"].tolist()
        first = want.groupby("conn")["ts_ns"].transform("min")
        assert back["t"].tolist() == ((want["ts_ns"] - first) / 10**9).tolist()
        assert back["t"].min() == 0.0 and back["t"].max() > 0
    # a start given from outside (a walk's summaries) wins over the first time
    rows = list(cap.rows("chops"))[:3]
    cols = {
        n: [r[n] for r in rows] for n in table.columns("chops") if n not in ("time", "t", "ts_ns")
    }
    start = rows[0]["ts"] - 0.5
    got = table.from_columns("chops", cols, {(rows[0]["source"], 0): start})["t"].tolist()
    assert got == [(r["ts_ns"] - round(start * 10**6) * 1000) / 10**9 for r in rows]
