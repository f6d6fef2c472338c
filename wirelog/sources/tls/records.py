"""The TLS record layer's framing over one direction's TCP pieces, sans-I/O.

Every TLS record is ``type(1) version(2) length(2) fragment`` (RFC 8446
§5.1, RFC 5246 §6.2). A :class:`RecordReader` takes a direction's pieces
(:data:`~wirelog.sources.pcap.tcp.Piece`: octets, capture gaps, FIN) and
gives back whole records, wherever the TCP segments cut them: a record
split across segments, many records in one segment.

A capture gap is a fact, not a reason to stop:

* a gap inside a record whose header was seen loses that record only: its
  length says where the next one starts (:data:`LOST` with the record's
  type, so that the sequence number still counts it);
* a gap where no header says how long it is (or longer than the rest of
  the record) loses an unknown number of records: the reader then looks
  for a plausible record header and asks ``resync`` (the decrypting layer,
  which tries the sequence numbers the lost octets allow) whether a record
  starting there decrypts; octets before the first one that does are
  skipped and counted.

No length field is allocated for: a record is at most :data:`MAX_FRAGMENT`
octets, so the reader holds at most one record and a header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from wirelog.sources.pcap.tcp import DATA, GAP, Piece

HEADER: Final = 5
#: The largest fragment any version allows (TLS 1.2: 2^14 + 2048).
MAX_FRAGMENT: Final = 2**14 + 2048
CONTENT_TYPES: Final = frozenset((20, 21, 22, 23, 24))

#: A record's type when the record was lost to a capture gap.
LOST: Final = -1
#: The direction ended (FIN).
END: Final = -2

#: (type, header, fragment, ts, packet, lost): a whole record (``lost`` 0),
#: a record (type known, or :data:`LOST` when not) of which ``lost`` octets
#: are missing, or :data:`END`. ``ts`` and ``packet`` are those of the
#: segment that completed the record.
Record = tuple[int, bytes, bytes, int, int, int]

#: Asked during resynchronisation: does a record with this header and
#: fragment decrypt, ``gap`` octets after the last good one?
Resync = Callable[[bytes, bytes, int], bool]


def plausible(buf: bytes | bytearray, i: int) -> bool:
    """Could a record header start at ``buf[i]``?"""
    return (
        buf[i] in CONTENT_TYPES
        and buf[i + 1] == 3
        and buf[i + 2] <= 4
        and (buf[i + 3] << 8 | buf[i + 4]) <= MAX_FRAGMENT
    )


class RecordReader:
    """One direction of a TLS connection, as records."""

    __slots__ = ("_buf", "_lost_since", "_skip", "emit", "resync", "skipped", "synced")

    def __init__(self, resync: Resync, emit: Callable[[Record], None]) -> None:
        self.resync = resync
        self.emit = emit
        """Called with each record as it completes, in order."""
        self._buf = bytearray()
        self._skip = 0
        """Octets of a record cut by a gap still to pass."""
        self.synced = True
        """False after octets of unknown records were lost."""
        self._lost_since = 0
        """Octets lost or skipped since the last record known good."""
        self.skipped = 0
        """Octets passed over while looking for a record boundary."""

    def feed(self, piece: Piece) -> None:
        """Read one piece; complete records go to :attr:`emit`."""
        kind, data, length, ts, number = piece
        if kind == DATA and len(data) < length:
            # The snap length cut this segment: its tail is a gap.
            self.feed((DATA, data, len(data), ts, number))
            self.feed((GAP, b"", length - len(data), ts, number))
            return
        if kind == GAP:
            self._gap(length, ts, number)
            return
        if kind != DATA:
            self.emit((END, b"", b"", ts, number, 0))
            return
        if self._skip:
            take = min(self._skip, len(data))
            self._skip -= take
            data = data[take:]
            if not data:
                return
        buf = self._buf
        if not buf and self.synced:
            # The common case: records from the start of the segment, no copy.
            at = self._records(data, 0, ts, number)
            if at < len(data):
                buf += data[at:]
            return
        buf += data
        if not self.synced:
            self._search(ts, number)
            if not self.synced:
                return
        at = self._records(buf, 0, ts, number)
        del buf[:at]

    def _records(self, buf: bytes | bytearray, at: int, ts: int, number: int) -> int:
        n = len(buf)
        while n - at >= HEADER:
            size = buf[at + 3] << 8 | buf[at + 4]
            if size > MAX_FRAGMENT or buf[at] not in CONTENT_TYPES:
                # Not TLS any more (or never was): find the next record.
                self.synced = False
                self._lost_since = 0
                return self._search_in(buf, at, ts, number)
            end = at + HEADER + size
            if end > n:
                break
            header, fragment = bytes(buf[at : at + HEADER]), bytes(buf[at + HEADER : end])
            self.emit((buf[at], header, fragment, ts, number, 0))
            at = end
        return at

    def _gap(self, missing: int, ts: int, number: int) -> None:
        buf = self._buf
        if self._skip:
            take = min(self._skip, missing)
            self._skip -= take
            missing -= take
        elif self.synced and len(buf) >= HEADER:
            size = buf[3] << 8 | buf[4]
            rest = HEADER + size - len(buf)
            take = min(rest, missing)
            self.emit((buf[0], bytes(buf[:HEADER]), b"", ts, number, take))
            self._skip = rest - take
            missing -= take
            buf.clear()
        if missing:
            if buf:
                self.emit((LOST, b"", b"", ts, number, len(buf) + missing))
            else:
                self.emit((LOST, b"", b"", ts, number, missing))
            self._lost_since += len(buf) + missing
            buf.clear()
            self._skip = 0
            self.synced = False

    def _search(self, ts: int, number: int) -> None:
        at = self._search_in(self._buf, 0, ts, number)
        del self._buf[:at]

    def _search_in(self, buf: bytes | bytearray, at: int, ts: int, number: int) -> int:
        """Look for a record that decrypts from ``buf[at:]``; the offset from
        which the buffer is still needed."""
        n = len(buf)
        start = at
        while n - at >= HEADER:
            if plausible(buf, at):
                end = at + HEADER + (buf[at + 3] << 8 | buf[at + 4])
                if end > n:
                    break  # wait for the whole candidate
                header = bytes(buf[at : at + HEADER])
                fragment = bytes(buf[at + HEADER : end])
                if self.resync(header, fragment, self._lost_since + at - start):
                    self.skipped += at - start
                    self._lost_since = 0
                    self.synced = True
                    self.emit((buf[at], header, fragment, ts, number, 0))
                    rest = self._records(buf, end, ts, number)
                    return rest
            at += 1
        self.skipped += at - start
        self._lost_since += at - start
        return at
