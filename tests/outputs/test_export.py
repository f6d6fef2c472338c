"""``decode`` as library calls: the layers a level runs, the JSON-lines lane
of frames, row listings over several inputs, and Parquet through
``wirelog.load``'s tables."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from captures_util import MANIFEST, SAMPLES

import wirelog
from wirelog.analysis import table
from wirelog.errors import InputError
from wirelog.model import Frame
from wirelog.outputs import export
from wirelog.outputs.export import Listing, ParquetExport, layers, write_frame_lines
from wirelog.outputs.formats import frame_line
from wirelog.pipeline import Options, stream

BASIC = str(SAMPLES / MANIFEST["ws_basic"]["file"])
MULTI = str(SAMPLES / MANIFEST["multi_conn"]["file"])
SEED = str(SAMPLES / "autobahnpython_case_2_2.txt")


def test_layers_follow_the_level() -> None:
    base = Options(conns=(2,), keep_data=False)
    assert layers("chops", base) == Options(
        conns=(2,), keep_data=False, frames=False, messages=False
    )
    assert layers("frames") == Options(messages=False)
    assert layers("messages") == Options()
    with pytest.raises(ValueError, match="unknown level"):
        layers("bits")


def test_tune_for_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    before = gc.get_threshold()
    try:
        export.tune_for_bulk()
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
        assert gc.get_freeze_count() > 0
        # the young generation is collected rarely, the collector still on
        assert gc.get_threshold()[0] == 100_000 and gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    try:
        export.tune_for_bulk()
        assert os.environ["OPENBLAS_NUM_THREADS"] == "4"  # the user's setting wins
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("path", [BASIC, SEED], ids=["capture", "report"])
def test_the_frame_lines_are_the_streamed_frames(path: str) -> None:
    buf = io.StringIO()
    summary = write_frame_lines(path, buf)
    want = [frame_line(c, f) for c, f in stream(path) if isinstance(f, Frame)]
    assert buf.getvalue() == "".join(want) and want
    assert summary is not None and summary.websocket >= 1


def test_a_listing_over_several_inputs_keeps_one_header() -> None:
    buf = io.StringIO()
    listing = Listing("csv", "chops", buf, show_source=True)
    assert listing.add(SEED) is not None
    listing.add(BASIC)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert {r["source"] for r in rows} == {SEED, BASIC}
    assert buf.getvalue().count("source,conn") == 1
    buf = io.StringIO()
    Listing("jsonl", "messages", buf, Options(conns=(1,))).add(MULTI)
    msgs = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert msgs and {m["conn"] for m in msgs} == {1} and "wire_length" in msgs[0]


def test_a_listing_flushes_what_came_before_a_bad_input(tmp_path: Path) -> None:
    raw = Path(BASIC).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[: len(raw) // 2])
    buf = io.StringIO()
    with pytest.raises(InputError):
        Listing("table", "frames", buf).add(str(cut))
    assert buf.getvalue().startswith("conn  dir  index")
    assert "truncated_frame" in buf.getvalue()  # the frame the cut ended


def test_parquet_of_several_inputs_is_their_load_tables(tmp_path: Path) -> None:
    target = tmp_path / "all.parquet"
    job = ParquetExport("frames")
    job.add(BASIC)
    job.add(SEED)
    job.write(str(target))
    want = pd.concat([wirelog.load(BASIC).frames(), wirelog.load(SEED).frames()], ignore_index=True)
    pd.testing.assert_frame_equal(table.read_parquet(str(target)), want, check_exact=False)


def test_parquet_keeps_what_came_before_a_failure(tmp_path: Path) -> None:
    raw = Path(BASIC).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[: len(raw) // 2])
    job = ParquetExport("chops", Options())
    with pytest.raises(InputError):
        job.add(str(cut))
    assert len(job.tables) == 1 and len(job.tables[0]) > 0
    empty = ParquetExport("messages")
    empty.write(str(tmp_path / "none.parquet"))
    back = table.read_parquet(str(tmp_path / "none.parquet"))
    assert len(back) == 0 and list(back.columns) == list(table.columns("messages"))
    with pytest.raises(ValueError):
        ParquetExport("bits")


def test_only_a_process_owner_tunes_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(export, "tune_for_bulk", lambda: calls.append("tuned"))
    Listing("jsonl", "frames", io.StringIO()).add(BASIC)
    Listing("jsonl", "frames", io.StringIO(), tune=True).add(SEED)  # not a capture
    assert calls == []
    Listing("jsonl", "frames", io.StringIO(), tune=True).add(BASIC)
    assert calls == ["tuned"]
