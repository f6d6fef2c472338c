"""pcapng as dumpcap and Wireshark write it, and as a hostile file might:
real dumpcap captures and hand-built blocks (SPB, the obsolete Packet
Block, NRB, custom, several sections, one big-endian, nanosecond and
binary ``if_tsresol``), tshark as the oracle frame for frame."""

from __future__ import annotations

import contextlib
import gzip
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from captures_util import HAVE_TSHARK, MANIFEST, SAMPLES, Packet, read_pcap, tshark_frames
from servers import Server, ws_echo  # noqa: F401 - a fixture

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import Direction, Frame
from wirelog.pipeline import stream
from wirelog.sources.pcap.files import records

BASIC = SAMPLES / MANIFEST["ws_basic"]["file"]
needs_tshark = pytest.mark.skipif(not HAVE_TSHARK, reason="tshark not installed")
needs_dumpcap = pytest.mark.skipif(
    shutil.which("dumpcap") is None or os.geteuid() != 0, reason="needs dumpcap as root"
)


# -- hand-built blocks -------------------------------------------------------------


def block(e: str, btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def option(e: str, code: int, value: bytes) -> bytes:
    return struct.pack(e + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def shb(e: str = "<") -> bytes:
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(e: str, linktype: int, snaplen: int = 0, tsresol: int | None = None) -> bytes:
    opts = b""
    if tsresol is not None:
        opts = option(e, 9, bytes([tsresol])) + option(e, 0, b"")
    return block(e, 1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)


def epb(e: str, iface: int, units: int, data: bytes, comment: bytes = b"") -> bytes:
    opts = option(e, 1, comment) + option(e, 0, b"") if comment else b""
    body = struct.pack(e + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data), len(data))
    return block(e, 6, body + data + b"\x00" * (-len(data) % 4) + opts)


def spb(e: str, data: bytes) -> bytes:
    return block(e, 3, struct.pack(e + "I", len(data)) + data)


def old_pb(e: str, iface: int, units: int, data: bytes) -> bytes:
    high, low = units >> 32, units & 0xFFFFFFFF
    body = struct.pack(e + "HHIIII", iface, 0, high, low, len(data), len(data))
    return block(e, 2, body + data)


def isb(e: str) -> bytes:
    return block(e, 5, struct.pack(e + "III", 0, 0, 0) + option(e, 0, b""))


def nrb(e: str) -> bytes:
    record = struct.pack(e + "HH", 1, 14) + bytes([127, 0, 0, 1]) + b"localhost\x00"
    return block(e, 4, record + b"\x00" * (-len(record) % 4) + struct.pack(e + "HH", 0, 0))


def custom(e: str) -> bytes:
    return block(e, 0x00000BAD, struct.pack(e + "I", 32473) + b"anything at all")


def usec(p: Packet) -> int:
    return p.ts_sec * 1_000_000 + p.ts_usec


def packets() -> tuple[int, list[Packet]]:
    return read_pcap(BASIC)


def mixed(tmp_path: Path) -> tuple[Path, list[Packet]]:
    """The sample's packets over two sections: little-endian microseconds
    with an NRB, a custom block and a Packet Block; then big-endian with two
    interfaces (nanoseconds, 2^-20 s), SPBs, and an ISB at the end."""
    linktype, pkts = packets()
    third = len(pkts) // 3
    out = [shb("<"), idb("<", linktype), nrb("<"), custom("<")]
    for i, p in enumerate(pkts[:third]):
        out.append(
            old_pb("<", 0, usec(p), p.data) if i == 1 else epb("<", 0, usec(p), p.data, b"hi")
        )
    out += [isb("<"), shb(">"), idb(">", linktype, 0), idb(">", linktype, 0, 9)]
    out.append(idb(">", linktype, 0, 0x80 | 20))
    for i, p in enumerate(pkts[third:], start=third):
        if i == third:
            out.append(spb(">", p.data))  # no timestamp: the previous one stands
        elif i % 2:
            out.append(epb(">", 1, usec(p) * 1000, p.data))
        else:
            out.append(epb(">", 2, (usec(p) << 20) // 1_000_000, p.data))
    out.append(isb(">"))
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(b"".join(out))
    return path, pkts


def test_every_block_kind_read_or_skipped_by_its_length(tmp_path: Path) -> None:
    path, pkts = mixed(tmp_path)
    recs = list(records(str(path)))
    assert [bytes(b[s:e]) for _, _, _, b, s, e in recs] == [p.data for p in pkts]
    assert [r[0] for r in recs] == list(range(1, len(pkts) + 1))
    third = len(pkts) // 3
    # integer nanoseconds, exactly: microseconds, nanoseconds, and 2^-20 s
    # units truncated below the nanosecond (as Wireshark's reader does)
    want = [usec(p) * 1000 for p in pkts]
    for i, p in enumerate(pkts[third + 1 :], start=third + 1):
        if not i % 2:
            units = (usec(p) << 20) // 1_000_000
            want[i] = (units >> 20) * 10**9 + (units & 0xFFFFF) * 10**9 // 2**20
    want[third] = want[third - 1]
    assert [r[2] for r in recs] == want
    assert all(type(r[2]) is int for r in recs)


@needs_tshark
def test_tshark_reads_the_hand_built_file_as_we_do(tmp_path: Path) -> None:
    path, pkts = mixed(tmp_path)
    # tshark lists the custom block as a frame of no interface: not a packet
    fields = ["-Y", "frame.interface_id", "-e", "frame.cap_len", "-e", "frame.time_epoch"]
    proc = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", *fields],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    recs = list(records(str(path)))
    assert [int(n) for n, _ in rows] == [e - s for _, _, _, _, s, e in recs]
    third = len(pkts) // 3
    for i, ((_, t), r) in enumerate(zip(rows, recs, strict=True)):
        if i != third:  # tshark gives an SPB no time at all
            assert epoch_ns(t) == r[2]  # all nine digits equal
    assert wirelog_frames(path) == tshark_frames(path, port_of_sample())


def epoch_ns(text: str) -> int:
    """tshark's ``frame.time_epoch`` (nine decimals) as integer nanoseconds."""
    sec, _, frac = text.partition(".")
    return int(sec) * 10**9 + int((frac + "000000000")[:9])


def port_of_sample() -> int:
    for c, _item in stream(str(BASIC)):
        assert c.server is not None
        return int(c.server.rsplit(":", 1)[1])
    raise AssertionError("no connection")


def wirelog_frames(path: Path) -> dict[tuple[int, int], list[tuple[int, bool, int]]]:
    out: dict[tuple[int, int], list[tuple[int, bool, int]]] = {}
    for c, item in stream(str(path)):
        if isinstance(item, Frame):
            sender = c.client if item.direction is Direction.TX else c.server
            assert sender is not None
            key = (c.conn, int(sender.rsplit(":", 1)[1]))
            out.setdefault(key, []).append((item.opcode, item.fin, item.length))
    return out


def test_spb_captured_length_is_cut_at_the_snap_length(tmp_path: Path) -> None:
    linktype, pkts = packets()
    big = max(pkts, key=lambda p: len(p.data))
    path = tmp_path / "snap.pcapng"
    path.write_bytes(shb() + idb("<", linktype, 60) + spb("<", big.data[:60]))
    # the SPB's original length says more than was captured: min(orig, snaplen)
    raw = bytearray(path.read_bytes())
    at = len(shb()) + len(idb("<", linktype, 60))
    struct.pack_into("<I", raw, at + 8, len(big.data))
    path.write_bytes(bytes(raw))
    assert [bytes(b[s:e]) for _, _, _, b, s, e in records(str(path))] == [big.data[:60]]


def test_binary_and_decimal_tsresol(tmp_path: Path) -> None:
    linktype, pkts = packets()
    p = pkts[0]
    path = tmp_path / "res.pcapng"
    path.write_bytes(
        shb()
        + idb("<", linktype, 0, 3)  # milliseconds
        + idb("<", linktype, 0, 0x80 | 10)  # 1/1024 s
        + epb("<", 0, 1_700_000_000_123, p.data)
        + epb("<", 1, 1_700_000_000 * 1024 + 512, p.data)
    )
    ts = [r[2] for r in records(str(path))]
    assert ts == [1_700_000_000_123_000_000, 1_700_000_000_500_000_000]
    offset = option("<", 14, struct.pack("<q", 1_700_000_000)) + option("<", 0, b"")
    shifted = block("<", 1, struct.pack("<HHI", linktype, 0, 0) + offset)
    path.write_bytes(shb() + shifted + epb("<", 0, 250_000, p.data))  # if_tsoffset, in seconds
    assert [r[2] for r in records(str(path))] == [1_700_000_000_250_000_000]


def good_prefix() -> tuple[bytes, int]:
    linktype, pkts = packets()
    raw = shb() + idb("<", linktype) + b"".join(epb("<", 0, usec(p), p.data) for p in pkts[:3])
    return raw, linktype


@pytest.mark.parametrize(
    ("length", "why"),
    [(7, "impossible block length 7"), (30, "impossible block length 30"),
     (2**31, "impossible block length 2147483648"), (0xFFFFFFFC, "impossible")],
)  # fmt: skip
def test_hostile_block_lengths_after_every_good_packet(
    tmp_path: Path, length: int, why: str
) -> None:
    raw, _ = good_prefix()
    bad = raw + struct.pack("<II", 6, length) + b"\x00" * 64
    path = tmp_path / "hostile.pcapng"
    path.write_bytes(bad)
    seen = []
    with pytest.raises(InputError) as info:
        for r in records(str(path)):
            seen.append(r[0])
    assert seen == [1, 2, 3]
    msg = str(info.value)
    assert why in msg and f"at byte {len(raw)}" in msg and "\n" not in msg
    assert not isinstance(info.value, TruncatedInputError)


def test_trailing_length_that_disagrees_and_undeclared_interface(tmp_path: Path) -> None:
    raw, _ = good_prefix()
    _, pkts = packets()
    one = bytearray(epb("<", 0, 0, pkts[0].data))
    struct.pack_into("<I", one, len(one) - 4, len(one) + 4)
    path = tmp_path / "trailer.pcapng"
    path.write_bytes(raw + bytes(one))
    with pytest.raises(InputError, match="trailing copy"):
        list(records(str(path)))
    path.write_bytes(raw + epb("<", 5, 0, pkts[0].data))
    with pytest.raises(InputError, match="undeclared interface 5"):
        list(records(str(path)))
    path.write_bytes(shb() + epb("<", 0, 0, pkts[0].data))  # a packet before any IDB
    with pytest.raises(InputError, match="undeclared interface 0"):
        list(records(str(path)))


def test_torn_only_when_the_file_ends_inside_a_block(tmp_path: Path) -> None:
    raw, _ = good_prefix()
    path = tmp_path / "torn.pcapng"
    whole = raw + isb("<")
    path.write_bytes(whole)
    assert len(list(records(str(path)))) == 3  # an ISB at the end is no torn block
    for cut in (1, 7, 8, len(isb("<")) - 1):
        path.write_bytes(raw + isb("<")[:cut])
        seen = []
        with pytest.raises(TruncatedInputError, match=f"at byte {len(raw)}") as info:
            for r in records(str(path)):
                seen.append(r[0])
        assert seen == [1, 2, 3] and info.value.location == "packet 4"


def test_a_bad_byte_order_magic_names_the_section(tmp_path: Path) -> None:
    raw, _ = good_prefix()
    broken = bytearray(shb())
    broken[8:12] = b"\x01\x02\x03\x04"
    path = tmp_path / "bom.pcapng"
    path.write_bytes(raw + bytes(broken))
    with pytest.raises(InputError, match=f"section header at byte {len(raw)}"):
        list(records(str(path)))


# -- real dumpcap captures -----------------------------------------------------------


@contextlib.contextmanager
def dumpcap(port: int, path: Path) -> Iterator[None]:
    """dumpcap on loopback for ``port``; stopped (SIGINT: it writes its
    statistics block) a second after the block ends."""
    proc = subprocess.Popen(
        ["dumpcap", "-q", "-i", "lo", "-f", f"tcp port {port}", "-w", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.time() + 10
        seen = ""
        while time.time() < deadline and "File:" not in seen and "Capturing" not in seen:
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:
                seen += proc.stderr.readline()
            if proc.poll() is not None:
                raise RuntimeError(f"dumpcap exited early: {seen}")
        time.sleep(0.3)
        yield
        time.sleep(1.0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


def talk(url: str) -> None:
    from websockets.sync.client import connect

    with connect(url, compression=None) as ws:
        for i in range(5):
            ws.send(f"hello {i}")
            ws.recv()
        ws.send(b"\x00" * 70_000)
        ws.recv()


def block_types(path: Path) -> list[int]:
    raw = path.read_bytes()
    at, out = 0, []
    while at + 8 <= len(raw):
        btype, n = struct.unpack_from("<II", raw, at)
        out.append(btype)
        at += n
    return out


@needs_dumpcap
@needs_tshark
def test_a_real_dumpcap_capture_decodes_like_tshark(tmp_path: Path, ws_echo: Server) -> None:  # noqa: F811
    path = tmp_path / "dumpcap.pcapng"
    with dumpcap(ws_echo.port, path):
        talk(ws_echo.url)
    assert block_types(path)[-1] == 5  # dumpcap ends with its statistics block
    frames = wirelog_frames(path)
    assert frames == tshark_frames(path, ws_echo.port)
    assert sum(len(v) for v in frames.values()) >= 12
    conv = tmp_path / "conv.pcapng"
    editcap = ["editcap", "-F", "pcapng", "-a", "3:a comment", str(path), str(conv)]
    subprocess.run(editcap, check=True)
    assert wirelog_frames(conv) == frames
    classic = tmp_path / "conv.pcap"
    subprocess.run(["editcap", "-F", "pcap", str(path), str(classic)], check=True)
    assert wirelog_frames(classic) == frames
    run = cli("decode", "-f", "jsonl", str(path))  # issue 9: exit 2, "torn pcapng block"
    assert (run.returncode, run.stderr) == (0, "")
    assert len(run.stdout.splitlines()) == sum(len(v) for v in frames.values())


ROOT = Path(__file__).resolve().parents[3]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-c", "from wirelog.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


def test_the_cli_decodes_the_hand_built_file_like_the_pcap(tmp_path: Path) -> None:
    """Issue 11: a valid SPB was an internal error, with none of the frames
    decoded before it printed."""
    path, _ = mixed(tmp_path)
    want = cli("decode", "-f", "jsonl", str(BASIC))
    got = cli("decode", "-f", "jsonl", str(path))
    assert (got.returncode, got.stderr) == (0, "")
    strip = [line.split('"ts"')[0] for line in got.stdout.replace(str(path), "X").splitlines()]
    assert strip == [
        line.split('"ts"')[0] for line in want.stdout.replace(str(BASIC), "X").splitlines()
    ]


def test_a_gzip_pcapng_cut_at_a_block_boundary_is_not_a_clean_end(tmp_path: Path) -> None:
    raw, _ = good_prefix()
    path = tmp_path / "cut.pcapng.gz"
    path.write_bytes(gzip.compress(raw)[:-8])  # the deflate stream whole, its trailer cut
    seen = []
    with pytest.raises(TruncatedInputError, match="unreadable after packet 3") as info:
        for r in records(str(path)):
            seen.append(r[0])
    assert seen == [1, 2, 3] and info.value.location == "packet 4"
