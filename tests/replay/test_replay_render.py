"""The text of a verdict, a replay and a load run."""

from __future__ import annotations

from dataclasses import replace

from sessions import CLOSE, PING, PONG, echo_session

from wirelog.model import Connection, Direction, Role
from wirelog.protocol.connection import decode_connection
from wirelog.replay.outcome import Outcome, ReplayResult
from wirelog.replay.plan import build_plan
from wirelog.replay.render import render, render_load, render_replay
from wirelog.replay.run import LoadReport, Report
from wirelog.replay.verdict import Difference, compare

TX, RX = Direction.TX, Direction.RX


def test_closing_table_marks_the_rows_that_differ() -> None:
    a = decode_connection(echo_session([PING, CLOSE], [PONG, CLOSE]))
    b = decode_connection(echo_session([PING, CLOSE], [PONG, b"\x08\x03\xea"], dropped=TX))
    text = render(compare(a, b), title="T", a_name="left", b_name="right")
    lines = text.splitlines()
    assert lines[:4] == ["T", "", "  left: s#0", "  right: s#0"]
    assert any(x.startswith("* serverCloseCode") and "1000" in x and "1002" in x for x in lines)
    assert any(x.startswith("  Key") and "left" in x and "right" in x for x in lines)
    assert any(x.startswith("  clientCloseCode") for x in lines)
    assert "  Actual events match A." in lines
    assert lines[-1] == "Verdict: DIFFERENT"


def test_long_differences_are_cut_and_faults_and_notes_listed() -> None:
    a = decode_connection(echo_session([PING], [PONG]))
    v = compare(a, a)
    v.differences = [Difference("client frames", [f"- frame {i}" for i in range(45)])]
    v.faults = ["reset: it reset"]
    v.notes = ["a note"]
    text = render(v, title="t")
    assert "    - frame 39\n    ... 5 more\n" in text and "- frame 40" not in text
    assert "  note: a note\n" in text
    assert text.endswith("Fault: reset: it reset\nVerdict: FAULT\n")


def _report(conn: Connection) -> Report:
    original = decode_connection(conn)
    plan = build_plan(conn)
    replayed = Connection(0, "live", Role.CLIENT, list(conn.chunks), list(conn.markers))
    outcome = Outcome(writes_sent=len(plan.writes), writes_planned=len(plan.writes), duration=0.01)
    result = ReplayResult(plan, replayed, outcome, "127.0.0.1:1")
    return Report(original, plan, result, compare(original, decode_connection(replayed)))


def test_a_replay_says_what_it_sent_and_got_above_the_verdict() -> None:
    conn = echo_session([PING] * 14, [PONG] * 14)
    text = render_replay(_report(conn), title="Replay of x")
    head, rest = text.split("\n\n", 1)
    sent = sum(c.length for c in conn.chunks if c.direction is TX)
    got = [c for c in conn.chunks if c.direction is RX]
    assert head.splitlines() == [
        f"writes    15 of 15 sent, {sent} octets (0 rebuilt from the log, 0 octets synthesized)",
        "chops     " + ", ".join([str(conn.chunks[0].length)] + ["19"] * 11) + ", ...",
        f"received  {len(got)} chunks, {sum(c.length for c in got)} octets in 10.0 ms",
    ]
    assert rest.startswith("Replay of x\n\n  recording: s#0\n  replay: live#0\n")
    assert "Actual events match the recording." in rest
    assert rest.endswith("Verdict: EQUIVALENT\n")


def test_a_short_replay_lists_every_chop() -> None:
    conn = echo_session([PING], [PONG])
    conn.chunks[0] = replace(conn.chunks[0], data=conn.chunks[0].data[:10])
    conn.handshake_request = echo_session([PING], [PONG]).chunks[0].data
    text = render_replay(_report(conn), title="t")
    assert "(1 rebuilt from the log, 0 octets synthesized)" in text
    assert f"chops     {conn.chunks[0].length}, 19\n" in text


def test_load_report_text() -> None:
    rep = LoadReport(sessions=4, equivalent=3, different=1, elapsed=2.0)
    rep.latencies = [0.001, 0.002, 0.003, 0.004]
    assert render_load(rep) == (
        "sessions     4 in 2.0 s (2.0 sessions/s)\n"
        "equivalent   3\n"
        "mismatches   1\n"
        "errors       0\n"
        "latency ms   p50 2.0  p90 4.0  p99 4.0\n"
    )
    rep.first_difference = "closing: x"
    assert render_load(rep).endswith("first mismatch: closing: x\n")


def test_a_load_run_where_no_session_completed_prints_no_rate() -> None:
    rep = LoadReport(sessions=5, errors=5, elapsed=0.01, first_error="x: connection refused")
    assert render_load(rep) == (
        "sessions     5 tried in 0.01 s, none completed\n"
        "equivalent   0\n"
        "mismatches   0\n"
        "errors       5\n"
    )
    rep = LoadReport(sessions=5, equivalent=3, errors=2, elapsed=1.0, latencies=[0.001] * 3)
    assert render_load(rep).startswith("sessions     5 in 1.0 s (3.0 sessions/s, 2 failed)\n")
