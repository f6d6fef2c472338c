"""A capture cut part-way: the analyzer keeps what came before the cut,
says so, and still fails loudly on an input it cannot read at all."""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path

import pytest

import wirelog
from wirelog.errors import InputError, PartialInputWarning, UnknownFormatError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
WIRELOG = [sys.executable, "-c", "from wirelog.cli import main; main()"]


def cut_inside_packet(src: Path, dst: Path, packet: int) -> None:
    """Copy a little-endian pcap, ending halfway through record ``packet`` (1-based)."""
    raw = src.read_bytes()
    pos, n = 24, 0
    while pos < len(raw):
        n += 1
        incl = struct.unpack_from("<I", raw, pos + 8)[0]
        if n == packet:
            dst.write_bytes(raw[: pos + 16 + incl // 2])
            return
        pos += 16 + incl
    raise AssertionError("capture has fewer packets")


@pytest.fixture
def cut(tmp_path: Path) -> Path:
    path = tmp_path / "cut.pcap"
    cut_inside_packet(SAMPLES / "multi_conn.pcap", path, 42)
    return path


def test_load_keeps_frames_before_the_cut_and_warns(cut: Path) -> None:
    full = wirelog.load(str(SAMPLES / "multi_conn.pcap")).frames()
    with pytest.warns(PartialInputWarning, match="packet 42"):
        cap = wirelog.load(str(cut))
        part = cap.frames()
    assert 0 < len(part) < len(full)
    cols = ["conn", "dir", "index", "opcode", "length", "payload"]
    # Every frame kept is a frame of the whole capture, unchanged.
    whole = {tuple(r) for r in full[cols].itertuples(index=False)}
    assert {tuple(r) for r in part[cols].itertuples(index=False)} <= whole
    assert [type(e).__name__ for e in cap.errors] == ["TruncatedInputError"]


def test_unreadable_input_still_raises(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a capture " * 50)
    with pytest.raises(UnknownFormatError):
        wirelog.load(str(junk)).frames()


def test_a_missing_path_fails_at_once(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pcap"
    with pytest.raises(InputError, match=re.escape(f"{missing}: no such file or folder")):
        wirelog.load(str(missing))  # not at the first table, minutes later
    with pytest.raises(InputError, match=r"missing\.pcap"):
        wirelog.load([str(SAMPLES / "ws_basic.pcap"), missing])


def test_one_bad_input_among_several_does_not_hide_the_others(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a capture " * 50)
    good = str(SAMPLES / "ws_basic.pcap")
    alone = wirelog.load(good)
    with pytest.warns(PartialInputWarning, match="junk.bin"):
        cap = wirelog.load([str(junk), good])
        frames = cap.frames()
    assert len(frames) == len(alone.frames()) and set(frames.source) == {good}
    assert [type(e).__name__ for e in cap.errors] == ["UnknownFormatError"]
    assert [d.connection.source for d in cap.decoded()] == [good]
