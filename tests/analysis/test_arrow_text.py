"""Text Arrow cannot hold: a report whose strings are not valid UTF-8 (its
bytes load as lone surrogates, ``surrogateescape``) gave "internal error:
UnicodeEncodeError" from ``sql`` and ``export`` (found by
``fuzz_campaign.py``'s tables target). Arrow and Parquet get U+FFFD there;
the DataFrames keep what was read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import wirelog

ROOT = Path(__file__).resolve().parents[2]
CASE = (
    ROOT.parent
    / "shared"
    / "autobahn-reports"
    / "testing-a-server"
    / "websock_server_case_1_1_1.json"
)
CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = CASE.read_bytes()
    assert b'"id": "1.1.1"' in raw
    path = tmp_path_factory.mktemp("text") / "bad_case_1_1_1.json"
    path.write_bytes(raw.replace(b'"id": "1.1.1"', b'"id": "1.1\xae1"'))
    return path


def test_sql_and_export_take_a_string_that_is_not_utf8(report: Path, tmp_path: Path) -> None:
    assert wirelog.load(str(report)).connections()["case"].tolist() == ["1.1\udcae1"]
    got = subprocess.run(
        [*CLI, "sql", 'SELECT "case" FROM connections', str(report), "-f", "json"],
        capture_output=True,
        check=False,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == [{"case": "1.1\ufffd1"}]
    out = tmp_path / "ds"
    got = subprocess.run([*CLI, "export", str(report), "--to", str(out)], capture_output=True)
    assert got.returncode == 0, got.stderr
    [part] = (out / "connections").glob("*.parquet")
    assert pq.read_table(part).column("case").to_pylist() == ["1.1\ufffd1"]
    # the frames are all there, untouched
    [frames] = (out / "frames").glob("*.parquet")
    assert pq.read_table(frames).num_rows == len(wirelog.load(str(CASE)).frames())
