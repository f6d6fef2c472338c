"""The one interface every source pushes into, and what a source reports at its end.

A source (a capture file or a live capture, a HAR, a mitmproxy flow file;
later TLS) walks its input once and calls a :class:`Sink` per connection: ``opened``,
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
    ``websocket`` (its connections). When nothing decodes, :meth:`nothing`
    says why in one line (issue 9: a wss capture, an HTTP-only capture and
    one started after the handshake must not print nothing and exit 0)."""

    packets: int = 0
    tcp_connections: int = 0
    websocket: int = 0
    not_tcp: int = 0
    """Packets carrying no usable TCP segment (ARP, UDP, IP fragments...)."""
    http: int = 0
    """HTTP connections that never asked to upgrade."""
    other: int = 0
    """TCP connections that are none of the kinds below, or whose start was not captured."""
    tls: dict[int, int] = field(default_factory=dict)
    """Connections that start with a TLS ClientHello, per server port."""
    tls_late: dict[int, int] = field(default_factory=dict)
    """TLS connections captured after their handshake (records, no
    ClientHello: no key can be found for them), per server port."""
    decrypted: dict[str, int] = field(default_factory=dict)
    """TLS connections decrypted to something other than WebSocket, per
    what they carried (``HTTP/2``, ``plain HTTP``, ...)."""
    keylog: bool = False
    """Keys were given (a key log or the capture's own secrets)."""
    framing: dict[int, int] = field(default_factory=dict)
    """Connections whose first octets are WebSocket frames without a
    handshake (captured after it), per likely server port."""
    filtered: int = 0
    """Connections left out by ``Options.ports`` / ``Options.conns``."""
    gaps: int = 0
    retransmitted: int = 0
    """Octets received again (TCP retransmissions), dropped."""
    reasons: dict[str, int] = field(default_factory=dict)
    """Why packets were not TCP, counted per reason."""
    undecrypted: list[str] = field(default_factory=list)
    """What could not be decrypted outside any WebSocket connection (a TLS
    session without key: one line each)."""
    comments: list[str] = field(default_factory=list)
    """A pcapng's comments outside any WebSocket connection: the section's,
    the interfaces', and those of packets of no connection."""

    def findings(self) -> list[Violation]:
        """Every finding a recording carries from its summary."""
        tls = [Violation(ViolationKind.TLS_UNDECRYPTED, line) for line in self.undecrypted]
        return self.listed() + tls

    def listed(self) -> list[Violation]:
        """The findings about the input as a whole that ``check`` and
        ``violations()`` list: ``ignored_traffic``, then the capture's comments."""
        found = self.finding()
        said = [Violation(ViolationKind.CAPTURE_COMMENT, line) for line in self.comments]
        return ([found] if found is not None else []) + said

    def add(self, other: Summary) -> None:
        """Count ``other``'s input too (the files of a folder)."""
        for name in ("packets", "tcp_connections", "websocket", "not_tcp", "http", "other",
                     "filtered", "gaps", "retransmitted"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for port, n in other.tls.items():
            self.tls[port] = self.tls.get(port, 0) + n
        for counts, more in ((self.framing, other.framing), (self.tls_late, other.tls_late)):
            for port, n in more.items():
                counts[port] = counts.get(port, 0) + n
        for what, n in other.decrypted.items():
            self.decrypted[what] = self.decrypted.get(what, 0) + n
        self.keylog = self.keylog or other.keylog
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        self.comments += other.comments

    def finding(self) -> Violation | None:
        """The one ``ignored_traffic`` finding a recording carries, if any."""
        parts = self._ignored()
        if not parts:
            return None
        return Violation(ViolationKind.IGNORED_TRAFFIC, "ignored: " + "; ".join(parts))

    def nothing(self) -> str | None:
        """Why no WebSocket connection came out of a capture, as the one line
        to stop with; None when one did, or when ``--port``/``--conn`` left
        every connection out (the filter chose to see nothing)."""
        considered = self.tcp_connections - self.filtered
        if self.websocket or (self.filtered and not considered):
            return None
        if not self.packets:
            return "no packets in the capture"
        if not considered:
            return f"no WebSocket connection: {self._not_tcp()}"
        head = f"no WebSocket upgrade in {_count(considered, 'TCP connection')}"
        if self.http:
            head += f", {self.http} of them HTTP"
        return "; ".join([head, *self._ignored(http=False)])

    def _ignored(self, http: bool = True) -> list[str]:
        parts = []
        if http and self.http:
            parts.append(_count(self.http, "plain HTTP connection") + " (no Upgrade)")
        if self.tls:
            keyless = len(self.undecrypted)
            parts.append(
                _per_port(self.tls, "TLS connection")
                + (" not decrypted" if self.keylog else ": give --keylog to decrypt")
                + (f" ({self.undecrypted[0]}" if keyless else "")
                + (f"; and {keyless - 1} more" if keyless > 1 else "")
                + (")" if keyless else "")
            )
        if self.decrypted:
            what = ", ".join(f"{n} {k}" for k, n in sorted(self.decrypted.items()))
            total = sum(self.decrypted.values())
            # What a decrypted one lost (0-RTT data without its key) is why, if nothing else is.
            said = f"; {self.undecrypted[0]}" if self.undecrypted and not self.tls else ""
            parts.append(
                f"decrypted {_count(total, 'TLS connection')}, none WebSocket ({what}{said})"
            )
        if self.tls_late:
            parts.append(
                _per_port(self.tls_late, "TLS connection")
                + " captured after the handshake: no key can be found without the ClientHello"
            )
        if self.framing:
            ports = " ".join(f"--ws-port {p}" for p in sorted(self.framing))
            parts.append(
                _per_port(self.framing, "connection")
                + (" carries" if sum(self.framing.values()) == 1 else " carry")
                + " WebSocket frames without a handshake (the capture started after it?):"
                + f" try {ports}"
            )
        if self.other:
            parts.append(
                _count(self.other, "other TCP connection") + " (neither HTTP nor TLS, or no data)"
            )
        if self.filtered:
            parts.append(f"{self.filtered} left out by --port/--conn")
        if self.not_tcp:
            parts.append(self._not_tcp())
        return parts

    def _not_tcp(self) -> str:
        why = ", ".join(f"{n} {r}" for r, n in sorted(self.reasons.items()))
        text = _count(self.not_tcp, "packet") + " without a usable TCP segment"
        return f"{text} ({why})" if why else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _per_port(ports: dict[int, int], noun: str) -> str:
    """``2 TLS connections on port 443, 1 on port 8443``."""
    items = sorted(ports.items(), key=lambda kv: (-kv[1], kv[0]))
    (port, n), rest = items[0], items[1:]
    text = f"{_count(n, noun)} on port {port}"
    return ", ".join([text, *(f"{k} on port {p}" for p, k in rest)])
