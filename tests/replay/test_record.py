"""A replay's own wire log written as an Autobahn JSON report."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from servers import SEED_REQUEST, SEED_RESPONSE

from wirelog.enums import nanoseconds
from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Role
from wirelog.pipeline import read
from wirelog.protocol.frames import encode_frame
from wirelog.replay.record import to_autobahn, write_autobahn_json
from wirelog.sources.autobahn.encoding import ascii_log

TX, RX = Direction.TX, Direction.RX
MASK = b"\x01\x02\x03\x04"


def _replayed() -> Connection:
    """Client side of 6.20.1: a text frame holding one encoded surrogate."""
    conn = Connection(conn=0, source="s", recorder=Role.CLIENT)
    wires = [
        (TX, SEED_REQUEST),
        (RX, SEED_RESPONSE),
        (TX, encode_frame(1, b"\xed\xa0\x80", mask=MASK)),
        (RX, encode_frame(8, b"\x03\xef")),
        (TX, encode_frame(8, b"\x03\xef", mask=MASK)),
    ]
    conn.chunks = [
        Chunk(d, w, len(w), i, ts_ns=nanoseconds(1700000000.0 + i / 10))
        for i, (d, w) in enumerate(wires)
    ]
    conn.markers = [
        Marker(MarkerKind.KILL_AFTER, 5, value=0.5, raw=0.5, ts_ns=1700000000_600000000),
        Marker(MarkerKind.FIN, 6, RX, ts_ns=1700000000_700000000),
    ]
    return conn


def test_frames_are_logged_as_autobahn_logs_them() -> None:
    doc = to_autobahn(_replayed(), agent="t")
    tf = [e for e in doc["wirelog"] if e[0] == "TF"]
    assert tf[0][1] == [3, "\ud800"] == [3, ascii_log(b"\xed\xa0\x80")]  # not "0xeda080"
    assert tf[0][5] == MASK.hex()
    rf = [e for e in doc["wirelog"] if e[0] == "RF"]
    assert rf == [["RF", [2, "0x03ef"], 8, True, 0, False, None]]
    assert [e[0] for e in doc["wirelog"]] == ["TO", "RO", "TF", "TO", "RO", "RF", "TF", "TO", "KL"]
    assert doc["wirelog"][-1] == ["KL", 0.5]
    assert len(doc["wirelogTimes"]) == len(doc["wirelog"])
    assert doc["remoteCloseCode"] == doc["localCloseCode"] == 1007
    assert doc["droppedByMe"] is False and doc["closedByMe"] is False
    assert doc["duration"] == 600
    assert doc["txOctetStats"] == {str(len(SEED_REQUEST)): 1, "9": 1, "8": 1}


def test_the_written_report_reads_back_octet_for_octet(tmp_path: Path) -> None:
    conn = _replayed()
    big = encode_frame(2, bytes(300), mask=MASK)
    conn.chunks.insert(3, Chunk(TX, big, len(big), 2, ts_ns=1700000000_250000000))
    conn.chunks = [replace(c, index=i) for i, c in enumerate(conn.chunks)]
    conn.markers = [replace(m, index=m.index + 1) for m in conn.markers]
    path = tmp_path / "replay_case_1.json"
    write_autobahn_json(conn, str(path), agent="t")
    text = path.read_text(encoding="ascii")
    assert "\\ud800" in text and "0xeda080" not in text
    doc = json.loads(text)
    assert doc["txOctetStats"] == to_autobahn(conn, agent="t")["txOctetStats"]
    (back,) = read(str(path)).connections
    assert [(c.direction, c.data, c.length) for c in back.chunks] == [
        (c.direction, c.data, c.length) for c in conn.chunks
    ]
    tf = [c for c in back.claims if c.direction is TX]
    assert tf[0].payload == b"\xed\xa0\x80"
