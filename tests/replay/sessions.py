"""Recordings the replay tests build: an echo session from message specs,
and a session with capture times."""

from __future__ import annotations

from servers import SEED_REQUEST, SEED_RESPONSE

from wirelog.enums import nanoseconds
from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Recording, Role
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for

TX, RX = Direction.TX, Direction.RX

#: Message specs for :func:`echo_session`: the opcode octet, then the payload.
PING = b"\x09Hello, world!"
PONG = b"\x0aHello, world!"
CLOSE = b"\x08\x03\xe8"


def echo_session(
    client: list[bytes],
    server: list[bytes],
    *,
    mask: bytes = b"\x01\x02\x03\x04",
    split: bool = False,
    dropped: Direction = RX,
) -> Connection:
    """Client frames (masked with ``mask``), each answered by the server
    frame at the same position; ``split`` writes each client frame in two."""
    conn = Connection(conn=0, source="s", recorder=Role.CLIENT)
    i = 0

    def add(d: Direction, data: bytes) -> None:
        nonlocal i
        conn.chunks.append(Chunk(d, data, len(data), i))
        i += 1

    add(TX, SEED_REQUEST)
    add(RX, SEED_RESPONSE)
    for c, s in zip(client, server, strict=False):
        wire = encode_frame(c[0], c[1:], mask=mask)
        if split:
            add(TX, wire[:3])
            add(TX, wire[3:])
        else:
            add(TX, wire)
        if s:
            add(RX, encode_frame(s[0], s[1:]))
    conn.markers.append(Marker(MarkerKind.FIN, i, dropped))
    return conn


def timed_session() -> Recording:
    """A client that writes, pauses, waits for the echo, pauses again (the
    times of a capture, in seconds from 1000.0)."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    req = (
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    resp = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(key).encode() + b"\r\n\r\n"
    )
    m = b"\x01\x02\x03\x04"
    tx, rx = Direction.TX, Direction.RX
    items = [
        (tx, 0.000, req),
        (rx, 0.001, resp),
        (tx, 0.101, encode_frame(1, b"one", mask=m)),  # 100 ms after the 101
        (tx, 0.251, encode_frame(1, b"two", mask=m)),  # 150 ms after our write
        (rx, 0.252, encode_frame(1, b"one")),
        (rx, 0.253, encode_frame(1, b"two")),
        (tx, 0.333, encode_frame(8, b"\x03\xe8", mask=m)),  # 80 ms after the echo
        (rx, 0.334, encode_frame(8, b"\x03\xe8")),
    ]
    conn = Connection(conn=0, source="timed", recorder=Role.CLIENT)
    for i, (d, ts, data) in enumerate(items):
        conn.chunks.append(Chunk(d, data, len(data), i, nanoseconds(1000.0 + ts)))
    conn.markers.append(Marker(MarkerKind.FIN, len(items), rx, 1000_335_000_000))
    return Recording("timed", "pcap", [conn])
