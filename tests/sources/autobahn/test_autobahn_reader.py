"""Reports folders and index.json: every case, in numeric case order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from wirelog.errors import InputError
from wirelog.model import Recording
from wirelog.pipeline import detect, read, stream
from wirelog.sources.autobahn.reader import case_key, parse_folder

REPORTS = Path(__file__).resolve().parents[4] / "shared" / "autobahn-reports"
SERVER = REPORTS / "testing-a-server"

needs_corpus = pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")


def test_case_ids_sort_numerically() -> None:
    ids = ["10.1.1", "2.10", "1.2.8", "2.9", "12.1.1", "2.1", "9.8.6"]
    assert sorted(ids, key=case_key) == ["1.2.8", "2.1", "2.9", "2.10", "9.8.6", "10.1.1", "12.1.1"]


@needs_corpus
def test_index_json_reads_every_case_of_its_folder() -> None:
    index = SERVER / "index.json"
    assert detect(str(index)) == "autobahn-index"
    rec = read(str(index))
    assert rec.kind == "autobahn-index" and len(rec.connections) == 517
    by_folder = read(str(SERVER))
    assert [c.source for c in rec.connections] == [c.source for c in by_folder.connections]
    assert [c.conn for c in rec.connections] == list(range(517))


@needs_corpus
def test_only_the_wanted_cases_are_read_and_keep_their_positions() -> None:
    """``suite run --cases``: the other reports are not even opened."""
    opened: list[str] = []
    want = {"2.2", "12.1.1", "9.3.2"}
    rec = parse_folder(str(SERVER), "autobahn-folder", wanted=want.__contains__)
    whole = read(str(SERVER))
    by_case = {c.meta["case_id"]: c for c in whole.connections}
    assert sorted(c.meta["case_id"] for c in rec.connections) == sorted(want)
    for c in rec.connections:
        same = by_case[c.meta["case_id"]]
        assert (c.conn, c.source, c.chunks, c.markers) == (
            same.conn, same.source, same.chunks, same.markers
        )  # fmt: skip
    parse_folder(
        str(SERVER),
        "autobahn-folder",
        on_case=lambda _, f: opened.append(f),
        wanted=want.__contains__,
    )
    assert len(opened) == 3


@needs_corpus
def test_a_folder_without_index_lists_its_case_files(tmp_path: Path) -> None:
    """No index.json: files found by name; JSON preferred over its HTML
    twin; a page without a twin is read as HTML; "2.10" after "2.9"."""
    for name in ("2_9", "2_10", "2_1", "10_1_1"):
        shutil.copy(SERVER / f"websock_server_case_{name}.json", tmp_path)
    shutil.copy(SERVER / "websock_server_case_2_10.html", tmp_path)
    shutil.copy(SERVER / "websock_server_case_3_1.html", tmp_path)
    (tmp_path / "notes.txt").write_text("not a case")
    assert detect(str(tmp_path)) == "autobahn-folder"
    rec = read(str(tmp_path))
    got = [(c.meta["case_id"], c.meta["form"], Path(c.source).name) for c in rec.connections]
    assert got == [
        ("2.1", "json", "websock_server_case_2_1.json"),
        ("2.9", "json", "websock_server_case_2_9.json"),
        ("2.10", "json", "websock_server_case_2_10.json"),
        ("3.1", "html", "websock_server_case_3_1.html"),
        ("10.1.1", "json", "websock_server_case_10_1_1.json"),
    ]


@needs_corpus
def test_a_broken_case_names_its_file_and_the_others_are_kept(tmp_path: Path) -> None:
    for name in ("2_1", "2_3"):
        shutil.copy(SERVER / f"websock_server_case_{name}.json", tmp_path)
    bad = tmp_path / "websock_server_case_2_2.json"
    doc = json.loads((SERVER / bad.name).read_text())
    doc["wirelog"][3][1][1] = "nothex"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        read(str(tmp_path))
    assert err.value.source == str(bad) and err.value.location == "entry 3"
    partial = err.value.partial
    assert isinstance(partial, Recording)
    # conn stays the position in case order, so numbering does not shift.
    assert [(c.meta["case_id"], c.conn) for c in partial.connections] == [("2.1", 0), ("2.3", 2)]
    # Streaming (what the CLI does) yields the readable cases, then raises.
    seen: list[int] = []
    with pytest.raises(InputError):
        for conn, _item in stream(str(tmp_path)):
            if conn.conn not in seen:
                seen.append(conn.conn)
    assert seen == [0, 2]


def test_an_empty_folder_is_not_a_report_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read(str(tmp_path))
