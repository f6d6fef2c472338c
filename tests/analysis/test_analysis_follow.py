"""wirelog.analysis.follow: a conversation as Wireshark's Follow WebSocket Stream shows it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import wirelog
from tests.analysis_seed import PING, PONG, T0, seed_connection
from tests.captures_util import MANIFEST, drop, read_pcap, write_pcap
from wirelog.analysis import follow
from wirelog.enums import nanoseconds
from wirelog.errors import InputError, UsageError
from wirelog.model import Chunk, Direction, Recording
from wirelog.pipeline import (
    ConnectionEnd,
    Decoding,
    Options,
    decode_recording,
    read,
    replay,
)

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


CAPTURES = sorted(str(SAMPLES / m["file"]) for m in MANIFEST.values())
REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports"


@pytest.mark.parametrize("path", [*CAPTURES, str(SAMPLES / "autobahnpython_case_2_2.txt")])
def test_followed_as_it_streams_equals_the_decoded_connection(path: str) -> None:
    """``conversations`` renders from the stream, where frames, messages and
    markers of both directions interleave as the packets did; ``render``
    from the materialized connection, where they come whole at the end.
    The text is the same, connection by connection."""
    dcs = wirelog.load(path).decoded()
    assert dcs
    for dc in dcs:
        got = "".join(follow.conversations(path, Options(conns=(dc.conn,)), 16))
        assert got == follow.render(dc, 16)


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
def test_every_shared_report_followed_as_pushed_equals_it_decoded_whole() -> None:
    """Autobahn's 1,034 cases: fragmented messages with pings between their
    fragments, headers split over one-octet chops, timers, drops. Without its
    log claims a connection is decoded as it is pushed, so the follower sees
    the interleaved order; every text equals the one of the connection
    decoded whole, and most lines come out before the connection ends."""
    early = total = cases = 0
    for path in sorted(REPORTS.glob("testing-a-*/*.json")):
        if path.name == "index.json":
            continue
        rec = read(str(path))
        for c in rec.connections:
            c.claims.clear()
        whole = {d.conn: d for d in decode_recording(rec)}
        sink = Decoding()
        for _ in replay(rec, sink):
            pass
        followers: dict[int, follow.Follower] = {}
        lines: dict[int, list[str]] = {}
        for conn, item in sink.out:
            f = followers.setdefault(conn.conn, follow.Follower(conn, 16))
            got = f.add(item)
            lines.setdefault(conn.conn, []).extend(got)
            total += len(got)
            early += 0 if isinstance(item, ConnectionEnd) else len(got)
        for n, text in lines.items():
            assert "\n".join(text) + "\n" == follow.render(whole[n], 16), (path, n)
            cases += 1
    assert cases == 1034
    assert early > total / 2


def _masked(b0: int, payload: bytes) -> bytes:
    """A client frame, masked with the all-zero key (the payload reads as sent)."""
    return bytes((b0, 0x80 | len(payload))) + b"\0\0\0\0" + payload


def test_a_long_conversation_waits_for_little() -> None:
    """What the follower holds back is only what may still be preceded:
    over 2,000 messages (pings and pongs, and text fragmented around the
    server's messages) it never holds more than a few, and the text is the
    one of the connection decoded whole."""
    c = seed_connection()
    c.chunks, c.markers = c.chunks[:2], []  # the handshake
    t = Direction.TX, Direction.RX
    n = 2
    for i in range(500):
        for d, data in (
            (t[0], PING),
            (t[1], PONG),
            (t[0], _masked(0x01, b"part %d " % i)),  # text, not final
            (t[1], bytes((0x81, 3)) + b"srv"),
            (t[0], _masked(0x80, b"end")),  # its continuation, final
        ):
            c.chunks.append(Chunk(d, data, len(data), n, ts_ns=nanoseconds(T0 + n / 1e4)))
            n += 1
    rec = Recording("long", "memory", [c])
    sink = Decoding()
    for _ in replay(rec, sink):
        pass
    f = follow.Follower(c, 16)
    lines: list[str] = []
    most = 0
    for _, item in sink.out:
        lines += f.add(item)
        most = max(most, len(f._waiting))
    (dc,) = decode_recording(rec)
    assert len(dc.messages) == 2000
    assert "\n".join(lines) + "\n" == follow.render(dc, 16)
    assert sum(ln == "    part 499 end" for ln in lines) == 1
    assert most <= 3


def test_a_capture_cut_short_shows_what_it_has_then_says_why(tmp_path: Path) -> None:
    whole = (SAMPLES / "ws_basic.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    texts = []
    with pytest.raises(InputError) as err:
        for text in follow.conversations(str(cut), Options(conns=(0,))):
            texts.append(text)
    assert "capture ends inside packet" in str(err.value)
    shown = "".join(texts)
    assert shown.startswith(f"== {cut} conn 0") and "    hello" in shown
    assert shown.endswith("closing handshake not complete\n")


def test_a_second_connection_on_a_pipe_without_conn_is_an_error(tmp_path: Path) -> None:
    fifo = tmp_path / "cap"
    os.mkfifo(fifo)
    data = (SAMPLES / "multi_conn.pcap").read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(data,))
    writer.start()
    try:
        with pytest.raises(UsageError) as err:
            list(follow.conversations(str(fifo)))
    finally:
        writer.join()
    assert str(err.value) == f"{fifo}: 3 connections (0, 1, 2); pick one with --conn"
