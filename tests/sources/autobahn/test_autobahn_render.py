"""The wire log rendered as Autobahn prints it.

Oracle: Autobahn's own pages. For every report of the shared corpus, the
``<div id="wirelog">`` rendered from the JSON twin is byte for byte the
page's (CSS classes, the RF mask's double hex, encoded surrogates).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    Direction,
    Marker,
    MarkerKind,
    Recording,
    Role,
)
from wirelog.pipeline import decode, decode_recording
from wirelog.protocol.frames import encode_frame
from wirelog.sources.autobahn.grammar import LOG_OFF_NOTE
from wirelog.sources.autobahn.render import (
    encode_text,
    log_items,
    wire_log,
    wire_log_html,
    wire_log_text,
)

REPORTS = Path(__file__).resolve().parents[4] / "shared" / "autobahn-reports"
TX, RX = Direction.TX, Direction.RX
START = b'      <div id="wirelog">'
END = b"      </div>\n"


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
def test_the_wire_log_section_is_autobahns_byte_for_byte() -> None:
    pages = sorted(REPORTS.glob("*/*_case_*.html"))
    assert len(pages) == 1034
    for page in pages:
        raw = page.read_bytes()
        start = raw.index(START)
        want = raw[start : raw.index(END, start) + len(END)]
        (dc,) = decode(str(page.with_suffix(".json")))
        assert encode_text(wire_log_html(dc)) == want, page.name


def _connection() -> Connection:
    conn = Connection(conn=0, source="s", recorder=Role.CLIENT)
    mask = b"\x01\x02\x03\x04"
    conn.chunks = [
        Chunk(TX, encode_frame(1, b"hi", mask=mask), 8, 0),
        Chunk(RX, encode_frame(1, b"hi"), 4, 1),
    ]
    conn.markers = [Marker(MarkerKind.GAP, 2, RX, value=3), Marker(MarkerKind.FIN, 3, RX)]
    conn.meta["handshake"] = False
    return conn


def test_a_connection_without_claims_gets_tf_before_and_rf_after_its_octets() -> None:
    (dc,) = decode_recording(Recording("s", "test", [_connection()]))
    lines = wire_log_text(dc).splitlines()
    assert lines[0].startswith("000 TX FRAME : OPCODE=1") and lines[1].endswith("hi")
    assert lines[2].startswith("001 TX OCTETS: 8182")
    assert lines[3] == "002 RX OCTETS: 81026869"
    assert lines[4].startswith("003 RX FRAME : OPCODE=1") and "MASK=None" in lines[4]
    assert lines[6:] == ["004 RX GAP    : 3 octets not captured", "005 TCP DROPPED BY PEER"]
    assert [type(it).__name__ for it in log_items(dc)][:4] == ["Frame", "Chunk", "Chunk", "Frame"]


def test_an_open_connection_and_a_log_switched_off() -> None:
    conn = _connection()
    conn.markers = []
    conn.meta["createWirelog"] = False
    conn.claims = [ClaimedFrame(TX, 0, 1, True, 0, True, b"\x01\x02\x03\x04", 2, b"hi", 2)]
    (dc,) = decode_recording(Recording("s", "test", [conn]))
    assert wire_log(dc)[-1].lines == ("003 TCP STILL OPEN AT END OF RECORDING",)
    assert LOG_OFF_NOTE in wire_log_html(dc)
    conn.meta["droppedByMe"] = True
    assert wire_log(dc)[-1].lines == ("003 TCP DROPPED BY ME",)
