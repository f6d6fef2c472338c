"""``wirelog conns`` and ``wirelog follow`` in-process on real captures."""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import wirelog
from tests.captures_util import read_pcap
from wirelog.analysis import conns
from wirelog.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
BASIC = str(SAMPLES / "ws_basic.pcap")
MULTI = str(SAMPLES / "multi_conn.pcap")


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, list(args))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def test_conns_json_has_one_object_per_connection() -> None:
    code, out, err = run("conns", BASIC, MULTI, "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [list(r) for r in rows] == [list(conns.COLUMNS)] * 4
    table = wirelog.load([BASIC, MULTI]).connections()
    assert [(r["source"], r["conn"], r["path"]) for r in rows] == list(
        zip(table.source, table.conn, table.target, strict=True)
    )


def test_conns_table_and_the_conn_filter() -> None:
    code, out, _ = run("conns", MULTI, "--conn", "2")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["conn", "client", "server"]
    assert len(lines) == 3 and lines[1].split()[0] == "2" and "/c2" in lines[1]
    assert lines[-1] == "(1 row)"
    code, out, err = run("conns", BASIC, MULTI, "--conn", "1")
    assert code == 2 and f"{BASIC}: no connection 1 (have 0)" in err
    assert out.splitlines()[0].startswith("source") and MULTI in out  # the other still listed


def test_follow_one_connection() -> None:
    code, out, err = run("follow", MULTI, "--conn", "1", "--max", "8")
    assert code == 0, err
    assert out.startswith(f"== {MULTI} conn 1: client 127.0.0.1:")
    assert "> GET /c1 HTTP/1.1" in out and "TEXT" in out
    m = wirelog.load(MULTI, conns=1).messages()
    assert out.count("client → server  ") >= (m.sender == "client").sum()


def test_follow_asks_which_connection_in_the_same_words() -> None:
    code, _, err = run("follow", MULTI)
    assert code == 2 and err == f"wirelog: {MULTI}: 3 connections (0, 1, 2); pick one with --conn\n"
    code, _, err = run("follow", MULTI, "--conn", "7")
    assert code == 2 and err == f"wirelog: {MULTI}: no connection 7 (have 0, 1, 2)\n"
    # replay says it in the same words
    code, _, err = run("replay", MULTI, "--conn", "7", "--target", "ws://127.0.0.1:1/")
    assert code == 2 and err == f"wirelog: {MULTI}: no connection 7 (have 0, 1, 2)\n"
    code, out, _ = run("follow", BASIC)  # one connection needs no --conn
    assert code == 0 and "conn 0" in out.splitlines()[0]
    code, out, _ = run("follow", MULTI, "--conn", "0", "--conn", "2")
    assert code == 0 and out.count("\n== closed by") == 2


def test_follow_prints_as_the_capture_arrives() -> None:
    """``tcpdump -U -w - | wirelog follow - --conn 0``: the first messages
    show while the capture is still coming, not at its end."""
    link, packets = read_pcap(Path(BASIC))
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link)

    def records(ps: list[Any]) -> bytes:
        return b"".join(
            struct.pack("<IIII", p.ts_sec, p.ts_usec, len(p.data), len(p.data)) + p.data for p in ps
        )

    cmd = [sys.executable, "-c", "from wirelog.cli import main; main()", "follow", "-"]
    env = {"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*cmd, "--conn", "0", "--max", "8"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    half = len(packets) // 2
    proc.stdin.write(head + records(packets[:half]))
    proc.stdin.flush()
    # Read the pipe's file descriptor itself: select() cannot see lines a
    # buffered reader's readline() has already pulled in (it did, when the
    # lines came in one write, and the test waited for what it held).
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + 60
    while "client → server  TEXT".encode() not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"nothing shown before the capture ended: {seen!r}"
        got = os.read(fd, 65536)
        assert got, "the output ended early"
        seen += got
    proc.stdin.write(records(packets[half:]))
    proc.stdin.close()
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    whole = run("follow", BASIC, "--max", "8")[1].replace(BASIC, "-")
    assert (seen + rest).decode() == whole
