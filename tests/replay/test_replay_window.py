"""What a replay keeps of its peer's octets: the window, and the counts past
it (issue 11: the runner kept every byte, 1-1.6 GB at 30 s; a 2**62-octet
frame header followed by data grew to 8 GB)."""

from __future__ import annotations

import tracemalloc

import pytest
from servers import SEED_RESPONSE, seed_connection

from wirelog.model import Connection, Direction, Role
from wirelog.protocol.connection import decode_connection
from wirelog.protocol.frames import encode_frame
from wirelog.replay.plan import build_plan
from wirelog.replay.progress import Progress
from wirelog.replay.window import FRAME_SLACK, Positions, Window, rx_window


def _window() -> tuple[Window, list[str]]:
    """The seed's window, with the seed's 101 already in."""
    plan = build_plan(seed_connection())
    notes: list[str] = []
    conn = Connection(conn=1, source="live", recorder=Role.CLIENT)
    w = Window(plan, Progress(Role.SERVER), conn, Positions(), notes)
    assert w.take(SEED_RESPONSE, 0) == SEED_RESPONSE
    return w, notes


def _rx(w: Window) -> list[tuple[int, int]]:
    return [(len(c.data), c.length) for c in w.conn.chunks if c.direction is Direction.RX]


@pytest.mark.parametrize(
    "flood",
    [
        bytes(256 * 1024),  # endless zeros: a two-octet frame each
        encode_frame(2, b"x" * 1000) * 200,  # endless frames
    ],
)
def test_a_flood_is_counted_past_the_window_not_kept(flood: bytes) -> None:
    w, notes = _window()
    for _ in range(40):
        w.take(flood, 1.0)
    rx = _rx(w)
    total = len(SEED_RESPONSE) + 40 * len(flood)
    assert sum(n for _, n in rx) == total == w.progress.octets
    assert sum(k for k, _ in rx) == w.kept <= len(SEED_RESPONSE) + w.octets
    assert w.octets == rx_window(build_plan(seed_connection()))
    assert len(rx) <= 3
    # Decoding stops within one 4 KiB slice past the frame window.
    assert w.progress.frames <= w.frames + 4096 // 2
    assert notes and "counted, not kept" in notes[0]
    # The verdict's decoder reads what was kept and the length of the rest.
    assert len(decode_connection(w.conn).frames) <= w.frames + 1


def test_the_frame_window_closes_at_a_frame_boundary() -> None:
    w, _ = _window()
    frame = encode_frame(2, b"ab")
    kept = w.take(frame * (FRAME_SLACK + 100), 1.0)
    assert len(kept) == len(frame) * w.frames
    assert w.take(frame, 2.0) == b""


def test_reads_past_the_window_grow_one_chunk_until_something_else_happens() -> None:
    w, _ = _window()
    big = encode_frame(2, bytes(w.octets * 4))
    n = w.octets + 10
    w.take(big[:n], 1.0)
    w.take(big[n : n + 100], 2.0)
    assert _rx(w)[1:] == [(w.octets, n + 100)]
    w._positions.next()  # a marker or our own write in between
    w.take(big[n + 100 : n + 200], 3.0)
    assert _rx(w)[1:] == [(w.octets, n + 100), (0, 100)]


def test_a_frame_of_2_62_octets_costs_the_window_only() -> None:
    tracemalloc.start()
    try:
        w, _ = _window()
        w.take(encode_frame(2, b"", length=1 << 62, width=64), 1.0)
        block = bytes(1 << 20)
        for _ in range(256):
            w.take(block, 2.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak
    assert w.progress.octets > 256 << 20
    assert sum(len(c.data) for c in w.conn.chunks) < 64 << 10


def test_the_head_is_kept_apart_from_the_window() -> None:
    """A client whose head is far longer than the recorded one (cookies)
    still gets its head read whole: the window starts after it."""
    plan = build_plan(seed_connection(), Role.SERVER)
    conn = Connection(conn=1, source="live", recorder=Role.SERVER)
    w = Window(plan, Progress(Role.CLIENT), conn, Positions(), [])
    head = b"GET / HTTP/1.1\r\nCookie: " + b"c" * 40000 + b"\r\n\r\n"
    assert w.octets < len(head)
    frame = encode_frame(2, bytes(w.octets + 100), mask=b"abcd")
    assert w.take(head + frame, 0) == head + frame[: w.octets]
    assert w.progress.upgraded
