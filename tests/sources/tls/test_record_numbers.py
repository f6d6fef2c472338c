"""Each frame of a decrypted capture names the TLS record its first header
byte came from, and each chop the record whose plaintext it is, counted
per direction from 0 as tshark lists the records (handshake ones
included). The oracle is tshark alone: its records (decrypted content
type and length, per packet, in order) and its WebSocket frames give each
frame's plaintext offset and so its record."""

from __future__ import annotations

import bisect
import subprocess
from collections import defaultdict
from itertools import accumulate
from pathlib import Path

import pytest
from captures_util import HAVE_TSHARK
from servers import have_tcpdump
from wss import captured, tshark_tls_frames

from wirelog.model import Direction
from wirelog.pipeline import Options, decode

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)

#: TLS 1.3 AES-GCM: a 16-octet tag and the inner content type.
OVERHEAD = 17


def tshark_records(
    pcap: Path, port: int, keylog: Path
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(content type, length) of every record, per (tcp.stream, sender port)."""
    cmd = ["tshark", "-r", str(pcap), "-o", f"tls.keylog_file:{keylog}"]
    cmd += ["-d", f"tcp.port=={port},tls", "-Y", "tls", "-T", "fields", "-E", "occurrence=a"]
    cmd += ["-e", "tcp.stream", "-e", "tcp.srcport"]
    cmd += ["-e", "tls.record.content_type", "-e", "tls.record.length"]
    out: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    lines = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    for line in lines.splitlines():
        stream, sport, types, lengths = line.split("\t")
        pairs = zip(types.split(","), lengths.split(","), strict=True)
        out[(int(stream), int(sport))] += [(int(t), int(n)) for t, n in pairs]
    return out


def expected_records(
    records: list[tuple[int, int]], frames: list[tuple[int, bool, int]], masked: bool
) -> list[int]:
    """The record (index among ``records``) of each frame's first octet:
    the plaintext stream is the application-data records' plaintexts, the
    HTTP head first and then the frames, back to back."""
    data = [(i, n - OVERHEAD) for i, (t, n) in enumerate(records) if t == 23]
    ends = list(accumulate(n for _, n in data))
    wire = [2 + (2 if 126 <= n <= 0xFFFF else 8 if n > 0xFFFF else 0) + 4 * masked + n
            for _, _, n in frames]  # fmt: skip
    at = ends[-1] - sum(wire)  # the HTTP head's length
    out = []
    for size in wire:
        out.append(data[bisect.bisect_right(ends, at)][0])
        at += size
    return out


def test_each_frame_names_its_record_as_tshark_counts_them() -> None:
    cap = captured("tls13-aes128gcm")
    records = tshark_records(cap.pcap, cap.port, cap.keylog)
    frames = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    dcs = decode(str(cap.pcap), Options(keylog=str(cap.keylog)))
    checked = 0
    for dc in dcs:
        conn = dc.connection
        for direction in Direction:
            endpoint = conn.client if direction is Direction.TX else conn.server
            assert endpoint is not None
            key = (conn.conn, int(endpoint.rsplit(":", 1)[1]))
            want = expected_records(records[key], frames[key], direction is Direction.TX)
            ours = [f.record for f in dc.frames if f.direction is direction]
            assert ours == want, key
            # Chops: the application-data records' plaintexts, numbered alike.
            numbers = [c.record for c in conn.chunks if c.direction is direction]
            assert sorted(set(numbers)) == [i for i, (t, _) in enumerate(records[key]) if t == 23]
            checked += len(ours)
    # Frames of many sizes: some share a record with none else, some span four.
    assert checked == sum(map(len, frames.values())) > 50
    spans = {f.length for f in dcs[0].frames if f.length > 16_384}
    assert spans == {20_000, 70_000}
