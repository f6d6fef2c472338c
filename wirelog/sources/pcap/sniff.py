"""What a TCP connection that is not a WebSocket Upgrade carries, from its first octets.

A capture that decodes to nothing must say why (issue 9): the traffic is
TLS (nothing to read without the session keys), plain HTTP that never asked
to upgrade, or WebSocket frames whose handshake happened before the capture
started (``--ws-port`` decodes them). The flow engine asks once per skipped
connection, with the first octets one side sent, so this costs nothing per
packet. These are cheap, conservative tests of a start, not parsers.
"""

from __future__ import annotations

import enum

from wirelog.model import Opcode
from wirelog.sources.tls.handshake import looks_like_client_hello
from wirelog.sources.tls.records import HEADER, plausible

#: Request methods of RFC 9110 §9 (and PATCH, RFC 5789), with the space after them.
_METHODS = (
    b"GET ",
    b"HEAD ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"CONNECT ",
    b"OPTIONS ",
    b"TRACE ",
    b"PATCH ",
)
_OPCODES = frozenset(int(o) for o in Opcode)
_APPDATA = b"\x17\x03\x03"
#: Frames read before the octets are taken for WebSocket framing.
_ENOUGH = 4


class Start(enum.Enum):
    """What the first octets of a skipped connection look like."""

    TLS = "tls"
    TLS_LATE = "tls_late"
    """TLS records but no ClientHello: captured after the handshake."""
    HTTP = "http"
    FRAMES = "frames"
    OTHER = "other"


def classify(data: bytes, sender_port: int, receiver_port: int) -> tuple[Start, int]:
    """The kind of a connection's start and the port to name for it (the
    server's, as well as it can be told: TLS and HTTP requests go to the
    receiver; a masked frame comes from the client, RFC 6455 §5.3)."""
    if looks_like_client_hello(data):
        return Start.TLS, receiver_port
    if tls_records(data):
        return Start.TLS_LATE, receiver_port
    if data.startswith(_METHODS):
        return Start.HTTP, receiver_port
    if data.startswith(b"HTTP/1."):
        return Start.HTTP, sender_port
    masked = frames_start(data)
    if masked is not None:
        return Start.FRAMES, receiver_port if masked else sender_port
    return Start.OTHER, receiver_port


def tls_records(data: bytes) -> bool:
    """Whether ``data`` holds TLS records (RFC 8446 §5.1) without a
    ClientHello: a capture started after the handshake, perhaps inside a
    record. Wanted: a plausible record header whose record ends where the
    octets end or another header starts, at the start or, for an
    application-data header (``17 03 03``, what TLS 1.2 and 1.3 send after
    the handshake), anywhere; or one application-data record running past
    the octets from the start. No WebSocket frame starts like this (its
    first octet would be a reserved opcode or a fragmented close,
    0x14-0x18)."""
    n = len(data)
    at = 0 if n >= HEADER and plausible(data, 0) else data.find(_APPDATA)
    while 0 <= at <= n - HEADER:
        if plausible(data, at):
            end = at + HEADER + (data[at + 3] << 8 | data[at + 4])
            past = end > n and at == 0 and data.startswith(_APPDATA)
            if past or end == n or (end <= n - HEADER and plausible(data, end)):
                return True
        at = data.find(_APPDATA, at + 1)
    return False


def frames_start(data: bytes) -> bool | None:
    """Whether ``data`` begins with WebSocket frames (RFC 6455 §5.2) from one
    sender: known opcodes, no reserved bit but RSV1 (permessage-deflate),
    control frames final and short, minimal lengths, one masking for all,
    each frame ending where the next begins, or the last one running past
    the octets; the first not a continuation (zeros are not frames).
    Returns whether the frames are masked, None when they do not look like
    frames."""
    pos = 0
    masked: bool | None = None
    frames = 0
    n = len(data)
    while pos < n and frames < _ENOUGH:
        if n - pos < 2:
            return masked if frames else None
        b0, b1 = data[pos], data[pos + 1]
        opcode = b0 & 0x0F
        if b0 & 0x30 or opcode not in _OPCODES or (opcode == 0 and not frames):
            return None
        this_masked = bool(b1 & 0x80)
        if masked is not None and this_masked != masked:
            return None
        masked = this_masked
        length = b1 & 0x7F
        head = 2
        if opcode >= 8 and (not b0 & 0x80 or length > 125 or b0 & 0x40):
            return None
        if length == 126:
            if n - pos < 4:
                return masked if frames else None
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            head = 4
            if length < 126:
                return None
        elif length == 127:
            if n - pos < 10:
                return masked if frames else None
            length = int.from_bytes(data[pos + 2 : pos + 10], "big")
            head = 10
            if length < 0x10000 or length >> 63:
                return None
        head += 4 if masked else 0
        frames += 1
        pos += head + length
    return masked
