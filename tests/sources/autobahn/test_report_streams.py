"""Autobahn reports through pipes: ``-`` is stdin, FIFOs and gzip work, as
for captures (the report readers read through the stream reader)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from pathlib import Path

from captures_util import SAMPLES

from wirelog.model import Frame
from wirelog.pipeline import stream

REPORTS = Path(__file__).resolve().parents[4] / "shared" / "autobahn-reports"
CASE = REPORTS / "testing-a-server" / "websock_server_case_5_7"
ROOT = Path(__file__).resolve().parents[3]
ENV = {"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]


def frames(path: str) -> list[tuple[str, int, int, bytes]]:
    return [
        (f.direction.value, f.index, f.opcode, f.payload)
        for _, f in stream(path)
        if isinstance(f, Frame)
    ]


def test_each_form_on_stdin_decodes_as_the_file() -> None:
    for path in (SAMPLES / "autobahnpython_case_2_2.txt", CASE.with_suffix(".json"),
                 CASE.with_suffix(".html")):  # fmt: skip
        want = subprocess.run(
            [*CLI, "decode", "-f", "jsonl", str(path)], capture_output=True, env=ENV, timeout=60
        )
        got = subprocess.run(
            [*CLI, "decode", "-f", "jsonl", "-"],
            input=path.read_bytes(),
            capture_output=True,
            env=ENV,
            timeout=60,
        )
        assert (got.returncode, got.stderr) == (0, b""), path
        assert want.stdout.count(b"\n") > 2
        assert got.stdout.replace(b'"source":"-"', b"") == want.stdout.replace(
            f'"source":"{path}"'.encode(), b""
        )


def test_a_fifo_and_gzip(tmp_path: Path) -> None:
    report = CASE.with_suffix(".json")
    want = frames(str(report))
    assert want
    fifo = tmp_path / "r.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(report.read_bytes())

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    assert frames(str(fifo)) == want
    t.join(5)
    packed = tmp_path / "r.json.gz"
    packed.write_bytes(gzip.compress(report.read_bytes()))
    assert frames(str(packed)) == want
