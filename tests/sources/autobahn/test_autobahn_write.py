"""The JSON writer: Autobahn's entry shapes and its way of dumping.

The corpus oracle (every shared report written back byte for byte) is in
``tests/integration/test_autobahn_round_trips.py``; these pin the pieces.
"""

from __future__ import annotations

import json
from pathlib import Path

from wirelog.model import Chunk, ClaimedFrame, Connection, Direction, Marker, MarkerKind, Role
from wirelog.pipeline import read
from wirelog.sources.autobahn.write import (
    claim_entry,
    dumps,
    marker_entry,
    octets_entry,
    report_doc,
    wirelog_entries,
    write_report,
)

TX, RX = Direction.TX, Direction.RX


def test_octets_are_cut_as_autobahn_cuts_them_unless_asked_not_to() -> None:
    big = Chunk(TX, bytes(100), 100, 3, sync=True)
    assert octets_entry(big) == ["TO", [100, "00" * 64 + " ..."], True]
    assert octets_entry(big, cut=False) == ["TO", [100, "00" * 100], True]
    assert octets_entry(Chunk(RX, b"\x8a\x00", 2, 4)) == ["RO", [2, "8a00"]]


def test_claims_log_their_payload_with_ascii_log() -> None:
    tf = ClaimedFrame(TX, 2, 1, True, 0, True, bytes.fromhex("1bbc4f88"), 3, b"\xed\xa0\x80", 3)
    assert claim_entry(tf) == ["TF", [3, "\ud800"], 1, True, 0, "1bbc4f88", None, None, False]
    rf = ClaimedFrame(RX, 5, 8, True, 0, False, None, 2, b"\x03\xe8", 2)
    assert claim_entry(rf) == ["RF", [2, "0x03e8"], 8, True, 0, False, None]
    assert json.dumps(claim_entry(tf)[1]) == '[3, "\\ud800"]'


def test_markers() -> None:
    assert marker_entry(Marker(MarkerKind.DELAY, 0, value=1.0, tag="A", raw=1)) == ["CT", 1, "A"]
    assert marker_entry(Marker(MarkerKind.KILL_AFTER, 0, value=0.5)) == ["KL", 0.5]
    assert marker_entry(Marker(MarkerKind.DELAY_FIRED, 0, tag=None)) == ["CTE", None]
    assert marker_entry(Marker(MarkerKind.WIRELOG, 0, value=False)) == ["WLM", False]
    assert marker_entry(Marker(MarkerKind.CLOSE_FIRED, 0)) == ["TIE"]
    for kind in (MarkerKind.FIN, MarkerKind.RST, MarkerKind.GAP, MarkerKind.DROPPED):
        assert marker_entry(Marker(kind, 0, TX)) is None
    items = [Chunk(RX, b"", 0, 0), Marker(MarkerKind.FIN, 1, RX), Marker(MarkerKind.KILL_FIRED, 2)]
    assert wirelog_entries(items) == [["RO", [0, ""]], ["KLE"]]


def test_statistics_keys_sort_as_numbers_like_python_2() -> None:
    text = dumps({"rxOctetStats": {"10": 1, "9": 2}, "agent": "a", "txFrameStats": {}})
    assert text.index('"9"') < text.index('"10"')
    assert text.index('"agent"') < text.index('"rxOctetStats"')
    assert json.loads(dumps({"rxOctetStats": {"x": 1}}))["rxOctetStats"] == {"x": 1}


def test_a_written_report_reads_back(tmp_path: Path) -> None:
    conn = Connection(conn=0, source="s", recorder=Role.SERVER)
    conn.chunks = [Chunk(RX, b"\x81\x80\x00\x00\x00\x00", 6, 0)]
    conn.claims = [ClaimedFrame(RX, 1, 1, True, 0, True, bytes(4), 0, b"", 0)]
    conn.meta = {"isServer": True, "droppedByMe": False, "form": "json", "case_id": "1"}
    doc = report_doc(conn)
    assert "form" not in doc and "case_id" not in doc
    rf = ["RF", [0, ""], 1, True, 0, True, "00000000"]
    assert doc["wirelog"] == [["RO", [6, "818000000000"]], rf]
    path = tmp_path / "x_case_1.json"
    write_report(doc, str(path))
    assert not path.read_text(encoding="ascii").endswith("\n")  # as Autobahn's files
    (back,) = read(str(path)).connections
    assert back.chunks == conn.chunks and back.claims == conn.claims
