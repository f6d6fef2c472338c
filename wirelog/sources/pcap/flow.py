"""One TCP connection as the flow engine (:mod:`wirelog.sources.pcap.flows`) tracks it.

Apart from the engine so that the engine module holds only what packets do
to flows; the states are small ints because the engine compares them per
packet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wirelog.model import Connection
from wirelog.sources.pcap.httpwatch import HttpWatch
from wirelog.sources.pcap.tcp import HalfStream

if TYPE_CHECKING:  # imported by the engine once a flow is TLS (cryptography is slow to load)
    from wirelog.sources.tls.stream import TlsStream

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
    keys: tuple[tuple[bytes, int, bytes, int], ...]
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
    ended: bool = False
    reset: bool = False
    packets: int = 0
    last: int = 0
    """Capture time of the latest packet."""
    idle_since: int = 0
    tls: TlsStream | None = None
    """A TLS connection: its pieces are decrypted before anything else sees them."""
