"""Live capture on ``lo`` through the real dumpcap and tcpdump, of real
``websockets`` sessions; the same session recorded to a file by tcpdump is
the oracle. Ctrl-C is a real SIGINT to a real ``wirelog`` process."""

from __future__ import annotations

import json
import os
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from servers import Server, have_tcpdump, tcpdump, ws_echo  # noqa: F401 - a fixture
from typer.testing import CliRunner
from websockets.sync.client import connect

from wirelog.cli import app
from wirelog.errors import InputError
from wirelog.model import Message
from wirelog.pipeline import stream
from wirelog.sources.live import LiveOptions, capture, command

pytestmark = pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump and dumpcap as root")
ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": "/usr/sbin:/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]
SENT = ["live one", "live two", "x" * 2000]


def session(url: str) -> None:
    with connect(url) as ws:
        for text in SENT:
            ws.send(text)
            assert ws.recv(5) == text


def texts(rows: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(r["dir"], r["text"]) for r in rows if r["opcode"] == 1]


def start(*args: str) -> subprocess.Popen[bytes]:
    """``wirelog decode -i lo ...``, once it says the capture runs."""
    proc = subprocess.Popen(
        [*CLI, "decode", "-i", "lo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], 20)
    assert ready, "no word from wirelog"
    line = proc.stderr.readline()
    assert line == b"wirelog: live:lo: capturing, Ctrl-C to stop\n", line
    return proc


def test_live_duration_equals_the_same_session_saved_by_tcpdump(ws_echo: Server) -> None:  # noqa: F811
    bpf = f"tcp port {ws_echo.port}"
    with tcpdump(ws_echo.port, tail=0.5) as saved:
        proc = start("--bpf", bpf, "--duration", "4", "-f", "jsonl", "-l", "messages")
        session(ws_echo.url)
        out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (0, b"")
    live = [json.loads(x) for x in out.splitlines()]
    assert texts(live) == [(d, t) for t in SENT for d in ("tx", "rx")]
    filed = subprocess.run(
        [*CLI, "decode", "-f", "jsonl", "-l", "messages", saved],
        capture_output=True,
        env=ENV,
        timeout=60,
        check=True,
    )
    want = [json.loads(x) for x in filed.stdout.splitlines()]
    assert {r.pop("source") for r in live} == {"live:lo"}
    assert {r.pop("source") for r in want} == {saved}
    # Timestamps differ (two captures), nothing else.
    untimed = {"ts": None, "time": None, "t": None, "ts_ns": None}
    assert [{**r, **untimed} for r in live] == [{**r, **untimed} for r in want]


def test_ctrl_c_ends_the_capture_with_everything_printed(ws_echo: Server) -> None:  # noqa: F811
    proc = start("--bpf", f"tcp port {ws_echo.port}", "-f", "jsonl", "-l", "messages")
    assert proc.stdout is not None
    session(ws_echo.url)
    got = b""
    # Live: each message is printed as it is captured, the session's texts
    # before any Ctrl-C (they used to wait for a batch of 1,024 packets or
    # the end); then Ctrl-C loses nothing of what came since.
    deadline = time.monotonic() + 20
    while got.count(b"\n") < 2 * len(SENT) and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            got += os.read(proc.stdout.fileno(), 65536)
    early = [json.loads(x) for x in got.splitlines()]
    assert texts(early) == [(d, t) for t in SENT for d in ("tx", "rx")], got
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (0, b"")
    rows = [json.loads(x) for x in (got + out).splitlines()]
    assert texts(rows) == [(d, t) for t in SENT for d in ("tx", "rx")]
    closes = [r for r in rows if r["opcode"] == 8]
    assert [r["dir"] for r in closes] == ["tx", "rx"] and closes[0]["code"] == 1000


def test_count_stops_the_tool_and_says_nothing_decoded(ws_echo: Server) -> None:  # noqa: F811
    proc = start("--bpf", f"tcp port {ws_echo.port}", "--count", "3")
    session(ws_echo.url)
    out, err = proc.communicate(timeout=30)
    # SYN, SYN-ACK, ACK: a TCP connection, no request yet.
    assert (proc.returncode, out) == (2, b"")
    assert err.decode() == (
        "wirelog: live:lo: no WebSocket upgrade in 1 TCP connection; 1 other TCP connection "
        "(neither HTTP nor TLS, or no data)\n"
    )


def test_tcpdump_as_the_tool_through_the_library(ws_echo: Server) -> None:  # noqa: F811
    opts = LiveOptions("lo", f"tcp port {ws_echo.port}", duration=3, tool="tcpdump")
    assert command("/usr/bin/tcpdump", opts)[-1] == opts.bpf
    with capture(opts, forward_sigint=False) as name:
        t = threading.Thread(target=session, args=(ws_echo.url,))
        t.start()
        msgs = [m for _, m in stream(name) if isinstance(m, Message) and m.opcode == 1]
        t.join(10)
    assert [m.text for m in msgs] == [t for t in SENT for _ in "tr"]


def test_a_missing_interface_or_tool_or_permission_is_one_line(tmp_path: Path) -> None:
    run = subprocess.run(
        [*CLI, "decode", "-i", "nosuch0"], capture_output=True, env=ENV, timeout=30
    )
    assert run.returncode == 2
    assert run.stderr == b'wirelog: live:nosuch0: dumpcap: There is no device named "nosuch0".\n'
    run = subprocess.run(
        [*CLI, "decode", "-i", "lo"], capture_output=True, env={**ENV, "PATH": str(tmp_path)}
    )
    assert run.returncode == 2
    assert run.stderr.startswith(b"wirelog: live:lo: no dumpcap or tcpdump on PATH")
    # The real dumpcap, run as nobody: it may not open the interface.
    wrapper = tmp_path / "dumpcap"
    wrapper.write_text(
        "#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups "
        '--inh-caps=-all --bounding-set=-all /usr/bin/dumpcap "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    with (
        pytest.raises(InputError) as info,
        capture(LiveOptions("lo", tool=str(wrapper)), forward_sigint=False),
    ):
        pass
    assert str(info.value).startswith("live:lo: dumpcap: ")
    assert str(info.value).endswith("(capturing needs root or the CAP_NET_RAW capability)")


def test_live_options_belong_to_a_live_capture() -> None:
    runner = CliRunner()
    run = runner.invoke(app, ["decode", "--count", "3", "x.pcap"])
    assert (run.exit_code, run.stderr) == (
        2,
        "wirelog: --bpf, --count and --duration are for a live capture (--interface)\n",
    )
    run = runner.invoke(app, ["decode", "-i", "lo", "x.pcap"])
    assert (run.exit_code, run.stderr) == (2, "wirelog: give inputs or --interface, not both\n")
    run = runner.invoke(app, ["decode"])
    assert run.exit_code == 2 and "--interface IFACE" in run.stderr
    run = runner.invoke(app, ["decode", "-i", "nosuch1"])
    assert (run.exit_code, run.stderr) == (
        2,
        'wirelog: live:nosuch1: dumpcap: There is no device named "nosuch1".\n',
    )


def test_sigint_in_process_stops_the_tool_not_wirelog(ws_echo: Server) -> None:  # noqa: F811
    before = signal.getsignal(signal.SIGINT)
    opts = LiveOptions("lo", f"tcp port {ws_echo.port}")
    with capture(opts) as name:
        session(ws_echo.url)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)  # forwarded to dumpcap: no KeyboardInterrupt
        msgs = [m for _, m in stream(name) if isinstance(m, Message) and m.opcode == 1]
    assert [m.text for m in msgs] == [t for t in SENT for _ in "tr"]
    assert signal.getsignal(signal.SIGINT) is before


def tool(tmp_path: Path, script: str) -> str:
    path = tmp_path / "tool"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


#: A little-endian microsecond pcap header, Ethernet, as printf(1) octal escapes.
PCAP_HEADER = (
    r"\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000"
    r"\377\377\000\000\001\000\000\000"
)


def failure(opts: LiveOptions) -> str:
    with pytest.raises(InputError) as info, capture(opts, forward_sigint=False):
        pass
    return str(info.value)


def test_tools_that_misbehave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "-c" in command("/usr/bin/dumpcap", LiveOptions("lo", count=3))
    assert "-c" in command("/usr/bin/tcpdump", LiveOptions("lo", count=3))
    assert failure(LiveOptions("lo", tool="nosuchtool")).startswith(
        "live:lo: no nosuchtool on PATH"
    )
    echo = LiveOptions("lo", tool=tool(tmp_path, "echo hello\n"))
    assert failure(echo) == "live:lo: tool wrote no capture (b'hell')"
    three = LiveOptions("lo", tool=tool(tmp_path, "echo 'it went wrong' >&2\nexit 3\n"))
    assert failure(three) == "live:lo: tool: it went wrong"
    silent = LiveOptions("lo", tool=tool(tmp_path, "exit 3\n"))
    assert failure(silent) == "live:lo: tool: exited with status 3"
    monkeypatch.setattr("wirelog.sources.live.START_TIMEOUT", 0.3)
    monkeypatch.setattr("wirelog.sources.live.STOP_TIMEOUT", 0.3)
    sleeper = LiveOptions("lo", tool=tool(tmp_path, "exec sleep 30\n"))
    assert failure(sleeper) == "live:lo: tool wrote nothing in 0.3 s"
    # A tool deaf to SIGINT is killed; its header came in two writes.
    deaf = tool(
        tmp_path,
        f"trap '' INT\nprintf '{PCAP_HEADER[:8]}'\nsleep 0.1\nprintf '{PCAP_HEADER[8:]}'\n"
        "sleep 30\n",
    )
    began = time.monotonic()
    with capture(LiveOptions("lo", tool=deaf)) as name:
        assert name == "live:lo"
    assert time.monotonic() - began < 10
