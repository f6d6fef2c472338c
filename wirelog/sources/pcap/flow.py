"""One TCP connection as the flow engine (:mod:`wirelog.sources.pcap.flows`) tracks it.

Apart from the engine so that the engine module holds only what packets do
to flows; the states are small ints because the engine compares them per
packet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wirelog.model import Connection, Direction
from wirelog.sources.pcap.httpwatch import HttpWatch
from wirelog.sources.pcap.tcp import HalfStream

if TYPE_CHECKING:  # imported by the engine once a flow is TLS (cryptography is slow to load)
    from wirelog.sources.tls.stream import TlsStream

SPENT = HalfStream()
"""The halves of every flow that ended or is skipped (:meth:`Flow.spent`)."""

UNDECIDED = 0
WEBSOCKET = 1
IGNORED = 2
FILTERED = 3
CLOSED = 4


@dataclass(slots=True)
class Flow:
    """One TCP connection as the engine tracks it."""

    conn: int
    a: tuple[bytes, int]
    """The endpoint that sent the first packet seen."""
    b: tuple[bytes, int]
    ha: HalfStream
    hb: HalfStream
    keys: tuple[bytes, bytes]
    """Its two keys in the engine's table (:data:`~wirelog.sources.pcap.linklayer.Segment`)."""
    ts: int
    state: int = UNDECIDED
    client_is_a: bool | None = None
    syn_seq_a: int | None = None
    syn_seq_b: int | None = None
    handshake: bool = True
    watch_a: HttpWatch | None = None
    watch_b: HttpWatch | None = None
    live_a: bool = False
    """Pieces from ``a`` are WebSocket octets (past any HTTP before the Upgrade)."""
    live_b: bool = False
    ws_port: bool = False
    """On a ``--ws-port`` port: frames without a handshake, unless it starts with one."""
    connection: Connection | None = None
    lane_a: tuple[HalfStream, Connection, Direction] | None = None
    """How ``a``'s in-order octets go as chunks straight from the packet
    (its half, the connection, the direction): set by :meth:`lanes` while
    the flow is WebSocket, ``a`` live and not TLS, None otherwise."""
    lane_b: tuple[HalfStream, Connection, Direction] | None = None
    ended: bool = False
    reset: bool = False
    last: int = 0
    """Capture time of the latest packet."""
    idle_since: int = 0
    tls: TlsStream | None = None
    """A TLS connection: its pieces are decrypted before anything else sees them."""

    def spent(self) -> None:
        """The connection ended or is skipped: keep what its tombstone needs
        (keys, times, SYN sequence numbers, state) and let go of its
        streams, TLS state and connection object. Later packets on its
        4-tuple stop at the state check; the halves become :data:`SPENT`,
        which nothing writes to. A capture of many short connections keeps
        each for :data:`~wirelog.sources.pcap.flows.FORGET_AFTER` seconds of
        capture time, so its size is per connection, not per packet."""
        self.ha = self.hb = SPENT
        self.connection = None
        self.tls = None
        self.watch_a = self.watch_b = None
        self.lane_a = self.lane_b = None

    def lanes(self) -> None:
        """Set :attr:`lane_a` and :attr:`lane_b` from what they depend on;
        called wherever the state, a side's liveness or TLS changes, so the
        engine asks one attribute per packet instead of four."""
        conn = self.connection
        if self.state != WEBSOCKET or self.tls is not None or conn is None:
            self.lane_a = self.lane_b = None
            return
        a_tx = self.client_is_a is not False
        tx, rx = (Direction.TX, Direction.RX) if a_tx else (Direction.RX, Direction.TX)
        self.lane_a = (self.ha, conn, tx) if self.live_a else None
        self.lane_b = (self.hb, conn, rx) if self.live_b else None
