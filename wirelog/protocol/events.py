"""The events the one decoding sink produces, in the order it produces them."""

from __future__ import annotations

from dataclasses import dataclass

from wirelog.model import Chunk, Frame, Handshake, Message, Violation

Event = Frame | Message | Violation | Handshake
"""What the sans-I/O decoder derives from octets."""


@dataclass(frozen=True, slots=True)
class ConnectionEnd:
    """Every event of this connection has been yielded."""


StreamItem = Event | Chunk | ConnectionEnd
