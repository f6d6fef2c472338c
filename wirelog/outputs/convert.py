"""Any recording as a pcapng capture that Wireshark opens.

``wirelog convert`` turns an Autobahn report, a HAR, a mitmproxy flow or a
replay's record into packets: each connection gets a synthesized Ethernet,
IP and TCP exchange (a three-way handshake, then one segment per chop with
real sequence and acknowledgement numbers, FIN/RST where the recording has
them), at the recorded times or 1 ms apart when there are none. What a chop
lost (Autobahn's cut logs) is skipped in sequence space, not zero-filled,
so tshark and wirelog both see the hole for what it is. Only the framing
around the octets is invented: the octets are the recording's.

The pcapng is written with ``struct``: a section header (its comment names
the source), one Ethernet interface, an enhanced packet block per packet
(RFC draft-ietf-opsawg-pcapng §4).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from typing import BinaryIO

from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Recording, Role
from wirelog.pipeline import Options, read
from wirelog.protocol.connection import iter_items

#: Largest payload of one synthesized segment (IPv6 header and TCP header
#: within a 65535-octet IP packet); a longer chop is split.
MAX_SEGMENT = 65000
_SYN, _FIN, _RST, _PSH, _ACK = 0x02, 0x01, 0x04, 0x08, 0x10
_MACS = (b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02")
_CLOSING = (MarkerKind.FIN, MarkerKind.RST, MarkerKind.DROPPED)
_MS = 1_000_000  # nanoseconds
Endpoint = tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]


def convert(path: str, out: str, options: Options | None = None) -> int:
    """Write the recording at ``path`` as the pcapng ``out``; returns the
    number of packets."""
    recording = read(path, options)
    with open(out, "wb") as fh:
        return write_pcapng(recording, fh)


def write_pcapng(recording: Recording, fh: BinaryIO) -> int:
    fh.write(_shb(f"converted by wirelog from {recording.source} ({recording.kind})"))
    fh.write(_idb())
    n = 0
    start = 0
    for number, conn in enumerate(recording.connections):
        last = start
        for ts, frame in packets(conn, number, start):
            fh.write(_epb(ts, frame))
            last = ts
            n += 1
        start = last + _MS
    return n


def endpoints(conn: Connection, number: int) -> tuple[Endpoint, Endpoint]:
    """Client and server addresses: the recorded ones when they are
    ``ip:port``, else 10.0.0.1 (an ephemeral port per connection) and
    10.0.0.2:9001."""
    client = _endpoint(conn.client) or (ipaddress.ip_address("10.0.0.1"), 49152 + number % 16000)
    server = _endpoint(conn.server) or (ipaddress.ip_address("10.0.0.2"), 9001)
    if client[0].version != server[0].version:
        client = (ipaddress.ip_address("::1" if server[0].version == 6 else "10.0.0.1"), client[1])
    return client, server


def _endpoint(text: str | None) -> Endpoint | None:
    if not text or ":" not in text:
        return None
    host, _, port = text.rpartition(":")
    try:
        return ipaddress.ip_address(host.strip("[]")), int(port)
    except ValueError:
        return None


def packets(conn: Connection, number: int, start: int) -> Iterator[tuple[int, bytes]]:
    """The connection's packets, with their times (nanoseconds since the epoch)."""
    client, server = endpoints(conn, number)
    seq = {Role.CLIENT: 1000 + number * 7919, Role.SERVER: 500000 + number * 104729}
    clock = _Clock(conn.start_ts_ns if conn.start_ts_ns is not None else start)

    def segment(
        sender: Role, flags: int, payload: bytes = b"", ts: int | None = None
    ) -> tuple[int, bytes]:
        src, dst = (client, server) if sender is Role.CLIENT else (server, client)
        ack = seq[sender.other]
        frame = _frame(src, dst, seq[sender], ack, flags, payload)
        return clock.at(ts), frame

    yield segment(Role.CLIENT, _SYN)
    seq[Role.CLIENT] += 1
    yield segment(Role.SERVER, _SYN | _ACK)
    seq[Role.SERVER] += 1
    yield segment(Role.CLIENT, _ACK)
    for item in iter_items(conn):
        if isinstance(item, Chunk):
            sender = conn.sender(item.direction)
            for at in range(0, max(len(item.data), 1), MAX_SEGMENT):
                part = item.data[at : at + MAX_SEGMENT]
                if part:
                    yield segment(sender, _PSH | _ACK, part, item.ts_ns)
                    seq[sender] = (seq[sender] + len(part)) & 0xFFFFFFFF
            # What the log cut is a hole in sequence space, not zeros.
            seq[sender] = (seq[sender] + item.length - len(item.data)) & 0xFFFFFFFF
        elif isinstance(item, Marker) and item.kind in _CLOSING:
            # Autobahn's "dropped" (TCP closed by that side) is its FIN.
            sender = conn.sender(item.direction or Direction.TX)
            flags = _RST | _ACK if item.kind is MarkerKind.RST else _FIN | _ACK
            yield segment(sender, flags, b"", item.ts_ns)
            seq[sender] = (seq[sender] + 1) & 0xFFFFFFFF


class _Clock:
    """Recorded times, or 1 ms after the previous packet when there are none
    (and never backwards, so the capture stays in order)."""

    def __init__(self, start: int) -> None:
        self.now = start

    def at(self, ts: int | None) -> int:
        self.now = max(ts, self.now) if ts is not None else self.now + _MS
        return self.now


def _frame(src: Endpoint, dst: Endpoint, seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq, ack, 5 << 4, flags, 65535, 0, 0)
    if src[0].version == 4:
        total = 20 + len(tcp) + len(payload)
        head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0,
                           src[0].packed, dst[0].packed)  # fmt: skip
        check = _checksum(head)
        ip = head[:10] + struct.pack("!H", check) + head[12:]
        etype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp) + len(payload), 6, 64,
                         src[0].packed, dst[0].packed)  # fmt: skip
        etype = 0x86DD
    return _MACS[1] + _MACS[0] + struct.pack("!H", etype) + ip + tcp + payload


def _checksum(data: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _block(kind: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    size = len(body) + 12
    return struct.pack("<II", kind, size) + body + struct.pack("<I", size)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def _shb(comment: str) -> bytes:
    options = _option(1, comment.encode("utf-8")) + _option(0, b"")
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + options)


def _idb() -> bytes:
    # if_tsresol 9: nanoseconds, so recorded times keep their digits.
    options = _option(9, b"\x09") + _option(0, b"")
    return _block(1, struct.pack("<HHI", 1, 0, 0) + options)


def _epb(ns: int, frame: bytes) -> bytes:
    head = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(frame), len(frame))
    return _block(6, head + frame)
