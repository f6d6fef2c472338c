"""pcap and pcapng captures: packets -> TCP streams -> WebSocket connections.

The pipeline, one packet at a time so memory stays bounded by the open
connections and their in-flight frames, never by the file size:

1. **Records.** Classic pcap (plain or gzip) is read by a lean ``struct``
   reader that takes every record whole, whatever the file's snap length
   says (scapy's readers cut records at 65535 octets, and loopback captures
   hold 65549-octet frames). pcapng, with its per-interface link types and
   time resolutions, is read by scapy's ``RawPcapNgReader``. Either way a
   file that ends inside a record, or whose record header is nonsense,
   raises :class:`~wirelog.errors.TruncatedInputError` /
   :class:`~wirelog.errors.InputError` naming the packet, after everything
   before it has been delivered.
2. **Headers.** :mod:`wirelog.sources.pcap.linklayer` reads link, IP and TCP
   headers with ``struct``; rare link types go through scapy's dissectors.
3. **Connections.** A 4-tuple is one connection until a SYN with a new
   initial sequence number reuses it; connections are numbered in order of
   first appearance, counting every TCP connection, exactly like
   Wireshark's ``tcp.stream``, so ``--conn 3`` is ``tcp.stream == 3``.
4. **Reassembly.** :mod:`wirelog.sources.pcap.tcp` orders each direction by
   sequence number; retransmitted octets are dropped, lost ones reported
   as a gap (a :class:`~wirelog.model.MarkerKind.GAP` marker and a
   ``capture_gap`` finding), never zero-filled.
5. **Detection.** A connection is WebSocket when its first octets are an
   HTTP/1.1 GET carrying ``Upgrade: websocket`` (on any port), or when one of
   its ports is in ``Options.ws_ports`` (frames from the first octet). The
   side that sent the request is the client, and ``tx`` is client to server.
   Everything else (plain HTTP, TLS, connections whose start was not
   captured) is skipped and counted in one ``ignored_traffic`` finding.

:func:`stream` feeds each WebSocket connection's chunks to a
:class:`~wirelog.protocol.connection.ConnectionDecoder` as they come; :func:`read`
materializes the chunks and markers as a :class:`~wirelog.model.Recording`.
This is the only module that imports scapy, and only for pcapng and rare
link types.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, TypeVar

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import (
    Chunk,
    Connection,
    Direction,
    Frame,
    Marker,
    MarkerKind,
    Recording,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.protocol.events import ConnectionEnd, StreamItem
from wirelog.sources.detect import detect
from wirelog.sources.options import Options
from wirelog.sources.pcap import linklayer
from wirelog.sources.pcap.httpwatch import HttpWatch, looks_like_request
from wirelog.sources.pcap.linklayer import ACK, FIN, RST, SYN, NotTcp
from wirelog.sources.pcap.tcp import DATA, GAP, HalfStream, Piece

if TYPE_CHECKING:
    from wirelog.protocol.connection import ConnectionDecoder

T = TypeVar("T")

log = logging.getLogger(__name__)

_PCAP_HEADER = struct.Struct("<IHHiIII")
_READ_SIZE = 4 * 1024 * 1024
#: A record larger than this is a corrupt header, not a packet (the largest
#: snap length any capture tool writes is 256 KiB; GRO/TSO captures on Linux
#: loopback can reach 64 KiB + headers).
MAX_RECORD = 16 * 1024 * 1024

#: One captured packet: (1-based number, link type, timestamp, buffer,
#: start, end) -- the record is ``buffer[start:end]``, never copied.
Record = tuple[int, int, float, bytes, int, int]


# -- 1. records ------------------------------------------------------------------


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

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = 1 << 40
        parts = [self.pending] if self.pending else []
        have = len(self.pending)
        self.pending = b""
        while have < n:
            src = self.z.unconsumed_tail
            if not src:
                if self.z.eof and self.z.unused_data:  # concatenated gzip members
                    src = self.z.unused_data
                    self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    src = self.raw.read(1 << 20)
                    if not src:
                        if not self.z.eof:
                            self.truncated = True
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


# -- 2. headers (the rare link types) ------------------------------------------


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


# -- 3-5. connections ------------------------------------------------------------

#: Seconds of capture time after which a connection that ended (or was
#: skipped) is forgotten; a segment on its 4-tuple after that starts a new
#: connection number. Longer than TCP's TIME_WAIT (2 MSL, at most 240 s).
FORGET_AFTER = 600.0

_UNDECIDED = 0
_WEBSOCKET = 1
_IGNORED = 2
_FILTERED = 3
_CLOSED = 4


_TX = Direction.TX  # module globals: ten times faster to look up than Enum members
_RX = Direction.RX


class _End:
    """Sentinel op: the connection is over."""


END = _End()
Op = Chunk | Marker | Violation | _End
Sink = Callable[["_Flow", Direction, bytes, int, "float | None", int], None]


@dataclass(slots=True)
class _Flow:
    conn: int
    a: tuple[bytes, int]
    """The endpoint that sent the first packet seen."""
    b: tuple[bytes, int]
    ha: HalfStream
    hb: HalfStream
    keys: tuple[tuple[bytes, int, bytes, int], ...]
    ts: float
    state: int = _UNDECIDED
    client_is_a: bool | None = None
    syn_seq_a: int | None = None
    syn_seq_b: int | None = None
    handshake: bool = True
    watch_a: HttpWatch | None = None
    watch_b: HttpWatch | None = None
    live_a: bool = False
    """Pieces from ``a`` are WebSocket octets (past any HTTP before the Upgrade)."""
    live_b: bool = False
    connection: Connection | None = None
    ended: bool = False
    reset: bool = False
    packets: int = 0
    last: float = 0.0
    """Capture time of the latest packet."""
    idle_since: float = 0.0


@dataclass(slots=True)
class Summary:
    """What a capture held besides WebSocket connections."""

    packets: int = 0
    tcp_connections: int = 0
    websocket: int = 0
    not_tcp: int = 0
    """Packets carrying no usable TCP segment (ARP, UDP, IP fragments...)."""
    http: int = 0
    """HTTP connections that never asked to upgrade."""
    other: int = 0
    """TCP connections that are not HTTP, or whose start was not captured."""
    filtered: int = 0
    gaps: int = 0
    retransmitted: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def finding(self) -> Violation | None:
        if not (self.http or self.other or self.not_tcp):
            return None
        parts = []
        if self.http:
            parts.append(f"{self.http} plain HTTP connection(s)")
        if self.other:
            parts.append(
                f"{self.other} other TCP connection(s) (not HTTP, or started before the "
                "capture: see --ws-port)"
            )
        if self.not_tcp:
            parts.append(f"{self.not_tcp} packet(s) without a usable TCP segment")
        return Violation(ViolationKind.IGNORED_TRAFFIC, "ignored: " + "; ".join(parts))


class Engine:
    """Packets in, per-connection ops out (chunks, markers, findings, ends)."""

    def __init__(self, path: str, options: Options) -> None:
        self.path = path
        self.options = options
        self.flows: dict[tuple[bytes, int, bytes, int], tuple[_Flow, bool]] = {}
        self.open: dict[int, _Flow] = {}
        self.next_conn = 0
        self.index = 0
        self.summary = Summary()
        self.out: list[tuple[_Flow, Op]] = []
        self._pieces: list[Piece] = []
        self._ws_ports = frozenset(options.ws_ports)
        self._ports = frozenset(options.ports)
        self._conns = frozenset(options.conns)
        self.sink: Sink | None = None
        """Where in-order WebSocket octets go at once, instead of a
        :class:`~wirelog.model.Chunk` op, whenever no op is waiting in
        :attr:`out` (so the order of everything is kept): the fast lane
        of :func:`decode_frames`. Called as ``sink(flow, direction, data,
        length, ts, index)``."""
        self.sweep_every = 4096
        """Look for flows to forget every this many packets (a power of 2)."""
        self.inactive: deque[_Flow] = deque()
        """Flows that ended or are skipped, oldest first, to be forgotten
        once silent for :data:`FORGET_AFTER` seconds."""

    # -- packets -------------------------------------------------------------

    def packets(self, recs: Iterator[Record]) -> Iterator[tuple[_Flow, Op]]:
        """Run the capture; yields ops as packets release them."""
        out = self.out
        segment = linklayer.segment
        fast = linklayer.FAST_LINKTYPES
        flows = self.flows
        summary = self.summary
        pieces = self._pieces
        sweep = self.sweep_every - 1
        sink = self.sink
        for number, linktype, ts, buf, start, end in recs:
            if out:
                yield from out
                out.clear()
            summary.packets += 1
            try:
                if linktype in fast:
                    seg = segment(linktype, buf, start, end)
                else:
                    seg = fallback_segment(linktype, bytes(buf[start:end]))
            except NotTcp as why:
                summary.not_tcp += 1
                reason = str(why)
                summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
                continue
            src, sport, dst, dport, seq, _ack, flags, payload, wire = seg
            found = flows.get((src, sport, dst, dport))
            if found is None or (
                flags & SYN
                and not flags & ACK
                and (found[0].syn_seq_a if found[1] else found[0].syn_seq_b) != seq
            ):
                if found is not None:
                    self._close(found[0])
                flow = self._new_flow(src, sport, dst, dport, ts)
                from_a = True
            else:
                flow, from_a = found
            flow.last = ts
            if not number & sweep:
                self._forget(ts)
            state = flow.state
            if state >= _IGNORED:
                if flags & (FIN | RST) and state != _CLOSED:
                    flow.reset = flow.reset or bool(flags & RST)
                continue
            flow.packets += 1
            half = flow.ha if from_a else flow.hb
            if (
                sink is not None
                and wire
                and not flags & (SYN | RST | FIN)
                and not out
                and state == _WEBSOCKET
                and (flow.live_a if from_a else flow.live_b)
                and half.take_in_order(seq, wire, ts, number)
            ):
                # The fast lane: the next octets of a WebSocket stream, in
                # order, nothing waiting: straight to the frame decoder.
                index = self.index
                self.index = index + 1
                tx = from_a == (flow.client_is_a is not False)
                sink(flow, _TX if tx else _RX, payload, wire, ts, index)
                continue
            if flags & SYN:
                if from_a:
                    flow.syn_seq_a = seq
                else:
                    flow.syn_seq_b = seq
                half.syn(seq)
                if flow.client_is_a is None:
                    flow.client_is_a = from_a if not flags & ACK else not from_a
                seq = (seq + 1) & 0xFFFFFFFF
            if flags & RST:
                self._reset(flow, from_a, ts, number)
                continue
            if wire or flags & FIN:
                half.segment(seq, payload, wire, bool(flags & FIN), ts, number, pieces)
                if pieces:
                    self._pieces_out(flow, from_a, pieces)
                    pieces.clear()
                    if (
                        flow.ha.fin_at is not None
                        and flow.hb.fin_at is not None
                        and flow.ha.finished
                        and flow.hb.finished
                    ):
                        self._close(flow)
        if out:
            yield from out
            out.clear()

    def finish(self) -> Iterator[tuple[_Flow, Op]]:
        """End of capture (or of what could be read of it): release every
        open connection, holes reported as gaps."""
        for flow in list(self.open.values()):
            self._close(flow)
            if self.out:
                yield from self.out
                self.out.clear()

    # -- connection life ---------------------------------------------------

    def _new_flow(self, src: bytes, sport: int, dst: bytes, dport: int, ts: float) -> _Flow:
        conn = self.next_conn
        self.next_conn += 1
        self.summary.tcp_connections += 1
        k1 = (src, sport, dst, dport)
        k2 = (dst, dport, src, sport)
        flow = _Flow(conn, (src, sport), (dst, dport), HalfStream(), HalfStream(), (k1, k2), ts)
        flow.last = ts
        self.flows[k1] = (flow, True)
        self.flows[k2] = (flow, False)
        if (self._conns and conn not in self._conns) or (
            self._ports and sport not in self._ports and dport not in self._ports
        ):
            flow.state = _FILTERED
            self.summary.filtered += 1
            self._idle(flow)
        elif sport in self._ws_ports or dport in self._ws_ports:
            flow.handshake = False
            # The ws port is the server's, unless a SYN says otherwise later.
            flow.client_is_a = dport in self._ws_ports
            flow.live_a = flow.live_b = True
            self._websocket(flow)
        else:
            self.open[conn] = flow
        return flow

    def _websocket(self, flow: _Flow) -> None:
        flow.state = _WEBSOCKET
        self.open[flow.conn] = flow
        self.summary.websocket += 1
        a = linklayer.format_endpoint(*flow.a)
        b = linklayer.format_endpoint(*flow.b)
        client, server = (a, b) if flow.client_is_a is not False else (b, a)
        flow.connection = Connection(
            conn=flow.conn,
            source=self.path,
            recorder=Role.CLIENT,
            client=client,
            server=server,
            start_ts=flow.ts,
            meta={} if flow.handshake else {"handshake": False},
        )

    def _ignore(self, flow: _Flow, http: bool) -> None:
        flow.state = _IGNORED
        flow.watch_a = flow.watch_b = None
        self.open.pop(flow.conn, None)
        self._idle(flow)
        if http:
            self.summary.http += 1
        else:
            self.summary.other += 1

    def _close(self, flow: _Flow) -> None:
        """No more packets will be attributed to this connection."""
        if flow.ended:
            return
        flow.ended = True
        if flow.state in (_UNDECIDED, _WEBSOCKET):
            self._flush_halves(flow)
            if flow.state == _UNDECIDED:
                self._ignore(flow, http=flow.watch_a is not None)
            if flow.state == _WEBSOCKET:
                self.summary.retransmitted += flow.ha.retransmitted + flow.hb.retransmitted
                self.out.append((flow, END))
        self.open.pop(flow.conn, None)
        flow.state = _CLOSED
        flow.watch_a = flow.watch_b = None
        self._idle(flow)
        # The flow stays in the table as a tombstone so that late
        # retransmissions are not taken for a new connection; a SYN with a new
        # sequence number replaces it.

    def _idle(self, flow: _Flow) -> None:
        flow.idle_since = flow.last
        self.inactive.append(flow)

    def _forget(self, now: float) -> None:
        """Drop flows silent for :data:`FORGET_AFTER` seconds after they
        ended (or were skipped), so that memory follows open connections,
        not every connection the capture ever held."""
        cutoff = now - FORGET_AFTER
        inactive = self.inactive
        flows = self.flows
        while inactive and inactive[0].idle_since < cutoff:
            flow = inactive.popleft()
            if flow.last >= cutoff:
                flow.idle_since = flow.last
                inactive.append(flow)
                continue
            for k in flow.keys:
                entry = flows.get(k)
                if entry is not None and entry[0] is flow:
                    del flows[k]

    def _flush_halves(self, flow: _Flow) -> None:
        """Hand on whatever both directions still hold (data behind a gap)."""
        pieces = self._pieces
        for from_a, half in ((True, flow.ha), (False, flow.hb)):
            half.flush(pieces)
            if pieces:
                self._pieces_out(flow, from_a, pieces)
                pieces.clear()

    def _reset(self, flow: _Flow, from_a: bool, ts: float, number: int) -> None:
        self._flush_halves(flow)
        if flow.state == _WEBSOCKET:
            flow.reset = True
            self.out.append(
                (flow, Marker(MarkerKind.RST, self._next_index(), self._dir(flow, from_a), ts))
            )
        self._close(flow)

    # -- pieces ----------------------------------------------------------------

    def _dir(self, flow: _Flow, from_a: bool) -> Direction:
        return Direction.TX if from_a == (flow.client_is_a is not False) else Direction.RX

    def _next_index(self) -> int:
        i = self.index
        self.index = i + 1
        return i

    def _pieces_out(self, flow: _Flow, from_a: bool, pieces: list[Piece]) -> None:
        if not (flow.live_a if from_a else flow.live_b):
            if flow.state == _UNDECIDED or flow.state == _WEBSOCKET:
                self._watch(flow, from_a, pieces)
            return
        direction = self._dir(flow, from_a)
        out = self.out
        sink = self.sink
        for kind, data, length, ts, number in pieces:
            index = self.index
            self.index = index + 1
            if kind == DATA:
                if sink is not None and not out and flow.state == _WEBSOCKET:
                    sink(flow, direction, data, length, ts, index)
                else:
                    out.append((flow, Chunk(direction, data, length, index, ts)))
            elif kind == GAP:
                self.summary.gaps += 1
                out.append(
                    (
                        flow,
                        Violation(
                            ViolationKind.CAPTURE_GAP,
                            f"{length} octets missing from the capture (lost before packet "
                            f"{number}); not zero-filled",
                            direction,
                            None,
                            None,
                            index,
                        ),
                    )
                )
                out.append((flow, Marker(MarkerKind.GAP, index, direction, ts, length)))
            else:
                out.append((flow, Marker(MarkerKind.FIN, index, direction, ts)))

    def _watch(self, flow: _Flow, from_a: bool, pieces: list[Piece]) -> None:
        """Walk HTTP until the Upgrade: only what follows it is WebSocket."""
        for n, piece in enumerate(pieces):
            watch = flow.watch_a if from_a else flow.watch_b
            if watch is None:
                if flow.watch_a is not None or piece[0] != DATA:
                    continue  # the other side of an HTTP connection, or nothing yet
                if not looks_like_request(piece[1]):
                    self._ignore(flow, http=False)
                    return
                # The first to speak HTTP is the client.
                request, response = HttpWatch(response=False), HttpWatch(response=True)
                flow.watch_a, flow.watch_b = (request, response) if from_a else (response, request)
                watch = request
            released = watch.feed(piece)
            if watch.failed and not watch.response and flow.state == _UNDECIDED:
                self._ignore(flow, http=watch.count > 0)
                return
            if released is None and not (watch.failed and watch.response):
                continue
            if not watch.response:
                assert released is not None
                flow.client_is_a = from_a
                other = flow.watch_b if from_a else flow.watch_a
                assert other is not None
                other.target = watch.count
                self._websocket(flow)
            # From here on this side's pieces are WebSocket octets (a server
            # side the watch lost track of goes live where it gave up).
            if from_a:
                flow.live_a = True
            else:
                flow.live_b = True
            rest = (released or []) + pieces[n + 1 :]
            if rest:
                self._pieces_out(flow, from_a, rest)
            return


# -- the two public entry points ------------------------------------------------


def _ops(path: str, options: Options, engine: Engine) -> Iterator[tuple[_Flow, Op]]:
    try:
        yield from engine.packets(records(path))
    except InputError:
        yield from engine.finish()
        raise
    yield from engine.finish()


def stream(path: str, options: Options) -> Iterator[tuple[Connection, StreamItem]]:
    """Decode a capture as it is read; see :func:`wirelog.pipeline.stream`."""
    from wirelog.protocol.connection import ConnectionDecoder

    engine = Engine(path, options)
    decoders: dict[int, ConnectionDecoder] = {}
    keep = options.keep_data
    # Callers that list only chops (or only frames) may say so, and the
    # layers they do not read are not run: ``extra={"frames": False}`` or
    # ``extra={"messages": False}``.
    frames = options.extra.get("frames", True) is not False
    messages = frames and options.extra.get("messages", True) is not False
    try:
        for flow, op in _ops(path, options, engine):
            conn = flow.connection
            assert conn is not None
            if not frames:
                if type(op) is Chunk or type(op) is Violation:
                    yield conn, op
                elif op is END:
                    yield conn, ConnectionEnd()
                continue
            dec = decoders.get(flow.conn)
            if dec is None:
                dec = decoders[flow.conn] = ConnectionDecoder(
                    Role.CLIENT, handshake=flow.handshake, keep_data=keep, messages=messages
                )
            if type(op) is Chunk:
                yield conn, op
                for ev in dec.feed(
                    op.direction, op.data, length=op.length, ts=op.ts, index=op.index
                ):
                    yield conn, ev
            elif type(op) is Violation:
                yield conn, op
            elif type(op) is Marker:
                assert op.direction is not None
                if op.kind is MarkerKind.GAP:
                    events = dec.gap(op.direction, int(op.value or 0), ts=op.ts, index=op.index)
                elif op.kind is MarkerKind.FIN:
                    events = dec.finish(op.direction)
                else:
                    events = dec.finish()
                for ev in events:
                    yield conn, ev
            else:
                for ev in dec.finish():
                    yield conn, ev
                del decoders[flow.conn]
                yield conn, ConnectionEnd()
    finally:
        _report(engine, options)


def decode_frames(
    path: str,
    options: Options,
    line: Callable[[Connection, Frame], T],
    deliver: Callable[[list[T]], object],
    batch: int = 512,
) -> None:
    """Only the frames of a capture, each turned into ``line(connection,
    frame)``, in :func:`stream`'s order, handed to ``deliver`` in lists of
    about ``batch``.

    The fast lane of ``decode --format jsonl``: no message layer, no Chunk
    objects, no generator layer per frame, and in-order segments go straight
    from the packet loop to the frame decoder (see :attr:`Engine.sink`).
    Memory stays flat: a batch is delivered as soon as it is full. After a
    read error, what came before it is delivered, then the error is raised.
    """
    from wirelog.protocol.connection import ConnectionDecoder

    engine = Engine(path, options)
    decoders: dict[int, ConnectionDecoder] = {}
    out: list[T] = []

    def keep(conn: Connection, events: list[Any]) -> None:
        nonlocal out
        for ev in events:
            if type(ev) is Frame:
                out.append(line(conn, ev))
        if len(out) >= batch:
            deliver(out)
            out = []

    def decoder(flow: _Flow) -> ConnectionDecoder:
        dec = decoders.get(flow.conn)
        if dec is None:
            dec = decoders[flow.conn] = ConnectionDecoder(
                Role.CLIENT, handshake=flow.handshake, messages=False
            )
        return dec

    def sink(
        flow: _Flow, direction: Direction, data: bytes, length: int, ts: float | None, i: int
    ) -> None:
        # Once per segment: keep() is inlined.
        nonlocal out
        dec = decoders.get(flow.conn) or decoder(flow)
        events = dec.feed(direction, data, length=length, ts=ts, index=i)
        if events:
            conn = flow.connection
            assert conn is not None
            for ev in events:
                if type(ev) is Frame:
                    out.append(line(conn, ev))
            if len(out) >= batch:
                deliver(out)
                out = []

    engine.sink = sink
    try:
        try:
            for flow, op in _ops(path, options, engine):
                conn = flow.connection
                assert conn is not None
                if type(op) is Chunk:
                    sink(flow, op.direction, op.data, op.length, op.ts, op.index)
                elif type(op) is Marker:
                    dec = decoder(flow)
                    assert op.direction is not None
                    if op.kind is MarkerKind.GAP:
                        gap = dec.gap(op.direction, int(op.value or 0), ts=op.ts, index=op.index)
                        keep(conn, gap)
                    elif op.kind is MarkerKind.FIN:
                        keep(conn, dec.finish(op.direction))
                    else:
                        keep(conn, dec.finish())
                elif op is END:
                    keep(conn, decoder(flow).finish())
                    del decoders[flow.conn]
        except InputError:
            # Everything before a read error is delivered, then the error.
            if out:
                deliver(out)
            raise
        if out:
            deliver(out)
    finally:
        _report(engine, options)


def read(path: str, options: Options) -> Recording:
    """Materialize a capture's WebSocket connections (chunks and markers)."""
    engine = Engine(path, options)
    recording = Recording(source=path, kind=_kind(path))
    seen: set[int] = set()

    def collect(flow: _Flow, op: Op) -> None:
        conn = flow.connection
        assert conn is not None
        if flow.conn not in seen:
            seen.add(flow.conn)
            recording.connections.append(conn)
        if type(op) is Chunk:
            conn.chunks.append(op)
        elif type(op) is Marker:
            conn.markers.append(op)
        elif type(op) is Violation:
            conn.findings.append(op)

    try:
        for flow, op in _ops(path, options, engine):
            collect(flow, op)
    except InputError as exc:
        _finish_recording(recording, engine)
        exc.partial = recording
        raise
    _finish_recording(recording, engine)
    _report(engine, options)
    return recording


def _finish_recording(recording: Recording, engine: Engine) -> None:
    recording.connections.sort(key=lambda c: c.conn)
    found = engine.summary.finding()
    if found is not None:
        recording.findings.append(found)


def _kind(path: str) -> str:
    return detect(path)


def _report(engine: Engine, options: Options) -> None:
    """Hand the counts to a caller that asked (``Options.extra["summary"]``)."""
    target = options.extra.get("summary")
    if isinstance(target, dict):
        s = engine.summary
        target.update(
            packets=s.packets,
            tcp_connections=s.tcp_connections,
            websocket=s.websocket,
            http=s.http,
            other=s.other,
            not_tcp=s.not_tcp,
            filtered=s.filtered,
            gaps=s.gaps,
            retransmitted=s.retransmitted,
            reasons=dict(s.reasons),
        )
    found = engine.summary.finding()
    if found is not None:
        log.info("%s: %s", engine.path, found.detail)
