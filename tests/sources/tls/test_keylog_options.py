"""``--keylog`` on every command that reads captures (issue 10, item 1):
each command is asked for the option, and the analyst's commands are run
on a real wss capture with and without the key log."""

from __future__ import annotations

import json

import pytest
from captures_util import HAVE_TSHARK
from servers import have_tcpdump
from typer.testing import CliRunner
from wss import captured

from wirelog.cli import app

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)

#: Every command whose inputs may be captures (the suite's read Autobahn runs).
READERS = {
    "decode", "stats", "check", "report", "plot", "conns", "follow", "sql", "export",
    "convert", "replay", "diff",
}  # fmt: skip


def test_every_capture_reader_takes_a_keylog() -> None:
    commands = {c.name or c.callback.__name__: c.callback for c in app.registered_commands}
    assert commands.keys() >= READERS
    for name in sorted(READERS):
        result = CliRunner().invoke(app, [name, "-h"], terminal_width=200)
        assert "--keylog" in result.output, name


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_conns_follow_sql_diff_decrypt_with_the_keylog() -> None:
    cap = captured("tls13-aes128gcm")
    pcap, keys = str(cap.pcap), ["--keylog", str(cap.keylog)]
    code, out = _run("decode", "-f", "jsonl", *keys, pcap)
    assert code == 0
    frames = [json.loads(line) for line in out.splitlines()]

    code, out = _run("conns", "-f", "json", *keys, pcap)
    assert code == 0, out
    rows = json.loads(out)
    assert len(rows) == 2 and all(r["tls"]["version"] == "TLS 1.3" for r in rows)
    assert sum(r["frames_client"] + r["frames_server"] for r in rows) == len(frames)

    code, out = _run("sql", "SELECT count(*) AS n FROM frames", "-f", "json", *keys, pcap)
    assert code == 0 and json.loads(out) == [{"n": len(frames)}]

    code, out = _run("follow", "--conn", "0", *keys, pcap)
    assert code == 0 and "101 Switching Protocols" in out

    code, out = _run("diff", pcap, pcap, "--conn-a", "0", "--conn-b", "0", *keys)
    assert code == 0, out

    for args in (["conns"], ["follow", "--conn", "0"], ["sql", "SELECT 1 FROM frames"]):
        code, out = _run(*args, pcap)  # no key: the one line, exit 2
        assert code == 2 and "--keylog" in out, (args, out)
