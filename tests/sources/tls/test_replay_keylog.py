"""``replay --keylog`` (and ``SSLKEYLOGFILE``): a real wss capture replayed
against a real plain ``websockets`` echo server sends the decrypted octets
and gets back the echoes the capture recorded."""

from __future__ import annotations

import json

import pytest
from captures_util import HAVE_TSHARK
from servers import have_tcpdump, run_server
from typer.testing import CliRunner
from wss import captured

from wirelog.cli import app
from wirelog.model import Direction
from wirelog.pipeline import Options, read
from wirelog.protocol.connection import decode_connection
from wirelog.replay import run
from wirelog.replay.options import Options as ReplayOptions

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)


def test_a_wss_capture_replays_its_plaintext_to_a_plain_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cap = captured("tls12-aes256gcm")
    runner = CliRunner()
    with run_server("websockets") as srv:
        recording = read(str(cap.pcap), Options(keylog=str(cap.keylog)))
        report = run.replay(recording, srv.url, ReplayOptions(asap=True, conn=1))
        args = ["replay", str(cap.pcap), "--target", srv.url, "--asap", "-f", "json"]
        given = runner.invoke(app, [*args, "--keylog", str(cap.keylog), "--conn", "0"])
        monkeypatch.setenv("SSLKEYLOGFILE", str(cap.keylog))
        from_env = runner.invoke(app, [*args, "--conn", "1"])
        monkeypatch.delenv("SSLKEYLOGFILE")
        without = runner.invoke(app, [*args, "--conn", "0"])
    # Who dropped TCP first after the close is a race of the recorded TLS
    # shutdown, not something the replay decides: only that may differ.
    assert {d.topic for d in report.verdict.differences} <= {"closing"}
    # The echoes the server sent back are the messages the client sent.
    got = decode_connection(report.result.connection)
    echoes = [m.data for m in got.messages if m.direction is Direction.RX and m.opcode != 8]
    sent = [m.encode() if isinstance(m, str) else m for m in cap.sent[1]]
    assert echoes == sent
    for result in (given, from_env):
        out = json.loads(result.stdout)
        assert {d["topic"] for d in out["differences"]} <= {"closing"}, result.output
        assert result.exit_code == (0 if out["equivalent"] else 1)
        assert out["events"]["a"] == out["events"]["b"]
        assert len(out["events"]["a"]) == len(cap.sent[0])
    assert without.exit_code == 2 and "give --keylog to decrypt" in without.stderr
