"""Recordings of messages, not octets (HAR, mitmproxy flows), into a sink.

A browser's DevTools and mitmproxy keep what the application sent and
received: whole messages, with a direction, an opcode and a time. They keep
no frame boundaries, FIN or RSV bits, masks, TCP writes or control frames.
So that every consumer (decode, stats, check, report, diff, replay) reads
such a recording as it reads a capture, each connection is pushed into the
:class:`~wirelog.sources.sink.Sink` as chunks the one decoder decodes: the
handshake heads rebuilt from the recorded headers, then one chunk per
message holding one final frame without RSV bits (a client's masked with
the zero key, which leaves its payload as recorded: RFC 6455 §5.3). Every
chunk is marked ``rebuilt``, and each connection carries a
``messages_only`` finding that says what the recording cannot know.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from wirelog.model import Chunk, Connection, Direction, Role, Violation, ViolationKind
from wirelog.protocol.frames import encode_frame
from wirelog.sources.share import shared
from wirelog.sources.sink import Sink, Summary

#: The masking key a rebuilt client frame carries: XOR with zeros keeps the
#: payload as recorded; the real key was never recorded.
ZERO_MASK = b"\x00\x00\x00\x00"


@dataclass(frozen=True, slots=True)
class Recorded:
    """One message as a messages-only recorder kept it."""

    direction: Direction
    """``tx``: sent by the client (the browser, or mitmproxy's client side)."""
    opcode: int
    data: bytes
    ts_ns: int | None
    """Nanoseconds since the epoch."""


@dataclass(slots=True)
class Socket:
    """One WebSocket connection of a messages-only recording."""

    url: str
    request_head: bytes | None
    response_head: bytes | None
    """Heads rebuilt by :func:`head` (no ``Sec-WebSocket-Extensions``)."""
    start_ts_ns: int | None
    messages: list[Recorded] = field(default_factory=list)
    client: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def head(start: str, headers: Iterable[tuple[str, str]]) -> tuple[bytes, str | None]:
    """An HTTP/1.1 head (RFC 9112 §2.1) from a start line and headers as
    recorded, and the ``Sec-WebSocket-Extensions`` it held, which is left
    out: the recorder kept messages as the application saw them
    (inflated), so the rebuilt frames are not compressed, and a head that
    agreed on permessage-deflate would not describe them (RFC 7692 §6)."""
    lines = [start]
    extensions = []
    for k, v in headers:
        if k.lower() == "sec-websocket-extensions":
            extensions.append(v)
        else:
            lines.append(f"{k}: {v}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    return raw, ", ".join(extensions) or None


def server_of(url: str) -> str | None:
    """``host:port`` of a ws:// or wss:// URL (the default port when none)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    if port is None:
        port = 443 if parts.scheme in ("wss", "https") else 80
    host = parts.hostname
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def push_sockets(
    source: str,
    what: str,
    sockets: Iterable[Socket],
    sink: Sink,
    conns: tuple[int, ...] = (),
    share: tuple[int, int] | None = None,
) -> Iterator[None]:
    """Push each socket (only ``conns``, when given; only those of ``share``,
    as a capture's connections, :mod:`wirelog.sources.share`) as a
    connection, yielding after each; ``sink.done`` ends it. ``what`` names
    the recorder in the finding ("a HAR", "a mitmproxy flow")."""
    sink = shared(sink, share)
    pushed = 0
    for number, sock in enumerate(sockets):
        if conns and number not in conns:
            continue
        pushed += 1
        conn = Connection(
            conn=number,
            source=source,
            recorder=Role.CLIENT,
            client=sock.client,
            server=server_of(sock.url),
            start_ts_ns=_start(sock),
            meta={"url": sock.url, **sock.meta},
        )
        sink.opened(conn)
        sink.finding(
            conn,
            Violation(
                ViolationKind.MESSAGES_ONLY,
                f"{what} records messages, not frames: each is rebuilt as one final frame "
                "without RSV bits (a client's masked with zeros) and the heads without "
                "Sec-WebSocket-Extensions (kept in meta); the real chops, masks, fragments, "
                "compression and control frames were not recorded",
            ),
        )
        index = 0
        for direction, raw in (
            (Direction.TX, sock.request_head),
            (Direction.RX, sock.response_head),
        ):
            if raw is not None:
                sink.chunk(
                    conn, Chunk(direction, raw, len(raw), index, sock.start_ts_ns, rebuilt=True)
                )
                index += 1
        for m in sock.messages:
            mask = ZERO_MASK if m.direction is Direction.TX else None
            data = encode_frame(m.opcode, m.data, mask=mask)
            sink.chunk(conn, Chunk(m.direction, data, len(data), index, m.ts_ns, rebuilt=True))
            index += 1
        sink.closed(conn)
        yield
    sink.done(Summary(websocket=pushed))


def _start(sock: Socket) -> int | None:
    """The socket's start: as recorded, else its first message's time (so
    every line's ``t`` counts from the same instant)."""
    if sock.start_ts_ns is not None:
        return sock.start_ts_ns
    return next((m.ts_ns for m in sock.messages if m.ts_ns is not None), None)
