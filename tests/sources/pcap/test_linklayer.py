"""The ``struct`` fast path from link-layer bytes to a TCP segment."""

from __future__ import annotations

import struct

import pytest

from wirelog.sources.pcap.linklayer import NotTcp, ip_segment


def test_linklayer_rejects_fragments_and_walks_ipv6_extensions() -> None:
    tcp = struct.pack("!HHIIBBHHH", 1, 2, 3, 4, 5 << 4, 0x18, 0, 0, 0) + b"hi"
    v4 = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                               bytes(4), bytes(4)) + tcp)  # fmt: skip
    assert ip_segment(bytes(v4), 0)[7] == b"hi"
    v4[6] = 0x20  # more fragments
    with pytest.raises(NotTcp):
        ip_segment(bytes(v4), 0)
    hop = bytes([60, 0]) + bytes(6)  # hop-by-hop, then destination options
    dst = bytes([6, 0]) + bytes(6)
    v6 = struct.pack("!IHBB16s16s", 6 << 28, 16 + len(tcp), 0, 64, bytes(16), bytes(16))
    seg = ip_segment(v6 + hop + dst + tcp, 0)
    assert (seg[1], seg[3], seg[7], seg[8]) == (1, 2, b"hi", 2)
    frag = bytes([6, 0, 0, 8, 0, 0, 0, 1])  # offset 1: a later fragment
    v6f = struct.pack("!IHBB16s16s", 6 << 28, 8 + len(tcp), 44, 64, bytes(16), bytes(16))
    with pytest.raises(NotTcp):
        ip_segment(v6f + frag + tcp, 0)
