"""One pass counts a connection the same way for every consumer."""

from __future__ import annotations

from dataclasses import replace

from analysis_seed import T0, seed_connection

import wirelog
from wirelog.model import Chunk, Connection, Direction, Message, Opcode, Role
from wirelog.pipeline import decoded_events
from wirelog.protocol.connection import decode_connection
from wirelog.stats import compute
from wirelog.summary import Tally, closing_of, start_time, summarize

TX, RX = Direction.TX, Direction.RX


def test_the_seed_counted() -> None:
    dc = decode_connection(seed_connection())
    s = summarize(dc)
    assert s.connection is dc.connection and s.handshake == dc.handshake
    assert (s.tx.chops, s.rx.chops, s.tx.frames, s.rx.frames) == (3, 3, 2, 2)
    assert (s.tx.messages, s.rx.messages) == (2, 2)
    assert s.tx.octets == sum(c.length for c in dc.connection.chunks if c.direction is TX)
    assert (s.tx.close_code, s.rx.close_code) == (1000, 1000)
    assert s.of(TX) is s.tx and s.of(RX) is s.rx
    assert s.start == T0 and s.end == T0 + 0.0010
    assert s.duration is not None and abs(s.duration - 0.0010) < 1e-6
    assert (s.violations, s.findings) == (0, 0)
    assert s.stats == compute(dc.connection, dc.frames)
    assert s.closing == closing_of(dc)
    assert s.closing.dropped_by is Role.SERVER and s.closing.was_clean


def test_load_shows_the_same_facts() -> None:
    dc = decode_connection(seed_connection())
    s = summarize(dc)
    row = wirelog.load(dc).connections().iloc[0]
    assert (row["frames_tx"], row["messages_rx"], row["close_tx"]) == (
        s.tx.frames,
        s.rx.messages,
        s.tx.close_code,
    )
    assert row["duration"] == s.duration


def test_start_time_prefers_the_input_s_own() -> None:
    c = seed_connection()
    assert start_time(c, 5.0) == T0
    c.start_ts_ns = None
    assert start_time(c, 5.0) == 5.0
    assert summarize(decode_connection(c)).start == c.chunks[0].ts


def test_no_timestamps_no_duration() -> None:
    c = seed_connection()
    c.start_ts_ns = None
    c.chunks = [replace(ch, ts_ns=None) for ch in c.chunks]
    s = summarize(decode_connection(c))
    assert s.start is None and s.end is None and s.duration is None


def test_the_first_close_frame_s_code_counts() -> None:
    """A second close (a frame after close) does not replace the first's
    code; a close message carries the code the message layer read."""
    dc = decode_connection(seed_connection())
    tally = Tally(dc.connection)
    for _, item in decoded_events(dc):
        tally.add(item)
    close = next(f for f in dc.frames if f.opcode == Opcode.CLOSE and f.direction is TX)
    again = replace(close, index=close.index + 1, payload=b"\x03\xe9")
    tally.frame(again)
    tally.message(Message(TX, Role.CLIENT, 9, Opcode.CLOSE, b"\x03\xe9", 2, 1, again.index, None))
    assert tally.summary().tx.close_code == 1000
    other = Tally(Connection(1, "t", Role.CLIENT))
    other.frame(close)
    assert other.summary().tx.close_code == 1000  # from the frame's own octets
    other.message(Message(TX, Role.CLIENT, 0, Opcode.CLOSE, b"", 0, 1, close.index, None))
    assert other.summary().tx.close_code is None  # as its message read it


def test_add_takes_any_item_and_lists_problems_once() -> None:
    dc = decode_connection(seed_connection())
    tally = Tally(dc.connection)
    found = [p for _, item in decoded_events(dc) for p in tally.add(item)]
    assert found == [] and tally.summary().tx.frames == 2
    bad = replace(dc.frames[0], violations=(wirelog.ViolationKind.RESERVED_OPCODE,))
    assert len(tally.add(bad)) == 1 and tally.add(bad) == []
    finding = wirelog.Violation(wirelog.ViolationKind.CAPTURE_GAP, "gap")
    assert tally.add(finding) == [(finding, "stream")]
    s = tally.summary()
    assert (s.violations, s.findings) == (1, 1)
    assert tally.stats is s.stats


def test_claims_are_counted_as_autobahn_counts_them() -> None:
    c = seed_connection()
    dc = decode_connection(c)
    assert summarize(dc).stats.tx_frames == compute(c, dc.frames).tx_frames
    tally = Tally(c)
    tally.chunk(Chunk(TX, b"x", 1, 99))
    assert tally.stats.tx_octets[1] == 1
