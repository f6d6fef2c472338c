"""A folder of captures is an input like a folder of reports: each file in
name order, a bad one reported after the others are delivered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from captures_util import MANIFEST, SAMPLES
from typer.testing import CliRunner

import wirelog
from wirelog.cli import app
from wirelog.errors import InputError, UnknownFormatError
from wirelog.pipeline import read, stream
from wirelog.sources.detect import detect

runner = CliRunner()


def sample(name: str) -> Path:
    return SAMPLES / MANIFEST[name]["file"]


def jsonl(*args: str) -> tuple[int, list[dict[str, object]], str]:
    r = runner.invoke(app, ["decode", "-f", "jsonl", *args])
    return r.exit_code, [json.loads(x) for x in r.stdout.splitlines()], r.stderr


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "caps"
    d.mkdir()
    shutil.copy(sample("ws_basic"), d / "a.pcap")
    shutil.copy(sample("ws_large"), d / "b.pcap.gz")
    shutil.copy(sample("multi_conn"), d / "c.pcap")
    (d / "notes.txt").write_text("what these are")
    (d / ".hidden.pcap").write_bytes(b"junk")
    (d / "sub").mkdir()
    return d


def test_the_files_in_name_order_as_each_alone(folder: Path) -> None:
    assert detect(str(folder)) == "folder"
    code, rows, err = jsonl(str(folder))
    assert (code, err) == (0, "")
    want = []
    for name in ("a.pcap", "b.pcap.gz", "c.pcap"):
        one_code, one, _ = jsonl(str(folder / name))
        assert one_code == 0 and one
        want += one
    assert rows == want
    assert rows[0]["source"] == str(folder / "a.pcap")
    rec = read(str(folder))
    assert rec.kind == "folder" and len(rec.connections) == 1 + 1 + 3
    assert [c.source for c in rec.connections][-1] == str(folder / "c.pcap")
    conns = wirelog.load(str(folder)).connections()
    assert conns["source"].tolist() == [c.source for c in rec.connections]


def test_ignored_traffic_of_a_folder(folder: Path) -> None:
    s = stream(str(folder))
    list(s)
    assert s.summary is not None and s.summary.websocket == 5 and s.summary.http == 1
    check = runner.invoke(app, ["check", "-f", "json", str(folder)])
    (row,) = [r for r in json.loads(check.stdout) if r["kind"] == "ignored_traffic"]
    assert row["source"] == str(folder) and row["conn"] is None


def test_a_bad_file_is_reported_after_the_others(folder: Path) -> None:
    raw = sample("ws_basic").read_bytes()
    (folder / "a.pcap").write_bytes(raw[: len(raw) - 40])  # cut
    code, rows, err = jsonl(str(folder))
    assert code == 2 and err.startswith(f"wirelog: {folder / 'a.pcap'}: packet ")
    assert {r["source"] for r in rows} == {
        str(folder / n) for n in ("a.pcap", "b.pcap.gz", "c.pcap")
    }
    (folder / "b.pcap.gz").write_bytes(b"\x1f\x8b" + bytes(30))  # corrupt gzip
    with pytest.raises(InputError, match=rf"\(and 1 more files of {folder}\)$") as info:
        read(str(folder))
    assert str(info.value).startswith(f"{folder / 'a.pcap'}: packet ")
    code, rows, err = jsonl(str(folder))
    assert code == 2 and err.endswith(f"(and 1 more files of {folder})\n")
    assert {r["source"] for r in rows} == {str(folder / n) for n in ("a.pcap", "c.pcap")}
    assert isinstance(info.value.partial, wirelog.Recording)
    assert {c.source for c in info.value.partial.connections} >= {str(folder / "c.pcap")}


def test_a_folder_with_nothing_to_read(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    assert detect(str(tmp_path)) == "folder"
    with pytest.raises(UnknownFormatError, match="a folder with no capture, HAR"):
        list(stream(str(tmp_path)))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert detect(str(empty)) == "autobahn-folder"  # its reader says there are no reports
