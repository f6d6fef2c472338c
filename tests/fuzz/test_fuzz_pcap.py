"""Fuzz properties of the capture readers and the HTTP watch (issue 11):
mutated sample captures, hand-built pcapng blocks and arbitrary bytes
raise only :class:`~wirelog.errors.InputError` (and its family), end in
bounded time, and lose nothing that came before the damage."""

from __future__ import annotations

import gzip
import struct
import time
from pathlib import Path
from typing import Any

from captures_util import MANIFEST, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirelog.errors import InputError
from wirelog.model import Frame
from wirelog.pipeline import stream
from wirelog.sources.pcap.files import records
from wirelog.sources.pcap.httpwatch import HttpWatch
from wirelog.sources.pcap.inflate import CODECS, CorruptData, Inflate
from wirelog.sources.pcap.streams import Prefixed
from wirelog.sources.pcap.tcp import DATA

BASIC = (SAMPLES / MANIFEST["ws_basic"]["file"]).read_bytes()
DEFLATE = (SAMPLES / MANIFEST["ws_deflate"]["file"]).read_bytes()
GZ = gzip.compress(BASIC, compresslevel=1)
#: Seconds one input may take (a hang, not slowness, is what fails).
BOUND = 10.0
FAST = settings(
    max_examples=60,
    deadline=None,  # bounded below, generously: a loaded CI machine is slow, a hang is endless
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def record_ends(raw: bytes) -> list[int]:
    """Where each record of a classic little-endian pcap ends."""
    at, ends = 24, []
    while at + 16 <= len(raw):
        at += 16 + struct.unpack_from("<I", raw, at + 8)[0]
        ends.append(at)
    return ends


def read_all(path: Path) -> tuple[list[bytes], InputError | None]:
    got: list[bytes] = []
    start = time.monotonic()
    try:
        for _, _, _, buf, a, b in records(str(path)):
            got.append(bytes(buf[a:b]))
    except InputError as exc:
        return got, exc
    finally:
        assert time.monotonic() - start < BOUND
    return got, None


ORIGINAL = [bytes(buf[a:b]) for _, _, _, buf, a, b in records(str(SAMPLES / "ws_basic.pcap"))]
ENDS = record_ends(BASIC)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> tuple[bytes, int]:
    """``data`` with a few flips, cuts and insertions; and the offset of
    the first octet changed."""
    out = bytearray(data)
    first = len(out)
    for _ in range(draw(st.integers(1, 4))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "int"]))
        if op == "flip":
            out[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del out[i:]
        elif op == "insert":
            out[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del out[i : i + draw(st.integers(1, 64))]
        else:  # a length field's worth of nonsense
            out[i : i + 4] = struct.pack(
                "<I", draw(st.sampled_from([0, 7, 1 << 30, 1 << 31, 2**32 - 1]))
            )
        first = min(first, i)
    return bytes(out), first


@FAST
@given(mutated(BASIC))
def test_mutated_pcap_keeps_every_record_before_the_damage(
    tmp_path: Path, case: tuple[bytes, int]
) -> None:
    data, first = case
    path = tmp_path / "m.pcap"
    path.write_bytes(data)
    got, _ = read_all(path)
    whole = sum(1 for e in ENDS if e <= first)  # records untouched by the mutation
    assert got[:whole] == ORIGINAL[:whole]


@FAST
@given(st.integers(0, len(BASIC)))
def test_a_cut_capture_decodes_like_its_clean_prefix(tmp_path: Path, n: int) -> None:
    """Frames decoded before a cut are all printed: the same as a file that
    ends cleanly at the last whole record."""
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(BASIC[:n])
    clean = tmp_path / "clean.pcap"
    clean.write_bytes(BASIC[: max([24, *[e for e in ENDS if e <= n]])])

    def frames(path: Path) -> list[tuple[int, str, int, int, bytes]]:
        out = []
        try:
            for c, f in stream(str(path)):
                if isinstance(f, Frame):
                    out.append((c.conn, f.direction.value, f.index, f.length, f.payload))
        except InputError:
            pass
        return out

    if n >= 24:
        assert frames(cut) == frames(clean)


@FAST
@given(st.one_of(mutated(DEFLATE), mutated(GZ), mutated(BASIC)))
def test_mutated_captures_through_the_pipeline_raise_only_input_errors(
    tmp_path: Path, case: tuple[bytes, int]
) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(case[0])
    start = time.monotonic()
    try:
        for _ in stream(str(path)):
            pass
    except InputError as exc:
        assert "\n" not in str(exc)
    assert time.monotonic() - start < BOUND


# -- hand-built pcapng ------------------------------------------------------------------


def block(e: str, btype: int, body: bytes, length: int | None = None) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12 if length is None else length
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


@st.composite
def pcapng_files(draw: st.DrawFn) -> tuple[bytes, list[bytes], list[tuple[int, int]]]:
    """A well-formed pcapng of random blocks, the packets it holds, and
    (end offset, packets so far) after each block."""
    out: list[bytes] = []
    packets: list[bytes] = []
    ends: list[tuple[int, int]] = []
    for _ in range(draw(st.integers(1, 3))):
        e = draw(st.sampled_from(["<", ">"]))
        out.append(block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        ends.append((sum(map(len, out)), len(packets)))
        ifaces = 0
        for _ in range(draw(st.integers(0, 8))):
            kind = draw(
                st.sampled_from(["idb", "epb", "spb", "pb", "isb", "nrb", "custom", "unknown"])
            )
            data = draw(st.binary(max_size=40))
            if kind == "idb":
                res = draw(st.integers(0, 255))
                opts = struct.pack(e + "HH", 9, 1) + bytes([res, 0, 0, 0])
                out.append(block(e, 1, struct.pack(e + "HHI", 1, 0, 0) + opts))
                ifaces += 1
            elif kind in ("epb", "pb") and ifaces:
                i = draw(st.integers(0, ifaces - 1))
                t = draw(st.integers(0, 2**64 - 1))
                if kind == "epb":
                    head = struct.pack(
                        e + "IIIII", i, t >> 32, t & 0xFFFFFFFF, len(data), len(data)
                    )
                    out.append(block(e, 6, head + data))
                else:
                    head = struct.pack(
                        e + "HHIIII", i, 0, t >> 32, t & 0xFFFFFFFF, len(data), len(data)
                    )
                    out.append(block(e, 2, head + data))
                packets.append(data)
            elif kind == "spb" and ifaces:
                out.append(block(e, 3, struct.pack(e + "I", len(data)) + data))
                packets.append(data)
            elif kind in ("isb", "nrb", "custom", "unknown"):
                btype = {
                    "isb": 5,
                    "nrb": 4,
                    "custom": 0xBAD,
                    "unknown": draw(st.integers(7, 2**31)),
                }[kind]
                if btype in (0x0A0D0D0A, 1, 2, 3, 6):
                    btype = 0x40000BAD
                out.append(block(e, btype, data))
            ends.append((sum(map(len, out)), len(packets)))
    return b"".join(out), packets, ends


@FAST
@given(pcapng_files())
def test_well_formed_pcapng_gives_every_packet(
    tmp_path: Path, case: tuple[bytes, list[bytes], list[tuple[int, int]]]
) -> None:
    raw, packets, _ = case
    path = tmp_path / "x.pcapng"
    path.write_bytes(raw)
    got, err = read_all(path)
    assert err is None and got == packets


@FAST
@given(pcapng_files(), st.data())
def test_damaged_pcapng_keeps_the_packets_before_the_damage(
    tmp_path: Path, case: tuple[bytes, list[bytes], list[tuple[int, int]]], data: st.DataObject
) -> None:
    raw, packets, ends = case
    bad, first = data.draw(mutated(raw))
    path = tmp_path / "x.pcapng"
    path.write_bytes(bad)
    got, _ = read_all(path)
    whole = max([0, *[count for end, count in ends if end <= first]])
    assert got[:whole] == packets[:whole]


@FAST
@given(
    st.sampled_from([b"\x0a\x0d\x0d\x0a", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x1f\x8b"]),
    st.binary(max_size=400),
)
def test_arbitrary_bytes_after_a_magic(tmp_path: Path, magic: bytes, rest: bytes) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(magic + rest)
    read_all(path)
    start = time.monotonic()
    try:
        for _ in stream(str(path)):
            pass
    except InputError:
        pass
    assert time.monotonic() - start < BOUND


#: Each format's own opening (a real stream's first octets), for the fuzz below.
HEADS = {
    "gzip": GZ[:10],
    "zstd": bytes.fromhex("28b52ffd0458"),
    "lz4": bytes.fromhex("04224d186440a7"),
    "xz": bytes.fromhex("fd377a585a000004e6d6b446"),
    "bzip2": b"BZh91AY&SY",
}


@FAST
@given(st.sampled_from(CODECS), st.binary(max_size=600), st.integers(1, 64))
def test_decompression_of_arbitrary_bytes_ends(codec: Any, blob: bytes, size: int) -> None:
    """Any octets after a format's opening: bounded output, and only a cut
    (EOFError) or corrupt data (CorruptData) comes out, never the library's
    own exception."""
    z = Inflate(Prefixed(b"", _Bytes(HEADS[codec.name] + blob)), codec)
    total = 0
    try:
        while True:
            part = z.read1(size)
            assert len(part) <= size
            if not part:
                break
            total += len(part)
            assert total < 1 << 24
    except (EOFError, CorruptData):
        pass


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read1(self, n: int, /) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        return out

    def close(self) -> None:
        pass


# -- the HTTP watch ------------------------------------------------------------------------

HEAD_PARTS = st.sampled_from([
    b"GET / HTTP/1.1\r\n", b"POST /a HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 101 S\r\n",
    b"Content-Length: ", b"-40", b"5", b"99999999999999999999", b"\r\n", b"\r\n\r\n",
    b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n", b"Upgrade: websocket\r\n", b"x",
])  # fmt: skip


@FAST
@given(st.lists(HEAD_PARTS, max_size=30), st.integers(1, 50), st.booleans())
def test_the_http_watch_ends_and_releases_a_suffix(
    parts: list[bytes], size: int, response: bool
) -> None:
    stream_ = b"".join(parts)
    watch = HttpWatch(response=response)
    watch.target = 0
    start = time.monotonic()
    for i in range(0, len(stream_), size):
        piece = stream_[i : i + size]
        released = watch.feed((DATA, piece, len(piece), 0.0, i))
        if released is not None:
            got = b"".join(p[1] for p in released)
            assert stream_[: i + len(piece)].endswith(got)
            break
    assert time.monotonic() - start < BOUND
