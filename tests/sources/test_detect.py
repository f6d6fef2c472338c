"""An input's kind from its content, never its name."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from captures_util import SAMPLES

from wirelog.errors import InputError, UnknownFormatError
from wirelog.sources.detect import detect


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_kinds_from_content(tmp_path: Path) -> None:
    assert detect(str(SAMPLES / "ws_basic.pcap")) == "pcap"
    assert detect(str(SAMPLES / "ws_large.pcap.gz")) == "pcap"
    assert detect(write(tmp_path, "x.bin", b"\x0a\x0d\x0d\x0a" + bytes(20))) == "pcapng"
    assert detect(str(SAMPLES / "autobahnpython_case_2_2.txt")) == "autobahn-text"
    assert detect(str(tmp_path)) == "autobahn-folder"
    assert detect(write(tmp_path, "a.pcap", b'{"agent": "x", "case": 1}')) == "autobahn-json"
    assert detect(write(tmp_path, "b", b'{"wirelog": []}')) == "autobahn-json"
    assert detect(write(tmp_path, "c", b'{"x": {"reportfile": "y"}}')) == "autobahn-index"
    index = json.dumps({"agent": {"1.1.1": {"behavior": "OK"}}}).encode()
    assert detect(write(tmp_path, "d", index)) == "autobahn-index"
    late = b'{"x": 1' + b" " * 5000 + b', "wirelog": []}'  # the key after the first 4 KiB
    assert detect(write(tmp_path, "e", late)) == "autobahn-json"
    assert detect(write(tmp_path, "f", b"{not json")) == "autobahn-json"  # the parser says where
    assert detect(write(tmp_path, "g", b"<!DOCTYPE html><html>")) == "autobahn-html"
    assert detect(write(tmp_path, "h", gzip.compress(b"<html><pre class='wirelog'>"))) == (
        "autobahn-html"
    )


def test_what_is_not_an_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        detect(str(tmp_path / "missing"))
    with pytest.raises(UnknownFormatError, match="empty file"):
        detect(write(tmp_path, "empty", b""))
    with pytest.raises(UnknownFormatError, match="not an Autobahn report"):
        detect(write(tmp_path, "bin", b"\x00\x01\x02"))
    with pytest.raises(UnknownFormatError, match="neither"):
        detect(write(tmp_path, "list.json", b'{"a": 1' + b" " * 5000 + b"}"))
    with pytest.raises(InputError, match="corrupt gzip"):
        detect(write(tmp_path, "bad.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 20))
