"""TCP reassembly of one direction by sequence number, sans-I/O.

A :class:`HalfStream` takes the segments one sender put on the wire, in
capture order, and gives back the byte stream in sequence order as
*pieces*: the new payload of each segment (what Autobahn would call a
chop), gaps where the capture lost octets, and the FIN.

* Exact and partial retransmissions (overlaps) are trimmed to the octets
  not seen before; a segment that brings nothing new disappears. When two
  copies of the same octets differ, the first one captured wins, as in
  Wireshark's default.
* Out-of-order segments wait until the hole before them is filled.
* Sequence numbers are unwrapped to 64 bits, so wrap-around at 2**32 is
  invisible to callers.
* A hole that is never filled becomes a :data:`GAP` piece once the
  segments waiting behind it exceed a bound (or the stream ends): the
  missing octets are *reported*, never zero-filled and never skipped
  silently (RFC 793 §3.3: sequence space is the truth, not arrival order).
* A capture that starts mid-connection (no SYN seen) starts the stream at
  the first segment seen.
"""

from __future__ import annotations

import heapq
from typing import Final

DATA: Final = 0
GAP: Final = 1
FIN: Final = 2

#: (kind, data, length, ts, packet), ts in nanoseconds: DATA carries the present octets and the
#: wire length (longer when the snap length cut the packet); GAP carries
#: b"" and the number of octets missing; FIN carries b"" and 0. ``packet`` is
#: the 1-based capture packet number of the segment the piece came from.
Piece = tuple[int, bytes, int, int, int]

_MOD = 1 << 32
_HALF = 1 << 31

#: Octets allowed to wait behind a hole before the hole is declared lost.
MAX_PENDING_BYTES = 16 * 1024 * 1024
MAX_PENDING_SEGMENTS = 4096


class HalfStream:
    """One direction of a TCP connection."""

    __slots__ = (
        "_heap",
        "_pending",
        "clear",
        "fin_at",
        "last_packet",
        "last_ts",
        "max_bytes",
        "max_segments",
        "next",
        "pending_bytes",
        "retransmitted",
        "started",
    )

    def __init__(
        self,
        *,
        max_bytes: int = MAX_PENDING_BYTES,
        max_segments: int = MAX_PENDING_SEGMENTS,
    ) -> None:
        self.next = 0
        """Unwrapped sequence number of the next octet expected."""
        self.started = False
        self.clear = False
        """Started, nothing waits behind a hole and no FIN is known: what
        :meth:`take_in_order` asks, kept as one flag because it asks per
        packet (set again wherever one of the three changes)."""
        self.fin_at: int | None = None
        """Unwrapped sequence number of the FIN, once seen."""
        self.retransmitted = 0
        """Octets dropped as already seen."""
        self.pending_bytes = 0
        self.last_ts = 0
        """Time and packet of the latest :meth:`segment` (what its gaps and
        FIN are dated with; :meth:`take_in_order` is never followed by one)."""
        self.last_packet = 0
        self.max_bytes = max_bytes
        self.max_segments = max_segments
        self._pending: dict[int, tuple[bytes, int, int, int, bool]] = {}
        self._heap: list[int] = []

    def unwrap(self, seq: int) -> int:
        """The 64-bit position nearest ``next`` whose low 32 bits are ``seq``."""
        delta = (seq - self.next) & 0xFFFFFFFF
        if delta >= _HALF:
            delta -= _MOD
        return self.next + delta

    def syn(self, seq: int) -> None:
        """A SYN: the first data octet is ``seq + 1`` (RFC 793 §3.3)."""
        if not self.started:
            self.next = seq + 1
            self.started = True
            self.clear = not self._pending and self.fin_at is None

    @property
    def finished(self) -> bool:
        """The FIN was seen and every octet before it was delivered."""
        return self.fin_at is not None and self.next >= self.fin_at and not self._pending

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    def segment(
        self,
        seq: int,
        data: bytes,
        length: int,
        fin: bool,
        ts: int,
        packet: int,
        out: list[Piece],
    ) -> None:
        """One captured segment; appends the pieces it releases to ``out``."""
        if not self.started:
            self.next = seq
            self.started = True
        self.last_ts = ts
        self.last_packet = packet
        off = self.unwrap(seq)
        if fin:
            end = off + length
            if self.fin_at is None or end < self.fin_at:
                self.fin_at = end
        nxt = self.next
        if off == nxt and not self._pending:
            # The common case: the next segment in order, nothing waiting.
            if length:
                out.append((DATA, data, length, ts, packet))
                self.next = nxt + length
            if self.fin_at is not None and self.next >= self.fin_at:
                self._fin(ts, packet, out)
            self.clear = self.fin_at is None
            return
        if length and off + length > nxt:
            if off < nxt:
                data, length = _trim(data, length, nxt - off)
                self.retransmitted += nxt - off
                off = nxt
            old = self._pending.get(off)
            if old is None:
                heapq.heappush(self._heap, off)
                self._pending[off] = (data, length, ts, packet, False)
                self.pending_bytes += length
            elif old[1] < length:
                self._pending[off] = (data, length, ts, packet, False)
                self.pending_bytes += length - old[1]
        elif length:
            self.retransmitted += length
        self._drain(ts, packet, out)
        if self._pending and (
            self.pending_bytes > self.max_bytes or len(self._pending) > self.max_segments
        ):
            self.flush(out, until=self._heap[0] + 1)
        self.clear = not self._pending and self.fin_at is None

    def take_in_order(self, seq: int, length: int) -> bool:
        """The common case of :meth:`segment`, without pieces: when a data
        segment (no FIN) of ``length`` > 0 octets is exactly the next in
        order, nothing waits and no FIN is known, take it and return True;
        its octets are then the caller's to deliver. Otherwise change
        nothing and return False (call :meth:`segment`). Its time and
        packet are not kept: only a later :meth:`segment` can leave a gap
        or a FIN to date, and it brings its own."""
        nxt = self.next
        if not self.clear or (seq - nxt) & 0xFFFFFFFF:
            return False
        self.next = nxt + length
        return True

    def flush(self, out: list[Piece], until: int | None = None) -> None:
        """Give up on holes: report each as a gap and release what waits
        behind it (all of it, or up to position ``until``)."""
        while self._pending:
            first = self._heap[0]
            if until is not None and first >= until:
                break
            if first > self.next:
                _, _, ts, packet, _ = self._pending[first]
                out.append((GAP, b"", first - self.next, ts, packet))
                self.next = first
            self._drain(self.last_ts, self.last_packet, out)
        if self.fin_at is not None and self.next < self.fin_at and until is None:
            out.append((GAP, b"", self.fin_at - self.next, self.last_ts, self.last_packet))
            self.next = self.fin_at
            self._fin(self.last_ts, self.last_packet, out)
        self.clear = self.started and not self._pending and self.fin_at is None

    def _drain(self, ts: int, packet: int, out: list[Piece]) -> None:
        heap = self._heap
        pending = self._pending
        while heap and heap[0] <= self.next:
            off = heapq.heappop(heap)
            data, length, pts, ppacket, _ = pending.pop(off)
            self.pending_bytes -= length
            nxt = self.next
            if off + length <= nxt:
                self.retransmitted += length
                continue
            if off < nxt:
                data, length = _trim(data, length, nxt - off)
                self.retransmitted += nxt - off
            out.append((DATA, data, length, pts, ppacket))
            self.next = nxt + length
        if self.fin_at is not None and self.next >= self.fin_at and not pending:
            self._fin(ts, packet, out)

    def _fin(self, ts: int, packet: int, out: list[Piece]) -> None:
        if self.next == self.fin_at:
            out.append((FIN, b"", 0, ts, packet))
            self.next += 1  # the FIN occupies one sequence number
        elif self.fin_at is not None and self.next == self.fin_at + 1:
            pass  # already delivered


def _trim(data: bytes, length: int, k: int) -> tuple[bytes, int]:
    """Drop the first ``k`` octets of a piece whose present data may be a prefix."""
    return data[k:], length - k
