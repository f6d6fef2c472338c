"""The per-case HTML page (spec ``autobahn-wirelog.md`` §2), read from real
pages of the shared corpus and from variants of them; the JSON twin of each
page is the oracle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import Connection, Direction, MarkerKind
from wirelog.pipeline import decode, detect, read

REPORTS = Path(__file__).resolve().parents[2] / "shared" / "autobahn-reports"
CLIENT = REPORTS / "testing-a-client"  # fuzzer = server (isServer true)
SERVER = REPORTS / "testing-a-server"  # fuzzer = client

pytestmark = pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")


def only(path: Path | str) -> Connection:
    (conn,) = read(str(path)).connections
    return conn


def variant(tmp_path: Path, page: Path, edit: object) -> str:
    text = page.read_bytes().decode("utf-8", "surrogateescape")
    assert callable(edit)
    new = edit(text)
    assert new != text
    out = tmp_path / page.name
    out.write_bytes(new.encode("utf-8", "surrogateescape"))
    return str(out)


def test_rf_mask_printed_hex_twice_is_decoded() -> None:
    page = CLIENT / "websock_client_case_2_2.html"
    assert "MASK=3235643965333439" in page.read_text()
    conn = only(page)
    (rf,) = [c for c in conn.claims if c.direction is Direction.RX]
    assert rf.mask == bytes.fromhex("25d9e349") and rf.masked
    # The peer's octets carry the same key (RO "8a8d25d9e349...").
    (pong,) = [f for f in decode(str(page))[0].frames if f.direction is Direction.RX]
    assert pong.mask == rf.mask and pong.payload == b"Hello, world!"


def test_rf_mask_printed_once_is_read_as_is(tmp_path: Path) -> None:
    page = CLIENT / "websock_client_case_2_2.html"
    path = variant(tmp_path, page, lambda t: t.replace("MASK=3235643965333439", "MASK=25d9e349"))
    assert only(path).claims == only(page).claims


def test_heads_get_crlf_and_the_final_blank_line_back() -> None:
    for folder in (CLIENT, SERVER):
        for page in sorted(folder.glob("*_case_2_*.html")):
            doc = json.loads(page.with_suffix(".json").read_text())
            conn = only(page)
            assert conn.handshake_request == doc["httpRequest"].encode()
            assert conn.handshake_response == doc["httpResponse"].encode()


def test_closing_behavior_and_summary() -> None:
    page = SERVER / "websock_server_case_2_2.html"
    doc = json.loads(page.with_suffix(".json").read_text())
    meta = only(page).meta
    for key in ("isServer", "closedByMe", "failedByMe", "droppedByMe", "wasClean"):
        assert meta[key] is doc[key]
    for key in ("wasNotCleanReason", "localCloseCode", "remoteCloseCode", "agent", "id"):
        assert meta[key] == doc[key]
    assert meta["duration"] == doc["duration"] and meta["started"] == doc["started"]


def test_sync_comes_from_the_css_class() -> None:
    page = SERVER / "websock_server_case_3_3.html"
    doc = json.loads(page.with_suffix(".json").read_text())
    want = [e[2] for e in doc["wirelog"] if e[0] == "TO"]
    assert any(want) and not all(want)
    assert [c.sync for c in only(page).chunks if c.direction is Direction.TX] == want


def test_a_page_that_is_not_utf8() -> None:
    """6.20.1 sends a lone surrogate; Python 2 wrote its bytes into the page."""
    page = SERVER / "websock_server_case_6_20_1.html"
    with pytest.raises(UnicodeDecodeError):
        page.read_bytes().decode("utf-8")
    (tf,) = [c for c in only(page).claims if c.direction is Direction.TX]
    assert tf.payload == b"\xed\xa0\x80"


def test_both_renderings_of_the_wire_log(tmp_path: Path) -> None:
    """One <pre> per printed line (Autobahn) or one <pre> per entry."""
    page = SERVER / "websock_server_case_1_1_8.html"

    def merge(text: str) -> str:
        # Fold each continuation <pre> into the one before it.
        return re.sub(r'</pre>\s*<pre class="[a-z_]*">(?=               )', "\n", text)

    path = variant(tmp_path, page, merge)
    a, b = only(page), only(path)
    assert (a.chunks, a.claims, a.markers) == (b.chunks, b.claims, b.markers)


def test_cut_octet_lengths_come_from_the_statistics() -> None:
    """The page prints no lengths: 1.1.8's 997-byte chops and the 8-byte tail
    are solved from 'Octets Transmitted by Chop Size' and the TF entry."""
    page = SERVER / "websock_server_case_1_1_8.html"
    doc = json.loads(page.with_suffix(".json").read_text())
    want = [e[1][0] for e in doc["wirelog"] if e[0] in ("RO", "TO")]
    assert [c.length for c in only(page).chunks] == want
    assert 997 in want


def test_markers_and_the_dropped_line() -> None:
    page = CLIENT / "websock_client_case_6_4_1.html"
    conn = only(page)
    kinds = [m.kind for m in conn.markers]
    assert MarkerKind.DELAY in kinds and MarkerKind.DELAY_FIRED in kinds
    assert [m.tag for m in conn.markers if m.kind is MarkerKind.DELAY] == ["A", "B"]
    doc = json.loads(page.with_suffix(".json").read_text())
    assert conn.markers[-1].kind is MarkerKind.DROPPED
    assert conn.markers[-1].index == len(doc["wirelog"])


def test_detected_by_content_not_name(tmp_path: Path) -> None:
    copy = tmp_path / "report.txt"
    copy.write_bytes((SERVER / "websock_server_case_2_2.html").read_bytes())
    assert detect(str(copy)) == "autobahn-html"


def test_a_broken_wire_log_line_is_located(tmp_path: Path) -> None:
    page = SERVER / "websock_server_case_2_2.html"
    path = variant(
        tmp_path, page, lambda t: t.replace("003 TX OCTETS: 898d", "003 TX OCTETS: 8q8d")
    )
    with pytest.raises(InputError) as err:
        read(path)
    assert err.value.location == "entry 3"
    path = variant(tmp_path, page, lambda t: t.replace("003 TX OCTETS", "003 XX OCTETS"))
    with pytest.raises(InputError) as err:
        read(path)
    assert err.value.location == "entry 3"


def test_a_truncated_page_says_so(tmp_path: Path) -> None:
    page = (SERVER / "websock_server_case_2_2.html").read_bytes()
    cut = page[: len(page) * 2 // 3]
    path = tmp_path / "cut.html"
    path.write_bytes(cut)
    with pytest.raises(TruncatedInputError) as err:
        read(str(path))
    lines = cut.rstrip().count(b"\n") + 1
    assert err.value.location == f"line {lines}"


@pytest.mark.parametrize(
    ("line", "kind", "value", "tag"),
    [
        ("DELAY 0.500000 sec for TAG A", MarkerKind.DELAY, 0.5, "A"),
        ("DELAY 1.000000 sec for TAG None", MarkerKind.DELAY, 1.0, None),
        ("DELAY TIMEOUT on TAG B", MarkerKind.DELAY_FIRED, None, "B"),
        ("FAIL CONNECTION AFTER 10.000000 sec", MarkerKind.KILL_AFTER, 10.0, None),
        ("FAILING CONNECTION", MarkerKind.KILL_FIRED, None, None),
        ("CLOSE CONNECTION AFTER 1.000000 sec", MarkerKind.CLOSE_AFTER, 1.0, None),
        ("CLOSING CONNECTION", MarkerKind.CLOSE_FIRED, None, None),
        ("WIRELOG DISABLED", MarkerKind.WIRELOG, False, None),
        ("WIRELOG ENABLED", MarkerKind.WIRELOG, True, None),
    ],
)
def test_marker_lines(line: str, kind: MarkerKind, value: object, tag: str | None) -> None:
    from wirelog.sources.autobahn.html_page import parse_wirelog
    from wirelog.sources.autobahn.log import MarkerEntry

    entries, dropped = parse_wirelog("p", [(None, f"000 {line}"), (None, "001 TCP DROPPED BY ME")])
    (entry,) = entries
    assert isinstance(entry, MarkerEntry)
    assert (entry.kind, entry.value, entry.tag, dropped) == (kind, value, tag, True)


def test_the_logging_disabled_note_is_a_finding(tmp_path: Path) -> None:
    from wirelog.model import ViolationKind

    page = SERVER / "websock_server_case_2_2.html"
    note = '<div id="wirelog">\n<p style="color: red;">Wire log after handshake disabled!</p>'
    path = variant(tmp_path, page, lambda t: t.replace('<div id="wirelog">', note))
    assert ViolationKind.LOGGING_OFF in [v.kind for v in only(path).findings]
    assert ViolationKind.LOGGING_OFF not in [v.kind for v in only(page).findings]


def test_whitespace_the_renderer_changed_is_no_mismatch(tmp_path: Path) -> None:
    """textwrap turns a tab or newline in a text payload into a space
    (spec §2.2): the page's claim then differs from the octets, and must not
    be reported as a mismatch nor fill a frame."""
    from wirelog.model import ViolationKind

    page = SERVER / "websock_server_case_2_2.html"

    def edit(text: str) -> str:
        # A ping whose payload had a tab where the page shows a space:
        # TO octets of "Hello,\tworld!" masked with the logged key.
        from wirelog.protocol.frames import encode_frame

        wire = encode_frame(9, b"Hello,\tworld!", mask=bytes.fromhex("d8014d48"))
        old = re.search(r"003 TX OCTETS: ([0-9a-f]+)", text)
        assert old is not None
        return text.replace(old.group(1), wire.hex())

    path = variant(tmp_path, page, edit)
    (dc,) = decode(path)
    assert ViolationKind.CLAIM_MISMATCH not in [v.kind for v in dc.violations]
    ping = dc.frames[0]
    assert ping.payload == b"Hello,\tworld!"
    assert dc.connection.meta["lossy_claims"] == [2, 6]
