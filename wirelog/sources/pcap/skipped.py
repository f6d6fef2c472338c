"""What the flow engine says of traffic it does not decode, and of notes
that belong to no frame: the counts behind :meth:`Summary.nothing`'s line
("no WebSocket upgrade in 14 TCP connections, 9 of them HTTP"), pcapng
packet comments and TLS that could not be decrypted.

Apart from :mod:`.flows` because none of it is on the per-packet path: a
connection is counted once, when it is skipped or closed.
"""

from __future__ import annotations

from wirelog.model import Direction, Violation, ViolationKind
from wirelog.sources.pcap import sniff
from wirelog.sources.pcap.flow import Flow
from wirelog.sources.pcap.sniff import Start
from wirelog.sources.sink import Sink, Summary

MAX_LINES = 100
"""Undecryptable sessions of other traffic kept for the summary."""


def count(
    summary: Summary, flow: Flow, http: bool, start: bytes, from_a: bool, ws_ports: frozenset[int]
) -> None:
    """Count a skipped connection by what its ``start`` (the first octets one
    side sent) looks like, so that the summary can say why nothing decoded."""
    tls = flow.tls
    if tls is not None and tls.decrypts:  # decrypted, but not to WebSocket
        what = tls.carried(start, http)
        summary.decrypted[what] = summary.decrypted.get(what, 0) + 1
        return
    if tls is not None:
        kind, port = Start.TLS, (flow.b if tls.client_is_a else flow.a)[1]
    else:
        kind, port = sniff.classify(start, *(flow.a[1], flow.b[1])[:: 1 if from_a else -1])
    if flow.ws_port:
        port = flow.a[1] if flow.a[1] in ws_ports else flow.b[1]
    if kind is Start.TLS_LATE:
        summary.tls_late[port] = summary.tls_late.get(port, 0) + 1
    elif http or kind is Start.HTTP:
        summary.http += 1
    elif kind is Start.TLS:
        summary.tls[port] = summary.tls.get(port, 0) + 1
    elif kind is Start.FRAMES:
        summary.framing[port] = summary.framing.get(port, 0) + 1
    else:
        summary.other += 1


def comment(
    sink: Sink, summary: Summary, flow: Flow, direction: Direction, index: int, note: str
) -> None:
    """A packet's comment: a finding of its WebSocket connection (at the next
    recording index), else of the capture (a packet before the Upgrade, or of
    other traffic)."""
    if flow.connection is None:
        summary.comments.append(note)
        return
    v = Violation(ViolationKind.CAPTURE_COMMENT, note, direction, None, None, index)
    sink.finding(flow.connection, v)


def tls_report(sink: Sink, summary: Summary, flow: Flow, index: int, line: str | None) -> None:
    """Undecryptable TLS: a finding of the connection, else of the capture."""
    if line is not None and flow.connection is not None:
        v = Violation(ViolationKind.TLS_UNDECRYPTED, line, None, None, None, index)
        sink.finding(flow.connection, v)
    elif line is not None and len(summary.undecrypted) < MAX_LINES:
        summary.undecrypted.append(line)
