"""pcapng blocks to packet records, as dumpcap and Wireshark write them.

A pcapng file is a chain of blocks, each ``type, total length, body,
total length`` (draft-ietf-opsawg-pcapng). Every block is read or skipped
by its length: Enhanced, Simple and the obsolete Packet Blocks give
records; Section Header and Interface Description Blocks set the byte
order and each interface's link type, snap length and time resolution
(``if_tsresol``, a power of 10 or of 2, and ``if_tsoffset``); Interface
Statistics (which dumpcap writes at the end of every capture), Name
Resolution, custom and unknown blocks are skipped. A Decryption Secrets
Block of TLS key-log text (``editcap --inject-secrets tls,KEYS``) is
appended to ``secrets``, for the TLS layer (:mod:`wirelog.sources.tls`).
A file may hold several sections, each with its own byte order and
interfaces.

Only a file that ends inside a block is torn. A block length that is not a
multiple of 4, is under 12, exceeds :data:`MAX_BLOCK` or disagrees with its
trailing copy is corrupt: an :class:`~wirelog.errors.InputError` naming the
offset, raised after every packet before it was delivered. No length field
is allocated: octets are read as they arrive (:class:`~wirelog.sources.pcap.streams.Window`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from wirelog.errors import InputError, TruncatedInputError
from wirelog.sources.pcap.streams import Record, Window

#: The largest block taken for real: the largest packet (see
#: :data:`wirelog.sources.pcap.files.MAX_RECORD`) with room for options.
MAX_BLOCK = 16 * 1024 * 1024 + 65536

SHB = 0x0A0D0D0A
IDB = 1
PACKET_BLOCK = 2
SPB = 3
EPB = 6
DSB = 10
#: The DSB secrets type of TLS key-log text ("TLSK").
TLS_KEY_LOG = 0x544C534B
BYTE_ORDER_MAGIC = 0x1A2B3C4D

_OPT_COMMENT = 1
_OPT_TSRESOL = 9
_OPT_TSOFFSET = 14


@dataclass(slots=True)
class Interface:
    """One Interface Description Block's facts about its packets."""

    linktype: int
    snaplen: int
    units: int = 1_000_000
    """Timestamp units per second (``if_tsresol``; microseconds by default)."""
    offset: int = 0
    """Seconds added to every timestamp (``if_tsoffset``)."""

    def nanoseconds(self, units: int) -> int:
        """A packet's timestamp (``units`` of ``1 / self.units`` s) as integer
        nanoseconds since the epoch, exactly where the resolution allows and
        truncated below a nanosecond, as Wireshark's reader does."""
        per = self.units
        if per == 1_000_000:
            return units * 1000 + self.offset * 1_000_000_000
        return units * 1_000_000_000 // per + self.offset * 1_000_000_000


def interface(body: bytes, endian: str) -> Interface:
    """An IDB body (after type and length) as an :class:`Interface`."""
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", body, 0)
    iface = Interface(linktype, snaplen)
    for code, value in options(body, 8, endian):
        if code == _OPT_TSRESOL and len(value) >= 1:
            v = value[0]
            exp = v & 0x7F
            iface.units = 2**exp if v & 0x80 else 10 ** min(exp, 30)
        elif code == _OPT_TSOFFSET and len(value) >= 8:
            iface.offset = struct.unpack_from(endian + "q", value)[0]
    return iface


def options(body: bytes, at: int, endian: str) -> Iterator[tuple[int, bytes]]:
    """The options from ``body[at:]``, to ``opt_endofopt`` or the end; a
    cut option ends them (readers ignore what they cannot parse)."""
    end = len(body)
    unpack = struct.Struct(endian + "HH").unpack_from
    while at + 4 <= end:
        code, size = unpack(body, at)
        if code == 0:
            return
        value = body[at + 4 : at + 4 + size]
        if len(value) < size:
            return
        yield code, value
        at += 4 + ((size + 3) & ~3)


class _Corrupt(Exception):
    """A block that cannot be what it says (its message names why)."""


class Comments:
    """The ``opt_comment`` options of a pcapng (Wireshark's "packet
    comments", ``editcap -a``): per packet number, and the section's and
    interfaces' as lines, filled as the reader goes."""

    __slots__ = ("lines", "packets")

    def __init__(self) -> None:
        self.packets: dict[int, str] = {}
        self.lines: list[str] = []


def comments_of(body: bytes | memoryview, at: int, endian: str) -> list[str]:
    """The ``opt_comment`` texts among the options at ``body[at:]`` (UTF-8,
    RFC draft-ietf-opsawg-pcapng §3.5; undecodable octets replaced)."""
    out = []
    for code, value in options(bytes(body), at, endian):
        if code == _OPT_COMMENT:
            out.append(bytes(value).decode("utf-8", "replace"))
    return out


def pcapng_records(
    path: str, w: Window, secrets: list[bytes] | None = None, notes: Comments | None = None
) -> Iterator[Record]:
    """Every packet of a pcapng stream; closes its source when done. TLS
    key-log secrets met on the way are appended to ``secrets``, comments
    to ``notes``."""
    number = 0
    endian = "<"
    ifaces: list[Interface] = []
    last_ts = 0
    try:
        while True:
            at = w.at()
            try:
                if not w.need(8):
                    if w.avail() or w.error is not None:
                        raise _Torn()
                    return
                buf, pos = w.buf, w.pos
                if buf[pos : pos + 4] == b"\x0a\x0d\x0d\x0a":
                    if not w.need(12):
                        raise _Torn()
                    buf, pos = w.buf, w.pos
                    bom = buf[pos + 8 : pos + 12]
                    if bom == b"\x4d\x3c\x2b\x1a":
                        endian = "<"
                    elif bom == b"\x1a\x2b\x3c\x4d":
                        endian = ">"
                    else:
                        raise InputError(
                            path,
                            f"unreadable pcapng section header at byte {at} (bad byte-order magic)",
                            f"byte {at}",
                        )
                btype, length = struct.unpack_from(endian + "II", buf, pos)
                if length < 12 or length % 4 or length > MAX_BLOCK:
                    raise _Corrupt(f"impossible block length {length}")
                if not w.need(length):
                    raise _Torn()
            except _Torn:
                if w.error is not None:
                    raise TruncatedInputError(
                        path,
                        f"unreadable after packet {number} ({w.error}) at byte {w.at()}",
                        f"packet {number + 1}",
                    ) from None
                shb = w.buf[w.pos : w.pos + 4] == b"\x0a\x0d\x0d\x0a"
                what = "section header" if shb else "block"
                raise TruncatedInputError(
                    path,
                    f"capture ends inside the pcapng {what} at byte {at} (after packet {number})",
                    f"packet {number + 1}",
                ) from None
            except _Corrupt as why:
                raise _corrupt(path, why, at, number) from None
            buf, pos = w.buf, w.pos
            w.pos = pos + length
            try:
                (trailer,) = struct.unpack_from(endian + "I", buf, pos + length - 4)
                if trailer != length:
                    raise _Corrupt(f"block length {length}, trailing copy {trailer}")
                if btype == SHB:
                    if length < 28:
                        raise _Corrupt("section header block too short")
                    ifaces = []
                    if notes is not None and length > 28:
                        body = buf[pos + 24 : pos + length - 4]
                        notes.lines += [f"section: {c}" for c in comments_of(body, 0, endian)]
                    continue
                if btype == IDB:
                    if length < 20:
                        raise _Corrupt("interface description block too short")
                    ifaces.append(interface(buf[pos + 8 : pos + length - 4], endian))
                    if notes is not None and length > 20:
                        said = comments_of(buf[pos + 8 : pos + length - 4], 8, endian)
                        notes.lines += [f"interface {len(ifaces) - 1}: {c}" for c in said]
                    continue
                if btype in (EPB, PACKET_BLOCK):
                    if length < 32:
                        raise _Corrupt("packet block too short")
                    if btype == EPB:
                        iid, high, low, incl, _orig = struct.unpack_from(
                            endian + "IIIII", buf, pos + 8
                        )
                    else:
                        iid, _drops, high, low, incl, _orig = struct.unpack_from(
                            endian + "HHIIII", buf, pos + 8
                        )
                    start = pos + 28
                elif btype == SPB:
                    if length < 16:
                        raise _Corrupt("simple packet block too short")
                    iid = 0
                    (orig,) = struct.unpack_from(endian + "I", buf, pos + 8)
                    snap = ifaces[0].snaplen if ifaces else 0
                    incl = min(orig, snap) if snap else orig
                    start = pos + 12
                    high = low = -1
                elif btype == DSB and secrets is not None and length >= 20:
                    kind, size = struct.unpack_from(endian + "II", buf, pos + 8)
                    if kind == TLS_KEY_LOG and size <= length - 20:
                        secrets.append(bytes(buf[pos + 16 : pos + 16 + size]))
                    continue
                else:
                    continue  # ISB, NRB, custom and unknown blocks
                if start + incl > pos + length - 4:
                    raise _Corrupt(f"captured length {incl} overruns the block")
                if iid >= len(ifaces):
                    raise _Corrupt(f"packet of undeclared interface {iid}")
            except _Corrupt as why:
                raise _corrupt(path, why, at, number) from None
            iface = ifaces[iid]
            if high >= 0:
                last_ts = iface.nanoseconds((high << 32) | low)
            number += 1
            after = start + ((incl + 3) & ~3)  # options follow the padded packet (not in an SPB)
            if high >= 0 and after < pos + length - 4 and notes is not None:
                said = comments_of(buf[after : pos + length - 4], 0, endian)
                if said:
                    notes.packets[number] = "; ".join(said)
            yield number, iface.linktype, last_ts, buf, start, start + incl
    finally:
        w.src.close()


class _Torn(Exception):
    """The file ends inside a block."""


def _corrupt(path: str, why: _Corrupt, at: int, number: int) -> InputError:
    return InputError(
        path,
        f"corrupt pcapng block at byte {at} ({why}; after packet {number})",
        f"packet {number + 1}",
    )
