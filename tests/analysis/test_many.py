"""``wirelog.load_many`` without a cluster: lazy Dask DataFrames holding
``wirelog.load``'s tables (the cluster runs are tests/integration/test_dask.py)."""

from __future__ import annotations

from pathlib import Path

import dask
import pandas as pd
import pytest
from captures_util import MANIFEST, SAMPLES

import wirelog
from wirelog.analysis.many import cluster
from wirelog.analysis.parts import TABLES
from wirelog.errors import InputError, UsageError

BASIC = str(SAMPLES / MANIFEST["ws_basic"]["file"])
MULTI = str(SAMPLES / MANIFEST["multi_conn"]["file"])
SEED = str(SAMPLES / "autobahnpython_case_2_2.txt")


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("source", "conn", "dir", "index", "kind", "chunk") if c in df]
    return df.sort_values(keys).reset_index(drop=True)


def test_the_tables_are_loads_tables_one_partition_per_part() -> None:
    many = wirelog.load_many([BASIC, MULTI, SEED], shares=2)
    assert repr(many) == "<wirelog.Many 6 part(s)>"  # the report is shared too
    whole = wirelog.load([BASIC, MULTI, SEED])
    lazy = [many.table(level) for level in TABLES]
    assert [d.npartitions for d in lazy] == [6] * 5
    computed = dask.compute(*lazy, scheduler="sync")
    for level, got in zip(TABLES, computed, strict=True):
        expected = whole.table(level)
        assert dict(got.dtypes) == dict(expected.dtypes)
        pd.testing.assert_frame_equal(ordered(got), ordered(expected))
    # partitions follow the inputs, each input's rows in load's order
    frames = many.frames().compute(scheduler="sync").reset_index(drop=True)
    assert list(frames["source"].drop_duplicates()) == [BASIC, MULTI, SEED]
    basic = frames[frames["source"] == BASIC].reset_index(drop=True)
    pd.testing.assert_frame_equal(basic, wirelog.load(BASIC).frames())


def test_the_named_tables_and_the_options_are_loads() -> None:
    many = wirelog.load_many(MULTI, conns=[2])
    named = (many.chops(), many.frames(), many.messages(), many.violations(), many.connections())
    got = dask.compute(*named, scheduler="sync")
    whole = wirelog.load(MULTI, conns=[2])
    for df, level in zip(
        got, ("chops", "frames", "messages", "violations", "connections"), strict=True
    ):
        assert len(df) == len(whole.table(level))
    assert set(got[1]["conn"]) == {2}


def test_nothing_is_read_until_a_result_is_asked_for(tmp_path: Path) -> None:
    later = tmp_path / "later.pcap"
    later.write_bytes(b"")  # there, but not yet the capture: nothing reads it yet
    many = wirelog.load_many([str(later)])
    frames = many.frames()
    later.write_bytes(Path(BASIC).read_bytes())
    assert len(frames.compute(scheduler="sync")) == len(wirelog.load(BASIC).frames())
    # A mistyped path fails at once, in wirelog.load's words.
    with pytest.raises(InputError, match="no such file"):
        wirelog.load_many([str(tmp_path / "missing.pcap")])


def test_misuse_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="at least one input"):
        wirelog.load_many([])
    with pytest.raises(UsageError, match="unknown option"):
        wirelog.load_many(BASIC, colour=True)
    with pytest.raises(UsageError, match="unknown table"):
        wirelog.load_many(BASIC).table("bits")
    with pytest.raises(UsageError, match="not both"), cluster(2, "tcp://127.0.0.1:1"):
        pass
    with pytest.raises(UsageError, match="at least 1"), cluster(0):
        pass
    with cluster() as none:
        assert none is None
