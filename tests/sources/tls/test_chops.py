"""A decrypted connection's chops are its TCP segments, as tshark's
``tcp.len`` lists them: from the segment that completes the Upgrade request
(client) or its 101 response (server), the packet where tshark shows the
decrypted HTTP message, every segment with a payload after it, size, time
and direction; the plaintext chunks the decoder reads are no chops. The
oracle is tshark alone, decrypting with the same key log; the frames stay
tshark's decrypted frames (tests/sources/tls/test_stream.py)."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from captures_util import HAVE_TSHARK
from servers import LoopbackServer, have_tcpdump, tcpdump
from typer.testing import CliRunner
from wss import Capture, captured, make_cert

from wirelog import load
from wirelog.cli import app
from wirelog.model import Chunk, Direction, Frame, Marker, MarkerKind
from wirelog.pipeline import Options, read, stream
from wirelog.stats import compute

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)

#: tshark's segments with a payload, retransmissions left out (a chop is
#: what the sender's stream held, retransmitted octets removed, as in a
#: plain capture; loopback retransmits now and then).
SEGMENTS = (
    "tcp.len > 0 && !tcp.analysis.retransmission && !tcp.analysis.fast_retransmission"
    " && !tcp.analysis.spurious_retransmission"
)

#: (conn, sender port) -> [(tcp.len, time in ns, tcp.payload in hex)]
Chops = dict[tuple[int, int], list[tuple[int, int, str]]]


def ns(epoch: str) -> int:
    """tshark's ``frame.time_epoch`` (nine decimals) in nanoseconds, exactly."""
    whole, _, frac = epoch.partition(".")
    return int(whole) * 10**9 + int(frac.ljust(9, "0")[:9])


def tshark_chops(cap: Capture) -> Chops:
    """Each direction's segments with a payload, from the one where tshark
    decodes that direction's HTTP message (the Upgrade, the 101) on."""
    cmd = ["tshark", "-r", str(cap.pcap), "-o", f"tls.keylog_file:{cap.keylog}"]
    cmd += ["-d", f"tcp.port=={cap.port},tls", "-d", f"tls.port=={cap.port},http"]
    cmd += ["-Y", SEGMENTS, "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport"]
    cmd += ["-e", "tcp.len", "-e", "frame.time_epoch", "-e", "http.request.method"]
    cmd += ["-e", "http.response.code", "-e", "tcp.payload"]
    lines = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    out: Chops = defaultdict(list)
    started: set[tuple[int, int]] = set()
    for line in lines.splitlines():
        stream_, sport, length, epoch, method, code, payload = line.split("\t")
        key = (int(stream_), int(sport))
        if method == "GET" or code == "101":
            started.add(key)
        if key in started:
            out[key].append((int(length), ns(epoch), payload.replace(":", "")))
    return dict(out)


def sender_port(endpoint: str | None) -> int:
    assert endpoint is not None
    return int(endpoint.rsplit(":", 1)[1])


def streamed_chops(cap: Capture) -> Chops:
    """The chops :func:`wirelog.pipeline.stream` gives (``SEGMENT`` markers)."""
    out: Chops = defaultdict(list)
    for c, item in stream(str(cap.pcap), Options(keylog=str(cap.keylog), frames=False)):
        if isinstance(item, Marker) and item.kind is not MarkerKind.SEGMENT:
            assert item.kind in (MarkerKind.FIN, MarkerKind.RST)  # the recording's own
        elif isinstance(item, Marker):
            assert item.ts_ns is not None
            sender = c.client if item.direction is Direction.TX else c.server
            seg = (int(item.value or 0), item.ts_ns, item.raw.hex())
            out[(c.conn, sender_port(sender))].append(seg)
    return dict(out)


@pytest.mark.parametrize(
    ("name", "deflate"),
    [("tls13-aes128gcm", True), ("tls12-cbc-sha1-noetm", False), ("tls12-chacha20", False)],
)
def test_chops_are_tcp_segments(name: str, deflate: bool) -> None:
    cap = captured(name, deflate=deflate)
    expected = tshark_chops(cap)
    assert len(expected) == 4  # two connections, both directions
    assert streamed_chops(cap) == expected


def test_decode_chops_lists_segments_with_their_ciphertext() -> None:
    """``decode -l chops``: one row per segment, its ciphertext as the data
    (a record may start in one segment and end in the next)."""
    cap = captured("tls13-aes128gcm")
    args = ["decode", "-l", "chops", "-f", "jsonl", "--keylog", str(cap.keylog), str(cap.pcap)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    got: Chops = defaultdict(list)
    rec = read(str(cap.pcap), Options(keylog=str(cap.keylog)))
    conns = {c.conn: c for c in rec.connections}
    for row in rows:
        c = conns[row["conn"]]
        port = sender_port(c.client if row["dir"] == "tx" else c.server)
        got[(row["conn"], port)].append((row["length"], row["ts_ns"], row["data"]))
        assert row["record"] is None and row["complete"]
    assert dict(got) == tshark_chops(cap)


def test_stats_count_segments_plaintext_stays_for_the_decoder() -> None:
    """``stats`` (and ``compute`` over a read recording) count the segments;
    the materialized connection keeps the plaintext chunks the decoder and
    replay read, with their records."""
    cap = captured("tls12-aes256gcm")
    expected = tshark_chops(cap)
    args = ["stats", "-f", "json", "--keylog", str(cap.keylog), str(cap.pcap)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    rec = read(str(cap.pcap), Options(keylog=str(cap.keylog)))
    for entry, c in zip(entries, rec.connections, strict=True):
        for d, key in ((Direction.TX, "txOctetStats"), (Direction.RX, "rxOctetStats")):
            port = sender_port(c.client if d is Direction.TX else c.server)
            sizes: dict[str, int] = defaultdict(int)
            for length, _, _ in expected[(c.conn, port)]:
                sizes[str(length)] += 1
            assert entry[key] == dict(sizes)
        assert all(isinstance(ch, Chunk) and ch.record is not None for ch in c.chunks)
        stats = compute(c, [])
        assert stats.to_autobahn()["txOctetStats"] == entry["txOctetStats"]


def test_load_tables_and_counts(tmp_path: Path) -> None:
    """``wirelog.load``: the chops table and the connection counts are the
    segments too; plaintext octets are not counted twice."""
    cap = captured("tls13-chacha20")
    expected = tshark_chops(cap)
    loaded = load(str(cap.pcap), keylog=str(cap.keylog))
    chops = loaded.chops()
    assert chops["record"].isna().all()
    assert len(chops) == sum(len(v) for v in expected.values())
    conns = loaded.connections()
    for row in conns.itertuples():
        tx = sum(len(v) for (c, p), v in expected.items() if c == row.conn and p != cap.port)
        assert row.chops_tx == tx


class RawTlsEcho(LoopbackServer):
    """TLS 1.3 with WebSocket frames straight inside, no HTTP Upgrade (what
    ``--ws-port`` is for): answers each frame with an unmasked copy."""

    def __init__(self, folder: Path) -> None:
        super().__init__("raw")
        cert, key = make_cert(folder)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)

    def _handle(self, conn: socket.socket) -> None:
        with self.context.wrap_socket(conn, server_side=True) as tls:
            for _ in range(2):
                head = tls.recv(2)
                size = head[1] & 0x7F
                mask, payload = tls.recv(4), tls.recv(size)
                plain = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                tls.sendall(bytes([head[0], size]) + plain)


def test_ws_port_tls_without_http_decodes_its_plaintext(tmp_path: Path) -> None:
    """A ``--ws-port`` TLS connection whose plaintext starts with frames: the
    frames are the plaintext's (it is not fed to the TLS layer twice). Both
    directions are WebSocket from the first application data on (there is
    no Upgrade to wait for), so the chops are every segment from that one,
    a TLS 1.3 NewSessionTicket after it included."""
    keylog = tmp_path / "keys.log"
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    client.keylog_filename = str(keylog)
    sent = [b"hello over raw TLS", b"second"]
    with (
        RawTlsEcho(tmp_path) as server,
        tcpdump(server.port, tail=1.0) as pcap,
        socket.create_connection(("127.0.0.1", server.port)) as raw,
        client.wrap_socket(raw) as tls,
    ):
        for text in sent:
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
            tls.sendall(bytes([0x81, 0x80 | len(text)]) + mask + masked)
            assert tls.recv(2 + len(text))[2:] == text
    opts = Options(keylog=str(keylog), ws_ports=(server.port,))
    items = list(stream(pcap, opts))
    frames = [i for _, i in items if isinstance(i, Frame)]
    assert [(f.direction, f.payload) for f in frames] == [
        (d, t) for t in sent for d in (Direction.TX, Direction.RX)
    ]
    cmd = ["tshark", "-r", pcap, "-o", f"tls.keylog_file:{keylog}"]
    cmd += ["-d", f"tcp.port=={server.port},tls", "-Y", SEGMENTS, "-T", "fields"]
    cmd += ["-e", "tcp.srcport", "-e", "tcp.len", "-e", "tls.record.content_type"]
    lines = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    expected: dict[bool, list[int]] = defaultdict(list)
    started = False
    for line in lines.splitlines():
        sport, length, types = line.split("\t")
        started = started or "23" in types.split(",")  # the first application data
        if started:
            expected[int(sport) != server.port].append(int(length))
    got: dict[bool, list[int]] = defaultdict(list)
    for _, item in items:
        if isinstance(item, Marker) and item.kind is MarkerKind.SEGMENT:
            got[item.direction is Direction.TX].append(int(item.value or 0))
    assert got == expected and len(got[True]) >= 2


def test_follow_shows_messages_not_segments() -> None:
    """``follow`` tells the conversation: the segments are chops, no events,
    so none of them is a line, while every message still is."""
    cap = captured("tls13-aes128gcm")
    env = {"SSLKEYLOGFILE": str(cap.keylog)}
    result = CliRunner().invoke(app, ["follow", "--conn", "0", str(cap.pcap)], env=env)
    assert result.exit_code == 0, result.output
    assert "-- segment --" not in result.stdout
    sent = [m for m in cap.sent[0] if isinstance(m, str) and m]
    assert sent and all(m[:40] in result.stdout for m in sent)
