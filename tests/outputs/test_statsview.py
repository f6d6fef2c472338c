"""``wirelog stats``: one entry per connection, counted by the summary's tally."""

from __future__ import annotations

from pathlib import Path

import pytest

import wirelog
from wirelog.outputs.statsview import connection_stats, render_stats_table, stats_entry
from wirelog.pipeline import decode
from wirelog.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "autobahn-reports"
LOGGING_OFF = CORPUS / "testing-a-server" / "websock_server_case_9_1_1.json"


@pytest.mark.parametrize(
    "path", [ROOT / "samples" / "multi_conn.pcap", ROOT / "samples" / "autobahnpython_case_2_2.txt"]
)
def test_streamed_entries_are_the_summary_s_and_load_s(path: Path) -> None:
    streamed = list(connection_stats(str(path)))
    whole = [stats_entry(dc.connection, summarize(dc).stats) for dc in decode(str(path))]
    assert streamed == whole
    assert streamed == wirelog.load(path).stats_entries()


def test_the_table_prints_autobahn_s_four_histograms() -> None:
    (entry,) = connection_stats(str(ROOT / "samples" / "autobahnpython_case_2_2.txt"))
    text = render_stats_table(entry)
    assert text.startswith(f"== {entry['source']} conn 0 ==")
    for title in ("Octets Received by Chop Size", "Frames Transmitted by Opcode"):
        assert f"\n{title}\n" in text
    assert entry["complete"] and "NOTE" not in text and "hidden" not in text
    # the seed sent a 239-octet handshake in one write: one chop of 239
    assert f"{239:>10} {1:>8} {239:>12}" in text


@pytest.mark.skipif(not LOGGING_OFF.is_file(), reason="../shared/autobahn-reports missing")
def test_what_the_log_does_not_show_is_hidden_not_merged() -> None:
    """Case 9.1.1 switches logging off for its data phase (spec §1.5)."""
    (entry,) = connection_stats(str(LOGGING_OFF))
    assert entry["complete"] is False and entry["reported"] != {}
    text = render_stats_table(entry)
    assert "NOTE: the wire log does not cover the whole connection" in text
    assert any(line.lstrip().startswith("hidden ") for line in text.splitlines())
