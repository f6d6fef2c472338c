"""wirelog.analysis.follow: a conversation as Wireshark's Follow WebSocket Stream shows it."""

from __future__ import annotations

from pathlib import Path

import wirelog
from tests.captures_util import MANIFEST, drop, read_pcap, write_pcap
from wirelog.analysis import follow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _view(path: Path, limit: int = 1024, conn: int = 0) -> str:
    dcs = wirelog.load(str(path)).decoded()
    return follow.render(next(d for d in dcs if d.conn == conn), limit)


def test_the_basic_conversation_in_order() -> None:
    text = _view(SAMPLES / "ws_basic.pcap", limit=16)
    lines = text.splitlines()
    heads = [ln for ln in lines if ln.startswith("t=")]
    assert heads[0].endswith("client → server  TEXT (5 octets)")
    assert heads[1].endswith("server → client  TEXT (5 octets)")
    assert lines[lines.index(heads[0]) + 1] == "    hello"
    assert "> GET / HTTP/1.1" in lines and "< HTTP/1.1 101 Switching Protocols" in lines
    assert "    é✓ unicode ✓" in lines and "    (empty)" in lines
    assert "    00000000  00 01 02 62 69 6e 61 72 79" in text and "|...binary|" in text
    assert "… 65520 more octets (--max 0 shows all)" in text
    assert '    code 1000 "bye now"' in lines
    assert sum("-- FIN: TCP half-closed --" in ln for ln in lines) == 2
    assert lines[-1] == "== closed by client; closing handshake complete; TCP dropped by server"
    # Times only grow, and they are the messages' own, relative to the start.
    times = [float(h.split()[0][2:]) for h in heads]
    assert times == sorted(times) and 0 < times[0] < 0.01
    msgs = wirelog.load(str(SAMPLES / "ws_basic.pcap")).messages()
    assert times[: len(msgs)] == [round(t, 6) for t in msgs.t]


def test_all_octets_with_max_zero() -> None:
    text = _view(SAMPLES / "ws_basic.pcap", limit=0)
    assert "more octets" not in text
    m = wirelog.load(str(SAMPLES / "ws_basic.pcap")).messages()
    dumped = m[m.text.isna() & (m.opcode != 8) & (m.length > 0)]
    assert text.count("    00000000  ") == len(dumped)
    lines = sum(-(-n // 16) for n in dumped.length)  # one line per 16 octets
    assert sum(ln.startswith("    0") and "|" in ln for ln in text.splitlines()) == lines


def test_a_lost_segment_shows_as_a_gap(tmp_path: Path) -> None:
    link, packets = read_pcap(SAMPLES / "ws_fragmented.pcap")
    cut, size = drop(packets, 5)
    path = write_pcap(tmp_path / "lost.pcap", link, cut)
    text = _view(path)
    gap = [ln for ln in text.splitlines() if "octets missing from the capture" in ln]
    assert len(gap) == 1 and f"-- {size} octets missing" in gap[0]
    assert text.count("t=") >= 4  # the conversation goes on after the gap


def test_an_autobahn_case_shows_its_timers_and_no_times() -> None:
    text = _view(SAMPLES / "autobahnpython_case_2_2.txt")
    assert "== the input has no times; events in recorded order" in text
    lines = text.splitlines()
    assert "t=?  -- timer: close after 1.0 s --" in lines
    ping = lines.index(next(ln for ln in lines if "PING" in ln))
    assert lines.index("t=?  -- timer: close after 1.0 s --") == ping + 2
    assert "|Hello, world!|" in text and "    code 1000" in lines


def test_long_text_is_cut_where_asked() -> None:
    text = _view(SAMPLES / "multi_conn.pcap", limit=3, conn=1)
    assert MANIFEST["multi_conn"]["port"] and "more characters (--max 0 shows all)" in text
