"""The ``struct`` fast path from link-layer bytes to a TCP segment."""

from __future__ import annotations

import struct

import pytest

from wirelog.sources.pcap import linklayer
from wirelog.sources.pcap.linklayer import NotTcp, ip_segment


def test_linklayer_rejects_fragments_and_walks_ipv6_extensions() -> None:
    tcp = struct.pack("!HHIIBBHHH", 1, 2, 3, 4, 5 << 4, 0x18, 0, 0, 0) + b"hi"
    v4 = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                               bytes(4), bytes(4)) + tcp)  # fmt: skip
    assert ip_segment(bytes(v4), 0)[3] == b"hi"
    v4[6] = 0x20  # more fragments
    with pytest.raises(NotTcp):
        ip_segment(bytes(v4), 0)
    hop = bytes([60, 0]) + bytes(6)  # hop-by-hop, then destination options
    dst = bytes([6, 0]) + bytes(6)
    v6 = struct.pack("!IHBB16s16s", 6 << 28, 16 + len(tcp), 0, 64, bytes(16), bytes(16))
    seg = ip_segment(v6 + hop + dst + tcp, 0)
    assert seg == (bytes(32) + b"\x00\x01\x00\x02", 3, 0x18, b"hi", 2)
    frag = bytes([6, 0, 0, 8, 0, 0, 0, 1])  # offset 1: a later fragment
    v6f = struct.pack("!IHBB16s16s", 6 << 28, 8 + len(tcp), 44, 64, bytes(16), bytes(16))
    with pytest.raises(NotTcp):
        ip_segment(v6f + frag + tcp, 0)


A4, B4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
A6, B6 = bytes(15) + b"\x01", bytes(15) + b"\x02"


def seg_of(linktype: int, frame: bytes) -> linklayer.Segment:
    return linklayer.segment(linktype, frame, 0, len(frame))


TCP_HI = struct.pack("!HHIIBBHHH", 1, 2, 3, 4, 5 << 4, 0x18, 0, 0, 0) + b"hi"


def v4(payload: bytes = TCP_HI, proto: int = 6, ihl: int = 5, total: int | None = None) -> bytes:
    opts = bytes((ihl - 5) * 4)
    n = 4 * ihl + len(payload) if total is None else total
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, n, 0, 0, 64, proto, 0, A4, B4)
    return head + opts + payload


def v6(payload: bytes = TCP_HI, nxt: int = 6, plen: int | None = None) -> bytes:
    n = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, n, nxt, 64, A6, B6) + payload


ETH = bytes(12)
FRAGMENT = v4()[:6] + b"\x00\x01" + v4()[8:]  # fragment offset 1


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (linklayer.ETHERNET, ETH + b"\x08\x00" + v4()),  # the one-unpack path
        (linklayer.ETHERNET, ETH + b"\x08\x00" + v4(ihl=6)),  # IPv4 options: the walk
        (linklayer.ETHERNET, ETH + b"\x81\x00\x00\x01\x08\x00" + v4()),  # one VLAN tag
        (linklayer.ETHERNET, ETH + b"\x86\xdd" + v6()),
        (linklayer.NULL, b"\x02\x00\x00\x00" + v4()),  # host byte order
        (linklayer.LOOP, b"\x00\x00\x00\x02" + v4()),  # network byte order
        (linklayer.LINUX_SLL, bytes(14) + b"\x08\x00" + v4()),
        (linklayer.LINUX_SLL2, b"\x86\xdd" + bytes(18) + v6()),
        (linklayer.RAW, v4()),
    ],
)
def test_every_fast_link_type(linktype: int, frame: bytes) -> None:
    key, seq, flags, payload, wire = seg_of(linktype, frame)
    a, b = (A6, B6) if len(key) == 36 else (A4, B4)
    assert (key, seq, flags, payload, wire) == (a + b + b"\x00\x01\x00\x02", 3, 0x18, b"hi", 2)
    assert linklayer.endpoints(key) == ((a, 1), (b, 2))
    assert linklayer.reverse(key) == b + a + b"\x00\x02\x00\x01"
    assert linklayer.endpoints(linklayer.reverse(key)) == ((b, 2), (a, 1))
    # inside a larger buffer, without copying it
    buf = b"junk" + frame + b"more"
    assert linklayer.segment(linktype, buf, 4, 4 + len(frame)) == seg_of(linktype, frame)


@pytest.mark.parametrize(
    ("linktype", "frame", "why"),
    [
        (linklayer.ETHERNET, bytes(10), "not IP"),
        (linklayer.ETHERNET, ETH + b"\x08\x00" + v4(proto=17), "not TCP"),  # UDP
        (linklayer.ETHERNET, ETH + b"\x08\x00" + FRAGMENT, "IP fragment"),
        (linklayer.ETHERNET, ETH + b"\x08\x06" + bytes(28), "not IP"),  # ARP
        (linklayer.NULL, b"\x02", "not IP"),
        (linklayer.NULL, b"\x07\x00\x00\x00" + v4(), "not IP"),
        (linklayer.LINUX_SLL, bytes(10), "not IP"),
        (linklayer.LINUX_SLL, bytes(14) + b"\x08\x06" + v4(), "not IP"),
        (linklayer.LINUX_SLL2, bytes(10), "not IP"),
        (linklayer.RAW, b"", "empty"),
        (linklayer.RAW, v4()[:12], "cut inside the IPv4 header"),
        (linklayer.RAW, v4(proto=17), "not TCP"),
        (linklayer.RAW, v6()[:30], "cut inside the IPv6 header"),
        (linklayer.RAW, v6(b"\x00", nxt=0), "cut inside an IPv6 extension header"),
        (linklayer.RAW, v6(bytes(4), nxt=44), "cut inside an IPv6 fragment header"),
        (linklayer.RAW, v6(b"\x00", nxt=51), "cut inside an IPv6 extension header"),
        (linklayer.RAW, v6(nxt=17), "not TCP"),
        (linklayer.RAW, b"\x50" + bytes(40), "not IP"),
        (linklayer.RAW, v4(TCP_HI[:10]), "cut inside the TCP header"),
        (linklayer.RAW, v4(total=30), "bad TCP header length"),
    ],
)
def test_what_carries_no_usable_segment_says_why(linktype: int, frame: bytes, why: str) -> None:
    with pytest.raises(NotTcp, match=f"^{why}$"):
        seg_of(linktype, frame)


def test_lengths_the_capture_cut_or_left_zero() -> None:
    cut = v4()[:-1]  # the snap length took the last octet
    seg = seg_of(linklayer.RAW, cut)
    assert (seg[3], seg[4]) == (b"h", 2)  # present octets, wire length
    eth_cut = ETH + b"\x08\x00" + cut
    assert seg_of(linklayer.ETHERNET, eth_cut) == (A4 + B4 + b"\x00\x01\x00\x02", 3, 0x18, b"h", 2)
    padded = ETH + b"\x08\x00" + v4() + bytes(6)  # Ethernet's padding is no payload
    assert seg_of(linklayer.ETHERNET, padded)[3:] == (b"hi", 2)
    tso = v4(total=0)  # segmentation offload: IPv4 total length 0
    assert seg_of(linklayer.RAW, tso)[3] == b"hi"
    eth_tso = ETH + b"\x08\x00" + v4(total=0)
    assert seg_of(linklayer.ETHERNET, eth_tso)[3] == b"hi"
    jumbo = v6(plen=0)
    assert seg_of(linklayer.RAW, jumbo)[3] == b"hi"
    ah = bytes([6, 1]) + bytes(10)  # authentication header: (1 + 2) * 4 = 12 octets
    assert seg_of(linklayer.RAW, v6(ah + TCP_HI, nxt=51))[3] == b"hi"


def test_endpoints() -> None:
    assert linklayer.format_endpoint(bytes([10, 0, 0, 1]), 80) == "10.0.0.1:80"
    assert linklayer.format_endpoint(bytes(15) + b"\x01", 8080) == "[::1]:8080"
