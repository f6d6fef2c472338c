"""Real servers on 127.0.0.1 for the replay tests, and the seed as a Connection.

* :func:`run_server` starts an echo server in a subprocess (``websockets`` or
  AutobahnPython on asyncio), on a free port the child picks and prints, and
  always kills it afterwards.
* :class:`Misbehaving` is a raw-socket server in a thread for the faults:
  reset, stall, never close, non-101, garbage.
* :func:`tcpdump` captures loopback traffic on one port (``-i lo -U``) and
  stops a moment after the traffic ends, so the tail is not lost.
* :func:`segments` reads the capture's TCP payload sizes per direction.

* :func:`ws_echo` and :func:`ab_echo` are module-scoped fixtures around
  :func:`run_server`; import them into a test module to use them.

Run as a script (``python tests/servers.py websockets|autobahn``) it is the
child process itself.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

# Run as a script (the test servers' child processes), this folder is on the
# path only when Python puts the script's folder there; PYTHONSAFEPATH=1 (the
# run against the compiled build) does not.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import analysis_seed
import pytest

from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Role
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for
from wirelog.replay.head import request_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")
SEED = str(analysis_seed.SEED)
"""The seed report (case 2.2 against AutobahnPython) as a file."""
REPORTS = os.path.join(ROOT, "..", "shared", "autobahn-reports")
SERVER_REPORTS = os.path.join(REPORTS, "testing-a-server")
"""nim-websock tested by the fuzzer (the fuzzer is the client)."""

# The seed's octets, written once (in the analysis tests' rebuild of the seed).
SEED_REQUEST = analysis_seed.REQUEST
SEED_RESPONSE = analysis_seed.RESPONSE
SEED_PING = analysis_seed.PING
SEED_PONG = analysis_seed.PONG
SEED_CLOSE = analysis_seed.CLOSE_TX
SEED_CLOSE_REPLY = analysis_seed.CLOSE_RX


def seed_connection(*, cut: bool = True) -> Connection:
    """Case 2.2 exactly as the seed report logs it: the heads cut at 64
    octets (``cut``) with the complete heads kept apart, a TI 1.0 timer,
    and TCP dropped by the peer."""
    tx, rx = Direction.TX, Direction.RX

    def ch(d: Direction, data: bytes, i: int) -> Chunk:
        return Chunk(d, data[:64] if cut else data, len(data), i)

    return Connection(
        conn=1,
        source="seed-2.2",
        recorder=Role.CLIENT,
        chunks=[
            ch(tx, SEED_REQUEST, 0),
            ch(rx, SEED_RESPONSE, 1),
            ch(tx, SEED_PING, 3),
            ch(rx, SEED_PONG, 5),
            ch(tx, SEED_CLOSE, 8),
            ch(rx, SEED_CLOSE_REPLY, 9),
        ],
        markers=[
            Marker(MarkerKind.CLOSE_AFTER, 4, value=1.0, raw=1.0),
            Marker(MarkerKind.DROPPED, 11, Direction.RX),
        ],
        handshake_request=SEED_REQUEST,
        handshake_response=SEED_RESPONSE,
        meta={"droppedByMe": False, "isServer": False},
    )


# -- echo servers in a child process -------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


@contextlib.contextmanager
def run_server(kind: str, timeout: float = 20.0) -> Iterator[Server]:
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            raise RuntimeError(f"{kind} server did not start: {line!r} {err[-500:]}")
        yield Server(proc, int(line.split()[1]))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _child_websockets(host: str = "127.0.0.1", ssl_ctx: Any = None) -> None:
    import asyncio

    from websockets.asyncio.server import ServerConnection, serve

    async def echo(ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            async for msg in ws:
                await ws.send(msg)

    async def main() -> None:
        async with serve(echo, host, 0, max_size=None, ssl=ssl_ctx) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            print(f"READY {port}", flush=True)
            await asyncio.Future()

    asyncio.run(main())


def _child_websockets_tls() -> None:
    """The echo server behind TLS, with a throwaway self-signed certificate."""
    import ssl

    tmp = tempfile.mkdtemp(prefix="wirelog-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    shutil.rmtree(tmp, ignore_errors=True)
    _child_websockets("127.0.0.1", ctx)


def _child_autobahn() -> None:
    import asyncio

    from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol

    class Echo(WebSocketServerProtocol):  # type: ignore[misc]
        def onMessage(self, payload: bytes, is_binary: bool) -> None:
            self.sendMessage(payload, is_binary)

    async def main() -> None:
        factory = WebSocketServerFactory("ws://127.0.0.1")
        factory.protocol = Echo
        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        await asyncio.Future()

    asyncio.run(main())


@pytest.fixture(scope="module")
def ws_echo() -> Iterator[Server]:
    """The ``websockets`` library's echo server."""
    with run_server("websockets") as s:
        yield s


@pytest.fixture(scope="module")
def ab_echo() -> Iterator[Server]:
    """AutobahnPython's echo server (the seed's recorded peer)."""
    with run_server("autobahn") as s:
        yield s


# -- misbehaving servers in a thread -------------------------------------------


def _read_head(conn: socket.socket, limit: float = 5.0) -> bytes:
    conn.settimeout(limit)
    buf = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in buf:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
    return buf


def _upgrade(head: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(request_key(head) or "").encode() + b"\r\n\r\n"
    )


class LoopbackServer:
    """A listening socket on 127.0.0.1 served by a thread (``_serve``), and
    everything it accepted closed on exit: the lifecycle of the misbehaving
    test servers."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.close()
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.close()
        self._thread.join(5)

    def _live(self) -> bool:
        """Whether to go on accepting (a subclass may add a deadline)."""
        return not self._stop.is_set()

    def _serve(self) -> None:
        """Accept until stopped, one thread per connection (``_handle``)."""
        self.sock.settimeout(0.1)
        while self._live():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


class Misbehaving(LoopbackServer):
    """One of: ``reset`` (RST after the request), ``stall`` (reads, never
    answers), ``mute`` (101, then silence), ``noclose`` (answers pings and
    closes like an echo server but never drops TCP), ``deaf-close`` (answers
    pings, ignores closes), ``404`` (refuses the
    upgrade), ``garbage`` (101, then bytes that are no frames), ``reset-mid``
    (101 and pong, then RST)."""

    def _handle(self, conn: socket.socket) -> None:
        head = _read_head(conn)
        mode = self.mode
        with contextlib.suppress(OSError):
            if mode == "reset":
                _rst(conn)
            elif mode == "stall":
                self._stop.wait(30)
            elif mode == "404":
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n")
                conn.close()
            elif mode == "mute":
                conn.sendall(_upgrade(head))
                self._stop.wait(30)
            elif mode == "garbage":
                conn.sendall(_upgrade(head))
                conn.sendall(bytes(range(0x30, 0x50)) * 4)
                self._stop.wait(30)
            elif mode in ("noclose", "reset-mid", "deaf-close"):
                conn.sendall(_upgrade(head))
                self._echo_control(conn, mode)

    def _echo_control(self, conn: socket.socket, mode: str) -> None:
        """Answer pings with pongs and a close with a close, from the octets."""
        conn.settimeout(0.2)
        buf = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            buf += data
            while len(buf) >= 2:
                n = buf[1] & 0x7F
                if len(buf) < 6 + n:
                    break
                op, mask, payload = buf[0] & 0x0F, buf[2:6], buf[6 : 6 + n]
                buf = buf[6 + n :]
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                if op == 9:
                    conn.sendall(encode_frame(10, payload))
                    if mode == "reset-mid":
                        time.sleep(0.05)
                        _rst(conn)
                        return
                elif op == 8 and mode != "deaf-close":
                    conn.sendall(encode_frame(8, payload))


def _rst(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def refused_port() -> int:
    """A port nobody listens on (bound, then closed without listen)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


# -- tcpdump ---------------------------------------------------------------------


def have_tcpdump() -> bool:
    return shutil.which("tcpdump") is not None and os.geteuid() == 0


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextlib.contextmanager
def tcpdump(
    port: int, tail: float = 2.0, bpf: str | None = None, args: tuple[str, ...] = ()
) -> Iterator[str]:
    """Capture loopback traffic on ``port`` (or what the filter ``bpf``
    takes) into a pcap file (path yielded); stop ``tail`` seconds after the
    block ends so nothing is lost. ``args`` go to tcpdump as they are
    (``--time-stamp-precision=nano``)."""
    fd, path = tempfile.mkstemp(suffix=".pcap", prefix="wirelog-replay-")
    os.close(fd)
    # Callers read the capture after the block, so it lives until the
    # test process ends (it used to stay in /tmp for good).
    atexit.register(_remove, path)
    proc = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            "lo",
            "-U",
            "-n",
            "-s",
            "0",
            *args,
            "-w",
            path,
            bpf or f"tcp port {port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.time() + 10
        while time.time() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready and "listening on" in proc.stderr.readline():
                break
            if proc.poll() is not None:
                raise RuntimeError("tcpdump exited early")
        yield path
        time.sleep(tail)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


@dataclass(frozen=True)
class Segment:
    ts: float
    sport: int
    dport: int
    flags: int
    size: int


def segments(path: str) -> list[Segment]:
    """TCP segments of a classic pcap (Ethernet, Linux cooked v1/v2, or raw IP)."""
    out: list[Segment] = []
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        return out
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[pos : pos + 16])
        pkt = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        ts = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:
            off, etype = 14, struct.unpack("!H", pkt[12:14])[0]
        elif linktype == 113:
            off, etype = 16, struct.unpack("!H", pkt[14:16])[0]
        elif linktype == 276:
            off, etype = 20, struct.unpack("!H", pkt[0:2])[0]
        else:
            off, etype = 0, 0x0800 if pkt[:1] and pkt[0] >> 4 == 4 else 0x86DD
        ip = pkt[off:]
        if etype == 0x0800:
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            if ip[9] != 6:
                continue
            tcp, plen = ip[ihl:], total - ihl
        elif etype == 0x86DD:
            if ip[6] != 6:
                continue
            tcp, plen = ip[40:], struct.unpack("!H", ip[4:6])[0]
        else:
            continue
        sport, dport = struct.unpack("!HH", tcp[:4])
        doff = (tcp[12] >> 4) * 4
        out.append(Segment(ts, sport, dport, tcp[13], plen - doff))
    return out


if __name__ == "__main__":
    {
        "websockets": _child_websockets,
        "websockets6": lambda: _child_websockets("::1"),
        "websockets-tls": _child_websockets_tls,
        "autobahn": _child_autobahn,
    }[sys.argv[1]]()


@contextlib.contextmanager
def websockets_in_thread(handler: Any) -> Iterator[str]:
    """A ``websockets`` asyncio server running ``handler`` on 127.0.0.1 in a
    thread of its own (for tests that need a server with odd behaviour
    written in a few lines); its URL, the server stopped after the block."""
    from websockets.asyncio.server import serve

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    where: list[int] = []

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
            where.append(server.sockets[0].getsockname()[1])
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the websockets server did not start"
    try:
        yield f"ws://127.0.0.1:{where[0]}/"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
