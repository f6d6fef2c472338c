"""A ``struct`` fast path from captured link-layer bytes to a TCP segment.

Full per-packet dissection (scapy's ``Ether(raw)``) costs tens of
microseconds a packet; reading the few fields TCP reassembly needs with
``struct`` costs about one. This module knows the link types loopback and
server captures actually produce: Ethernet (with stacked 802.1Q/802.1ad
tags), Linux cooked capture v1 and v2, BSD null/loopback and raw IPv4/IPv6,
over IPv4 and IPv6 with extension headers. Anything else goes to
:func:`wirelog.sources.pcap.files.fallback_segment`, which asks scapy's dissectors
where the IP header starts and hands the bytes back to :func:`ip_segment`.

Nothing here imports beyond the standard library.
"""

from __future__ import annotations

import struct

# Link types (https://www.tcpdump.org/linktypes.html).
NULL = 0
ETHERNET = 1
RAW_BSD = 12  # DLT_RAW on most BSDs
RAW_OPENBSD = 14
LOOP = 108
RAW = 101
LINUX_SLL = 113
IPV4 = 228
IPV6 = 229
LINUX_SLL2 = 276

FAST_LINKTYPES = frozenset(
    {NULL, ETHERNET, RAW_BSD, RAW_OPENBSD, LOOP, RAW, LINUX_SLL, IPV4, IPV6, LINUX_SLL2}
)

FIN = 0x01
SYN = 0x02
RST = 0x04
ACK = 0x10

_VLAN_TYPES = frozenset({0x8100, 0x88A8, 0x9100})
_BSD_INET6 = frozenset({24, 28, 30})
_IPV6_EXT = frozenset(
    {0, 43, 60, 135, 139, 140}
)  # hop-by-hop, routing, dest opts, mobility, HIP, shim6

_TCP = struct.Struct("!4xI4xBB")
#: Ethernet + option-less IPv4 + the TCP fields reassembly needs, from the
#: first octet of the frame: ethertype/version/IHL/TOS as one word, total
#: length, fragment field/TTL/protocol as one word, the key (addresses and
#: ports, side by side here; see Segment), seq, data offset, flags.
_ETH_IP4_TCP = struct.Struct("!12xIH2xI2x12sI4xBB")
_unpack_eth_ip4_tcp = _ETH_IP4_TCP.unpack_from

#: (key, seq, flags, payload, wire length of the payload). ``key`` is the
#: source address, the destination address, the source port and the
#: destination port, as they lie on the wire (12 octets over IPv4, 36 over
#: IPv6): the flow engine's one object to hash per packet, and over
#: Ethernet/IPv4 one slice of the frame, where the four fields are side by
#: side. ``payload`` may be shorter than the wire length when the capture's
#: snap length cut the packet.
Segment = tuple[bytes, int, int, bytes, int]


def endpoints(key: bytes) -> tuple[tuple[bytes, int], tuple[bytes, int]]:
    """The (address, port) of the sender and of the receiver in ``key``."""
    n = (len(key) - 4) // 2
    ports = key[2 * n :]
    return (key[:n], (ports[0] << 8) | ports[1]), (key[n : 2 * n], (ports[2] << 8) | ports[3])


def reverse(key: bytes) -> bytes:
    """The key of the packets going the other way."""
    n = (len(key) - 4) // 2
    return key[n : 2 * n] + key[:n] + key[-2:] + key[-4:-2]


class NotTcp(Exception):
    """Raised with a short reason for packets that carry no TCP segment we
    can use (ARP, UDP, IP fragments, packets cut inside a header)."""


def ip_offset(linktype: int, pkt: bytes, start: int, n: int) -> int:
    """Where the IP header starts in the frame ``pkt[start:n]`` of a fast
    link type; -1 when the frame does not carry IP."""
    if linktype == ETHERNET:
        if n - start < 14:
            return -1
        etype = (pkt[start + 12] << 8) | pkt[start + 13]
        off = start + 14
        while etype in _VLAN_TYPES and n >= off + 4:
            etype = (pkt[off + 2] << 8) | pkt[off + 3]
            off += 4
        return off if etype == 0x0800 or etype == 0x86DD else -1
    if linktype in (NULL, LOOP):
        if n - start < 4:
            return -1
        # DLT_NULL's family is in the capturing host's byte order, DLT_LOOP's
        # in network order; every family value fits in one byte either way.
        fam = pkt[start] or pkt[start + 3]
        return start + 4 if fam == 2 or fam in _BSD_INET6 else -1
    if linktype == LINUX_SLL:
        if n - start < 16:
            return -1
        proto = (pkt[start + 14] << 8) | pkt[start + 15]
        return start + 16 if proto == 0x0800 or proto == 0x86DD else -1
    if linktype == LINUX_SLL2:
        if n - start < 20:
            return -1
        proto = (pkt[start] << 8) | pkt[start + 1]
        return start + 20 if proto == 0x0800 or proto == 0x86DD else -1
    return start  # raw IP link types


def segment(linktype: int, pkt: bytes, start: int, n: int) -> Segment:
    """The TCP segment inside the captured frame ``pkt[start:n]`` of a fast
    link type (a slice of a larger read buffer is never copied)."""
    if linktype == ETHERNET and n - start >= 54:
        # Most packets of most captures: Ethernet, IPv4 without options, not
        # a fragment. One ``unpack_from`` instead of a walk byte by byte
        # (a third of the per-packet cost); anything else takes the walk.
        head, total, frag, key, seq, doff, flags = _unpack_eth_ip4_tcp(pkt, start)
        # 0x0800 IPv4, version 4 and IHL 5; no fragment, protocol 6 (TCP).
        if head >> 8 == 0x080045 and frag & 0x3FFF00FF == 6:
            end = start + 14 + total if total else n
            body = start + 34 + (doff >> 4) * 4
            wire = end - body
            if wire >= 0:  # a slice that ends before it starts is b"": no test for it
                return key, seq, flags, pkt[body:end] if end <= n else pkt[body:n], wire
    off = ip_offset(linktype, pkt, start, n)
    if off < 0:
        raise NotTcp("not IP")
    return ip_segment(pkt, off, n)


def ip_segment(pkt: bytes, off: int, n: int | None = None) -> Segment:
    """The TCP segment in an IPv4 or IPv6 packet at ``pkt[off:n]``."""
    if n is None:
        n = len(pkt)
    if n <= off:
        raise NotTcp("empty")
    version = pkt[off] >> 4
    if version == 4:
        if n < off + 20:
            raise NotTcp("cut inside the IPv4 header")
        ihl = (pkt[off] & 0x0F) * 4
        total = (pkt[off + 2] << 8) | pkt[off + 3]
        if pkt[off + 9] != 6:
            raise NotTcp("not TCP")
        if ((pkt[off + 6] & 0x3F) << 8) | pkt[off + 7]:
            # More-fragments flag or a fragment offset: wirelog does not
            # reassemble IP fragments (TCP stacks avoid them with PMTU discovery).
            raise NotTcp("IP fragment")
        addresses = pkt[off + 12 : off + 20]
        if total == 0:  # TCP segmentation offload captures leave it 0
            total = n - off
        end = off + total
        tcp = off + ihl
    elif version == 6:
        if n < off + 40:
            raise NotTcp("cut inside the IPv6 header")
        plen = (pkt[off + 4] << 8) | pkt[off + 5]
        nxt = pkt[off + 6]
        addresses = pkt[off + 8 : off + 40]
        tcp = off + 40
        end = tcp + plen if plen else n  # jumbograms: trust the capture
        while nxt != 6:
            if nxt in _IPV6_EXT:
                if n < tcp + 2:
                    raise NotTcp("cut inside an IPv6 extension header")
                nxt, hlen = pkt[tcp], (pkt[tcp + 1] + 1) * 8
            elif nxt == 44:  # fragment header
                if n < tcp + 8:
                    raise NotTcp("cut inside an IPv6 fragment header")
                if ((pkt[tcp + 2] << 8) | pkt[tcp + 3]) & 0xFFF9:
                    raise NotTcp("IP fragment")
                nxt, hlen = pkt[tcp], 8
            elif nxt == 51:  # authentication header: length in 4-octet units
                if n < tcp + 2:
                    raise NotTcp("cut inside an IPv6 extension header")
                nxt, hlen = pkt[tcp], (pkt[tcp + 1] + 2) * 4
            else:
                raise NotTcp("not TCP")
            tcp += hlen
    else:
        raise NotTcp("not IP")
    if n < tcp + 20:
        raise NotTcp("cut inside the TCP header")
    seq, doff, flags = _TCP.unpack_from(pkt, tcp)
    start = tcp + (doff >> 4) * 4
    wire = end - start
    if wire < 0:
        raise NotTcp("bad TCP header length")
    stop = end if end < n else n
    payload = pkt[start:stop] if stop > start else b""
    return addresses + pkt[tcp : tcp + 4], seq, flags, payload, wire


def format_endpoint(addr: bytes, port: int) -> str:
    """``1.2.3.4:80`` or ``[::1]:80``."""
    if len(addr) == 4:
        return f"{addr[0]}.{addr[1]}.{addr[2]}.{addr[3]}:{port}"
    import ipaddress

    return f"[{ipaddress.IPv6Address(addr).compressed}]:{port}"
