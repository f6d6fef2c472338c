"""``wirelog export`` on one core: a Parquet dataset that pandas,
pyarrow.dataset and Dask read as it is, holding ``wirelog.load``'s rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from captures_util import MANIFEST, SAMPLES
from typer.testing import CliRunner

import wirelog
from wirelog.analysis import table
from wirelog.analysis.parts import TABLES, Part, plan, tables
from wirelog.cli.app import app
from wirelog.errors import UsageError
from wirelog.outputs.dataset import export, prepare, write_atomic, write_part
from wirelog.pipeline import Options

ROOT = str(Path(__file__).resolve().parents[2])
BASIC = str(SAMPLES / MANIFEST["ws_basic"]["file"])
MULTI = str(SAMPLES / MANIFEST["multi_conn"]["file"])
DEFLATE = str(SAMPLES / MANIFEST["ws_deflate"]["file"])
SEED = str(SAMPLES / "autobahnpython_case_2_2.txt")
INPUTS = [BASIC, MULTI, DEFLATE, SEED]


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("source", "conn", "dir", "index", "kind", "chunk", "detail") if c in df]
    return df.sort_values(keys).reset_index(drop=True)


def read_back(folder: Path, level: str) -> pd.DataFrame:
    return table.read_parquet(str(folder / level), level)


def test_every_table_holds_loads_rows_and_every_file_the_declared_types(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    result = export(INPUTS, out, shares=2)
    assert result.errors == []
    whole = wirelog.load(INPUTS)
    for level in TABLES:
        files = sorted((out / level).glob("*.parquet"))
        assert len(files) == 4 * 2  # three captures and a report, in two shares each
        schema = table.arrow_schema(level)
        # one type per column in every file, the empty ones included
        assert all(pq.read_schema(f).remove_metadata().equals(schema) for f in files)
        assert sum(pq.read_metadata(f).num_rows for f in files) == result.rows(level)
        expected = ordered(whole.table(level))
        pd.testing.assert_frame_equal(ordered(read_back(out, level)), expected)
        assert result.rows(level) == len(expected) and result.files(level) == len(files)
    assert any(pq.read_metadata(f).num_rows == 0 for f in (out / "violations").glob("*"))


def test_pandas_pyarrow_and_dask_read_a_table_folder_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    export([BASIC, MULTI, SEED], out)
    frames = wirelog.load([BASIC, MULTI, SEED]).frames()
    by_pandas = pd.read_parquet(out / "frames")
    by_arrow = pads.dataset(out / "frames").to_table().to_pandas()
    by_dask = dd.read_parquet(str(out / "frames")).compute(scheduler="sync")
    for got in (by_pandas, by_arrow, by_dask):
        assert len(got) == len(frames)
        assert list(got.columns) == list(frames.columns)
        assert sorted(got["payload"].fillna("")) == sorted(frames["payload"].fillna(""))
        assert got["opcode_name"].dtype == "category"
        assert str(got["time"].dtype) == "datetime64[us, UTC]"
    per_source = by_dask.groupby("source", observed=True).size().to_dict()
    assert per_source == frames.groupby("source").size().to_dict()


def test_a_bad_input_is_reported_and_the_others_land(tmp_path: Path) -> None:
    data = Path(MULTI).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    missing = tmp_path / "missing.pcap"
    result = export([BASIC, cut, missing], tmp_path / "ds", shares=2)
    assert result.errors == [f"{cut}: packet 50: capture ends inside packet 50 (87 of 94 octets)",
                             f"{missing}: no such file"]  # fmt: skip
    frames = read_back(tmp_path / "ds", "frames")
    with pytest.warns(wirelog.errors.PartialInputWarning):
        kept = len(wirelog.load(str(cut)).frames())
    assert kept > 0 and (frames["source"] == str(cut)).sum() == kept  # what came before
    assert (frames["source"] == BASIC).sum() == len(wirelog.load(BASIC).frames())
    assert not list((tmp_path / "ds" / "frames").glob("*missing*"))


def test_the_command_prints_the_counts_and_one_line_per_failed_input(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    r = CliRunner().invoke(app, ["export", BASIC, str(tmp_path / "nope"), "--to", str(out)])
    assert r.exit_code == 2
    assert r.stderr == f"wirelog: {tmp_path / 'nope'}: no such file\n"
    frames = len(wirelog.load(BASIC).frames())
    assert f"frames       {frames:>12,} rows in 1 file(s)" in r.stdout
    # a second export into the same folder is refused, then replaces
    again = CliRunner().invoke(app, ["export", MULTI, "--to", str(out)])
    assert again.exit_code == 2 and "already holds a dataset" in again.stderr
    assert again.stderr.count("\n") == 1
    again = CliRunner().invoke(app, ["export", MULTI, "--to", str(out), "--replace", "--conn", "2"])
    assert again.exit_code == 0, again.output
    got = read_back(out, "frames")
    assert set(got["source"]) == {MULTI} and set(got["conn"]) == {2}
    assert len(got) == len(wirelog.load(MULTI, conns=2).frames())


def test_the_output_folder_must_be_a_folder(tmp_path: Path) -> None:
    afile = tmp_path / "f"
    afile.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        prepare(str(afile), replace=False)
    with pytest.raises(UsageError, match="Not a directory"):
        prepare(str(afile / "sub"), replace=False)


def test_a_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    df = wirelog.load(BASIC).frames()
    target = tmp_path / "frames.parquet"

    class Broken:
        """A table whose writing fails half-way (as a full disk would)."""

        schema = table.arrow_table(df, "frames").schema

        def __getattr__(self, name: str) -> object:
            raise OSError(28, "No space left on device")

    with pytest.raises((OSError, AttributeError, TypeError)):
        write_atomic(Broken(), str(target))
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left
    write_atomic(table.arrow_table(df, "frames"), str(target))
    assert [p.name for p in tmp_path.iterdir()] == ["frames.parquet"]
    assert pq.read_metadata(target).num_rows == len(df)


def test_an_unwritable_table_folder_is_the_parts_error(tmp_path: Path) -> None:
    """The part lands whole or not at all: no frames file without its messages."""
    (part,) = plan([BASIC])
    for level in TABLES:
        if level != "messages":
            (tmp_path / level).mkdir()
    (tmp_path / "messages").write_text("not a folder")
    written = write_part(part, str(tmp_path))
    assert written.rows == {}
    assert written.error is not None and "messages" in written.error
    assert "cannot write" in written.error
    assert [list((tmp_path / lv).iterdir()) for lv in TABLES if lv != "messages"] == [[]] * 4


def test_a_long_part_is_written_a_row_group_per_batch_with_the_old_rows(
    tmp_path: Path, long_session: str
) -> None:
    """The streamed files hold what the whole tables held (parts.tables,
    the path before), in the declared schema, in several row groups."""
    (part,) = plan([long_session])
    prepare(str(tmp_path), replace=False)
    written = write_part(part, str(tmp_path))
    assert written.error is None
    before, _ = tables(part)
    for level in TABLES:
        path = tmp_path / level / f"{part.name}.parquet"
        meta = pq.read_metadata(path)
        assert pq.read_schema(path).remove_metadata().equals(table.arrow_schema(level))
        got = table.read_parquet(str(path), level)
        pd.testing.assert_frame_equal(got, before[level])
        assert written.rows[level] == len(got) == meta.num_rows
        if level in ("frames", "chops", "messages"):
            assert meta.num_row_groups > 3
        back = pd.read_parquet(path)  # pandas alone, from the files' own metadata
        assert list(back.dtypes.astype(str)) == list(before[level].dtypes.astype(str))
    assert written.rows["frames"] > 24_000


def test_an_internal_error_names_the_input(tmp_path: Path) -> None:
    part = Part(BASIC, "basic", 0, (5, 2), 0, Options())  # a share no plan makes
    written = write_part(part, str(tmp_path))
    assert written.rows == {} and written.error == "basic: share 5 of 2: needs 0 <= share < shares"
    bad = Part(BASIC, "basic", 0, None, 0, Options(conns=None))  # type: ignore[arg-type]
    written = write_part(bad, str(tmp_path))
    assert written.error is not None and written.error.startswith("basic: internal error: ")


def test_export_imports_no_heavy_module_at_start_up() -> None:
    """``wirelog --version`` and the CLI's start pay for no Dask, pandas or pyarrow."""
    heavy = ("dask", "distributed", "pandas", "pyarrow")
    code = (
        "import sys, wirelog, wirelog.cli, wirelog.cli.export\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_duckdb_reads_a_table_folder_as_it_is(tmp_path: Path) -> None:
    """``read_parquet('DIR/frames/*.parquet')`` holds pandas' rows, in the
    declared types (Spark cannot be installed here, so it is not tried)."""
    import duckdb
    import pyarrow as pa

    out = tmp_path / "ds"
    export([BASIC, MULTI, SEED], out, shares=2)
    con = duckdb.connect()
    for level in TABLES:
        got = con.sql(f"SELECT * FROM read_parquet('{out}/{level}/*.parquet')").arrow()
        if isinstance(got, pa.RecordBatchReader):
            got = got.read_all()
        want = pd.read_parquet(out / level)
        assert got.column_names == list(want.columns)
        assert got.to_pylist() == pa.Table.from_pandas(want, preserve_index=False).to_pylist()
        assert got.num_rows == len(want) and (level == "violations" or len(want) > 0)
    described = con.sql(f"DESCRIBE SELECT * FROM read_parquet('{out}/frames/*.parquet')")
    types = {row[0]: row[1] for row in described.fetchall()}
    assert types["violations"] == "VARCHAR[]" and types["time"] == "TIMESTAMP WITH TIME ZONE"
    query = f"SELECT count(*) FROM read_parquet('{out}/frames/*.parquet') WHERE opcode = 1"
    ((n,),) = con.sql(query).fetchall()
    frames = wirelog.load([BASIC, MULTI, SEED]).frames()
    assert n == (frames.opcode == 1).sum() > 0
