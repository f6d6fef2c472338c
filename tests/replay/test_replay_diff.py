"""diff_recordings and the choice of a recording's connection."""

from __future__ import annotations

import os

import pytest
from servers import SAMPLES, SEED, seed_connection

from wirelog.errors import UsageError
from wirelog.model import Chunk, Connection, Direction, Recording, Role
from wirelog.pipeline import decode_recording, read
from wirelog.protocol.connection import decode_connection
from wirelog.replay.diff import diff_recordings, pick


def test_diff_of_the_seed_with_itself_and_another_implementation() -> None:
    seed = read(SEED)
    assert diff_recordings(seed, seed).equivalent
    built = Recording("built", "autobahn-text", [seed_connection()])
    assert diff_recordings(seed, built).equivalent


def test_connections_are_picked_by_number_or_when_only_one_upgraded() -> None:
    multi = read(os.path.join(SAMPLES, "multi_conn.pcap"))
    decoded = decode_recording(multi)
    assert pick(decoded, 2, "m").conn == 2
    with pytest.raises(UsageError, match=r"m: no connection 9 \(have 0, 1, 2"):
        pick(decoded, 9, "m")
    with pytest.raises(UsageError, match=r"3 connections \(0, 1, 2\); pick one with --conn"):
        pick(decoded, None, "m")
    frames_only = Connection(5, "x", Role.CLIENT, [Chunk(Direction.TX, b"\x81\x00", 2, 0)])
    plain = decode_connection(frames_only, handshake=False)
    assert plain.handshake is None
    assert pick([plain, decoded[1]], None, "m") is decoded[1]
    (only,) = decode_recording(read(SEED))
    assert pick([only], None, "s") is only
    with pytest.raises(UsageError, match="e: no connections"):
        pick([], None, "e")
    v = diff_recordings(multi, multi, conn_a=0, conn_b=1)
    assert not v.equivalent and v.differences
