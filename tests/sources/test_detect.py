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
    assert detect(str(tmp_path)) == "folder"  # a folder of captures: x.bin
    (tmp_path / "reports").mkdir()
    assert detect(str(tmp_path / "reports")) == "autobahn-folder"
    (tmp_path / "reports" / "x_case_1_1.json").write_text("{}")
    (tmp_path / "reports" / "a.pcap").write_bytes(b"\xd4\xc3\xb2\xa1")
    assert detect(str(tmp_path / "reports")) == "autobahn-folder"  # case files decide
    assert detect(write(tmp_path, "h", b'{"log": {"version": "1.2"}}')) == "har"
    assert detect(write(tmp_path, "m", b"2611:9:websocket;360:13:timestamp_end;")) == "mitmproxy"
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


def test_a_stream_is_read_once_and_its_head_held(tmp_path: Path) -> None:
    """A FIFO is not reopened: detection reads only until the kind is
    known, and the reader continues from the octets it read."""
    import os
    import threading

    from wirelog.sources.pcap.streams import open_input

    data = gzip.compress((SAMPLES / "ws_basic.pcap").read_bytes())
    fifo = tmp_path / "x.fifo"
    os.mkfifo(fifo)
    go = threading.Event()

    def feed() -> None:
        with open(fifo, "wb", buffering=0) as fh:
            fh.write(data[:200])  # the kind is known from these
            go.wait(5)
            fh.write(data[200:])

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    assert detect(str(fifo)) == "pcap"  # without the rest of the stream
    assert detect(str(fifo)) == "pcap"
    go.set()
    src, magic = open_input(str(fifo))
    got = b""
    while chunk := src.read1(1 << 20):
        got += chunk
    src.close()
    t.join(5)
    assert magic == b"\xd4\xc3\xb2\xa1" and got == gzip.decompress(data)


def test_an_empty_stream_and_stdin(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    code = "from wirelog.sources.detect import detect; print(detect('-'))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [sys.executable, "-c", code]
    run = subprocess.run(cmd, input=b"", capture_output=True, timeout=60, env=env)
    assert b"empty file" in run.stderr
    pcap = (SAMPLES / "ws_basic.pcap").read_bytes()
    run = subprocess.run(cmd, input=pcap, capture_output=True, timeout=60, env=env)
    assert run.stdout == b"pcap\n"


def test_json_nested_too_deep_for_python_is_left_to_the_reader(tmp_path: Path) -> None:
    """json.load raises RecursionError on deep nesting; detect must not."""
    from wirelog.pipeline import read

    path = tmp_path / "deep.json"
    path.write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert detect(str(path)) == "autobahn-json"
    with pytest.raises(InputError, match="deep"):
        read(str(path))
