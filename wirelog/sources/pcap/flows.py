"""Packet records to WebSocket connections, pushed into a sink as they happen.

The flow engine, one packet at a time so memory stays bounded by the open
connections and their in-flight octets, never by the file size:

1. **Headers.** :mod:`wirelog.sources.pcap.linklayer` reads link, IP and TCP
   headers with ``struct``; rare link types go through scapy's dissectors
   (:func:`wirelog.sources.pcap.files.fallback_segment`).
2. **Connections.** A 4-tuple is one connection until a SYN with a new
   initial sequence number reuses it; connections are numbered in order of
   first appearance, counting every TCP connection, exactly like
   Wireshark's ``tcp.stream``, so ``--conn 3`` is ``tcp.stream == 3``.
3. **Reassembly.** :mod:`wirelog.sources.pcap.tcp` orders each direction by
   sequence number; retransmitted octets are dropped, lost ones reported
   as a gap (a :class:`~wirelog.model.MarkerKind.GAP` marker after a
   ``capture_gap`` finding), never zero-filled.
4. **Detection.** A connection is WebSocket when its first octets are an
   HTTP/1.1 GET carrying ``Upgrade: websocket`` (on any port; RFC 6455
   §4.1), or when one of its ports is in ``Options.ws_ports`` (frames from
   the first octet). The side that sent the request is the client, and
   ``tx`` is client to server. A connection that starts with a TLS
   ClientHello is decrypted first (:mod:`wirelog.sources.tls`) and the
   plaintext detected the same way. Everything else (plain HTTP, other
   TCP, connections whose start was not captured) is skipped and counted
   in the :class:`~wirelog.sources.sink.Summary`.

Each WebSocket connection goes to the :class:`~wirelog.sources.sink.Sink`
directly (``opened``, ``chunk``, ``marker``, ``finding``, ``closed``):
no list of operations per packet, and an in-order segment, the common case,
becomes one :class:`~wirelog.model.Chunk` and one call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from wirelog.builders import new_chunk
from wirelog.enums import NS
from wirelog.model import Connection, Direction, Marker, MarkerKind, Role, Violation, ViolationKind
from wirelog.protocol.handshake import looks_like_request
from wirelog.sources.options import Options
from wirelog.sources.pcap import linklayer, skipped, sniff
from wirelog.sources.pcap.files import Record, fallback_segment
from wirelog.sources.pcap.flow import CLOSED, FILTERED, IGNORED, UNDECIDED, WEBSOCKET, Flow
from wirelog.sources.pcap.httpwatch import HttpWatch
from wirelog.sources.pcap.linklayer import ACK, FIN, RST, SYN, NotTcp
from wirelog.sources.pcap.tcp import DATA, GAP, HalfStream, Piece
from wirelog.sources.share import shared
from wirelog.sources.sink import Sink, Summary
from wirelog.sources.tls.handshake import looks_like_client_hello
from wirelog.sources.tls.keylog import KeyStore, from_environment

#: Seconds of capture time after which a connection that ended (or was
#: skipped) is forgotten; a segment on its 4-tuple after that starts a new
#: connection number. Longer than TCP's TIME_WAIT (2 MSL, at most 240 s).
FORGET_AFTER = 600

_TX = Direction.TX  # module globals: ten times faster to look up than Enum members
_RX = Direction.RX


class Engine:
    """Packets in; each WebSocket connection's items pushed into ``sink``."""

    def __init__(
        self,
        path: str,
        options: Options,
        sink: Sink,
        secrets: list[bytes] | None = None,
        comments: dict[int, str] | None = None,
    ) -> None:
        self.path = path
        self.comments = comments if comments is not None else {}  # pcapng's, per packet
        # TLS secrets: the key log, and the capture's own (pcapng DSBs).
        self.keys = KeyStore(from_environment(options.keylog), secrets)
        self.sink = shared(sink, options.share)
        self.flows: dict[bytes, tuple[Flow, bool]] = {}
        self.open: dict[int, Flow] = {}
        self.next_conn = 0
        self.index = 0
        self.summary = Summary()
        self._pieces: list[Piece] = []
        self._ws_ports = frozenset(options.ws_ports)
        self._ports = frozenset(options.ports)
        self._conns = frozenset(options.conns)
        self.sweep_every = 4096
        """Look for flows to forget every this many packets (a power of 2)."""
        self.inactive: deque[Flow] = deque()
        """Flows that ended or are skipped, oldest first, to be forgotten
        once silent for :data:`FORGET_AFTER` seconds."""

    # -- packets -------------------------------------------------------------

    def packets(self, recs: Iterable[Record]) -> None:
        """Run these packets through the connections."""
        segment = linklayer.segment
        fast = linklayer.FAST_LINKTYPES
        flows = self.flows
        summary = self.summary
        pieces = self._pieces
        sweep = self.sweep_every - 1
        push = self.sink.chunk
        comments = self.comments
        control = SYN | RST | FIN
        count = 0
        try:
            for number, linktype, ts, buf, start, end in recs:
                count += 1
                try:
                    if linktype in fast:
                        key, seq, flags, payload, wire = segment(linktype, buf, start, end)
                    else:
                        key, seq, flags, payload, wire = fallback_segment(
                            linktype, bytes(buf[start:end])
                        )
                except NotTcp as why:
                    summary.not_tcp += 1
                    reason = str(why)
                    summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
                    continue
                try:
                    flow, from_a = flows[key]
                except KeyError:  # once a connection: cheaper than a get per packet
                    flow, from_a = self._new_flow(key, ts), True
                else:
                    if (
                        flags & SYN
                        and not flags & ACK
                        and (flow.syn_seq_a if from_a else flow.syn_seq_b) != seq
                    ):
                        self._close(flow)  # a new connection on the 4-tuple
                        flow, from_a = self._new_flow(key, ts), True
                flow.last = ts
                if comments and number in comments:
                    note = f"packet {number}: {comments.pop(number)}"
                    direction = self._dir(flow, from_a)
                    skipped.comment(self.sink, summary, flow, direction, self.index, note)
                if not number & sweep:
                    self._forget(ts)
                if wire and not flags & control:
                    lane = flow.lane_a if from_a else flow.lane_b
                    if lane is not None and lane[0].take_in_order(seq, wire):
                        # The next octets of a WebSocket stream, in order,
                        # nothing waiting: one chunk, straight to the sink.
                        index = self.index
                        self.index = index + 1
                        push(lane[1], new_chunk(lane[2], payload, wire, index, ts))
                        continue
                state = flow.state
                if state >= IGNORED:
                    if flags & (FIN | RST) and state != CLOSED:
                        flow.reset = flow.reset or bool(flags & RST)
                    continue
                half = flow.ha if from_a else flow.hb
                if flags & SYN:
                    if from_a:
                        flow.syn_seq_a = seq
                    else:
                        flow.syn_seq_b = seq
                    half.syn(seq)
                    if flow.client_is_a is None:
                        flow.client_is_a = from_a if not flags & ACK else not from_a
                        flow.lanes()
                    seq = (seq + 1) & 0xFFFFFFFF
                if flags & RST:
                    self._reset(flow, from_a, ts)
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
        finally:
            summary.packets += count

    def finish(self) -> None:
        """End of capture (or of what could be read of it): release every
        open connection, holes reported as gaps."""
        for flow in list(self.open.values()):
            self._close(flow)
        self.summary.keylog = self.keys.path is not None or bool(self.keys.blocks)

    # -- connection life ---------------------------------------------------

    def _new_flow(self, key: bytes, ts: int) -> Flow:
        conn = self.next_conn
        self.next_conn += 1
        self.summary.tcp_connections += 1
        back = linklayer.reverse(key)
        a, b = linklayer.endpoints(key)
        flow = Flow(conn, a, b, HalfStream(), HalfStream(), (key, back), ts)
        flow.last = ts
        self.flows[key] = (flow, True)
        self.flows[back] = (flow, False)
        sport, dport = a[1], b[1]
        if (self._conns and conn not in self._conns) or (
            self._ports and sport not in self._ports and dport not in self._ports
        ):
            flow.state = FILTERED
            self.summary.filtered += 1
            self._idle(flow)
        elif sport in self._ws_ports or dport in self._ws_ports:
            # Frames from the first octet, unless that octet starts an HTTP
            # request: then the Upgrade the capture holds is used (_watch).
            flow.ws_port = True
            # The ws port is the server's, unless a SYN says otherwise later.
            flow.client_is_a = dport in self._ws_ports
            self.open[conn] = flow
        else:
            self.open[conn] = flow
        return flow

    def _websocket(self, flow: Flow) -> None:
        flow.state = WEBSOCKET
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
            start_ts_ns=flow.ts,
            meta={} if flow.handshake else {"handshake": False},
            tls=flow.tls.info() if flow.tls is not None else None,
        )
        flow.lanes()
        self.sink.opened(flow.connection)

    def _headless(
        self, flow: Flow, from_a: bool, pieces: list[Piece], wire: list[Piece] | None
    ) -> None:
        """A ``--ws-port`` connection whose capture starts after the Upgrade:
        WebSocket frames from its first octet on (``pieces`` onwards; TLS:
        plaintext already, from the TCP segments ``wire``)."""
        flow.handshake = False
        flow.live_a = flow.live_b = True
        self._websocket(flow)
        self._pieces_out(flow, from_a, pieces, plain=flow.tls is not None, wire=wire)

    def _ignore(self, flow: Flow, http: bool, start: bytes = b"", from_a: bool = True) -> None:
        """Skip a connection, counted by what its ``start`` (the first
        octets one side sent) looks like, so that the summary can say why."""
        flow.state = IGNORED
        flow.lanes()
        flow.watch_a = flow.watch_b = None
        self.open.pop(flow.conn, None)
        self._idle(flow)
        skipped.count(self.summary, flow, http, start, from_a, self._ws_ports)
        flow.spent()

    def _close(self, flow: Flow) -> None:
        """No more packets will be attributed to this connection."""
        if flow.ended:
            return
        flow.ended = True
        if flow.state in (UNDECIDED, WEBSOCKET):
            self._flush_halves(flow)
            if flow.tls is not None:
                for from_a, rest in flow.tls.finish():  # 0-RTT data a capture ends on
                    self._pieces_out(flow, from_a, rest, plain=True)
                skipped.tls_report(
                    self.sink, self.summary, flow, self.index, flow.tls.undecrypted()
                )
            if flow.state == UNDECIDED:
                self._ignore(flow, http=flow.watch_a is not None)
            if flow.state == WEBSOCKET:
                self.summary.retransmitted += flow.ha.retransmitted + flow.hb.retransmitted
                assert flow.connection is not None
                self.sink.closed(flow.connection)
        self.open.pop(flow.conn, None)
        flow.state = CLOSED
        self._idle(flow)
        # The flow stays in the table as a tombstone so that late
        # retransmissions are not taken for a new connection; a SYN with a new
        # sequence number replaces it.
        flow.spent()

    def _idle(self, flow: Flow) -> None:
        flow.idle_since = flow.last
        self.inactive.append(flow)

    def _forget(self, now: int) -> None:
        """Drop flows silent for :data:`FORGET_AFTER` seconds after they
        ended (or were skipped), so that memory follows open connections,
        not every connection the capture ever held."""
        cutoff = now - FORGET_AFTER * NS
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

    def _flush_halves(self, flow: Flow) -> None:
        """Hand on whatever both directions still hold (data behind a gap)."""
        pieces = self._pieces
        for from_a, half in ((True, flow.ha), (False, flow.hb)):
            half.flush(pieces)
            if pieces:
                self._pieces_out(flow, from_a, pieces)
                pieces.clear()

    def _reset(self, flow: Flow, from_a: bool, ts: int) -> None:
        self._flush_halves(flow)
        if flow.state == WEBSOCKET:
            flow.reset = True
            assert flow.connection is not None
            marker = Marker(MarkerKind.RST, self._next_index(), self._dir(flow, from_a), ts)
            self.sink.marker(flow.connection, marker)
        self._close(flow)

    # -- pieces ----------------------------------------------------------------

    def _dir(self, flow: Flow, from_a: bool) -> Direction:
        return _TX if from_a == (flow.client_is_a is not False) else _RX

    def _next_index(self) -> int:
        i = self.index
        self.index = i + 1
        return i

    def _pieces_out(
        self,
        flow: Flow,
        from_a: bool,
        pieces: list[Piece],
        plain: bool = False,
        wire: list[Piece] | None = None,
    ) -> None:
        if flow.tls is not None and not plain:
            wire = pieces  # TLS: the chops are these TCP segments, not the plaintext
            pieces = flow.tls.feed(from_a, pieces)
        if not (flow.live_a if from_a else flow.live_b):
            if flow.state == UNDECIDED or flow.state == WEBSOCKET:
                self._watch(flow, from_a, pieces, wire)
            return
        direction = self._dir(flow, from_a)
        conn = flow.connection
        assert conn is not None
        sink = self.sink
        tls = flow.tls is not None
        for kind, data, length, ts, _ in wire or ():
            if kind == DATA:
                i = self._next_index()
                sink.marker(conn, Marker(MarkerKind.SEGMENT, i, direction, ts, length, raw=data))
        for kind, data, length, ts, number in pieces:
            index = self._next_index()
            if kind == DATA and tls:  # a record's plaintext: ``number`` is the record's
                sink.chunk(conn, new_chunk(direction, data, length, index, ts, number))
            elif kind == DATA:
                sink.chunk(conn, new_chunk(direction, data, length, index, ts))
            elif kind == GAP:
                self.summary.gaps += 1
                detail = (
                    f"{length} octets missing from the capture (lost before packet "
                    f"{number}); not zero-filled"
                )
                sink.finding(
                    conn,
                    Violation(ViolationKind.CAPTURE_GAP, detail, direction, None, None, index),
                )
                sink.marker(conn, Marker(MarkerKind.GAP, index, direction, ts, length))
            else:
                sink.marker(conn, Marker(MarkerKind.FIN, index, direction, ts))

    def _watch(
        self, flow: Flow, from_a: bool, pieces: list[Piece], wire: list[Piece] | None = None
    ) -> None:
        """Walk HTTP until the Upgrade: only what follows it is WebSocket
        (TLS: ``wire`` the TCP segments whose records gave ``pieces``)."""
        for n, piece in enumerate(pieces):
            watch = flow.watch_a if from_a else flow.watch_b
            if watch is None:
                if flow.watch_a is not None or piece[0] != DATA:
                    continue  # the other side of an HTTP connection, or nothing yet
                if not looks_like_request(piece[1]):
                    if flow.tls is None and looks_like_client_hello(piece[1]):
                        # Here, not at the top: cryptography takes 50 ms to
                        # load, which a capture without TLS need not pay.
                        from wirelog.sources.tls.stream import TlsStream

                        def report(line: str | None, flow: Flow = flow) -> None:
                            skipped.tls_report(self.sink, self.summary, flow, self.index, line)

                        flow.tls = TlsStream(self.keys, from_a, report)
                        self._pieces_out(flow, from_a, pieces[n:])
                        return
                    if flow.ws_port and (flow.tls is not None or not sniff.tls_records(piece[1])):
                        # Frames from here (the plaintext, inside TLS); never ciphertext.
                        self._headless(flow, from_a, pieces[n:], wire)
                    else:
                        self._ignore(flow, http=False, start=piece[1], from_a=from_a)
                    return
                # The first to speak HTTP is the client.
                request, response = HttpWatch(response=False), HttpWatch(response=True)
                flow.watch_a, flow.watch_b = (request, response) if from_a else (response, request)
                watch = request
            released = watch.feed(piece)
            if watch.failed and not watch.response and flow.state == UNDECIDED:
                self._ignore(flow, http=watch.count > 0)
                return
            if released is None and not (watch.failed and watch.response):
                continue
            if released is None and flow.state == UNDECIDED:
                # The server side is lost before any Upgrade: it has no
                # WebSocket octets yet (found by the fuzz campaign).
                return
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
            flow.lanes()
            rest = (released or []) + pieces[n + 1 :]
            if rest or wire:
                self._pieces_out(flow, from_a, rest, plain=True, wire=wire)
            return
