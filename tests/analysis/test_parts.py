"""Parts of the inputs: how a plan cuts them, and that a part's tables are
``wirelog.load``'s rows for it, named as the caller named the input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from captures_util import MANIFEST, SAMPLES

import wirelog
from wirelog.analysis.parts import TABLES, Part, plan, relabel_message, tables
from wirelog.errors import InputError, UsageError
from wirelog.pipeline import Options

BASIC = str(SAMPLES / MANIFEST["ws_basic"]["file"])
MULTI = str(SAMPLES / MANIFEST["multi_conn"]["file"])
SEED = str(SAMPLES / "autobahnpython_case_2_2.txt")
REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports" / "testing-a-server"


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("source", "conn", "dir", "index", "kind", "chunk") if c in df]
    return df.sort_values(keys).reset_index(drop=True)


def test_equal_inputs_stay_whole_and_one_big_capture_is_cut(tmp_path: Path) -> None:
    copies = [shutil.copy(MULTI, tmp_path / f"m{i}.pcap") for i in range(4)]
    assert [p.share for p in plan(copies, workers=2)] == [None] * 4
    one = plan([MULTI], workers=2)
    assert [p.share for p in one] == [(0, 2), (1, 2)]
    assert {p.weight for p in one} == {os.path.getsize(MULTI) // 2}
    # a big capture among small ones gets shares, the small ones none
    small = tmp_path / "small.pcap"
    small.write_bytes(Path(MULTI).read_bytes()[:300])
    mixed = plan([MULTI, small, small], workers=3)
    assert [(p.position, p.share) for p in mixed] == [
        (0, (0, 3)), (0, (1, 3)), (0, (2, 3)), (1, None), (2, None)
    ]  # fmt: skip
    assert [p.share for p in plan([MULTI], workers=1)] == [None]


def test_shares_cut_captures_and_reports_only(tmp_path: Path) -> None:
    har = tmp_path / "x.har"
    har.write_text('{"log": {"version": "1.2", "entries": []}}')
    ps = plan([MULTI, SEED, tmp_path / "missing.pcap", "-", har], shares=3)
    assert [(p.position, p.share) for p in ps] == [
        (0, (0, 3)), (0, (1, 3)), (0, (2, 3)), (1, (0, 3)), (1, (1, 3)), (1, (2, 3)),
        (2, None), (3, None), (4, None),
    ]  # fmt: skip
    assert ps[-2].path == "-" and ps[-2].name == "00003-stdin"
    assert ps[0].name == "00000-multi_conn.pcap-share1of3"
    assert len({p.name for p in ps}) == len(ps)
    with pytest.raises(UsageError, match="at least 1"):
        plan([MULTI], shares=0)
    with pytest.raises(UsageError, match="no inputs"):
        plan([])


def test_a_name_keeps_only_safe_characters() -> None:
    p = Part("/x/a b;c.pcap", "a b;c.pcap", 12, None, 0, Options())
    assert p.name == "00012-a_b_c.pcap"


def test_a_parts_tables_are_loads_rows_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(MULTI, tmp_path / "multi.pcap")
    monkeypatch.chdir(tmp_path)
    whole = wirelog.load("multi.pcap")
    parts = plan(["multi.pcap"], shares=2)
    assert parts[0].path == str(tmp_path / "multi.pcap") and parts[0].label == "multi.pcap"
    got = [tables(p) for p in parts]
    assert all(error is None for _, error in got)
    for level in TABLES:
        together = pd.concat([t[level] for t, _ in got])
        assert set(together["source"]) <= {"multi.pcap"}
        assert together["source"].dtype == whole.table(level)["source"].dtype
        pd.testing.assert_frame_equal(_sorted(together), _sorted(whole.table(level)))


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
@pytest.mark.parametrize("given", ["cases", "cases/", "cases/index.json"])
def test_a_folders_cases_are_named_under_the_folder_as_given(
    given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("websock_server_case_1_1_1.json", "websock_server_case_1_1_2.json"):
        shutil.copy(REPORTS / name, folder / name)
    if given.endswith("index.json"):
        (folder / "index.json").write_text(
            '{"ws": {"1.1.1": {"reportfile": "websock_server_case_1_1_1.json"}}}'
        )
    monkeypatch.chdir(tmp_path)
    parts = plan([given], workers=2)
    assert [p.share for p in parts] == [(0, 2), (1, 2)]  # a folder of reports is cut too
    got = [tables(p) for p in parts]
    assert [error for _, error in got] == [None, None]
    frames = pd.concat([t["frames"] for t, _ in got]).sort_values(["conn", "dir", "index"])
    expected = wirelog.load(given).frames()
    assert len(frames) == len(expected) > 0
    assert list(frames["source"]) == list(expected["source"])
    assert not any(s.startswith(str(tmp_path)) for s in frames["source"])


def test_an_input_cut_part_way_keeps_what_came_before(tmp_path: Path) -> None:
    data = Path(MULTI).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.warns(wirelog.errors.PartialInputWarning):
        expected = wirelog.load(str(cut)).frames()
    got = [tables(p) for p in plan([str(cut)], shares=2)]
    errors = {e for _, e in got}
    assert len(errors) == 1 and "packet 50" in str(next(iter(errors)))
    together = pd.concat([t["frames"] for t, _ in got])
    assert 0 < len(together) == len(expected)


def test_an_unreadable_input_raises_naming_it_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (part,) = plan(["missing.pcap"])
    with pytest.raises(InputError) as info:
        tables(part)
    assert relabel_message(str(info.value), part) == "missing.pcap: no such file"
