"""Capture files to packet records: the one entry to the capture readers,
and the only module that imports scapy.

Classic pcap (plain or gzip) is read here by a lean ``struct`` reader that
takes every record whole, whatever the file's snap length says (scapy's
readers cut records at 65535 octets, and loopback captures hold
65549-octet frames); pcapng by :mod:`wirelog.sources.pcap.pcapng`. Both
read through :mod:`wirelog.sources.pcap.streams`, so a capture may be a
file, stdin (``-``), a FIFO or a process substitution, and nothing seeks.
Rare link types are dissected by scapy (:func:`fallback_segment`), imported
inside that function, so reading a capture never loads scapy. A file that
ends inside a record, or whose record header is nonsense, raises
:class:`~wirelog.errors.TruncatedInputError` / :class:`~wirelog.errors.InputError`
naming the packet, after everything before it has been delivered.

Like dpkt's reader, a record is bytes and metadata and nothing else: the
flow engine (:mod:`wirelog.sources.pcap.flows`) is a separate layer.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterator
from typing import Any

from wirelog.errors import InputError, TruncatedInputError
from wirelog.sources.pcap import linklayer
from wirelog.sources.pcap.linklayer import NotTcp
from wirelog.sources.pcap.pcapng import Comments, pcapng_records
from wirelog.sources.pcap.streams import Record, Window, open_input

__all__ = ["MAX_RECORD", "Record", "Records", "fallback_segment", "open_records", "records"]

#: A record larger than this is a corrupt header, not a packet (the largest
#: snap length any capture tool writes is 256 KiB; GRO/TSO captures on Linux
#: loopback can reach 64 KiB + headers).
MAX_RECORD = 16 * 1024 * 1024

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


class Records:
    """A capture's records (:attr:`packets`) and whether the next one is
    already read (:meth:`ready`): a caller pushing packets as they arrive
    stops its batch where the next record would wait on the source."""

    __slots__ = ("comments", "packets", "secrets", "window")

    def __init__(
        self,
        packets: Iterator[Record],
        window: Window | None,
        secrets: list[bytes] | None = None,
        comments: Comments | None = None,
    ) -> None:
        self.packets = packets
        self.window = window
        self.secrets: list[bytes] = secrets if secrets is not None else []
        """TLS key-log text the capture carries (pcapng DSBs), as read so far."""
        self.comments = comments if comments is not None else Comments()
        """The pcapng's comments (section, interfaces, packets), as read so far."""

    def ready(self) -> bool:
        w = self.window
        return w is None or w.avail() > 0


def open_records(path: str) -> Records:
    """The records of a pcap or pcapng capture (plain or gzip; a file, ``-``
    or a FIFO), in file order; any error is raised at the first ``next``."""
    try:
        src, magic = open_input(path)
    except InputError as exc:
        return Records(_raising(exc), None)
    window = Window(src)
    if magic == PCAPNG_MAGIC:
        secrets: list[bytes] = []
        notes = Comments()
        return Records(pcapng_records(path, window, secrets, notes), window, secrets, notes)
    return Records(_pcap_records(path, window), window)


def records(path: str) -> Iterator[Record]:
    """Every packet of a pcap or pcapng capture, in file order.

    The reader's own generator is returned rather than wrapped in another
    (a layer less per packet); any error is raised at the first ``next``."""
    return open_records(path).packets


def _raising(exc: Exception) -> Iterator[Record]:
    raise exc
    yield  # a generator: raises at the first ``next``


def _pcap_records(path: str, w: Window) -> Iterator[Record]:
    """Classic pcap records; closes the source when done."""
    try:
        if not w.need(4):
            raise InputError(path, "not a pcap or pcapng capture (bad magic)")
        magic = w.buf[w.pos : w.pos + 4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise InputError(path, "not a pcap or pcapng capture (bad magic)")
        # Nanoseconds per unit of the record's fraction: exact integers.
        scale = 1 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1000
        if not w.need(24):
            if w.error is not None:
                raise TruncatedInputError(path, f"unreadable file header ({w.error})", "byte 4")
            raise TruncatedInputError(path, "capture ends inside the file header", "byte 4")
        _vmaj, _vmin, _tz, _sig, snaplen, linktype_field = struct.unpack_from(
            endian + "HHiIII", w.buf, w.pos + 4
        )
        w.pos += 24
        # The upper bits of the link type field carry FCS information (pcap-ng draft).
        linktype = linktype_field & 0x0FFFFFFF
        limit = max(MAX_RECORD, snaplen if snaplen < 1 << 30 else 0)
        # The original length is not needed: skipped, one object less a packet.
        unpack_from = struct.Struct(endian + "III4x").unpack_from
        number = 0
        # The buffer and the position are locals while the records lie whole
        # in the buffer (the window's ``pos`` is set before each yield, for
        # :meth:`Records.ready` and error offsets); only a record that runs
        # past the buffer's end goes back to the window for more.
        buf, pos = w.buf, w.pos
        size = len(buf)
        # A timestamp is integer nanoseconds: seconds * 10**9 is a product
        # of two-digit integers, made once a second rather than once a packet.
        second = base = -1
        while True:
            start = pos + 16
            if start > size:
                if not _need(path, w, 16, number):
                    if w.avail() == 0:
                        return
                    raise TruncatedInputError(
                        path,
                        f"capture ends inside the header of packet {number + 1}",
                        f"packet {number + 1}",
                    )
                buf, pos = w.buf, w.pos
                size = len(buf)
                start = pos + 16
            sec, frac, incl = unpack_from(buf, pos)
            number += 1
            end = start + incl
            if end > size:
                # Here only: the window never holds more than ``limit`` + 16
                # octets (a read is at most READ_SIZE, or what a record
                # lacks), so a record past the limit always ends past it.
                if incl > limit:
                    raise InputError(
                        path,
                        f"corrupt record header: packet {number} claims {incl} captured octets "
                        f"(at byte {w.at()})",
                        f"packet {number}",
                    )
                if not _need(path, w, 16 + incl, number - 1):
                    raise TruncatedInputError(
                        path,
                        f"capture ends inside packet {number} ({w.avail() - 16} of {incl} octets)",
                        f"packet {number}",
                    )
                buf, pos = w.buf, w.pos
                size = len(buf)
                start = pos + 16
                end = start + incl
            w.pos = pos = end
            if sec != second:
                second, base = sec, sec * 1_000_000_000
            yield number, linktype, base + frac * scale, buf, start, end
    finally:
        w.src.close()


def _need(path: str, w: Window, n: int, number: int) -> bool:
    """``w.need(n)``; a failed read is the error it is, not a cut file."""
    if w.need(n):
        return True
    exc = w.error
    if isinstance(exc, EOFError):
        raise TruncatedInputError(path, f"{exc} (after packet {number})", f"packet {number + 1}")
    if exc is not None:
        raise TruncatedInputError(
            path, f"unreadable after packet {number} ({exc})", f"packet {number + 1}"
        )
    return False


_fallback_cache: dict[int, Callable[[bytes], Any]] = {}


def fallback_segment(linktype: int, pkt: bytes) -> linklayer.Segment:
    """Ask scapy's dissector for ``linktype`` where the IP packet is."""
    cls: Callable[[bytes], Any] | None = _fallback_cache.get(linktype)
    if cls is None:
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        import scapy.layers.all  # noqa: F401 - registers every link-type dissector
        from scapy.config import conf

        found: Any = conf.l2types.get(linktype)
        if found is None:
            raise NotTcp(f"unknown link type {linktype}")
        cls = _fallback_cache[linktype] = found
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6

    try:
        frame = cls(pkt)
    except Exception as exc:  # scapy dissectors raise anything on junk
        raise NotTcp(f"undissectable ({exc})") from None
    for layer in (IP, IPv6):
        if frame.haslayer(layer):
            raw = bytes(frame[layer])
            return linklayer.ip_segment(raw, 0, len(raw))
    raise NotTcp("not IP")
