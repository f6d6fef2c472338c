"""The one interface every source pushes into, and what a source reports at its end.

A source (a capture file today; later TLS, HAR, mitmproxy, live capture)
walks its input once and calls a :class:`Sink` per connection: ``opened``,
then ``chunk`` / ``marker`` / ``finding`` in recorded order, then
``closed``; ``done`` ends the input with its :class:`Summary`. Autobahn
reports, parsed whole into a :class:`~wirelog.model.Recording`, are replayed
into the same interface (:func:`wirelog.pipeline.replay`), so that what
consumes a sink never asks where the items came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from wirelog.model import Chunk, Connection, Marker, Violation, ViolationKind


class Sink(Protocol):
    """Receives one input's connections as they are recorded.

    Connections interleave (a capture holds many at once); each one's calls
    come in its recorded order, an item's ``index`` increasing. A connection
    object is complete when ``opened`` is called only for inputs read whole
    (Autobahn); a capture's connections carry no chunks, they stream past.
    """

    def opened(self, conn: Connection) -> None:
        """A connection starts; nothing of it has been pushed yet."""

    def chunk(self, conn: Connection, chunk: Chunk) -> None:
        """Octets one side sent (``chunk.length`` > ``len(chunk.data)``: a cut tail)."""

    def marker(self, conn: Connection, marker: Marker) -> None:
        """A fact between chunks: a capture gap, FIN, RST, a timer, a log switch."""

    def finding(self, conn: Connection, finding: Violation) -> None:
        """Something the source noticed (a capture gap's octet count, a log oddity)."""

    def closed(self, conn: Connection) -> None:
        """Nothing more of this connection will be pushed."""

    def done(self, summary: Summary) -> None:
        """The input ended (or failed part-way: then the error follows)."""


@dataclass(slots=True)
class Summary:
    """What an input held besides its WebSocket connections' items.

    Captures fill every count; a replayed Autobahn recording only
    ``websocket`` (its connections)."""

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
    """Connections left out by ``Options.ports`` / ``Options.conns``."""
    gaps: int = 0
    retransmitted: int = 0
    """Octets received again (TCP retransmissions), dropped."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Why packets were not TCP, counted per reason."""
    tls: list[str] = field(default_factory=list)
    """What could not be decrypted outside any WebSocket connection (a TLS
    session without key: one line each)."""

    def findings(self) -> list[Violation]:
        """Every finding a recording carries from its summary."""
        found = self.finding()
        tls = [Violation(ViolationKind.TLS_UNDECRYPTED, line) for line in self.tls]
        return ([found] if found is not None else []) + tls

    def finding(self) -> Violation | None:
        """The one ``ignored_traffic`` finding a recording carries, if any."""
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
