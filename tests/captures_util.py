"""Helpers for the capture tests: tshark as the independent oracle, a tiny
pcap reader/writer, and rewrites that turn a clean capture into adverse
ones (reordered, duplicated, overlapping, wrapped, lost segments, other
link types). The rewrites work on raw bytes with their own ``struct`` code,
not wirelog's, so a bug in wirelog's header parsing cannot hide itself.
"""

from __future__ import annotations

import gzip
import json
import shutil
import struct
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MANIFEST: dict[str, Any] = json.loads((SAMPLES / "manifest.json").read_text())
HAVE_TSHARK = shutil.which("tshark") is not None


# -- pcap files ---------------------------------------------------------------------


@dataclass
class Packet:
    ts_sec: int
    ts_usec: int
    data: bytes
    wirelen: int | None = None


def read_pcap(path: Path) -> tuple[int, list[Packet]]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[:4] == b"\xd4\xc3\xb2\xa1", "tests expect little-endian microsecond pcap"
    linktype = struct.unpack_from("<I", raw, 20)[0]
    pos = 24
    out = []
    while pos < len(raw):
        sec, usec, incl, orig = struct.unpack_from("<IIII", raw, pos)
        out.append(Packet(sec, usec, raw[pos + 16 : pos + 16 + incl], orig))
        pos += 16 + incl
    return linktype, out


def write_pcap(path: Path, linktype: int, packets: Iterable[Packet]) -> Path:
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for p in packets:
        wl = p.wirelen if p.wirelen is not None else len(p.data)
        parts.append(struct.pack("<IIII", p.ts_sec, p.ts_usec, len(p.data), wl))
        parts.append(p.data)
    path.write_bytes(b"".join(parts))
    return path


# -- TCP fields of Ethernet + IPv4/IPv6 packets (what loopback tcpdump writes) ------


@dataclass
class Tcp:
    """Offsets into an Ethernet frame, enough to rewrite a segment."""

    ip: int
    v6: bool
    tcp: int
    payload: int
    flow: tuple[bytes, int, bytes, int]
    seq: int
    ack: int
    flags: int

    @property
    def key(self) -> tuple[bytes, int, bytes, int]:
        return self.flow


def tcp_of(frame: bytes) -> Tcp | None:
    etype = struct.unpack_from("!H", frame, 12)[0]
    ip = 14
    if etype == 0x0800:
        if frame[ip + 9] != 6:
            return None
        tcp = ip + (frame[ip] & 15) * 4
        src, dst = frame[ip + 12 : ip + 16], frame[ip + 16 : ip + 20]
        v6 = False
    elif etype == 0x86DD:
        if frame[ip + 6] != 6:
            return None
        tcp = ip + 40
        src, dst = frame[ip + 8 : ip + 24], frame[ip + 24 : ip + 40]
        v6 = True
    else:
        return None
    sport, dport, seq, ack = struct.unpack_from("!HHII", frame, tcp)
    payload = tcp + (frame[tcp + 12] >> 4) * 4
    return Tcp(ip, v6, tcp, payload, (src, sport, dst, dport), seq, ack, frame[tcp + 13])


def rebuild(frame: bytes, t: Tcp, payload: bytes, seq: int | None = None) -> bytes:
    """The same Ethernet frame carrying another payload (and seq); the IP
    length fields follow. Checksums are not recomputed: neither wirelog nor
    tshark (by default) checks them."""
    head = bytearray(frame[: t.payload])
    if seq is not None:
        struct.pack_into("!I", head, t.tcp + 4, seq & 0xFFFFFFFF)
    if t.v6:
        struct.pack_into("!H", head, t.ip + 4, len(head) - t.ip - 40 + len(payload))
    else:
        struct.pack_into("!H", head, t.ip + 2, len(head) - t.ip + len(payload))
    return bytes(head) + payload


def data_segments(packets: list[Packet]) -> list[int]:
    """Indexes of packets carrying TCP payload."""
    out = []
    for i, p in enumerate(packets):
        t = tcp_of(p.data)
        if t is not None and len(p.data) > t.payload:
            out.append(i)
    return out


# -- adverse variants ------------------------------------------------------------


def reorder(packets: list[Packet]) -> list[Packet]:
    """Swap every other pair of consecutive data segments of the same sender."""
    out = list(packets)
    by_sender: dict[Any, list[int]] = defaultdict(list)
    for i in data_segments(packets):
        t = tcp_of(packets[i].data)
        assert t is not None
        by_sender[t.flow].append(i)
    for idxs in by_sender.values():
        for j in range(0, len(idxs) - 1, 4):
            a, b = idxs[j], idxs[j + 1]
            out[a], out[b] = out[b], out[a]
    return out


def duplicate(packets: list[Packet]) -> list[Packet]:
    """Every data segment captured twice, some a third time much later."""
    out: list[Packet] = []
    data = set(data_segments(packets))
    for i, p in enumerate(packets):
        out.append(p)
        if i in data:
            out.append(replace(p))
        if i in data and i % 3 == 0:
            out.append(replace(packets[i]))
    # stale retransmissions at the very end
    for i in sorted(data)[:3]:
        out.append(replace(packets[i]))
    return out


def resegment(packets: list[Packet]) -> list[Packet]:
    """Each data segment re-sent as overlapping pieces: [0, 2/3) and [1/3, 1),
    plus small pieces with a one-octet overlap for short segments."""
    out: list[Packet] = []
    data = set(data_segments(packets))
    for i, p in enumerate(packets):
        if i not in data:
            out.append(p)
            continue
        t = tcp_of(p.data)
        assert t is not None
        body = p.data[t.payload :]
        n = len(body)
        if n < 3:
            out.append(p)
            continue
        a, b = n // 3, (2 * n) // 3
        for lo, hi in ((0, b), (a, n)):
            out.append(replace(p, data=rebuild(p.data, t, body[lo:hi], t.seq + lo)))
    return out


def wrap(packets: list[Packet], near: int = 3000) -> list[Packet]:
    """Shift every sequence and acknowledgement number so that each sender's
    sequence numbers wrap around 2**32 ``near`` octets into the connection."""
    base: dict[Any, int] = {}
    for p in packets:
        t = tcp_of(p.data)
        if t is not None and t.flow not in base:
            base[t.flow] = t.seq
    out = []
    for p in packets:
        t = tcp_of(p.data)
        if t is None:
            out.append(p)
            continue
        shift = (1 << 32) - near - base[t.flow]
        rev = (t.flow[2], t.flow[3], t.flow[0], t.flow[1])
        frame = bytearray(p.data)
        struct.pack_into("!I", frame, t.tcp + 4, (t.seq + shift) & 0xFFFFFFFF)
        if t.flags & 0x10 and rev in base:
            rshift = (1 << 32) - near - base[rev]
            struct.pack_into("!I", frame, t.tcp + 8, (t.ack + rshift) & 0xFFFFFFFF)
        out.append(replace(p, data=bytes(frame)))
    return out


def drop(packets: list[Packet], which: int) -> tuple[list[Packet], int]:
    """Remove the ``which``-th data segment; returns the packets and its size."""
    i = data_segments(packets)[which]
    t = tcp_of(packets[i].data)
    assert t is not None
    return packets[:i] + packets[i + 1 :], len(packets[i].data) - t.payload


def relink(packets: list[Packet], make: Callable[[bytes], bytes]) -> list[Packet]:
    """Replace each Ethernet header by another link-layer header."""
    return [replace(p, data=make(p.data), wirelen=None) for p in packets]


# -- tshark ---------------------------------------------------------------------------

FrameKey = tuple[int, bool, int]


def tshark_frames(
    path: Path, port: int, *extra: str, display: str = "websocket"
) -> dict[tuple[int, int], list[FrameKey]]:
    """Frames tshark decodes, per (tcp.stream, sender port), in order, as
    (opcode, fin, payload length); ``display`` is the display filter (``-Y``):
    every frame of the packets it keeps."""
    cmd = [
        "tshark",
        "-r",
        str(path),
        "-o",
        "tcp.reassemble_out_of_order:TRUE",
        "-d",
        f"tcp.port=={port},http",
        *extra,
        "-Y",
        display,
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.srcport",
        "-e",
        "websocket.opcode",
        "-e",
        "websocket.fin",
        "-e",
        "websocket.payload_length",
        "-e",
        "websocket.payload_length_ext_16",
        "-e",
        "websocket.payload_length_ext_64",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
    out: dict[tuple[int, int], list[FrameKey]] = defaultdict(list)
    for line in proc.stdout.splitlines():
        stream, sport, ops, fins, lens, ext16, ext64 = (line.split("\t") + [""] * 7)[:7]
        e16 = iter(ext16.split(",")) if ext16 else iter(())
        e64 = iter(ext64.split(",")) if ext64 else iter(())
        for op, fin, ln in zip(ops.split(","), fins.split(","), lens.split(","), strict=True):
            n = int(ln)
            if n == 126:
                n = int(next(e16))
            elif n == 127:
                n = int(next(e64))
            out[(int(stream), int(sport))].append((int(op), fin.lower() in ("1", "true"), n))
    return dict(out)
