"""Captures through pipes: ``-`` is stdin, FIFOs and process substitution
work, gzip streams too, nothing seeks, and each frame comes out while the
capture is still arriving (``tcpdump -U -w - | wirelog decode -``)."""

from __future__ import annotations

import gzip
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from captures_util import MANIFEST, SAMPLES, Packet, read_pcap, write_pcap
from servers import Server, have_tcpdump, ws_echo  # noqa: F401 - a fixture

from wirelog.errors import InputError
from wirelog.model import Frame
from wirelog.pipeline import stream
from wirelog.sources.detect import detect

BASIC = SAMPLES / MANIFEST["ws_basic"]["file"]
LARGE = SAMPLES / MANIFEST["ws_large"]["file"]
ROOT = Path(__file__).resolve().parents[3]
ENV = {"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]


def frames_of(path: str) -> list[tuple[int, str, int, int]]:
    return [
        (c.conn, f.direction.value, f.index, f.length)
        for c, f in stream(path)
        if isinstance(f, Frame)
    ]


def fifo_fed(tmp_path: Path, data: bytes, name: str = "in.fifo") -> tuple[str, threading.Thread]:
    path = tmp_path / name
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "wb") as fh:
            fh.write(data)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return str(path), t


def test_a_fifo_plain_and_gzip(tmp_path: Path) -> None:
    want = frames_of(str(BASIC))
    path, t = fifo_fed(tmp_path, BASIC.read_bytes())
    assert detect(path) == "pcap" and detect(path) == "pcap"  # asking again reads nothing
    assert frames_of(path) == want
    t.join(5)
    path, t = fifo_fed(tmp_path, LARGE.read_bytes(), "gz.fifo")
    assert frames_of(path) == frames_of(str(LARGE))
    t.join(5)


def test_stdin_and_process_substitution_through_the_cli(tmp_path: Path) -> None:
    want = subprocess.run(
        [*CLI, "decode", "-f", "jsonl", str(LARGE)], capture_output=True, env=ENV, timeout=60
    )
    assert want.returncode == 0 and want.stdout
    piped = subprocess.run(
        [*CLI, "decode", "-f", "jsonl", "-"],
        input=LARGE.read_bytes(),
        capture_output=True,
        env=ENV,
        timeout=60,
    )
    assert (piped.returncode, piped.stderr) == (0, b"")
    assert piped.stdout.replace(b'"source":"-",', b"") == want.stdout.replace(
        f'"source":"{LARGE}",'.encode(), b""
    )
    ng = tmp_path / "x.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(BASIC), str(ng)], check=True)
    sub = subprocess.run(
        ["bash", "-c", 'exec "$@" decode -f jsonl <(gzip -c "$0")', str(ng), *CLI],
        capture_output=True,
        env=ENV,
        timeout=60,
    )
    base = subprocess.run([*CLI, "decode", "-f", "jsonl", str(BASIC)], capture_output=True, env=ENV)
    assert (sub.returncode, sub.stderr) == (0, b"")
    assert [json.loads(x)["payload"] for x in sub.stdout.splitlines()] == [
        json.loads(x)["payload"] for x in base.stdout.splitlines()
    ]


def _pcap(linktype: int, packets: list[Packet], tmp_path: Path) -> bytes:
    return write_pcap(tmp_path / "part.pcap", linktype, packets).read_bytes()


def completed_by(tmp_path: Path) -> tuple[bytes, list[bytes], list[int]]:
    """The file header, each packet's record, and how many complete frames
    the capture holds once each packet is in (from prefixes of the file)."""
    linktype, packets = read_pcap(BASIC)
    whole = _pcap(linktype, packets, tmp_path)
    head, at, recs = whole[:24], 24, []
    for p in packets:
        n = 16 + len(p.data)
        recs.append(whole[at : at + n])
        at += n
    counts = []
    for k in range(1, len(recs) + 1):
        part = tmp_path / "prefix.pcap"
        part.write_bytes(head + b"".join(recs[:k]))
        counts.append(complete_frames(str(part)))
    return head, recs, counts


def complete_frames(path: str) -> int:
    """Complete frames of a capture; one cut before its Upgrade has none
    (and says so: no WebSocket upgrade)."""
    n = 0
    try:
        for _, f in stream(path):
            n += isinstance(f, Frame) and f.complete
    except InputError as exc:
        assert "no WebSocket upgrade" in str(exc) and n == 0
    return n


def test_frames_come_out_while_the_capture_arrives(tmp_path: Path) -> None:
    """A FIFO fed one packet at a time: every frame a packet completes is
    out before the next packet is written."""
    head, recs, counts = completed_by(tmp_path)
    assert counts[-1] == len(frames_of(str(BASIC))) > 5
    path = tmp_path / "live.fifo"
    os.mkfifo(path)
    got = [0]
    cond = threading.Condition()
    late: list[int] = []

    def feed() -> None:
        with open(path, "wb", buffering=0) as fh:
            fh.write(head)
            for k, rec in enumerate(recs):
                fh.write(rec)
                with cond:
                    if not cond.wait_for(lambda k=k: got[0] >= counts[k], timeout=5):
                        late.append(k + 1)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    for _, item in stream(str(path)):
        if isinstance(item, Frame) and item.complete:
            with cond:
                got[0] += 1
                cond.notify_all()
    t.join(10)
    assert late == [] and got[0] == counts[-1]


def test_the_cli_prints_each_frame_before_the_next_packet(tmp_path: Path) -> None:
    """``... | wirelog decode -f jsonl -``, stdin fed one packet at a time
    (the child's stdout unbuffered: the listing's own flush is not the
    reader's part)."""
    head, recs, counts = completed_by(tmp_path)
    proc = subprocess.Popen(
        [*CLI, "decode", "-f", "jsonl", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**ENV, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines = 0
    late = []
    pending = b""
    try:
        proc.stdin.write(head)
        proc.stdin.flush()
        for k, rec in enumerate(recs):
            proc.stdin.write(rec)
            proc.stdin.flush()
            while lines < counts[k]:
                ready, _, _ = select.select([proc.stdout], [], [], 5)
                if not ready:
                    late.append(k + 1)
                    break
                pending += os.read(proc.stdout.fileno(), 65536)
                *done, pending = pending.split(b"\n")
                lines += len(done)
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines += (pending + rest).count(b"\n")
    assert (late, proc.returncode, err) == ([], 0, b"")
    assert lines == counts[-1]


@pytest.mark.parametrize("damage", ["cut", "gzip"])
def test_a_broken_stream_keeps_what_came_before(tmp_path: Path, damage: str) -> None:
    raw = BASIC.read_bytes()
    if damage == "cut":
        data = raw[: len(raw) - 40]
    else:
        comp = bytearray(gzip.compress(raw, compresslevel=1))
        comp[len(comp) * 2 // 3 :] = b"\x00" * (len(comp) - len(comp) * 2 // 3)
        data = bytes(comp)
    run = subprocess.run(
        [*CLI, "decode", "-f", "jsonl", "-"], input=data, capture_output=True, env=ENV, timeout=60
    )
    (line,) = run.stderr.decode().splitlines()
    assert run.returncode == 2 and line.startswith("wirelog: -: packet ")
    assert run.stdout.count(b"\n") > 0


def _lines_until(proc: subprocess.Popen[bytes], want: bytes, times: int, got: bytearray) -> bool:
    """Read ``proc``'s stdout into ``got`` until ``want`` is in it ``times``
    times; False if the output ends first (or 60 s pass: a bound on a hang,
    not a speed test)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while got.count(want) < times:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            return False
        got += chunk
    return True


@pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")
def test_tcpdump_into_wirelog_gives_each_message_while_the_session_is_open(
    ws_echo: Server,  # noqa: F811
) -> None:
    """``tcpdump -U -w - | wirelog decode -f jsonl -`` on a live websockets
    session that talks slowly: the client sends its next message only once
    wirelog has printed the last one's lines, so each line is out while the
    connection is open and tcpdump is still running, before either ends.
    The child's stdout is a plain pipe (no PYTHONUNBUFFERED): the lines
    come through ``write_frame_lines``' own flush per batch."""
    from websockets.sync.client import connect

    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", "-", f"tcp port {ws_echo.port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert dump.stdout is not None and dump.stderr is not None
    proc = subprocess.Popen(
        [*CLI, "decode", "-f", "jsonl", "-"],
        stdin=dump.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    dump.stdout.close()
    got = bytearray()
    seen: list[tuple[int, bool, bool]] = []
    try:
        ready, _, _ = select.select([dump.stderr], [], [], 30)
        assert ready and b"listening on" in dump.stderr.readline()
        with connect(ws_echo.url, compression=None) as ws:
            for i in range(3):
                ws.send(f"live {i}")
                assert ws.recv() == f"live {i}"
                hexed = f"live {i}".encode().hex().encode()
                both = _lines_until(proc, b'"payload":"' + hexed, 2, got)  # sent, echoed
                # out, while the session is open and the capture still runs
                seen.append((i, both, dump.poll() is None and proc.poll() is None))
                if not both:
                    break
                time.sleep(0.2)  # talk slowly: nothing comes for a while
    finally:
        os.killpg(dump.pid, signal.SIGINT)
        dump.wait(10)
        rest, err = proc.communicate(timeout=30)
    assert seen == [(i, True, True) for i in range(3)]
    lines = [json.loads(x) for x in (bytes(got) + rest).splitlines()]
    payloads = [bytes.fromhex(x["payload"]) for x in lines if x["opcode"] == 1]
    assert payloads == [f"live {i}".encode() for i in range(3) for _ in (0, 1)]
    assert (proc.returncode, err) == (0, b"")
