"""A real HAR of real browser traffic: headless Chromium, driven over its
DevTools protocol, talks to a local ``websockets`` server while tcpdump
records the same session; the messages the HAR gives equal the messages the
capture gives, and every consumer reads the HAR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import page
from servers import have_tcpdump, run_server, tcpdump
from typer.testing import CliRunner

import wirelog
from wirelog.cli import app
from wirelog.model import Opcode
from wirelog.pipeline import decode
from wirelog.sources.detect import detect

pytestmark = pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """(async () => {
  const ws = new WebSocket("ws://127.0.0.1:%d/chat?room=1");
  ws.binaryType = "arraybuffer";
  await new Promise(r => ws.onopen = r);
  let got = 0;
  ws.onmessage = () => got++;
  const echoed = k => new Promise(r => {
    const t = setInterval(() => { if (got >= k) { clearInterval(t); r(); } }, 2);
  });
  const sent = ["hello", "h\\u00e9llo \\u2603", new Uint8Array([0, 1, 2, 255]),
                "x".repeat(70000), ""];
  for (let i = 0; i < sent.length; i++) { ws.send(sent[i]); await echoed(i + 1); }
  ws.close(1000, "bye");
  await new Promise(r => ws.onclose = r);
  return got;
})()"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    """(HAR path, pcap path, server port) of one browser session."""
    tmp = tmp_path_factory.mktemp("har")
    with run_server("websockets") as srv, tcpdump(srv.port, tail=1.0) as cap, page() as p:
        assert p.run(SCRIPT % srv.port) == 5
        har = tmp / "session.har"
        har.write_text(json.dumps(p.har(), indent=2))
    yield str(har), cap, srv.port
    Path(cap).unlink(missing_ok=True)


def data_messages(path: str) -> list[tuple[str, int, bytes]]:
    (dc,) = decode(path)
    return [
        (m.direction.value, m.opcode, m.data)
        for m in dc.messages
        if m.opcode in (Opcode.TEXT, Opcode.BINARY)
    ]


def test_har_messages_equal_the_capture_of_the_same_session(session: tuple[str, str, int]) -> None:
    har, cap, port = session
    assert detect(har) == "har"
    got = data_messages(har)
    assert got == data_messages(cap)
    sent = [b"hello", "h\u00e9llo \u2603".encode(), bytes([0, 1, 2, 255]), b"x" * 70000, b""]
    assert got == [(d, 2 if i == 2 else 1, m) for i, m in enumerate(sent) for d in ("tx", "rx")]
    (dc,) = decode(har)
    hs = dc.handshake
    assert hs is not None and hs.accept_ok and hs.status == 101 and hs.target == "/chat?room=1"
    assert dc.connection.server == f"127.0.0.1:{port}"
    # The browser offered and the server agreed on permessage-deflate: kept in meta.
    assert "permessage-deflate" in dc.connection.meta["offered_extensions"]
    assert "permessage-deflate" in dc.connection.meta["extensions"]
    assert all(c.rebuilt for c in dc.connection.chunks) or not dc.connection.chunks
    assert not [v for v in dc.violations if not v.kind.is_finding]
    (finding,) = [v for v in dc.violations if v.kind.is_finding]
    assert finding.kind.value == "messages_only" and "not frames" in finding.detail
    # one frame per message, final, no RSV; the times are the browser's
    assert all(f.fin and f.rsv == 0 for f in dc.frames)
    assert len(dc.frames) == len(got)
    ts = [f.ts for f in dc.frames]
    assert ts == sorted(ts) and dc.connection.start_ts is not None
    assert dc.connection.start_ts <= ts[0] < dc.connection.start_ts + 5


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    return result


def test_every_consumer_reads_a_har(session: tuple[str, str, int]) -> None:
    har, _, _ = session
    rows = [
        json.loads(x)
        for x in cli("decode", "-f", "jsonl", "-l", "messages", har).stdout.splitlines()
    ]
    assert [r["text"] for r in rows if r["opcode"] == 1][:2] == ["hello", "hello"]
    stats = json.loads(cli("stats", "-f", "json", har).stdout)
    assert stats[0]["txFrameStats"] == {"1": 4, "2": 1}
    assert stats[0]["rxFrameStats"] == {"1": 4, "2": 1}
    check = cli("check", "-f", "json", har)
    assert check.exit_code == 1
    assert [r["kind"] for r in json.loads(check.stdout)] == ["messages_only"]
    report = cli("report", har)
    assert report.exit_code == 0, report.output
    assert "/chat?room=1" in report.stdout
    frames = wirelog.load(har).messages()
    assert frames["text"].tolist()[:2] == ["hello", "hello"]
    # stdin works like a file
    piped = subprocess.run(
        [sys.executable, "-c", "from wirelog.cli import main; main()", "decode", "-f", "jsonl",
         "-l", "messages", "-"],
        input=Path(har).read_bytes(),
        capture_output=True,
        env={**os.environ, "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)},
        timeout=60,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert [json.loads(x)["data"] for x in piped.stdout.splitlines()] == [r["data"] for r in rows]


def test_replay_of_a_har_to_a_live_server(session: tuple[str, str, int]) -> None:
    har, _, _ = session
    with run_server("websockets") as srv:
        result = cli("replay", har, "--target", srv.url)
    assert result.exit_code == 0, result.output


def test_a_har_replay_masks_each_frame_with_a_fresh_key(session: tuple[str, str, int]) -> None:
    """The HAR holds messages, so its client frames were rebuilt masked with
    zeros; a replay sends each message as one frame with its own random
    non-zero key (RFC 6455 §5.3), one write per message, and the echoes
    come back equal. Checked on tcpdump's capture of the replay."""
    har, _, _ = session
    with run_server("websockets") as srv, tcpdump(srv.port, tail=1.0) as cap:
        first = cli("replay", har, "--target", srv.url)
        second = cli("replay", har, "--target", srv.url)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    replays = decode(cap)
    assert len(replays) == 2
    sent = data_messages(har)
    want_tx = [(op, data) for d, op, data in sent if d == "tx"]
    keys = []
    for dc in replays:
        client = [f for f in dc.frames if f.direction.value == "tx"]
        data = [f for f in client if f.opcode in (Opcode.TEXT, Opcode.BINARY)]
        assert [(f.opcode, f.payload) for f in data] == want_tx  # one frame per message
        assert all(f.fin and f.masked and f.mask is not None for f in client)
        assert all(f.mask != b"\0\0\0\0" for f in client)
        assert not [v for v in dc.violations if not v.kind.is_finding]
        # one write per message: each frame starts a chunk (a TCP segment) of its own
        tx_chunks = [c for c in dc.connection.chunks if c.direction.value == "tx"]
        assert len({f.chunk for f in client}) == len(client) <= len(tx_chunks)
        echoes = [
            (m.opcode, m.data)
            for m in dc.messages
            if m.direction.value == "rx" and m.opcode in (Opcode.TEXT, Opcode.BINARY)
        ]
        assert echoes == want_tx
        keys += [f.mask for f in client]
    assert len(set(keys)) == len(keys)  # a fresh key per frame, across replays too
    Path(cap).unlink(missing_ok=True)
