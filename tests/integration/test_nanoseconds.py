"""Nanosecond captures keep every digit: a real tcpdump capture at nanosecond
precision (``--time-stamp-precision=nano``, the kernel's own clock), and the
same capture as a pcapng (``editcap``: ``if_tsresol`` 9), decoded by wirelog
against tshark's ``frame.time_epoch`` (which prints all nine digits)."""

from __future__ import annotations

import io
import json
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from servers import Server, have_tcpdump, run_server, tcpdump

import wirelog
from wirelog.model import Frame
from wirelog.outputs.export import write_frame_lines
from wirelog.pipeline import read, stream
from wirelog.sources.pcap.files import records

pytestmark = pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")


def epoch_ns(text: str) -> int:
    """tshark's ``frame.time_epoch`` as integer nanoseconds (no float between)."""
    sec, _, frac = text.partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])


def tshark(path: Path, *args: str) -> list[list[str]]:
    proc = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-T", "fields", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [line.split("\t") for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A websockets client talking to the websockets echo server, captured
    by tcpdump at nanosecond precision; and that capture as pcapng."""
    from websockets.sync.client import connect

    folder = tmp_path_factory.mktemp("ns")
    with (
        run_server("websockets") as srv,
        tcpdump(srv.port, tail=1.0, args=("--time-stamp-precision=nano",)) as raw,
    ):
        _talk(srv, connect)
    pcap = folder / "ns.pcap"
    pcap.write_bytes(Path(raw).read_bytes())
    Path(raw).unlink()
    ng = folder / "ns.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(pcap), str(ng)], check=True, timeout=60)
    return pcap, ng


def _talk(srv: Server, connect: object) -> None:
    with connect(srv.url, compression=None) as ws:  # type: ignore[operator]
        for i in range(40):
            ws.send(f"message {i}" if i % 2 else bytes(range(i)))
            ws.recv(timeout=5)


def test_the_capture_really_has_nanoseconds(captures: tuple[Path, Path]) -> None:
    pcap, ng = captures
    assert pcap.read_bytes()[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")  # nano magic
    times = [epoch_ns(t) for (t,) in tshark(pcap, "-e", "frame.time_epoch")]
    assert len(times) > 80
    # digits below the microsecond: a float of epoch seconds could not keep them
    assert sum(t % 1000 != 0 for t in times) > len(times) // 2
    assert any(float(t / 10**9) * 10**9 != t for t in times)
    # the pcapng says nanoseconds (if_tsresol 9) in its IDB
    raw = ng.read_bytes()
    assert struct.pack("<HHB", 9, 1, 9) in raw


@pytest.mark.parametrize("which", ["pcap", "pcapng"])
def test_every_packet_and_frame_time_equals_tshark(captures: tuple[Path, Path], which: str) -> None:
    path = captures[0] if which == "pcap" else captures[1]
    want = [epoch_ns(t) for (t,) in tshark(path, "-e", "frame.time_epoch")]
    assert [r[2] for r in records(str(path))] == want
    # Each WebSocket frame's time is its packet's: tshark lists a packet's
    # frames in one row (one opcode per frame).
    rows = tshark(path, "-Y", "websocket", "-e", "frame.time_epoch", "-e", "websocket.opcode")
    tshark_frames = Counter(epoch_ns(t) for t, ops in rows for _ in ops.split(","))
    ours = Counter(i.ts_ns for _, i in stream(str(path)) if isinstance(i, Frame))
    assert sum(ours.values()) == sum(tshark_frames.values()) >= 80
    assert ours == tshark_frames
    assert all(type(t) is int for t in ours)


def test_every_output_carries_the_integers(captures: tuple[Path, Path]) -> None:
    pcap, ng = captures
    (conn,) = read(str(ng)).connections
    assert conn.start_ts_ns is not None
    frames = [i for _, i in stream(str(ng)) if isinstance(i, Frame)]
    # JSON lines (the fast writer): ts_ns as the integer, t exact from it
    out = io.StringIO()
    write_frame_lines(str(ng), out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [x["ts_ns"] for x in lines] == [f.ts_ns for f in frames]
    for x in lines:
        assert x["t"] == (x["ts_ns"] - conn.start_ts_ns) / 10**9
        assert x["ts"] == x["ts_ns"] / 10**9
    # DataFrames: an integer column of the same values, every level
    cap = wirelog.load(str(pcap))
    df = cap.frames()
    assert str(df["ts_ns"].dtype) == "Int64"
    assert df["ts_ns"].tolist() == [f.ts_ns for f in frames]
    assert df["t"].tolist() == [x["t"] for x in lines]
    for level in ("chops", "messages"):
        table = cap.table(level)
        assert table["ts_ns"].notna().all() and table["t"].notna().all()
        assert table["time"].notna().all()
