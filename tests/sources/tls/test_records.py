"""TLS record framing over TCP pieces: any cut gives the same records, a
gap inside a record loses only it, an unknown gap resynchronises where
the decrypting layer accepts a record."""

from __future__ import annotations

import itertools
import struct

from hypothesis import given
from hypothesis import strategies as st

from wirelog.sources.pcap.tcp import DATA, FIN, GAP, Piece
from wirelog.sources.tls.records import END, LOST, MAX_FRAGMENT, Record, RecordReader, plausible


def record(ctype: int, fragment: bytes) -> bytes:
    return struct.pack("!BHH", ctype, 0x0303, len(fragment)) + fragment


def data(octets: bytes, n: int = 1) -> Piece:
    return (DATA, octets, len(octets), float(n), n)


class Reader:
    """A reader whose resync accepts fragments starting with ``good``."""

    def __init__(self, good: bytes = b"ok") -> None:
        self.out: list[Record] = []
        self.asked: list[tuple[bytes, int]] = []

        def resync(header: bytes, fragment: bytes, lost: int) -> bool:
            self.asked.append((fragment, lost))
            return fragment.startswith(good)

        self.reader = RecordReader(resync, self.out.append)

    def feed(self, *pieces: Piece) -> list[tuple[int, bytes, int]]:
        for p in pieces:
            self.reader.feed(p)
        return [(r[0], r[2], r[5]) for r in self.out]


STREAM = record(22, b"hello" * 40) + record(23, b"") + record(23, bytes(range(256)) * 70)


@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_any_cut_gives_the_same_records(cuts: list[int]) -> None:
    points = sorted({0, len(STREAM), *cuts})
    r = Reader()
    got = r.feed(*(data(STREAM[a:b], i) for i, (a, b) in enumerate(itertools.pairwise(points))))
    assert got == [(22, b"hello" * 40, 0), (23, b"", 0), (23, bytes(range(256)) * 70, 0)]
    # Each record carries the segment that completed it.
    assert r.out[-1][4] == len(points) - 2


def test_a_gap_inside_a_record_loses_that_record_only() -> None:
    first, second = record(23, b"a" * 100), record(23, b"okay")
    r = Reader()
    got = r.feed(data(first[:30]), (GAP, b"", 50, 2.0, 2), data(first[80:] + second, 3))
    assert got == [(23, b"", 50), (23, b"okay", 0)]
    assert r.asked == []  # the header said where the next record starts


def test_a_gap_past_the_record_resynchronises_on_an_accepted_record() -> None:
    lost = record(23, b"x" * 40)
    decoy = record(23, b"no, not this one")
    good = record(23, b"ok, this one")
    after = record(21, b"ok alert")
    r = Reader()
    got = r.feed(
        data(lost[:10]),
        (GAP, b"", len(lost) - 10 + 7, 2.0, 2),
        data(b"\x00" * 3 + decoy + good[:4], 3),
        data(good[4:] + after, 4),
    )
    assert got == [
        (23, b"", len(lost) - 10),
        (LOST, b"", 7),
        (23, b"ok, this one", 0),
        (21, b"ok alert", 0),
    ]
    assert [f for f, _ in r.asked] == [b"no, not this one", b"ok, this one"]
    # The decoy's octets were looked past: counted, and offered as lost.
    assert r.reader.skipped == 3 + len(decoy)
    assert r.asked[1][1] == 7 + 3 + len(decoy)


def test_a_gap_at_a_record_boundary_and_a_skipped_gap() -> None:
    r = Reader()
    one = record(23, b"ok 1")
    got = r.feed(data(one), (GAP, b"", 9, 2.0, 2), data(record(23, b"ok 2"), 3))
    assert got == [(23, b"ok 1", 0), (LOST, b"", 9), (23, b"ok 2", 0)]
    # A gap while the rest of a lost record is still being passed over.
    r = Reader()
    big = record(23, b"z" * 50)
    got = r.feed(
        data(big[:10]),
        (GAP, b"", 5, 2.0, 2),
        (GAP, b"", 10, 3.0, 3),
        data(big[25:], 4),
        data(record(23, b"ok"), 5),
    )
    assert got == [(23, b"", 5), (23, b"ok", 0)]


def test_a_cut_segment_is_a_gap_and_fin_ends() -> None:
    one = record(23, b"o" * 20)
    r = Reader()
    got = r.feed((DATA, one[:12], len(one), 1.0, 1), (FIN, b"", 0, 2.0, 2))
    assert got == [(23, b"", len(one) - 12), (END, b"", 0)]


def test_octets_that_are_not_records_are_searched_past() -> None:
    r = Reader()
    junk = b"\x99" * 6
    got = r.feed(data(record(23, b"ok 1") + junk + record(23, b"ok 2")))
    assert got == [(23, b"ok 1", 0), (23, b"ok 2", 0)]
    assert r.reader.skipped == len(junk)
    # Buffered, waiting for the candidate's end, then refused: keep looking.
    r = Reader()
    got = r.feed(data(junk + record(23, b"bad")[:4]), data(record(23, b"bad")[4:] + b"\x17"))
    assert got == [] and r.reader.synced is False


def test_plausible_headers() -> None:
    assert plausible(record(23, b""), 0)
    assert not plausible(b"\x17\x03\x05\x00\x00", 0)
    assert not plausible(b"\x30\x03\x03\x00\x00", 0)
    assert not plausible(struct.pack("!BHH", 23, 0x0303, MAX_FRAGMENT + 1), 0)
