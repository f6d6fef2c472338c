"""permessage-deflate bombs on 127.0.0.1, recorded (issue 11).

:class:`BombServer` upgrades one client with permessage-deflate, sends it
``count`` compressed text messages of ``size`` zero octets each (a thousand
to one, :func:`peers.deflate_bomb`), then one ordinary compressed message
(:data:`AFTER`) and a close. :func:`record` runs it under tcpdump with the
``websockets`` client reading everything, and returns the capture;
:func:`autobahn_json` puts the same bombs into a real Autobahn case report.
Shared by ``tests/integration/test_message_limit.py`` and
``benchmarks/bomb_rss.py``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import zlib
from pathlib import Path

from replay.peers import deflate_bomb, upgrade
from servers import LoopbackServer, tcpdump

from wirelog.protocol.frames import encode_frame

AFTER = "the message after the bombs, whole"
CASE = Path(__file__).resolve().parents[2].parent / "shared" / "autobahn-reports"
CASE = CASE / "testing-a-server" / "websock_server_case_12_1_1.json"
"""A real Autobahn report whose handshake agrees on permessage-deflate
(the server keeps its context: its messages share one window)."""


def after_frame() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = z.compress(AFTER.encode()) + z.flush(zlib.Z_SYNC_FLUSH)
    return encode_frame(1, packed[:-4], rsv=4)


class BombServer(LoopbackServer):
    """One client: 101 with permessage-deflate, the bombs, :data:`AFTER`, a close."""

    def __init__(self, count: int, size: int, takeover: bool = True) -> None:
        super().__init__("bomb")
        self.count, self.size, self.takeover = count, size, takeover
        deflate_bomb(size)

    def _serve(self) -> None:
        self.sock.settimeout(10)
        with contextlib.suppress(OSError):
            conn, _ = self.sock.accept()
            self._conns.append(conn)
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            ext = b"Sec-WebSocket-Extensions: permessage-deflate"
            ext += b"\r\n" if self.takeover else b"; server_no_context_takeover\r\n"
            conn.sendall(upgrade(head, ext))
            for _ in range(self.count):
                conn.sendall(deflate_bomb(self.size))
            conn.sendall(after_frame() + encode_frame(8, b"\x03\xe8"))
            conn.recv(65536)  # the client's close: the server drops TCP first (RFC 6455 §7.1.1)
            conn.shutdown(socket.SHUT_RDWR)


def record(path: Path, count: int, size: int, takeover: bool = True) -> Path:
    """A tcpdump capture of the ``websockets`` client reading ``count`` bombs
    of ``size`` octets and the message after them."""
    from websockets.sync.client import connect

    with BombServer(count, size, takeover) as srv, tcpdump(srv.port, tail=1.0) as pcap:
        with connect(
            srv.url, compression="deflate", max_size=None, open_timeout=10, ping_interval=None
        ) as ws:
            # Lengths only, as bytes: a client that kept four GiB texts would
            # measure itself, not the capture.
            got = [len(ws.recv(timeout=600, decode=False)) for _ in range(count)]
            last = ws.recv(timeout=60)
        assert got == [size] * count and last == AFTER
    shutil.move(pcap, path)
    return path


def autobahn_json(path: Path, count: int, size: int) -> Path:
    """:data:`CASE` with ``count`` bombs from its server, every octet logged
    (RO entries right after the server's 101)."""
    doc = json.loads(CASE.read_text())
    log = doc["wirelog"]
    at = next(i for i, e in enumerate(log) if e[0] == "RO") + 1
    frames = [deflate_bomb(size)] * count + [after_frame()]
    log[at:at] = [["RO", [len(f), f.hex()]] for f in frames]
    path.write_text(json.dumps(doc))
    return path
