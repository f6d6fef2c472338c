"""TLS 1.3 0-RTT: early data decrypted with ``CLIENT_EARLY_TRAFFIC_SECRET``,
joined to the client's stream only when the server took it.

Real 0-RTT from OpenSSL: ``openssl s_server -early_data`` issues a ticket on
a first connection, and ``openssl s_client -sess_in ... -early_data FILE``
resumes with FILE as early data (both write the key log). No Python
WebSocket library speaks 0-RTT (``ssl`` has no early-data API), so both
ends are OpenSSL's tools carrying a WebSocket conversation: the client's
0-RTT data is the HTTP Upgrade request and two frames (made by the
``websockets`` library), the server's standard input the 101 answer and a
frame. tcpdump captures it; s_client's own "Early data was
accepted/rejected" and tshark's decryption with the same key log (the
plaintext per record, and its WebSocket frames) are the oracles.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from captures_util import tshark_frames
from servers import have_tcpdump, refused_port, tcpdump
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from wss import make_cert

from wirelog.errors import InputError
from wirelog.model import Direction, Frame, Violation
from wirelog.pipeline import Options, stream

pytestmark = pytest.mark.skipif(
    not (have_tcpdump() and shutil.which("openssl") and shutil.which("tshark")),
    reason="needs tcpdump as root, openssl and tshark (.ci/setup installs them)",
)

#: The client's 0-RTT data, what it sends after the handshake, the server's answer.
EARLY = [
    WsFrame(Opcode.TEXT, b"hello from 0-RTT"),
    WsFrame(Opcode.BINARY, bytes(range(40))),
]
LATER = [WsFrame(Opcode.TEXT, b"after the handshake")]
REPLY = [WsFrame(Opcode.TEXT, b"howdy")]


KEY = base64.b64encode(b"wirelog 0-rtt ok").decode()
REQUEST = (
    "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
#: RFC 6455 §4.2.2: the accept value, computed here, not by wirelog.
ACCEPT = base64.b64encode(
    hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
).decode()
RESPONSE = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
).encode()


def _wire(frames: list[WsFrame], mask: bool) -> bytes:
    return b"".join(f.serialize(mask=mask, extensions=[]) for f in frames)


@dataclass
class Session:
    pcap: str
    keylog: Path
    port: int
    client_said: str
    early: bytes
    """The client's 0-RTT octets (masked frames), and what it sent after the handshake."""
    later: bytes


def _listening(port: int) -> bool:
    """A socket listens on ``port`` (state 0A in Linux's /proc/net/tcp*)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def _server(tmp: Path, port: int, accepts: int, log: str) -> subprocess.Popen[bytes]:
    """``openssl s_server`` taking 0-RTT data, for ``accepts`` connections."""
    cert, key = (
        (tmp / "cert.pem", tmp / "key.pem") if (tmp / "key.pem").exists() else make_cert(tmp)
    )
    cmd = ["openssl", "s_server", "-accept", str(port), "-cert", str(cert), "-key", str(key)]
    cmd += ["-tls1_3", "-early_data", "-keylogfile", str(tmp / "server.keys")]
    cmd += ["-naccept", str(accepts)]
    out = open(tmp / log, "wb")  # noqa: SIM115 - the child writes it until it ends
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    # A connect probe would use up an accept: the kernel's table tells when it listens.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _listening(port):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("openssl s_server did not start")


def _client(tmp: Path, port: int, args: list[str], said: list[bytes], to: list[Any]) -> str:
    """``openssl s_client`` writing each of ``said`` a second apart, each
    followed half a second later by the same of ``to`` (writable ends),
    then ending its input (it sends close_notify); what it printed."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3"]
    cmd += ["-keylogfile", str(tmp / "client.keys"), *args]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdin is not None
    for data, (peer, answer) in zip(said, to, strict=True):
        time.sleep(1.0)
        proc.stdin.write(data)
        proc.stdin.flush()
        if peer is not None:
            time.sleep(0.5)
            peer.write(answer)
            peer.flush()
    time.sleep(0.5)
    out, _ = proc.communicate(timeout=20)
    return out.decode(errors="replace")


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    proc.wait(timeout=10)


def zero_rtt(tmp: Path, *, same_server: bool) -> Session:
    """A ticket from a first session, then a resumed session sending
    :data:`EARLY` as 0-RTT data and :data:`LATER` after the handshake, to
    the server that issued the ticket (``same_server``: it takes the early
    data) or to a new server process, whose ticket keys differ: a full
    handshake, and the early data refused."""
    port = refused_port()
    early = REQUEST + _wire(EARLY, mask=True)
    # Refused 0-RTT data never reached the server: the client asks again
    # after the handshake, as RFC 8446 §2.3 expects of it.
    later = (b"" if same_server else REQUEST) + _wire(LATER, mask=True)
    (tmp / "early.bin").write_bytes(early)
    first = _server(tmp, port, accepts=2 if same_server else 1, log="s1.out")
    try:
        said = _client(tmp, port, ["-sess_out", str(tmp / "session.pem")], [b"x"], [(None, b"")])
        assert "New, TLSv1.3" in said, said[-500:]
        second = first if same_server else _server(tmp, port, accepts=1, log="s2.out")
        if not same_server:
            _end(first)
        with tcpdump(port, tail=1.0) as pcap:
            try:
                args = ["-sess_in", str(tmp / "session.pem"), "-early_data", str(tmp / "early.bin")]
                # s_server sends what its standard input gives to the client:
                # the answer, once the request went by (a refused one, again).
                answer = (second.stdin, RESPONSE + _wire(REPLY, mask=False))
                said = _client(tmp, port, args, [later], [answer])
            finally:
                _end(second)
    finally:
        _end(first)
    return Session(pcap, tmp / "client.keys", port, said, early, later)


@pytest.fixture(scope="module")
def taken(tmp_path_factory: pytest.TempPathFactory) -> Session:
    return zero_rtt(tmp_path_factory.mktemp("zrtt-taken"), same_server=True)


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> Session:
    return zero_rtt(tmp_path_factory.mktemp("zrtt-refused"), same_server=False)


def _tshark_client_plaintext(s: Session, keylog: Path) -> bytes:
    """The client's decrypted application data, record by record, per tshark."""
    cmd = ["tshark", "-r", s.pcap, "-o", f"tls.keylog_file:{keylog}", "--disable-protocol"]
    cmd += ["http", "-Y", f"data && tcp.dstport == {s.port}"]
    cmd += ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "data.data"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return b"".join(bytes.fromhex(h) for line in out.split() for h in line.split(","))


def _frames(s: Session, keylog: Path, found: list[str]) -> list[tuple[Direction, int, bytes]]:
    """The frames wirelog decodes, and in ``found`` every line it has to say
    (findings of the connection, and the capture's undecrypted lines)."""
    st = stream(s.pcap, Options(keylog=str(keylog)))
    frames = []
    try:
        for batch in st.batches():
            for _, item in batch:
                if isinstance(item, Frame):
                    frames.append((item.direction, item.opcode, item.payload))
                elif isinstance(item, Violation):
                    found.append(item.detail)
    except InputError as exc:  # no WebSocket connection at all: the one line says why
        found.append(str(exc))
    if st.summary is not None:
        found.extend(st.summary.undecrypted)
    return frames


def _tshark_frames(s: Session) -> dict[Direction, list[tuple[int, bool, int]]]:
    """The frames tshark decodes, per direction, as (opcode, fin, length)."""
    tls = ("-o", f"tls.keylog_file:{s.keylog}", "-d", f"tcp.port=={s.port},tls")
    tls += ("-d", f"tls.port=={s.port},http")
    got = tshark_frames(Path(s.pcap), s.port, *tls)
    out: dict[Direction, list[tuple[int, bool, int]]] = {Direction.TX: [], Direction.RX: []}
    for (_, sport), frames in sorted(got.items()):
        out[Direction.RX if sport == s.port else Direction.TX] += frames
    return out


def _keys(frames: list[tuple[Direction, int, bytes]], d: Direction) -> list[tuple[int, bool, int]]:
    return [(op, True, len(payload)) for direction, op, payload in frames if direction is d]


def _sent(frames: list[WsFrame]) -> list[tuple[Direction, int, bytes]]:
    return [(Direction.TX, int(f.opcode.value), f.data) for f in frames]


def test_early_data_taken_joins_the_client_stream(taken: Session) -> None:
    assert "Early data was accepted" in taken.client_said
    # tshark decrypts the client's records to the octets it sent, early first.
    assert _tshark_client_plaintext(taken, taken.keylog) == taken.early + taken.later
    found: list[str] = []
    frames = _frames(taken, taken.keylog, found)
    assert [f for f in frames if f[0] is Direction.TX] == _sent(EARLY) + _sent(LATER)
    assert [f for f in frames if f[0] is Direction.RX] == [(Direction.RX, 1, b"howdy")]
    # tshark 4.0 dissects the server's frame; none of the client's (the 0-RTT
    # ones went before the 101 in the capture): the plaintext above is the
    # oracle for those.
    assert _keys(frames, Direction.RX) == _tshark_frames(taken)[Direction.RX] != []
    assert not found, found


def test_early_data_without_its_secret_is_a_gap(taken: Session, tmp_path: Path) -> None:
    keylog = tmp_path / "no-early.keys"
    lines = taken.keylog.read_text().splitlines()
    keylog.write_text("\n".join(x for x in lines if not x.startswith("CLIENT_EARLY")) + "\n")
    found: list[str] = []
    # The Upgrade request was 0-RTT data: lost with its key, so there is no
    # WebSocket to decode, and the lines say why.
    assert _frames(taken, keylog, found) == []
    n = len(taken.early)
    lost = f"0-RTT data without its key (CLIENT_EARLY_TRAFFIC_SECRET not in the key log): {n}"
    assert any("none WebSocket" in x and f"{lost} octets lost" in x for x in found), found
    # The handshake key's records still open: no record fails to verify.
    assert not [line for line in found if "does not verify" in line], found


def test_early_data_refused_stays_out(refused: Session) -> None:
    assert "Early data was rejected" in refused.client_said, refused.client_said[-800:]
    found: list[str] = []
    frames = _frames(refused, refused.keylog, found)
    # What the server took: the request and frame sent again after the handshake.
    assert [f for f in frames if f[0] is Direction.TX] == _sent(LATER)
    assert [f for f in frames if f[0] is Direction.RX] == [(Direction.RX, 1, b"howdy")]
    n = len(refused.early)
    assert any(f"0-RTT data refused by the server: {n} octets" in x for x in found), found
    assert not [line for line in found if "does not verify" in line], found


def test_refused_without_its_secret_is_skipped(refused: Session, tmp_path: Path) -> None:
    keylog = tmp_path / "no-early.keys"
    lines = refused.keylog.read_text().splitlines()
    keylog.write_text("\n".join(x for x in lines if not x.startswith("CLIENT_EARLY")) + "\n")
    found: list[str] = []
    assert [f for f in _frames(refused, keylog, found) if f[0] is Direction.TX] == _sent(LATER)
    assert any("without its key" in x and "refused by the server: skipped" in x for x in found)
    assert not [x for x in found if "octets lost" in x or "does not verify" in x], found


def test_taken_data_joins_a_capture_that_ends_before_end_of_early_data(
    taken: Session, tmp_path: Path
) -> None:
    """Cut before the client's EndOfEarlyData: the server's
    EncryptedExtensions (it answered with early_data) says the data was
    taken."""
    cmd = ["tshark", "-r", taken.pcap, "-T", "fields", "-e", "frame.number", "-Y"]
    cmd.append(f"tcp.dstport == {taken.port} && tcp.len > 0")
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # The resumed session's first client segment holds the ClientHello and
    # the 0-RTT data; its second, EndOfEarlyData and Finished.
    cut = tmp_path / "cut.pcap"
    subprocess.run(["editcap", "-r", taken.pcap, str(cut), f"1-{int(out[1]) - 1}"], check=True)
    s = Session(str(cut), taken.keylog, taken.port, "", taken.early, taken.later)
    found: list[str] = []
    frames = _frames(s, taken.keylog, found)
    assert [f for f in frames if f[0] is Direction.TX] == _sent(EARLY)
    assert not [x for x in found if "refused" in x or "does not verify" in x], found


def test_early_data_beyond_the_limit_is_not_kept(
    taken: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0-RTT records are held until the ServerHello, their plaintext until
    EndOfEarlyData: a capture cannot make that grow without bound."""
    from wirelog.sources.tls import stream as tls_stream

    monkeypatch.setattr(tls_stream, "MAX_EARLY", 100)
    found: list[str] = []
    frames = _frames(taken, taken.keylog, found)
    assert "TLS 0-RTT data beyond 100 octets not kept" in found, found
    assert [f for f in frames if f[0] is Direction.TX] == []  # the request was in it
