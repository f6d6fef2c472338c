"""Properties of what a replay keeps of its peer (issue 11), bounded for CI:
whatever octets arrive, in whatever reads, nothing raises, the recording
holds every read's length, the octets kept stay inside the window and do
not depend on how the reads were split, and the verdict's decoder reads
the result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from servers import SEED_RESPONSE, seed_connection

from wirelog.model import Connection, Direction, Role
from wirelog.protocol.connection import decode_connection
from wirelog.replay.plan import build_plan
from wirelog.replay.progress import Progress
from wirelog.replay.window import Positions, Window

PLAN = build_plan(seed_connection())

#: Peer streams: arbitrary octets, or the seed's 101 followed by them.
streams = st.one_of(
    st.binary(max_size=4096),
    st.binary(max_size=40000).map(lambda b: SEED_RESPONSE + b),
    st.integers(1, 30000).map(lambda n: SEED_RESPONSE + bytes(n)),
)


def _take(stream: bytes, cuts: list[int]) -> Window:
    w = Window(PLAN, Progress(Role.SERVER), Connection(1, "live", Role.CLIENT), Positions(), [])
    pos = 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        if cut > pos:
            w.take(stream[pos:cut], 0)
            pos = cut
    return w


@settings(max_examples=150, deadline=None)
@given(streams, st.lists(st.integers(0, 1 << 20), max_size=12))
def test_any_stream_in_any_reads_is_kept_within_the_window(stream: bytes, cuts: list[int]) -> None:
    w = _take(stream, cuts)
    rx = [c for c in w.conn.chunks if c.direction is Direction.RX]
    assert sum(c.length for c in rx) == len(stream) == w.progress.octets
    kept = b"".join(c.data for c in rx)
    assert stream.startswith(kept) and len(kept) == w.kept <= w.limit()
    decode_connection(w.conn)


@settings(max_examples=100, deadline=None)
@given(streams, st.lists(st.integers(0, 1 << 20), max_size=12))
def test_what_is_kept_does_not_depend_on_the_reads(stream: bytes, cuts: list[int]) -> None:
    """Inside the octet window, at least: the frame window closes on a
    frame boundary, which a split read reaches at the same octet."""
    one = _take(stream, [])
    many = _take(stream, cuts)
    assert one.kept == many.kept


def test_a_read_that_ends_inside_the_header_after_the_last_kept_frame() -> None:
    """Found by the property above: two-octet frames after a head, a read
    ending one octet into the frame after the window; that octet was kept."""
    stream = bytes(127) + b"\r\n\r\n" + bytes(4000)
    one = _take(stream, [])
    for cut in range(130, 1200):
        assert _take(stream, [cut]).kept == one.kept, cut
