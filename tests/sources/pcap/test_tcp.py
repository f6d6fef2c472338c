"""TCP reassembly of one direction (:class:`~wirelog.sources.pcap.tcp.HalfStream`):
any order, duplication and overlap give the stream back; a hole is a gap."""

from __future__ import annotations

import itertools
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wirelog.sources.pcap.tcp import DATA, FIN, GAP, HalfStream, Piece


def run(segments: list[tuple[int, bytes]], isn: int = 1000, **kw: Any) -> list[Piece]:
    half = HalfStream(**kw)
    out: list[Piece] = []
    half.syn(isn)
    for n, (off, data) in enumerate(segments):
        half.segment((isn + 1 + off) & 0xFFFFFFFF, data, len(data), False, float(n), n + 1, out)
    half.flush(out)
    return out


def joined(pieces: list[Piece]) -> bytes:
    assert all(p[0] == DATA for p in pieces), "no gap expected"
    return b"".join(p[1] for p in pieces)


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=3000),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
    seed=st.integers(0, 2**32 - 1),
    isn=st.integers(0, 2**32 - 1),
)
def test_any_order_duplication_and_overlap_gives_the_stream_back(
    data: bytes, cuts: list[int], seed: int, isn: int
) -> None:
    rng = random.Random(seed)
    bounds = sorted({0, len(data), *(c % len(data) for c in cuts)})
    segs = [(a, data[a:b]) for a, b in itertools.pairwise(bounds)]
    # overlapping retransmissions spanning neighbours, exact duplicates, shuffle
    extra = []
    for a, b in zip(bounds, bounds[2:], strict=False):
        if rng.random() < 0.3:
            extra.append((a, data[a:b]))
    segs += extra + rng.sample(segs, k=len(segs) // 2)
    rng.shuffle(segs)
    pieces = run(segs, isn=isn)
    assert joined(pieces) == data


def test_chops_are_new_octets_of_each_segment() -> None:
    pieces = run([(0, b"abc"), (0, b"abc"), (1, b"bcdef"), (6, b"gh")])
    assert [p[1] for p in pieces] == [b"abc", b"def", b"gh"]
    assert [p[4] for p in pieces] == [1, 3, 4]  # packet numbers of the segments


def test_sequence_wrap_around() -> None:
    pieces = run([(0, b"x" * 10), (10, b"y" * 10), (20, b"z")], isn=2**32 - 15)
    assert joined(pieces) == b"x" * 10 + b"y" * 10 + b"z"


def test_a_lost_segment_is_a_gap_never_zeros() -> None:
    pieces = run([(0, b"aaaa"), (8, b"cccc"), (12, b"dd")])
    assert pieces[0][:3] == (DATA, b"aaaa", 4)
    assert pieces[1][:3] == (GAP, b"", 4)
    assert [p[1] for p in pieces[2:]] == [b"cccc", b"dd"]
    assert b"\x00" not in b"".join(p[1] for p in pieces)


def test_gap_declared_once_too_much_waits_behind_a_hole() -> None:
    half = HalfStream(max_bytes=10)
    out: list[Piece] = []
    half.syn(0)
    half.segment(1, b"a" * 4, 4, False, 0.0, 1, out)
    half.segment(9, b"c" * 6, 6, False, 0.0, 2, out)
    assert [p[0] for p in out] == [DATA]  # still hoping for the hole
    half.segment(15, b"d" * 6, 6, False, 0.0, 3, out)
    assert [p[0] for p in out] == [DATA, GAP, DATA, DATA]
    assert out[1][2] == 4


def test_fin_after_all_data_even_when_reordered() -> None:
    half = HalfStream()
    out: list[Piece] = []
    half.syn(0)
    half.segment(5, b"late", 4, True, 0.0, 1, out)  # FIN with data, early
    assert out == []
    half.segment(1, b"abcd", 4, False, 0.0, 2, out)
    assert [p[0] for p in out] == [DATA, DATA, FIN]
    assert half.finished


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=2000),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
    seed=st.integers(0, 2**32 - 1),
    isn=st.integers(0, 2**32 - 1),
    fin=st.booleans(),
)
def test_take_in_order_takes_exactly_what_segment_would_give_whole(
    data: bytes, cuts: list[int], seed: int, isn: int, fin: bool
) -> None:
    """The engine's per-packet shortcut: wherever ``take_in_order`` says
    yes, ``segment`` would have given that segment whole as one DATA
    piece; wherever it says no, ``segment`` runs. Either way the stream,
    its gaps and its FIN come out the same."""
    rng = random.Random(seed)
    bounds = sorted({0, len(data), *(c % len(data) for c in cuts)})
    segs = [(a, data[a:b]) for a, b in itertools.pairwise(bounds)]
    segs += rng.sample(segs, k=len(segs) // 3)  # duplicates
    rng.shuffle(segs)
    segs = segs[: max(1, len(segs) - rng.randrange(2))]  # sometimes one lost
    plain, fast = HalfStream(), HalfStream()
    want: list[Piece] = []
    got: list[Piece] = []
    for h in (plain, fast):
        h.syn(isn)
    taken = 0
    for n, (off, chunk) in enumerate(segs):
        seq = (isn + 1 + off) & 0xFFFFFFFF
        plain.segment(seq, chunk, len(chunk), False, n, n + 1, want)
        if fast.take_in_order(seq, len(chunk)):
            got.append((DATA, chunk, len(chunk), n, n + 1))
            taken += 1
            assert want[-1] == got[-1]  # the whole segment, as segment gave it
        else:
            fast.segment(seq, chunk, len(chunk), False, n, n + 1, got)
        assert got == want
    end = (isn + 1 + len(data)) & 0xFFFFFFFF
    if fin:
        plain.segment(end, b"", 0, True, 99, 99, want)
        fast.segment(end, b"", 0, True, 99, 99, got)
        assert not fast.take_in_order(end, 1)  # a FIN is known: never a take
    for h, out in ((plain, want), (fast, got)):
        h.flush(out)
    assert got == want
    if segs[0][0] == 0:
        assert taken >= 1  # the first segment, in order with nothing waiting: a take
