"""Capture files to packet records: the only module that reads pcap bytes, and
the only one that imports scapy.

Classic pcap (plain or gzip) is read by a lean ``struct`` reader that takes
every record whole, whatever the file's snap length says (scapy's readers
cut records at 65535 octets, and loopback captures hold 65549-octet frames).
pcapng, with its per-interface link types and time resolutions, is read by
scapy's ``RawPcapNgReader``; rare link types are dissected by scapy
(:func:`fallback_segment`). Each scapy import sits inside the function that
needs it, so reading a classic pcap never loads scapy. Either way a file
that ends inside a record, or whose record header is nonsense, raises
:class:`~wirelog.errors.TruncatedInputError` / :class:`~wirelog.errors.InputError`
naming the packet, after everything before it has been delivered.

Like dpkt's reader, a record is bytes and metadata and nothing else: the
flow engine (:mod:`wirelog.sources.pcap.flows`) is a separate layer.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from wirelog.errors import InputError, TruncatedInputError
from wirelog.sources.pcap import linklayer
from wirelog.sources.pcap.linklayer import NotTcp

_READ_SIZE = 4 * 1024 * 1024
#: A record larger than this is a corrupt header, not a packet (the largest
#: snap length any capture tool writes is 256 KiB; GRO/TSO captures on Linux
#: loopback can reach 64 KiB + headers).
MAX_RECORD = 16 * 1024 * 1024

#: One captured packet: (1-based number, link type, timestamp, buffer,
#: start, end) -- the record is ``buffer[start:end]``, never copied.
Record = tuple[int, int, float, bytes, int, int]


def _open(path: str) -> IO[bytes]:
    try:
        fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    if fh.read(2) == b"\x1f\x8b":
        fh.seek(0)
        return _Gunzip(fh)  # type: ignore[return-value]
    fh.seek(0)
    return fh


class _Gunzip:
    """gzip decompression that hands out every octet before a truncation.

    ``gzip.GzipFile.read(n)`` raises ``EOFError`` on a cut file and drops
    what it had decompressed for that call; a capture reader must deliver
    everything up to the cut, then say where it was.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = b""
        self.truncated = False

    def read(self, n: int) -> bytes:
        """At most ``n`` octets (always a bound: a gzip bomb must not fill memory)."""
        parts = [self.pending] if self.pending else []
        have = len(self.pending)
        self.pending = b""
        while have < n:
            if self.z.eof:
                # A member ended; what follows it (``cat a.gz b.gz``) is the next one.
                src = self.z.unused_data or self.raw.read(1 << 20)
                if not src:
                    break
                self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                src = self.z.unconsumed_tail or self.raw.read(1 << 20)
                if not src:
                    tail = self.z.flush()  # what zlib still holds (bounded by its window)
                    parts.append(tail)
                    have += len(tail)
                    self.truncated = not self.z.eof
                    break
            # Bounded output: a small deflate bomb must not fill memory.
            data = self.z.decompress(src, n - have)
            parts.append(data)
            have += len(data)
        out = b"".join(parts)
        if len(out) > n:
            out, self.pending = out[:n], out[n:]
        if not out and self.truncated:
            raise EOFError("compressed data ends before the end-of-stream marker")
        return out

    def seek(self, pos: int) -> None:
        raise OSError("not seekable")

    def close(self) -> None:
        self.raw.close()


def records(path: str) -> Iterator[Record]:
    """Every packet of a pcap or pcapng file (plain or gzip), in file order.

    The reader's own generator is returned rather than wrapped in another
    (a layer less per packet); any error is raised at the first ``next``."""
    try:
        fh = _open(path)
    except InputError as exc:
        return _raising(exc)
    try:
        magic = fh.read(4)
    except (OSError, EOFError, zlib.error) as exc:
        fh.close()
        return _raising(InputError(path, f"unreadable ({exc})"))
    if magic == b"\x0a\x0d\x0d\x0a":
        fh.close()
        return _pcapng_records(path)
    return _pcap_records(path, fh, magic)


def _raising(exc: Exception) -> Iterator[Record]:
    raise exc
    yield  # a generator: raises at the first ``next``


def _pcap_records(path: str, fh: IO[bytes], magic: bytes) -> Iterator[Record]:
    """Classic pcap records; closes ``fh`` when done."""
    try:
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise InputError(path, "not a pcap or pcapng capture (bad magic)")
        scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
        try:
            head = fh.read(20)
        except (OSError, EOFError, zlib.error) as exc:
            raise TruncatedInputError(path, f"unreadable file header ({exc})", "byte 4") from None
        if len(head) < 20:
            raise TruncatedInputError(path, "capture ends inside the file header", "byte 4")
        _vmaj, _vmin, _tz, _sig, snaplen, linktype_field = struct.unpack(endian + "HHiIII", head)
        # The upper bits of the link type field carry FCS information (pcap-ng draft).
        linktype = linktype_field & 0x0FFFFFFF
        limit = max(MAX_RECORD, snaplen if snaplen < 1 << 30 else 0)
        rec = struct.Struct(endian + "IIII")
        unpack_from = rec.unpack_from
        buf = b""
        pos = 0
        number = 0
        offset = 24  # file offset of buf[0], for error messages
        eof = False

        def more(need: int) -> bool:
            nonlocal buf, pos, offset, eof
            if eof:
                return False
            try:
                chunk = fh.read(max(_READ_SIZE, need))
            except EOFError as exc:
                raise TruncatedInputError(
                    path, f"{exc} (after packet {number})", f"packet {number + 1}"
                ) from None
            except (OSError, zlib.error) as exc:
                raise TruncatedInputError(
                    path, f"unreadable after packet {number} ({exc})", f"packet {number + 1}"
                ) from None
            if not chunk:
                eof = True
                return False
            offset += pos
            buf = buf[pos:] + chunk
            pos = 0
            return True

        while True:
            if len(buf) - pos < 16:
                while len(buf) - pos < 16 and more(16):
                    pass
                if len(buf) - pos == 0:
                    return
                if len(buf) - pos < 16:
                    raise TruncatedInputError(
                        path,
                        f"capture ends inside the header of packet {number + 1}",
                        f"packet {number + 1}",
                    )
            sec, frac, incl, _orig = unpack_from(buf, pos)
            number += 1
            if incl > limit:
                raise InputError(
                    path,
                    f"corrupt record header: packet {number} claims {incl} captured octets "
                    f"(at byte {offset + pos})",
                    f"packet {number}",
                )
            end = pos + 16 + incl
            while end > len(buf):
                if not more(end - len(buf)):
                    raise TruncatedInputError(
                        path,
                        f"capture ends inside packet {number} "
                        f"({len(buf) - pos - 16} of {incl} octets)",
                        f"packet {number}",
                    )
                end = pos + 16 + incl
            yield number, linktype, sec + frac * scale, buf, pos + 16, end
            pos = end
    finally:
        fh.close()


def _pcapng_records(path: str) -> Iterator[Record]:
    from scapy.error import Scapy_Exception
    from scapy.utils import RawPcapNgReader

    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    try:
        reader = RawPcapNgReader(path)
    except (Scapy_Exception, OSError, EOFError, zlib.error) as exc:
        raise InputError(path, f"unreadable pcapng section header ({exc})", "byte 0") from None
    number = 0
    huge = 1 << 40  # scapy cuts packets at its ``size`` argument: never cut
    try:
        f = reader.f
        while True:
            before = f.tell()
            try:
                data, meta = reader._read_packet(size=huge)
            except EOFError:
                # scapy reports a clean end and a torn block alike; a torn
                # one left the file position inside it.
                if f.tell() != before:
                    raise TruncatedInputError(
                        path,
                        f"capture ends inside or after packet {number + 1} (torn pcapng block "
                        f"at byte {before})",
                        f"packet {number + 1}",
                    ) from None
                return
            except (Scapy_Exception, struct.error, OSError, zlib.error) as exc:
                raise InputError(
                    path, f"corrupt pcapng block at byte {before} ({exc})", f"packet {number + 1}"
                ) from None
            number += 1
            ts = ((meta.tshigh << 32) | meta.tslow) / meta.tsresol
            yield number, int(meta.linktype), float(ts), data, 0, len(data)
    finally:
        reader.close()


_fallback_cache: dict[int, Callable[[bytes], Any]] = {}


def fallback_segment(linktype: int, pkt: bytes) -> linklayer.Segment:
    """Ask scapy's dissector for ``linktype`` where the IP packet is."""
    cls = _fallback_cache.get(linktype)
    if cls is None:
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        import scapy.layers.all  # noqa: F401 - registers every link-type dissector
        from scapy.config import conf

        cls = conf.l2types.get(linktype)  # type: ignore[assignment]
        if cls is None:
            raise NotTcp(f"unknown link type {linktype}")
        _fallback_cache[linktype] = cls
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
