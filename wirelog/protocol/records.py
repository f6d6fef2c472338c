"""Which TLS record each frame came from.

A decrypted TLS connection's chunks are its records' plaintexts, each
carrying its record number (:attr:`Chunk.record <wirelog.model.Chunk.record>`),
and a frame names the chunk of its first header byte
(:attr:`Frame.chunk <wirelog.model.Frame.chunk>`). :class:`RecordNumbers`
joins the two as frames come out of the decoder, so that each frame says
its record (:attr:`Frame.record <wirelog.model.Frame.record>`). A
direction's frames come out in stream order, so only the chunks from the
oldest unfinished frame on are kept: memory follows the frames in flight,
not the connection's length.
"""

from __future__ import annotations

from collections import deque

from wirelog.model import Chunk, Direction, Frame
from wirelog.protocol.events import Event


class RecordNumbers:
    """The record numbers of one TLS connection's chunks, per direction."""

    __slots__ = ("_chunks",)

    def __init__(self) -> None:
        self._chunks: dict[Direction, deque[tuple[int, int]]] = {d: deque() for d in Direction}

    def note(self, chunk: Chunk) -> None:
        """``chunk`` is about to be decoded: frames may start in it."""
        if chunk.record is not None:
            self._chunks[chunk.direction].append((chunk.index, chunk.record))

    def number(self, events: list[Event]) -> list[Event]:
        """``events``, each frame given the record of its first byte."""
        for ev in events:
            if type(ev) is Frame and ev.chunk is not None:
                seen = self._chunks[ev.direction]
                while seen and seen[0][0] < ev.chunk:
                    seen.popleft()
                if seen and seen[0][0] == ev.chunk:
                    # The decoder made this frame just now and no one holds it
                    # yet: set the field in place (``replace`` would cost a
                    # tenth of a second per 50,000 frames).
                    object.__setattr__(ev, "record", seen[0][1])
        return events
