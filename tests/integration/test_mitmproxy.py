"""mitmproxy flow files of real sessions: a real ``mitmdump`` reverse proxy
records a ``websockets`` client talking to a ``websockets`` server while
tcpdump records the proxy-to-server leg; the flow's messages equal the
capture's, read through mitmproxy's own reader."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import have_tcpdump, run_server, tcpdump
from typer.testing import CliRunner
from websockets.sync.client import connect

from wirelog.cli import app
from wirelog.errors import InputError
from wirelog.model import Opcode
from wirelog.pipeline import decode
from wirelog.sources.detect import detect
from wirelog.sources.mitm.reader import parse

ROOT = Path(__file__).resolve().parents[2]
MITMDUMP = (
    os.environ.get("WIRELOG_MITMDUMP")
    or shutil.which("mitmdump")
    or str(ROOT / ".venv-mitmproxy" / "bin" / "mitmdump")
)
pytestmark = pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")
SENT: list[str | bytes] = ["hello", "h\u00e9llo", b"\x00\x01\xff", "x" * 100_000, b""]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


@contextlib.contextmanager
def mitmdump(upstream: int, flows: Path) -> Iterator[int]:
    """A reverse proxy to ``upstream`` writing its flows; yields its port."""
    port = free_port()
    proc = subprocess.Popen(
        [MITMDUMP, "-q", "--mode", f"reverse:http://127.0.0.1:{upstream}",
         "--listen-host", "127.0.0.1", "--listen-port", str(port),
         "--set", f"confdir={flows.parent / 'conf'}", "-w", str(flows)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "mitmdump did not start"
                time.sleep(0.1)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # it writes the file out and exits
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    """(flow file, pcap of the proxy-to-server leg, server port)."""
    flows = tmp_path_factory.mktemp("mitm") / "session.flows"
    with run_server("websockets") as srv, tcpdump(srv.port, tail=1.0) as cap:
        with mitmdump(srv.port, flows) as port:
            for _ in range(2):
                with connect(f"ws://127.0.0.1:{port}/feed?x=1", max_size=None) as ws:
                    for m in SENT:
                        ws.send(m)
                        assert ws.recv(10) == m
            # A plain GET through the same proxy: an HTTP flow the reader skips.
            with pytest.raises(urllib.error.HTTPError, match="426"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
            time.sleep(0.5)
        with mitmdump(srv.port, flows.with_name("http.flows")) as port:
            with pytest.raises(urllib.error.HTTPError, match="426"):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
            time.sleep(0.5)
        yield str(flows), cap, srv.port
    Path(cap).unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _mitmdump_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRELOG_MITMDUMP", MITMDUMP)


def data_messages(path: str) -> list[list[tuple[str, int, bytes]]]:
    return [
        [(m.direction.value, m.opcode, m.data) for m in dc.messages
         if m.opcode in (Opcode.TEXT, Opcode.BINARY)]
        for dc in decode(path)
    ]  # fmt: skip


def test_flow_messages_equal_the_capture_of_the_same_session(
    session: tuple[str, str, int],
) -> None:
    flows, cap, port = session
    assert detect(flows) == "mitmproxy"
    got = data_messages(flows)
    want = [(d, 2 if isinstance(m, bytes) else 1, m if isinstance(m, bytes) else m.encode())
            for m in SENT for d in ("tx", "rx")]  # fmt: skip
    assert got == [want, want]
    assert got == data_messages(cap)
    dcs = decode(flows)
    for dc in dcs:
        assert dc.handshake is not None and dc.handshake.accept_ok
        assert dc.handshake.target == "/feed?x=1"
        assert dc.connection.server == f"127.0.0.1:{port}"
        assert dc.connection.meta["close_code"] == 1000
        assert [v.kind.value for v in dc.violations] == ["messages_only"]
        assert "a mitmproxy flow records messages" in dc.violations[0].detail


def test_the_cli_on_a_flow_file(session: tuple[str, str, int]) -> None:
    flows, _, _ = session
    runner = CliRunner()
    stats = runner.invoke(app, ["stats", "-f", "json", flows])
    assert stats.exit_code == 0, stats.output
    assert [e["txFrameStats"] for e in json.loads(stats.stdout)] == [{"1": 3, "2": 2}] * 2
    check = runner.invoke(app, ["check", "-f", "json", flows])
    assert check.exit_code == 1
    assert {r["kind"] for r in json.loads(check.stdout)} == {"messages_only"}


def test_unreadable_flow_files(session: tuple[str, str, int], tmp_path: Path) -> None:
    flows, _, _ = session
    cut = tmp_path / "cut.flows"
    cut.write_bytes(Path(flows).read_bytes()[:300])
    with pytest.raises(InputError, match=r"cut.flows: mitmproxy cannot read it: "):
        parse(str(cut))
    with pytest.raises(InputError, match=r"reading mitmproxy flows needs mitmproxy"):
        os.environ["WIRELOG_MITMDUMP"] = str(tmp_path / "nothing")
        parse(flows)
    os.environ["WIRELOG_MITMDUMP"] = shutil.which("true") or "/bin/true"
    with pytest.raises(InputError, match=r"not a Python console script"):
        parse(flows)
    os.environ["WIRELOG_MITMDUMP"] = MITMDUMP
    http_only = Path(flows).with_name("http.flows")
    assert http_only.stat().st_size > 0 and detect(str(http_only)) == "mitmproxy"
    with pytest.raises(InputError, match=r"no WebSocket flow in the mitmproxy flow file"):
        parse(str(http_only))
    with pytest.raises(InputError, match=r"read from a file \(not a pipe\)"):
        parse(str(tmp_path))
