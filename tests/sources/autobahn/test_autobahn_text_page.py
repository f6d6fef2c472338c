"""The flattened text of a case page (spec ``autobahn-wirelog.md`` §2.3):
run-together table cells split back by constraint solving."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from wirelog.errors import InputError
from wirelog.outputs.statsview import stats_entry
from wirelog.pipeline import decode, detect, read
from wirelog.sources.autobahn.html_page import STAT_TITLES
from wirelog.sources.autobahn.text_page import closing_row, solve_table
from wirelog.stats import STAT_KEYS, compute

REPORTS = Path(__file__).resolve().parents[4] / "shared" / "autobahn-reports"


@pytest.mark.parametrize(
    ("rows", "total", "want"),
    [
        (["414", "15115", "1291129"], "3148", {4: 1, 15: 1, 129: 1}),  # the seed
        (["818", "19119", "2391239"], "3266", {8: 1, 19: 1, 239: 1}),
        # 1.1.8: 65 chops of 997 and a 745-byte tail; Total 66 | 65550
        (["7451745", "9976564805"], "6665550", {997: 65, 745: 1}),
    ],
)
def test_octet_rows_split_by_size_times_count(
    rows: list[str], total: str, want: dict[int, int]
) -> None:
    assert solve_table("t", "txOctetStats", rows, total, Counter(), "line 1") == (want, False)


def test_ambiguous_rows_follow_the_wire_log() -> None:
    """'11111' is 1 x 11 = 11 or 11 x 1 = 11 (spec §2.3). The Total row
    (count | octets) tells them apart; without one, the chunk lengths the
    wire log shows decide, and with no hint either the choice is flagged."""
    rows = ["11111"]
    assert solve_table("t", "rxOctetStats", rows, "1111", Counter(), "l") == ({1: 11}, False)
    assert solve_table("t", "rxOctetStats", rows, "111", Counter(), "l") == ({11: 1}, False)
    assert solve_table("t", "rxOctetStats", rows, None, Counter({11: 1}), "l") == ({11: 1}, False)
    assert solve_table("t", "rxOctetStats", rows, None, Counter({1: 3}), "l") == ({1: 11}, False)
    _, ambiguous = solve_table("t", "rxOctetStats", rows, None, Counter(), "l")
    assert ambiguous


def test_frame_rows_opcode_then_count() -> None:
    """'111' is opcode 1 x 11 or opcode 11 x 1; the Total decides."""
    assert solve_table("t", "txFrameStats", ["111"], "11", Counter(), "l") == ({1: 11}, False)
    assert solve_table("t", "txFrameStats", ["111"], "1", Counter(), "l") == ({11: 1}, False)
    assert solve_table("t", "rxFrameStats", ["81", "101"], "2", Counter(), "l") == (
        {8: 1, 10: 1},
        False,
    )
    # Opcodes rise down the table: "81" then "111" can only be 8 x 1, 11 x 1.
    assert solve_table("t", "txFrameStats", ["81", "111"], "2", Counter(), "l") == (
        {8: 1, 11: 1},
        False,
    )


def test_unsplittable_rows_are_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        solve_table("f.txt", "rxOctetStats", ["123"], "999", Counter(), "line 40")
    assert err.value.location == "line 40"


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        (
            "isServerFalseTrue, iff I (the fuzzer) am a server, and the peer is a client.",
            "isServer",
            False,
        ),
        ("wasCleanTrueTrue, iff full WebSockets closing handshake was performed", "wasClean", True),
        (
            "wasNotCleanReasonNoneWhen wasClean == False, the reason what happened.",
            "wasNotCleanReason",
            None,
        ),
        (
            "wasNotCleanReasonpeer did not respond (in time) in closing handshake"
            "When wasClean == False, the reason what happened.",
            "wasNotCleanReason",
            "peer did not respond (in time) in closing handshake",
        ),
        (
            "wasCloseHandshakeTimeoutFalseWhen we initiated a closing handshake, but",
            "wasCloseHandshakeTimeout",
            False,
        ),
        (
            "localCloseCode1000The close code I sent in close frame (if any).",
            "localCloseCode",
            1000,
        ),
        (
            "remoteCloseReasonNoneThe close reason the peer sent me in close frame (if any).",
            "remoteCloseReason",
            None,
        ),
    ],
)
def test_closing_rows_run_together(line: str, key: str, value: object) -> None:
    assert closing_row(line) == (key, value)


def flatten(html: str) -> str:
    """A page's text as a browser copy gives it: cells run together, one
    line per <pre>, <tr> and paragraph."""
    html = re.sub(r"(?s)<head>.*?</head>", "", html)
    html = re.sub(r">\s+<", "><", html)
    html = re.sub(r"</(tr|p|pre|h2|h3|h1|div|table)>|<br/?>|<hr/?>", "\n", html)
    return re.sub(r"<[^>]*>", "", html)


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
@pytest.mark.parametrize(
    "name",
    [
        "testing-a-server/websock_server_case_1_1_8",  # 997-byte chops: big flat rows
        "testing-a-server/websock_server_case_2_10",  # cut reads of several pongs
        "testing-a-client/websock_client_case_5_20",  # sync writes, CT/CTE
        "testing-a-client/websock_client_case_6_20_1",  # a page that is not UTF-8
        "testing-a-client/websock_client_case_9_1_1",  # logging off: hidden traffic
    ],
)
def test_flattened_corpus_pages_decode_like_the_json(tmp_path: Path, name: str) -> None:
    page = (REPORTS / f"{name}.html").read_bytes().decode("utf-8", "surrogateescape")
    path = tmp_path / "page.txt"
    path.write_bytes(flatten(page).encode("utf-8", "surrogateescape"))
    assert detect(str(path)) == "autobahn-text"
    (text,) = decode(str(path))
    (js,) = decode(str(REPORTS / f"{name}.json"))
    a, b = text.connection, js.connection
    # The sync flag is not on the page: it is inferred from the TF entries.
    assert [(c.direction, c.data, c.length, c.index, c.sync) for c in a.chunks] == [
        (c.direction, c.data, c.length, c.index, c.sync) for c in b.chunks
    ]
    assert a.claims == b.claims
    assert text.frames == js.frames
    assert a.meta["reported_stats"] == b.meta["reported_stats"]
    sa = stats_entry(a, compute(a, text.frames))
    sb = stats_entry(b, compute(b, js.frames))
    assert {k: sa[k] for k in (*STAT_KEYS, "complete", "hidden")} == {
        k: sb[k] for k in (*STAT_KEYS, "complete", "hidden")
    }


def test_a_text_without_wire_log_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Autobahn is a road.\n")
    with pytest.raises(InputError):
        read(str(path))


# -- hostile rows (issue 11) ---------------------------------------------------------

SEED = Path(__file__).resolve().parents[3] / "samples" / "autobahnpython_case_2_2.txt"


@pytest.mark.parametrize(("row", "digits"), [("1" * 3000, 3000), ("9" * 5000, 5000)])
def test_a_row_of_thousands_of_digits_is_refused_at_once(
    tmp_path: Path, row: str, digits: int
) -> None:
    """Splitting costs the square of a row's digits: 3,000 digits hung,
    5,000 crashed on Python's int-string limit."""
    from autobahn_bounded import decode_within

    text = SEED.read_text()
    path = tmp_path / "seed.txt"
    path.write_text(text.replace("\n1291129\n", f"\n{row}\n", 1))
    rc, line, _ = decode_within(str(path), 10.0)
    before = text[: text.index("\n1291129\n")]
    heading = max(before.rfind(title) for title in STAT_TITLES)
    assert rc == 2
    assert line == (
        f"{path}: line {before[:heading].count(chr(10)) + 1}: a statistics row of "
        f"{digits} digits (not size, count and octets)"
    )


def test_rows_of_the_longest_numbers_still_split() -> None:
    """Three 40-digit numbers (size, count and their product) are in bounds."""
    size, count = 10**19 + 7, 10**19 + 9
    row = f"{size}{count}{size * count}"
    assert len(row) <= 120
    want = ({size: count}, False)
    assert solve_table("t", "rxOctetStats", [row], f"{count}{size * count}", Counter(), "l") == want


def test_a_table_that_branches_too_much_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dead ends are counted too: the search over rows is bounded, not only
    its solutions."""
    from wirelog.sources.autobahn import text_page

    rows = ["414", "15115", "1291129"]  # the seed's, with a Total that fits no split
    monkeypatch.setattr(text_page, "MAX_STEPS", 3)
    with pytest.raises(InputError, match="split too many ways") as err:
        solve_table("t", "rxOctetStats", rows, "3149", Counter(), "line 3")
    assert err.value.location == "line 3"


def test_non_ascii_digits_are_not_numbers() -> None:
    with pytest.raises(InputError, match="not numeric"):
        solve_table("t", "rxFrameStats", ["1\u00b9"], "1", Counter(), "line 3")
