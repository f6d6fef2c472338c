"""wirelog.analysis.batches: load's tables, a batch at a time, on real captures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from captures_util import SAMPLES

import wirelog
from wirelog.analysis.batches import EVENTS, Batches
from wirelog.errors import InputError

INPUTS = [
    *sorted(str(p) for p in SAMPLES.glob("*.pcap*")),
    str(SAMPLES / "autobahnpython_case_2_2.txt"),
]


def streamed(sources: list[str], size: int, **kw: object) -> dict[str, pd.DataFrame]:
    b = Batches(sources, size=size, **kw)  # type: ignore[arg-type]
    parts: dict[str, list[pd.DataFrame]] = {lv: [] for lv in EVENTS}
    for got in b.events():
        for level, df in got.items():
            assert len(df) > 0
            parts[level].append(df)
    out = {lv: pd.concat(dfs, ignore_index=True) for lv, dfs in parts.items() if dfs}
    assert {lv: len(df) for lv, df in out.items()} == {lv: n for lv, n in b.rows.items() if n}
    return {**out, **b.tail()}


@pytest.mark.parametrize("size", [3, 1000])
@pytest.mark.parametrize("source", [*INPUTS, "all"])
def test_the_batches_together_are_loads_tables(source: str, size: int) -> None:
    sources = INPUTS if source == "all" else [source]
    whole = wirelog.load(sources)
    got = streamed(sources, size)
    for level in (*EVENTS, "connections", "violations"):
        pd.testing.assert_frame_equal(got[level], whole.table(level))


def test_t_counts_from_the_connections_first_chunk_in_every_batch(long_session: str) -> None:
    """Frames of one connection span many batches; each batch's ``t``
    still counts from the connection's first packet, not the batch's."""
    whole = wirelog.load(long_session).frames()
    b = Batches([long_session], levels=["frames"], size=1000)
    got = pd.concat(list(b.level("frames")), ignore_index=True)
    assert b.rows["frames"] == len(whole) > 20_000 and b.rows["chops"] == 0
    pd.testing.assert_frame_equal(got, whole)


def test_only_the_levels_asked_for_and_their_rows_kept() -> None:
    b = Batches(INPUTS[:2], levels=["messages"], size=4, keep_rows=True)
    for got in b.events():
        assert list(got) == ["messages"]
        assert [r["index"] for r in b.kept["messages"]] == list(got["messages"]["index"])


def test_a_missing_input_fails_as_itself_and_the_tail_waits_for_the_end(tmp_path: Path) -> None:
    b = Batches([str(tmp_path / "missing.pcap")])
    with pytest.raises(InputError, match=r"missing\.pcap"):
        list(b.events())
    with pytest.raises(AssertionError, match="not over"):
        b.tail()
