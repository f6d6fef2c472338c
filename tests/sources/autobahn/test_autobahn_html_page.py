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

REPORTS = Path(__file__).resolve().parents[4] / "shared" / "autobahn-reports"
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


# -- hostile pages (issue 11) --------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "junk"),
    [
        ("last </pre>", '<pre class="wirelog_rx_octets">x'),
        ("last </pre>", "<pre class=x>"),
        ("closing </table>", "<tr>x"),
        ("stats </table>", "<tr>x"),
        ("stats </table>", "<tr><td>x"),
        ("stats </table>", "<td><"),
        ("start", '<p class="case'),
        ("start", 'case_outcome">  <b>Case Outcome</b><br/><br/>x'),
        ("start", 'case_closing_beh"><b>x</b><br/><br/> (x'),
    ],
)
def test_unclosed_tags_in_a_500kb_page_read_in_linear_time(
    tmp_path: Path, anchor: str, junk: str
) -> None:
    """Lazy ``(.*?)</tag>`` regexes rescanned to the end of the page from
    every unclosed tag: 171-531 KB pages took over 20 s (minutes here)."""
    from autobahn_bounded import decode_within

    page = CLIENT / "websock_client_case_12_1_8.html"
    text = page.read_text(errors="surrogateescape")
    at = {
        "last </pre>": text.rfind("</pre>") + len("</pre>"),
        "closing </table>": text.find("</table>", text.find("<h2>Closing Behavior</h2>")),
        "stats </table>": text.find("</table>", text.find("<h3>Frames Transmitted by Opcode")),
        "start": text.find("<body>"),
    }[anchor]
    assert at > 0
    junk = junk * (500_000 // len(junk))
    path = tmp_path / page.name
    path.write_text(text[:at] + junk + text[at:], errors="surrogateescape")
    assert 500_000 < path.stat().st_size < 600_000
    rc, line, _ = decode_within(str(path), 10.0)
    (dc,) = decode(str(page))
    assert (rc, line) == (0, f"ok {len(dc.frames)} {len(dc.messages)}")


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("<td>5</td>", "['5'] is not 3 numbers"),
        ("<td>5</td><td>1</td>", "['5', '1'] is not 3 numbers"),
        ("<td>5</td><td>1</td><td>5</td><td>5</td>", "is not 3 numbers"),
        ("<td>5</td><td>" + "9" * 5000 + "</td><td>5</td>", "of at most 40 digits"),
        ("<td>5</td><td>\u00b9</td><td>5</td>", "is not 3 numbers"),
        ("<td>5</td><td>-1</td><td>-5</td>", "is not 3 numbers"),
    ],
)
def test_a_statistics_row_of_the_wrong_shape_is_located(
    tmp_path: Path, row: str, said: str
) -> None:
    """One cell raised IndexError, 5,000 digits Python's int-string ValueError."""
    page = CLIENT / "websock_client_case_12_1_8.html"
    heading = "<h3>Octets Received by Chop Size</h3>"

    def edit(text: str) -> str:
        at = text.index('<tr class="stats_row">', text.index(heading))
        return text[:at] + f'<tr class="stats_row">{row}</tr>' + text[at:]

    path = variant(tmp_path, page, edit)
    with pytest.raises(InputError) as err:
        read(path)
    assert said in err.value.message and "\n" not in str(err.value)
    text = Path(path).read_text(errors="surrogateescape")
    assert err.value.location == f"line {text[: text.index(heading)].count(chr(10)) + 1}"


def test_huge_numbers_in_the_closing_table_stay_text(tmp_path: Path) -> None:
    page = CLIENT / "websock_client_case_12_1_8.html"
    big = "9" * 5000

    def edit(text: str) -> str:
        key = '<td>localCloseCode</td><td class="left">'
        at = text.index(key) + len(key)
        return text[:at] + big + text[text.index("<", at) :]

    conn = only(variant(tmp_path, page, edit))
    assert conn.meta["localCloseCode"] == big
