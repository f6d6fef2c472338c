"""Misbehaving targets: each ends in one clear line on stderr, exit 2, within
the timeout; never a hang, never a traceback."""

from __future__ import annotations

import os
import time

import pytest
from servers import Misbehaving, refused_port, seed_connection
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.errors import TargetError, UsageError
from wirelog.model import Direction, Marker, MarkerKind, Recording, Role
from wirelog.pipeline import read
from wirelog.protocol.connection import decode_connection
from wirelog.replay import run
from wirelog.replay.target import parse_target

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(ROOT, "samples", "autobahnpython_case_2_2.txt")
TIMEOUT = 1.0


def cli(*args: str) -> tuple[int, str, str, float]:
    start = time.monotonic()
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr, time.monotonic() - start


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("wirelog: ")
    return lines[0]


def test_refused() -> None:
    port = refused_port()
    code, _, err, took = cli("replay", SEED, "--target", f"ws://127.0.0.1:{port}/")
    assert code == 2 and took < 2
    assert _one_line(err) == f"wirelog: 127.0.0.1:{port}: connection refused"
    with pytest.raises(TargetError, match="connection refused"):
        run.replay(read(SEED), f"ws://127.0.0.1:{port}/")


@pytest.mark.parametrize(
    ("mode", "expect", "slowest"),
    [
        ("reset", "reset: the server reset the connection after 1 of 3 writes", 1.0),
        ("stall", "stalled: no answer within 1 s while waiting for the HTTP head", 2 * TIMEOUT + 1),
        ("404", "not upgraded: the server answered 'HTTP/1.1 404 Not Found' instead of 101", 1.0),
        ("noclose", "never closed: the server did not drop TCP within 1 s", TIMEOUT + 1),
        ("reset-mid", "reset: the server reset the connection after 3 of 3 writes", 1.0),
        ("garbage", "not valid WebSocket framing", 2 * TIMEOUT + 1),
    ],
)
def test_misbehaving_server(mode: str, expect: str, slowest: float) -> None:
    with Misbehaving(mode) as srv:
        code, out, err, took = cli("replay", SEED, "--target", srv.url, "--timeout", str(TIMEOUT))
    assert code == 2, out + err
    line = _one_line(err)
    assert expect in line or any(expect in x for x in out.splitlines()), out + err
    assert took < slowest, took
    assert "Verdict: FAULT" in out


def test_404_sends_nothing_after_the_refusal() -> None:
    with Misbehaving("404") as srv:
        report = run.replay(read(SEED), srv.url, run.Options(timeout=TIMEOUT))
    assert report.result.outcome.writes_sent == 1
    assert any("404" in f for f in report.verdict.faults)


def test_stall_is_bounded_by_one_budget() -> None:
    """Each wait shares the timeout: a server that never answers costs one
    timeout for the writes and one for the close, not one per write."""
    with Misbehaving("stall") as srv:
        start = time.monotonic()
        report = run.replay(read(SEED), srv.url, run.Options(timeout=TIMEOUT))
        took = time.monotonic() - start
    assert report.result.outcome.stalled
    assert report.result.outcome.writes_sent == 3
    assert took < 2 * TIMEOUT + 0.8


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/", "ws://127.0.0.1/", "ws://:9001/", "127.0.0.1:9001"]
)
def test_targets_need_scheme_host_and_port(url: str) -> None:
    with pytest.raises(UsageError):
        parse_target(url)
    code, _, err, _ = cli("replay", SEED, "--target", url)
    assert code == 2
    assert "host and port" in err or "scheme" in err


def test_target_or_listen_is_required() -> None:
    code, _, err, _ = cli("replay", SEED)
    assert code == 2 and "--target" in _one_line(err)


def test_unreadable_input() -> None:
    code, _, err, _ = cli("replay", "/nonexistent.pcap", "--target", "ws://127.0.0.1:1/")
    assert code == 2 and "no such file" in _one_line(err)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [(MarkerKind.CLOSE_AFTER, b""), (MarkerKind.KILL_AFTER, b"\x03\xe9Going Away")],
)
def test_autobahn_safety_timers_fire_when_the_target_is_mute(
    kind: MarkerKind, payload: bytes
) -> None:
    """The seed's TI (or a KL) never fired in the recording; against a
    server that upgrades and then says nothing it fires as in Autobahn
    (spec §3.6): an empty close (TI) or close 1001 (KL), then nothing more."""
    conn = seed_connection()
    conn.markers[0] = Marker(kind, 4, value=0.2)
    rec = Recording("seed", "autobahn-text", [conn])
    with Misbehaving("mute") as srv:
        report = run.replay(rec, srv.url, run.Options(timeout=TIMEOUT))
    dc = decode_connection(report.result.connection)
    sent = [(f.opcode, f.payload) for f in dc.frames if f.direction is Direction.TX]
    assert sent == [(9, b"Hello, world!"), (8, payload)]
    fired = {
        MarkerKind.CLOSE_AFTER: MarkerKind.CLOSE_FIRED,
        MarkerKind.KILL_AFTER: MarkerKind.KILL_FIRED,
    }
    assert fired[kind] in [m.kind for m in report.result.connection.markers]
    o = report.result.outcome
    assert o.writes_sent == 2 and not o.stalled and o.never_closed
    assert any("did not in the recording" in n for n in report.verdict.notes)


def test_kill_after_drops_tcp_when_the_close_goes_unanswered() -> None:
    """KL fires after our close was sent and never answered (the fuzzer is
    CLOSING): it drops TCP, and the replay says the client dropped it."""
    conn = seed_connection()
    conn.markers[0] = Marker(MarkerKind.KILL_AFTER, 4, value=0.3)
    rec = Recording("seed", "autobahn-text", [conn])
    with Misbehaving("mute") as srv:
        # Without the pong the close waits for the stall budget (0.2 s) and is
        # then sent; KL fires 0.1 s later with the close unanswered.
        report = run.replay(rec, srv.url, run.Options(timeout=0.2))
    o = report.result.outcome
    assert o.stalled and o.writes_sent == 3 and o.dropped_by_me and not o.eof_by_peer
    kinds = [m.kind for m in report.result.connection.markers]
    assert MarkerKind.KILL_FIRED in kinds
    assert report.verdict.b_closing is not None
    assert report.verdict.b_closing.dropped_by is Role.CLIENT


@pytest.mark.parametrize(
    "args", [["--timeout", "0"], ["--speed", "-1"], ["--concurrency", "0"], ["--repeat", "0"]]
)
def test_impossible_options(args: list[str]) -> None:
    code, _, err, took = cli("replay", SEED, "--target", "ws://127.0.0.1:1/", *args)
    assert code == 2 and "must be positive" in _one_line(err) and took < 2
