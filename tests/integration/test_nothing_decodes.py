"""A capture that decodes to nothing says why (issue 9, item 3): real wss,
plain HTTP and late-started captures made by the tests with tcpdump, tshark
as the oracle for what the capture holds."""

from __future__ import annotations

import contextlib
import http.server
import json
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from servers import have_tcpdump, run_server, tcpdump
from typer.testing import CliRunner
from websockets.sync.client import connect

import wirelog
from wirelog.cli import app
from wirelog.errors import InputError
from wirelog.pipeline import Options, decode

pytestmark = pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")
runner = CliRunner()


def tshark_count(path: str, display_filter: str) -> int:
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y", display_filter, "-T", "fields", "-e", "tcp.stream"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return len(set(out.split()))


def no_verify() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@contextlib.contextmanager
def http_server() -> Iterator[int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            size = int(self.headers["Content-Length"])
            body = self.rfile.read(size)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


def test_wss_is_counted_as_tls_and_named_with_its_port() -> None:
    with run_server("websockets-tls") as tls, run_server("websockets") as plain:
        bpf = f"tcp port {tls.port} or tcp port {plain.port}"
        with tcpdump(tls.port, tail=1.0, bpf=bpf) as cap:
            for text in ("one", "two"):
                with connect(f"wss://127.0.0.1:{tls.port}/", ssl=no_verify()) as ws:
                    ws.send(text)
                    assert ws.recv(5) == text
        assert tshark_count(cap, "tls.handshake.type == 1") == 2
        result = runner.invoke(app, ["decode", cap])
        assert result.exit_code == 2 and result.stdout == ""
        # One line: why, and the first session without a key (tshark's hello count).
        assert result.stderr.startswith(
            f"wirelog: {cap}: no WebSocket upgrade in 2 TCP connections; 2 TLS connections on "
            f"port {tls.port}: give --keylog to decrypt (TLS session without key: client random "
        ) and result.stderr.endswith("; and 1 more)\n")
        with pytest.raises(InputError, match="give --keylog"):
            wirelog.load(cap).violations()

        # Beside a WebSocket connection, the same count is the ignored_traffic finding.
        with tcpdump(tls.port, tail=1.0, bpf=bpf) as cap:
            with connect(f"wss://127.0.0.1:{tls.port}/", ssl=no_verify()) as ws:
                ws.send("secret")
                assert ws.recv(5) == "secret"
            with connect(plain.url) as ws:
                ws.send("plain")
                assert ws.recv(5) == "plain"
    (dc,) = decode(cap)
    assert [m.text for m in dc.messages if m.text] == ["plain", "plain"]
    result = runner.invoke(app, ["check", "-f", "json", cap])
    assert result.exit_code == 1, result.output
    (row,) = json.loads(result.stdout)
    want = f"ignored: 1 TLS connection on port {tls.port}: give --keylog to decrypt"
    (row,) = [{**row, "detail": row["detail"][: len(want)]}]
    assert json.loads(result.stdout)[0]["detail"][len(want) :].startswith(
        " (TLS session without key: client random "
    )
    assert row == {
        "source": cap,
        "conn": None,
        "kind": "ignored_traffic",
        "finding": True,
        "dir": None,
        "frame": None,
        "offset": None,
        "chunk": None,
        "detail": want,
    }
    table = runner.invoke(app, ["check", cap])
    assert "ignored_traffic" in table.stdout and "no violations" not in table.stdout
    v = wirelog.load(cap).violations()
    assert v["kind"].tolist() == ["ignored_traffic"] and v["detail"].str[: len(want)].tolist() == [
        want
    ]
    assert v["conn"].isna().all() and v["on"].tolist() == ["input"]


def test_plain_http_says_no_upgrade_and_how_many_were_http() -> None:
    with http_server() as port, tcpdump(port, tail=1.0) as cap:
        for _ in range(2):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                assert r.status == 200
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"x" * 40)
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.read() == b"x" * 40
    assert tshark_count(cap, "http.request") == 3
    result = runner.invoke(app, ["stats", cap])
    assert result.exit_code == 2
    assert result.stderr == (
        f"wirelog: {cap}: no WebSocket upgrade in 3 TCP connections, 3 of them HTTP\n"
    )


def test_a_capture_started_after_the_handshake_suggests_ws_port() -> None:
    # Without the handshake, permessage-deflate could not be known: none is asked for.
    with run_server("websockets") as srv, connect(srv.url, compression=None) as ws:
        ws.send("before")
        assert ws.recv(5) == "before"
        with tcpdump(srv.port, tail=1.0) as cap:
            time.sleep(0.2)
            sent = ["after one", "after two", "x" * 300]
            for text in sent:
                ws.send(text)
                assert ws.recv(5) == text
    assert tshark_count(cap, "http") == 0  # the Upgrade is not in the capture
    result = runner.invoke(app, ["decode", "-l", "messages", cap])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"1 connection on port {srv.port} carries WebSocket frames without a handshake (the "
        f"capture started after it?): try --ws-port {srv.port}\n"
    )
    (dc,) = decode(cap, Options(ws_ports=(srv.port,)))
    texts = [(m.direction.value, m.text) for m in dc.messages if m.opcode == 1]
    assert texts == [(d, t) for t in sent for d in ("tx", "rx")]
