"""What one replay session produced: the recording and the outcome flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wirelog.model import Connection, Recording
from wirelog.replay.steps import Plan


@dataclass(slots=True)
class Outcome:
    """What happened, in words and flags the verdict reads."""

    notes: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    """Target misbehaviour that ended the replay early or made it wait out
    a timeout (reset, stall, never closed)."""
    stalled: bool = False
    short: bool = False
    """The peer upgraded and then answered less than the recording held (a
    difference, not a fault: it stopped at a frame boundary)."""
    never_closed: bool = False
    close_handshake_timeout: bool = False
    """Our close got no answer in time (the fuzzer's closeHandshakeTimeout)."""
    reset_by_peer: bool = False
    eof_by_peer: bool = False
    dropped_by_me: bool = False
    writes_sent: int = 0
    writes_planned: int = 0
    duration: float = 0.0

    def meta(self) -> dict[str, Any]:
        """The outcome as the replayed connection's ``meta`` keeps it (the
        Autobahn-style keys :mod:`~wirelog.replay.record` writes)."""
        return {
            "droppedByMe": self.dropped_by_me,
            "resetByPeer": self.reset_by_peer,
            "stalled": self.stalled,
            "short": self.short,
            "neverClosed": self.never_closed,
            "closeHandshakeTimeout": self.close_handshake_timeout,
            "notes": list(self.notes),
            "faults": list(self.faults),
            "writesSent": self.writes_sent,
            "writesPlanned": self.writes_planned,
        }


@dataclass(slots=True, repr=False)
class ReplayResult:
    """One session's plan, what went over the wire and how it ended.

    Its repr is a summary, not the dataclass's field-by-field one: that
    one spells out every octet sent and received, and Python 3.11's
    ``asyncio.run`` formats the finished task's result (``signal.getsignal``
    turns its SIGINT handler into an error message): 0.5 s of every suite
    case went into a repr nobody read, megabytes for a 12.x case."""

    plan: Plan
    connection: Connection
    """Both directions as the replayer saw them (kind ``replay``)."""
    outcome: Outcome
    target: str

    def __repr__(self) -> str:
        octets = sum(c.length for c in self.connection.chunks)
        return (
            f"<ReplayResult {self.target}: {len(self.connection.chunks)} chunks, {octets} octets,"
            f" {self.outcome.writes_sent}/{self.outcome.writes_planned} writes,"
            f" {self.outcome.duration:.3f} s>"
        )

    @property
    def recording(self) -> Recording:
        return Recording(
            source=self.connection.source, kind="replay", connections=[self.connection]
        )
