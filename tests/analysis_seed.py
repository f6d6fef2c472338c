"""The seed case (AutobahnPython, case 2.2) rebuilt as an in-memory recording.

Every octet comes from the seed report (``samples/autobahnpython_case_2_2.txt``):
the handshake heads of its "Opening Handshake" section (their first 64 bytes
equal the seed's 000/001 hex) and the frame octets of its wire log. The
connection is built the way a capture would record it (complete chunks, no
log claims, a FIN from the peer), so tests of the analysis layer do not
depend on the Autobahn parser.
"""

from __future__ import annotations

from pathlib import Path

from wirelog.enums import nanoseconds
from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Recording, Role

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "autobahnpython_case_2_2.txt"

REQUEST = (
    b"GET / HTTP/1.1\r\nUser-Agent: AutobahnTestSuite/0.6.1-0.8.8\r\nHost: 127.0.0.1:9001\r\n"
    b"Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
    b"Sec-WebSocket-Key: pKZMnrfgxQewKsfiO39oBQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: YIxrIiLD42I3Ax0HMkqxV24gCGM=\r\n\r\n"
)
PING = bytes.fromhex("898d1bbc4f8853d923e474906fff74ce23ec3a")
PONG = bytes.fromhex("8a0d48656c6c6f2c20776f726c6421")
CLOSE_TX = bytes.fromhex("888287f697a1841e")
CLOSE_RX = bytes.fromhex("880203e8")
T0 = 1400130308.0  # 2014-05-15T05:05:08Z, the seed's start


def seed_connection(source: str = "seed", conn: int = 0, t0: float = T0) -> Connection:
    T, R = Direction.TX, Direction.RX
    c = Connection(conn=conn, source=source, recorder=Role.CLIENT, start_ts_ns=nanoseconds(t0))
    chunks = [
        (0, T, REQUEST, 0.0000),
        (1, R, RESPONSE, 0.0004),
        (3, T, PING, 0.0005),
        (5, R, PONG, 0.0007),
        (8, T, CLOSE_TX, 0.0008),
        (9, R, CLOSE_RX, 0.0010),
    ]
    for index, d, data, dt in chunks:
        c.chunks.append(Chunk(d, data, len(data), index, ts_ns=nanoseconds(t0 + dt)))
    c.markers.append(Marker(MarkerKind.CLOSE_AFTER, 4, value=1, raw=1))
    c.markers.append(Marker(MarkerKind.FIN, 11, direction=R, ts_ns=nanoseconds(t0 + 0.0011)))
    return c


def seed_recording(source: str = "seed") -> Recording:
    return Recording(source, "memory", [seed_connection(source)])


def section(text: str, title: str, until: str | None) -> list[str]:
    """Lines of a report section, whitespace removed, blank lines dropped
    (the seed is a flattened page: its table cells run together)."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = lines.index(until, start) if until else len(lines)
    return ["".join(x.split()) for x in lines[start:end] if x.strip()]
