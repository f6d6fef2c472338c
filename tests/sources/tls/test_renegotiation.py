"""TLS 1.2 renegotiation: a real one (OpenSSL's ``SSL_renegotiate`` on the
``websockets`` client's connection, every fifth message), whose second
handshake runs sealed under the first keys and whose ChangeCipherSpec is a
sealed record too. Decoded frame for frame as tshark decodes it with the
same key log (which holds one master secret per handshake)."""

from __future__ import annotations

import subprocess

import pytest
from captures_util import HAVE_TSHARK
from servers import have_tcpdump
from wss import captured, tshark_tls_frames

from wirelog.model import Direction
from wirelog.pipeline import Options, decode

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)


def test_renegotiated_sessions_decode_as_tshark_decodes_them() -> None:
    cap = captured("tls12-renegotiation")
    cmd = ["tshark", "-r", str(cap.pcap), "-o", f"tls.keylog_file:{cap.keylog}"]
    cmd += ["-d", f"tcp.port=={cap.port},tls", "-Y", "tls.handshake.type == 1"]
    cmd += ["-T", "fields", "-e", "tcp.stream"]
    hellos = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    # Two connections, each a first handshake and two renegotiations (14 messages).
    assert sorted(hellos.split()) == ["0"] * 3 + ["1"] * 3
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert sum(map(len, theirs.values())) == 4 * (len(cap.sent[0]) + 1)
    dcs = decode(str(cap.pcap), Options(keylog=str(cap.keylog)))
    ours: dict[tuple[int, int], list[tuple[int, bool, int]]] = {}
    for dc in dcs:
        conn = dc.connection
        for direction, end in ((Direction.TX, conn.client), (Direction.RX, conn.server)):
            assert end is not None
            frames = [f for f in dc.frames if f.direction is direction]
            ours[(conn.conn, int(end.rsplit(":", 1)[1]))] = [
                (f.opcode, f.fin, f.length) for f in frames
            ]
        assert dc.violations == []
    assert ours == theirs
    for dc, sent in zip(dcs, cap.sent, strict=True):
        data = [m.data for m in dc.messages if m.direction is Direction.RX and m.opcode != 8]
        assert data == [m.encode() if isinstance(m, str) else m for m in sent]
