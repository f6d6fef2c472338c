"""The seed report (case 2.2, AutobahnPython under test, flattened text):
wirelog must read back exactly what the page itself prints.

Every expected value below is copied from the seed document, not from
wirelog's output: the frames from its wire log (masks, payloads) and the
statistics from its four tables (e.g. the row "1291129" is 129 | 1 | 129).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wirelog.model import Direction, MarkerKind, Role
from wirelog.outputs.statsview import stats_entry
from wirelog.pipeline import decode, detect, read
from wirelog.protocol.messages import parse_close
from wirelog.stats import compute

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "autobahnpython_case_2_2.txt"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / "autobahnpython_case_2_2.txt"


def test_sample_is_the_shared_seed() -> None:
    if not SHARED_SEED.exists():
        pytest.skip("../shared is not available")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_detected_as_flattened_text() -> None:
    assert detect(str(SEED)) == "autobahn-text"


def test_exactly_the_four_frames_of_the_page() -> None:
    (dc,) = decode(str(SEED))
    got = [(f.direction, f.opcode, f.fin, f.rsv, f.masked, f.mask, f.payload) for f in dc.frames]
    assert got == [
        (Direction.TX, 9, True, 0, True, bytes.fromhex("1bbc4f88"), b"Hello, world!"),
        (Direction.RX, 10, True, 0, False, None, b"Hello, world!"),
        (Direction.TX, 8, True, 0, True, bytes.fromhex("87f697a1"), b"\x03\xe8"),
        (Direction.RX, 8, True, 0, False, None, b"\x03\xe8"),
    ]
    # All four come from octets the page printed in full, none from the log's claims.
    assert not any(f.from_log for f in dc.frames)
    assert all(f.complete and not f.violations for f in dc.frames)
    assert [parse_close(f.payload)[0] for f in dc.frames if f.opcode == 8] == [1000, 1000]
    assert dc.violations == []


def test_the_fuzzer_was_the_client() -> None:
    """isServer False: the fuzzer is the client, so tx frames are masked."""
    (conn,) = read(str(SEED)).connections
    assert conn.recorder is Role.CLIENT
    assert conn.meta["isServer"] is False
    assert conn.meta["closedByMe"] is True
    assert conn.meta["wasNotCleanReason"] is None
    assert conn.meta["localCloseCode"] == 1000
    assert conn.meta["case_id"] == "2.2"
    assert conn.meta["agent"] == "AutobahnPython"
    assert (conn.meta["outcome"], conn.meta["behavior"], conn.meta["duration"]) == ("Pass", "OK", 1)


def test_handshake_from_the_opening_handshake_section() -> None:
    (dc,) = decode(str(SEED))
    hs = dc.handshake
    assert hs is not None
    assert hs.request is not None and hs.response is not None
    assert hs.request.startswith(b"GET / HTTP/1.1\r\nUser-Agent: AutobahnTestSuite/0.6.1-0.8.8\r\n")
    assert hs.request.endswith(b"Sec-WebSocket-Version: 13\r\n\r\n")
    assert hs.response.endswith(b"Sec-WebSocket-Accept: YIxrIiLD42I3Ax0HMkqxV24gCGM=\r\n\r\n")
    assert hs.key == "pKZMnrfgxQewKsfiO39oBQ=="
    assert hs.status == 101 and hs.accept_ok is True
    # The page prints TX 239 and RX 129 octets for the two heads (Wire Statistics).
    assert (len(hs.request), len(hs.response)) == (239, 129)


def test_the_four_statistics_tables() -> None:
    (dc,) = decode(str(SEED))
    conn = dc.connection
    printed = {
        "rxOctetStats": {"4": 1, "15": 1, "129": 1},
        "txOctetStats": {"8": 1, "19": 1, "239": 1},
        "rxFrameStats": {"8": 1, "10": 1},
        "txFrameStats": {"8": 1, "9": 1},
    }
    assert conn.meta["reported_stats"].to_autobahn() == printed
    entry = stats_entry(conn, compute(conn, dc.frames))
    assert {k: entry[k] for k in printed} == printed
    assert entry["complete"] is True


def test_wire_log_positions_and_markers() -> None:
    (conn,) = read(str(SEED)).connections
    assert [(c.index, c.direction, c.length) for c in conn.chunks] == [
        (0, Direction.TX, 239),
        (1, Direction.RX, 129),
        (3, Direction.TX, 19),
        (5, Direction.RX, 15),
        (8, Direction.TX, 8),
        (9, Direction.RX, 4),
    ]
    # The heads were cut at 64 bytes on the page and rebuilt from the section.
    assert [c.rebuilt for c in conn.chunks] == [True, True, False, False, False, False]
    assert [(c.index, c.direction) for c in conn.claims] == [
        (2, Direction.TX),
        (6, Direction.RX),
        (7, Direction.TX),
        (10, Direction.RX),
    ]
    kinds = [(m.kind, m.index, m.value) for m in conn.markers]
    assert kinds == [(MarkerKind.CLOSE_AFTER, 4, 1.0), (MarkerKind.DROPPED, 11, None)]
    assert conn.markers[-1].direction is Direction.RX  # "TCP DROPPED BY PEER"
