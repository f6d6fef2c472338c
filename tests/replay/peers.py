"""Misbehaving peers on 127.0.0.1 for the replay's robustness tests (issue 11).

:class:`Hostile` is a raw-socket server in a thread playing one fault:
silent, closing at once, garbage instead of HTTP, 403, reset, slowloris,
a 10 MB head, and after a valid 101: endless frames, endless zeros, a
frame declaring 2**62 octets followed by data, a permessage-deflate bomb,
forbidden window bits. :func:`hostile_client` is the same for clients of
``--listen``. Every loop is bounded: a peer stops when the replayer goes,
when the test ends, or after :data:`LIFETIME` seconds, whichever is first.

:func:`run_cli` runs ``wirelog`` in a child process and returns its exit
code, output, wall time and peak RSS (from ``wait4``), so a test can bound
memory without counting the test runner's own.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass

from servers import ROOT, LoopbackServer

from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for
from wirelog.replay.head import request_key

#: No hostile peer outlives this many seconds.
LIFETIME = 20.0
#: One write of a flood.
_BLOCK = 256 * 1024

SERVER_MODES = (
    "silent",
    "close",
    "garbage-head",
    "403",
    "reset",
    "slowloris",
    "huge-head",
    "endless-frames",
    "endless-zeros",
    "frame-2-62",
    "deflate-bomb",
    "window-bits",
)


def upgrade(head: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(request_key(head) or "").encode() + b"\r\n"
        + extra + b"\r\n"
    )  # fmt: skip


@functools.cache
def deflate_bomb(size: int = 1 << 30) -> bytes:
    """One compressed text frame (RSV1, RFC 7692 §6) whose payload inflates
    to ``size`` zero octets, about a thousand to one: a MiB of zeros
    compressed once, ended by a full flush (byte-aligned, no reference back),
    repeated, so building it costs one MiB of deflate."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    payload = piece * (size >> 20)
    assert payload.endswith(b"\x00\x00\xff\xff")
    return encode_frame(1, payload[:-4], rsv=4)


class Hostile(LoopbackServer):
    """A server playing one of :data:`SERVER_MODES` to every client."""

    def __init__(self, mode: str) -> None:
        assert mode in SERVER_MODES, mode
        super().__init__(mode)
        self.received = 0
        """Octets the clients sent after their HTTP head."""
        self._deadline = time.monotonic() + LIFETIME
        if mode == "deflate-bomb":
            deflate_bomb()

    @property
    def connections(self) -> int:
        """Clients accepted so far."""
        return len(self._conns)

    def _live(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _read_head(self, conn: socket.socket) -> bytes:
        conn.settimeout(5)
        buf = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
        end = buf.find(b"\r\n\r\n")
        self.received += len(buf) - end - 4 if end >= 0 else 0
        return buf

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._play(conn)

    def _play(self, conn: socket.socket) -> None:
        mode = self.mode
        if mode == "close":
            conn.close()
            return
        head = self._read_head(conn)
        counter = threading.Thread(target=self._count, args=(conn,), daemon=True)
        counter.start()
        if mode == "silent":
            self._stop.wait(LIFETIME)
        elif mode == "garbage-head":
            conn.sendall(bytes(range(256)) * 16)
            self._stop.wait(LIFETIME)
        elif mode == "403":
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            self._stop.wait(LIFETIME)
        elif mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            conn.close()
        elif mode == "slowloris":
            for b in upgrade(head):
                if not self._live():
                    break
                conn.sendall(bytes((b,)))
                time.sleep(0.2)
        elif mode == "huge-head":
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nX-Filler: ")
            self._flood(conn, b"a" * _BLOCK, 10 * 1024 * 1024)
            self._stop.wait(LIFETIME)
        elif mode == "window-bits":
            params = b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n"
            conn.sendall(upgrade(head, params))
            z = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = z.compress(b"Hello, world!") + z.flush(zlib.Z_SYNC_FLUSH)
            self._flood(conn, encode_frame(1, payload[:-4], rsv=4) * 1000)
        else:
            extra = b""
            if mode == "deflate-bomb":
                extra = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
            conn.sendall(upgrade(head, extra))
            if mode == "endless-frames":
                self._flood(conn, encode_frame(2, b"x" * 1000) * (_BLOCK // 1004))
            elif mode == "endless-zeros":
                self._flood(conn, bytes(_BLOCK))
            elif mode == "frame-2-62":
                conn.sendall(encode_frame(2, b"", length=1 << 62, width=64))
                self._flood(conn, bytes(_BLOCK))
            elif mode == "deflate-bomb":
                bomb = deflate_bomb()
                for _ in range(4):
                    conn.sendall(bomb)
                self._stop.wait(LIFETIME)

    def _flood(self, conn: socket.socket, block: bytes, limit: int | None = None) -> None:
        sent = 0
        while self._live() and (limit is None or sent < limit):
            conn.sendall(block)
            sent += len(block)

    def _count(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(0.2)
            while self._live():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                self.received += len(data)


CLIENT_MODES = ("silent", "garbage", "reset", "second")


def hostile_client(mode: str, port: int, request: bytes, stop: threading.Event) -> None:
    """Play one of :data:`CLIENT_MODES` against a ``--listen`` replay on
    ``port``: ``silent`` connects and sends nothing, ``garbage`` sends bytes
    that are no HTTP, ``reset`` sends half a head then resets, ``second``
    is a well-behaved client that connects while another is being served."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5) as s:
        if mode == "garbage":
            s.sendall(bytes(range(256)) * 16)
        elif mode == "reset":
            s.sendall(request[:20])
            time.sleep(0.1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            return
        elif mode == "second":
            s.sendall(request)
        stop.wait(LIFETIME)


#: ``wirelog`` in a child. With ``WIRELOG_TEST_HWM`` set it writes its peak
#: RSS (``VmHWM``, in KiB) there at exit: the peak of its own memory. The
#: kernel's ``ru_maxrss`` would not do, as a child inherits the peak of the
#: process it was forked from (the test runner) when it execs.
MAIN = """
import atexit, os, sys

def _hwm():
    out = os.environ.get("WIRELOG_TEST_HWM")
    if out:
        with open("/proc/self/status") as fh:
            kib = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
        with open(out, "w") as fh:
            fh.write(kib)

atexit.register(_hwm)
from wirelog.cli import main
sys.argv[0] = "wirelog"
main()
"""


def child_env() -> dict[str, str]:
    """The environment of a child ``wirelog``: this tree first on the path."""
    return dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


@dataclass
class Run:
    code: int
    out: str
    err: str
    took: float
    rss_mb: float
    """Peak resident memory of the child, in MiB (NaN if it was killed)."""


def run_cli(*args: str, limit: float = 30.0) -> Run:
    """``wirelog ARGS`` in a child process; killed after ``limit`` seconds
    (then its peak RSS is unknown)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".hwm") as hwm,
    ):
        env = child_env() | {"WIRELOG_TEST_HWM": hwm.name}
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", MAIN, *args],
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,
        )
        try:
            proc.wait(limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        took = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        peak = hwm.read().strip()
        return Run(
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            took,
            int(peak) / 1024 if peak else float("nan"),
        )
