"""Wire statistics exactly as Autobahn counts them.

Autobahn keeps four histograms per connection (its ``fuzzing.py``):
octets by *chop size* (one entry per socket read or write, counted by size)
and frames by opcode, each for rx and tx. wirelog derives the same four
from any recording: a chunk is a chop, so a capture's chops are its TCP
segments' payloads as sent. A decrypted TLS connection's chunks are its
records' plaintexts, which no socket read or wrote: its chops are its TCP
segments, pushed as ``SEGMENT`` markers beside them (:func:`chop`).

Frame counts follow Autobahn's own rule where the input is an Autobahn log:
tx counts every frame the fuzzer *sent* through ``sendFrame`` (its TF
entries, even if the connection died before the octets left), rx counts
every frame received complete. Elsewhere the decoded frames are counted.

When Autobahn switched its wire log off (cases 9.x, 12.x, 13.x) its own
statistics still count everything; the difference between what the report
says and what the log shows is reported as ``hidden``, never silently
merged into numbers that look complete.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from wirelog.model import Chunk, ClaimedFrame, Connection, Direction, Frame, Marker, MarkerKind

STAT_KEYS = ("rxOctetStats", "txOctetStats", "rxFrameStats", "txFrameStats")


@dataclass(slots=True)
class WireStats:
    """The four Autobahn histograms of one connection (or of several, summed)."""

    rx_octets: Counter[int] = field(default_factory=Counter)
    tx_octets: Counter[int] = field(default_factory=Counter)
    rx_frames: Counter[int] = field(default_factory=Counter)
    tx_frames: Counter[int] = field(default_factory=Counter)

    def histogram(self, key: str) -> Counter[int]:
        return {
            "rxOctetStats": self.rx_octets,
            "txOctetStats": self.tx_octets,
            "rxFrameStats": self.rx_frames,
            "txFrameStats": self.tx_frames,
        }[key]

    def to_autobahn(self) -> dict[str, dict[str, int]]:
        """Autobahn's JSON shape: decimal-string keys in numeric order."""
        return {
            k: {str(n): c for n, c in sorted(self.histogram(k).items()) if c} for k in STAT_KEYS
        }

    @classmethod
    def from_autobahn(cls, report: dict[str, Any]) -> WireStats:
        s = cls()
        for key in STAT_KEYS:
            raw = report.get(key) or {}
            s.histogram(key).update({int(k): int(v) for k, v in raw.items()})
        return s

    def __add__(self, other: WireStats) -> WireStats:
        return WireStats(
            self.rx_octets + other.rx_octets,
            self.tx_octets + other.tx_octets,
            self.rx_frames + other.rx_frames,
            self.tx_frames + other.tx_frames,
        )

    def minus(self, other: WireStats) -> WireStats:
        """What ``self`` counts beyond ``other`` (Counter subtraction drops
        negatives; use :meth:`excess` to see those)."""
        return WireStats(
            self.rx_octets - other.rx_octets,
            self.tx_octets - other.tx_octets,
            self.rx_frames - other.rx_frames,
            self.tx_frames - other.tx_frames,
        )

    def is_empty(self) -> bool:
        return not any(self.histogram(k) for k in STAT_KEYS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WireStats):
            return NotImplemented
        return self.to_autobahn() == other.to_autobahn()


class StatsAccumulator:
    """Counts as events stream past, so statistics cost no memory per frame."""

    def __init__(self) -> None:
        self.stats = WireStats()
        self._claims = False

    def chunk(self, direction: Direction, length: int) -> None:
        (self.stats.tx_octets if direction is Direction.TX else self.stats.rx_octets)[length] += 1

    def frame(self, frame: Frame) -> None:
        if self._claims:
            return
        if not frame.complete and not frame.from_log:
            return
        (self.stats.tx_frames if frame.direction is Direction.TX else self.stats.rx_frames)[
            frame.opcode
        ] += 1

    def claims(self, claims: list[ClaimedFrame]) -> None:
        """Count frames from an Autobahn log's claims instead of decoded ones."""
        self._claims = True
        for c in claims:
            (self.stats.tx_frames if c.direction is Direction.TX else self.stats.rx_frames)[
                c.opcode
            ] += 1


def chop(item: object) -> tuple[Direction, int] | None:
    """The direction and size of the chop ``item`` is, if it is one: a chunk
    (not a TLS record's plaintext) or a TLS connection's ``SEGMENT`` marker."""
    if isinstance(item, Chunk):
        return None if item.record is not None else (item.direction, item.length)
    if isinstance(item, Marker) and item.kind is MarkerKind.SEGMENT:
        assert item.direction is not None
        return item.direction, int(item.value or 0)
    return None


def compute(conn: Connection, frames: list[Frame]) -> WireStats:
    """Statistics of a materialized connection."""
    acc = StatsAccumulator()
    for item in (*conn.chunks, *conn.markers):
        found = chop(item)
        if found is not None:
            acc.chunk(*found)
    if conn.claims:
        acc.claims(conn.claims)
    for f in frames:
        acc.frame(f)
    return acc.stats


def octet_stats(chunks: list[Chunk]) -> WireStats:
    acc = StatsAccumulator()
    for ch in chunks:
        acc.chunk(ch.direction, ch.length)
    return acc.stats


def reported(conn: Connection) -> WireStats | None:
    """The statistics the input itself printed (Autobahn reports), if any."""
    report = conn.meta.get("reported_stats")
    if isinstance(report, WireStats):
        return report
    return None
