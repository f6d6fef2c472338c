"""TLS connections that do not end as WebSocket: ``--ws-port`` never decodes
ciphertext (a ClientHello goes to TLS; records without one are a capture
started after the handshake, which cannot be decrypted), and a session that
decrypts to HTTP/2 or plain HTTP is said as such, not as "give --keylog".
Real captures: websockets over ssl (wss.py), curl speaking HTTP/2 and
urllib speaking HTTP/1.1 over ssl with their key logs, tshark decrypting
with the same keys as the oracle."""

from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest
from captures_util import HAVE_TSHARK, read_pcap, tcp_of, write_pcap
from servers import have_tcpdump, tcpdump
from wss import captured, make_cert, tshark_tls_frames

from wirelog.errors import InputError
from wirelog.model import Frame
from wirelog.pipeline import Options, stream
from wirelog.sources.pcap.sniff import Start, classify
from wirelog.sources.sink import Summary

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)


def summary_of(path: Path, **opts: object) -> tuple[list[Frame], Summary]:
    s = stream(str(path), Options(**opts))  # type: ignore[arg-type]
    frames = [item for _, item in s if isinstance(item, Frame)]
    assert s.summary is not None
    return frames, s.summary


def test_ws_port_on_a_tls_port_decrypts_the_handshake_it_sees() -> None:
    cap = captured("tls13-aes128gcm")
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    frames, summary = summary_of(cap.pcap, keylog=str(cap.keylog), ws_ports=(cap.port,))
    assert len(frames) == sum(map(len, theirs.values())) and summary.websocket == 2
    # Without keys: the sessions are TLS without key, not frames.
    with pytest.raises(InputError, match=f"2 TLS connections on port {cap.port}: give --keylog"):
        summary_of(cap.pcap, ws_ports=(cap.port,))


def test_a_capture_started_after_the_handshake_is_never_ciphertext_frames(
    tmp_path: Path,
) -> None:
    cap = captured("tls13-aes128gcm")
    linktype, packets = read_pcap(cap.pcap)
    tcp = [tcp_of(p.data) for p in packets]
    # Connection 0's client port; the second connection comes after it.
    first = next(t.flow[1] for t in tcp if t is not None and t.flow[3] == cap.port)
    ours = [i for i, t in enumerate(tcp) if t is not None and first in (t.flow[1], t.flow[3])]
    data = [i for i in ours if len(packets[i].data) > tcp[i].payload]  # type: ignore[union-attr]
    # Start the capture at every data segment after the HTTP upgrade (the
    # handshake takes the first eight): at record boundaries and inside records.
    cuts = data[8:-2]
    assert len(cuts) > 10
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    second = sum(len(v) for k, v in theirs.items() if k[0] == 1)
    for k in cuts:
        late = write_pcap(tmp_path / f"late{k}.pcap", linktype, packets[k:])
        frames, summary = summary_of(late, keylog=str(cap.keylog), ws_ports=(cap.port,))
        # The cut connection is TLS captured late; the whole one decodes.
        assert summary.tls_late == {cap.port: 1}, k
        assert summary.websocket == 1 and len(frames) == second, k
    with pytest.raises(InputError, match="captured after the handshake: no key can be found"):
        summary_of(write_pcap(tmp_path / "only.pcap", linktype, [packets[i] for i in cuts]))
    # Each of those segments starts like TLS records; the octets a sample
    # capture sends to look like a handshake record, with none after, do not.
    for k in cuts:
        assert classify(packets[k].data[tcp[k].payload :], 50000, cap.port)[0] is Start.TLS_LATE  # type: ignore[union-attr]
    assert classify(b"\x16\x03\x01 not http at all\r\n\r\n", 50000, 8771)[0] is Start.OTHER


def test_sessions_decrypted_to_http2_and_plain_http_say_so(tmp_path: Path) -> None:
    keys = tmp_path / "keys.log"
    cert, key = make_cert(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.set_alpn_protocols(["h2", "http/1.1"])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]

    def serve() -> None:
        # An HTTP/1.1 server behind TLS that offers h2 too: curl then speaks
        # HTTP/2 (its preface and SETTINGS) and gets no HTTP/2 answer.
        httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
        httpd.serve_forever(poll_interval=0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with tcpdump(port, tail=1.0) as raw:
            client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
            client.keylog_filename = str(keys)
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=client) as r:
                assert r.read() == b"ok"
            env = {**os.environ, "SSLKEYLOGFILE": str(keys)}
            subprocess.run(
                ["curl", "-sk", "--http2", "-m", "5", f"https://127.0.0.1:{port}/"],
                env=env,
                capture_output=True,
                timeout=30,
            )
    finally:
        httpd.shutdown()
        httpd.server_close()
    pcap = Path(raw)
    # tshark with the keys: one HTTP/1.1 request and one HTTP/2 preface.
    cmd = ["tshark", "-r", raw, "-o", f"tls.keylog_file:{keys}", "-T", "fields", "-e", "tcp.stream"]
    h1 = subprocess.run([*cmd, "-Y", "http.request"], capture_output=True, text=True, timeout=60)
    h2 = subprocess.run([*cmd, "-Y", "http2.magic"], capture_output=True, text=True, timeout=60)
    assert len(set(h1.stdout.split())) == 1 and len(set(h2.stdout.split())) == 1
    with pytest.raises(InputError) as info:
        summary_of(pcap, keylog=str(keys))
    assert "decrypted 2 TLS connections, none WebSocket (1 HTTP/2, 1 plain HTTP)" in str(info.value)
    assert "give --keylog" not in str(info.value)
    with pytest.raises(InputError, match=f"2 TLS connections on port {port}: give --keylog"):
        summary_of(pcap)
    pcap.unlink()
