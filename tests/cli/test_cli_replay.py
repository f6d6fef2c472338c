"""``wirelog replay`` and ``wirelog diff`` in-process (typer's CliRunner on
``wirelog.cli.app``): exit codes, stdout, and one line on stderr for each
fault, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
from servers import (  # noqa: F401
    SAMPLES,
    SEED,
    SERVER_REPORTS,
    Misbehaving,
    Server,
    ab_echo,
    refused_port,
    run_server,
    ws_echo,
)
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.errors import TargetError
from wirelog.model import Direction
from wirelog.pipeline import read
from wirelog.replay import run

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


@pytest.mark.parametrize(
    ("mode", "expect", "slowest"),
    [
        ("reset", "reset: the server reset the connection after 1 of 3 writes", 1.0),
        ("stall", "stalled: no answer within 1 s while waiting for the HTTP head", TIMEOUT + 1),
        ("404", "not upgraded: the server answered 'HTTP/1.1 404 Not Found' instead of 101", 1.0),
        ("noclose", "never closed: the server did not drop TCP within 1 s", TIMEOUT + 1),
        ("reset-mid", "reset: the server reset the connection after 3 of 3 writes", 1.0),
        ("garbage", "not valid WebSocket framing", TIMEOUT + 1),
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


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/", "ws://127.0.0.1/", "ws://:9001/", "127.0.0.1:9001"]
)
def test_targets_need_scheme_host_and_port(url: str) -> None:
    code, _, err, _ = cli("replay", SEED, "--target", url)
    assert code == 2
    assert "host and port" in err or "scheme" in err


def test_target_or_listen_is_required() -> None:
    code, _, err, _ = cli("replay", SEED)
    assert code == 2 and "--target" in _one_line(err)
    code, _, err, _ = cli("replay", SEED, "--target", "ws://h:1/", "--listen", "h:2")
    assert code == 2 and "exactly one of" in _one_line(err)


def test_unreadable_input() -> None:
    code, _, err, _ = cli("replay", "/nonexistent.pcap", "--target", "ws://127.0.0.1:1/")
    assert code == 2 and "no such file" in _one_line(err)


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "0"],
        ["--speed", "-1"],
        ["--concurrency", "0"],
        ["--repeat", "0"],
        ["--accept-timeout", "0"],
    ],
)
def test_impossible_options(args: list[str]) -> None:
    code, _, err, took = cli("replay", SEED, "--target", "ws://127.0.0.1:1/", *args)
    # The error names the option and its value.
    assert code == 2 and took < 2
    assert _one_line(err).startswith(f"wirelog: {args[0]} {args[1]}: must be")


def test_asap_with_speed_is_refused() -> None:
    code, _, err, took = cli(
        "replay", SEED, "--target", "ws://127.0.0.1:1/", "--asap", "--speed", "2"
    )
    assert code == 2 and took < 2
    assert "--asap" in _one_line(err) and "--speed" in _one_line(err)


def test_seed_against_autobahnpython_gets_the_pong_and_a_clean_close(ab_echo: Server) -> None:  # noqa: F811
    code, out, err, _ = cli("replay", SEED, "--target", ab_echo.url)
    assert code == 0, out + err
    assert out.startswith("writes    3 of 3 sent, ")
    assert f"Replay of {SEED} against {ab_echo.url}" in out
    assert "Observed: [('pong', 'Hello, world!')]" in out
    assert "clientCloseCode  1000       1000" in out
    assert "serverCloseCode  1000       1000" in out
    assert "wasClean         True       True" in out
    assert "Verdict: EQUIVALENT" in out
    assert err == ""


def test_seed_against_websockets(ws_echo: Server) -> None:  # noqa: F811
    code, out, err, _ = cli("replay", SEED, "--target", ws_echo.url, "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["equivalent"] and doc["events"]["b"] == [["pong", "Hello, world!"]]
    assert [w["length"] for w in doc["writes"]][1:] == [19, 8]


def test_record_then_diff_then_replay_the_replay(
    ab_echo: Server,  # noqa: F811
    tmp_path: os.PathLike[str],
) -> None:
    out_json = os.path.join(tmp_path, "replay.json")
    code, out, err, _ = cli("replay", SEED, "--target", ab_echo.url, "--record", out_json)
    assert code == 0, out + err
    with open(out_json) as fh:
        doc = json.load(fh)
    kinds = [e[0] for e in doc["wirelog"]]
    assert kinds[:2] == ["TO", "RO"] and "TF" in kinds and "RF" in kinds and "TI" in kinds
    assert doc["txOctetStats"] == {"8": 1, "19": 1, str(len(doc["httpRequest"])): 1}
    rec = read(out_json)
    assert rec.kind == "autobahn-json"
    assert [c.length for c in rec.connections[0].chunks if c.direction is Direction.TX][1:] == [
        19,
        8,
    ]
    code, out, err, _ = cli("diff", SEED, out_json)
    assert code == 0, out + err
    assert "Verdict: EQUIVALENT" in out
    code, out, err, _ = cli("replay", out_json, "--target", ab_echo.url)
    assert code == 0, out + err


def test_diff_reports_what_differs() -> None:
    other = os.path.join(SERVER_REPORTS, "websock_server_case_2_2.json")
    code, out, err, _ = cli("diff", SEED, other)
    assert code == 1, out + err
    # nim-websock never answered the close: the closing behaviour differs.
    assert "serverCloseCode: 1000 → -" in out
    assert "wasClean: True → False" in out
    assert "Verdict: DIFFERENT" in out
    multi = os.path.join(SAMPLES, "multi_conn.pcap")
    code, out, _, _ = cli("diff", multi, multi, "--conn-a", "0", "--conn-b", "1")
    assert code == 1 and "+ message" in out
    code, out, _, _ = cli("diff", multi, multi, "--conn-a", "2", "--conn-b", "2")
    assert code == 0
    code, _, err, _ = cli("diff", multi, multi)
    assert code == 2 and "pick one with --conn" in err


def test_diff_as_json_and_of_an_unreadable_input() -> None:
    other = os.path.join(SERVER_REPORTS, "websock_server_case_2_2.json")
    code, out, _, _ = cli("diff", SEED, other, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and not doc["equivalent"]
    assert "closing" in [d["topic"] for d in doc["differences"]]
    code, out, err, _ = cli("diff", SEED, "/nonexistent.json")
    assert code == 2 and out == "" and "no such file" in _one_line(err)


def test_load_mode(ws_echo: Server) -> None:  # noqa: F811
    fds = len(os.listdir("/proc/self/fd"))
    code, out, err, _ = cli(
        "replay", SEED, "--target", ws_echo.url, "--concurrency", "20", "--repeat", "200"
    )
    assert code == 0, out + err
    assert "sessions     200 in" in out
    assert "mismatches   0" in out and "errors       0" in out
    assert len(os.listdir("/proc/self/fd")) <= fds + 2
    code, out, err, _ = cli("replay", SEED, "--target", ws_echo.url, "--repeat", "3", "-f", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["sessions"] == doc["equivalent"] == 3 and doc["errors"] == 0


def test_load_mode_exit_codes(ab_echo: Server) -> None:  # noqa: F811
    path = os.path.join(SERVER_REPORTS, "websock_server_case_2_2.json")
    code, out, err, _ = cli("replay", path, "--target", ab_echo.url, "--repeat", "2")
    assert code == 1, out + err
    assert "mismatches   2" in out and "first mismatch: " in out
    port = refused_port()
    code, out, err, _ = cli("replay", SEED, "--target", f"ws://127.0.0.1:{port}/", "--repeat", "2")
    assert code == 2 and "errors       2" in out
    assert _one_line(err) == f"wirelog: 127.0.0.1:{port}: connection refused"
    code, _, err, _ = cli("replay", SEED, "--target", ab_echo.url, "--repeat", "2", "--record", "x")
    assert code == 2 and "--record writes one replay" in _one_line(err)


def test_chopped_autobahn_case_needs_fill(ws_echo: Server) -> None:  # noqa: F811
    path = os.path.join(SERVER_REPORTS, "websock_server_case_1_1_8.json")
    code, _, err, _ = cli("replay", path, "--target", ws_echo.url)
    assert code == 2 and "--fill" in err and len(err.splitlines()) == 1


def test_wss_needs_insecure_for_a_self_signed_certificate() -> None:
    with run_server("websockets-tls") as tls:
        url = f"wss://127.0.0.1:{tls.port}/"
        code, _, err, _ = cli("replay", SEED, "--target", url)
        assert code == 2 and "TLS failed" in err and len(err.splitlines()) == 1
        code, out, err, _ = cli("replay", SEED, "--target", url, "--insecure")
        assert code == 0, out + err
        assert "Observed: [('pong', 'Hello, world!')]" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_listen_replays_the_server_side_to_a_live_client() -> None:
    path = os.path.join(SAMPLES, "ws_basic.pcap")
    port = _free_port()
    box: list[tuple[int, str, str, float]] = []
    t = threading.Thread(
        target=lambda: box.append(
            cli("replay", path, "--listen", f"127.0.0.1:{port}", "--asap", "--timeout", "5")
        )
    )
    t.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = run.replay(read(path), f"ws://127.0.0.1:{port}/", run.Options(asap=True))
                break
            except TargetError:
                assert time.monotonic() < deadline, "the CLI never listened"
                time.sleep(0.05)
    finally:
        t.join(15)
    assert client.verdict.equivalent
    ((code, out, err, _),) = box
    assert code == 0, out + err
    assert err == f"wirelog: listening on 127.0.0.1:{port}\n"
    assert f"Replay of {path} (server side) to 127.0.0.1:" in out
    assert "Verdict: EQUIVALENT" in out


def test_a_bad_listen_address_is_one_line() -> None:
    code, _, err, _ = cli("replay", SEED, "--listen", "nowhere")
    assert code == 2 and "expected HOST:PORT" in _one_line(err)


@pytest.mark.parametrize("where", ["dir", "missing-folder"])
def test_record_path_that_cannot_be_written_is_refused_first(
    tmp_path: os.PathLike[str], where: str
) -> None:
    """Checked before the replay runs, and named in the line (not the input)."""
    target = str(tmp_path) if where == "dir" else os.path.join(tmp_path, "no", "r.json")
    port = refused_port()
    code, out, err, _ = cli(
        "replay", SEED, "--target", f"ws://127.0.0.1:{port}/", "--record", target
    )
    assert code == 2 and out == ""
    reason = "is a directory" if where == "dir" else "no folder"
    assert _one_line(err).startswith(f"wirelog: --record {target}: {reason}")


def test_load_against_a_closed_port_reports_failures_and_no_rate() -> None:
    """Issue 11: 12,678 sessions/s and p50 nan for sessions that never happened."""
    port = refused_port()
    url = f"ws://127.0.0.1:{port}/"
    code, out, err, _ = cli("replay", SEED, "--target", url, "--repeat", "6", "--concurrency", "3")
    assert code == 2
    assert out.startswith("sessions     6 tried in ") and "none completed" in out
    assert "sessions/s" not in out and "nan" not in out and "latency" not in out
    assert "errors       6\n" in out
    assert _one_line(err) == f"wirelog: 127.0.0.1:{port}: connection refused"
    code, out, _, _ = cli("replay", SEED, "--target", url, "--repeat", "2", "-f", "json")
    doc = json.loads(out)
    assert doc["sessions_per_s"] is None and doc["latency_ms"] is None and doc["completed"] == 0


def test_wss_to_a_plain_server_says_what_happened(ws_echo: Server) -> None:  # noqa: F811
    """Issue 11: the line was "wirelog: 127.0.0.1:27002: " and nothing more."""
    url = f"wss://127.0.0.1:{ws_echo.port}/"
    code, _, err, took = cli("replay", SEED, "--target", url, "--insecure", "--timeout", "1")
    assert code == 2 and took < 2
    line = _one_line(err)
    assert line.startswith(f"wirelog: 127.0.0.1:{ws_echo.port}: TLS failed: ")
    assert line.endswith("(a plain ws:// server?)")


def test_listen_without_a_client_ends_after_the_accept_timeout() -> None:
    code, _, err, took = cli("replay", SEED, "--listen", "127.0.0.1:0", "--accept-timeout", "0.3")
    assert code == 2 and took < 2
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("wirelog: listening on 127.0.0.1:")
    port = lines[0].rsplit(":", 1)[1]
    assert lines[1] == f"wirelog: 127.0.0.1:{port}: no client connected within 0.3 s"
