"""The events the one decoding sink produces, in the order it produces them."""

from __future__ import annotations

from dataclasses import dataclass

from wirelog.model import Chunk, Frame, Handshake, Marker, Message, Violation

Event = Frame | Message | Violation | Handshake
"""What the sans-I/O decoder derives from octets."""


@dataclass(frozen=True, slots=True)
class ConnectionEnd:
    """Every event of this connection has been yielded."""


StreamItem = Event | Chunk | Marker | ConnectionEnd
"""Markers in the stream are the recording's own, in recorded order: gaps,
FIN and RST (who dropped TCP, for a consumer that keeps no connection),
Autobahn's timers and wire-log switches, and a TLS connection's ``SEGMENT``
ones (its chops: its TCP segments, beside the plaintext chunks the decoder
reads; :func:`wirelog.stats.chop` tells them apart)."""
