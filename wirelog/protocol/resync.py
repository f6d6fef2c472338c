"""Frame header facts outside the header parser: where a header ends, and
finding frame boundaries again after a capture gap lost them.

After octets outside a known payload go missing, the frame decoder cannot
know where the next frame starts (:meth:`FrameDecoder.gap
<wirelog.protocol.frames.FrameDecoder.gap>`). A decrypted TLS stream gives
one more fact: each chunk is one TLS record's plaintext, and a sender
(websockets, browsers, aiohttp) writes each frame in its own write, so a
small frame starts a record and ends with it. A chunk whose octets are a
chain of well-formed frame headers and payloads that ends exactly at the
chunk's end is taken as the first frame boundary after the gap (the
decoder is told so with ``FrameDecoder.boundaries``). The check is strict
so that the payload of a frame cut by the gap is very unlikely to pass:
known opcodes, only negotiated RSV bits, the sender's masking, control
frames final and short, minimal lengths, and the exact end.
"""

from __future__ import annotations

_CONTROL = frozenset((8, 9, 10))
_DATA = frozenset((0, 1, 2))


def min_header(head: bytes) -> int:
    """The shortest frame header that starts with ``head``."""
    if len(head) < 2:
        return 2
    plen = head[1] & 0x7F
    return 2 + (2 if plen == 126 else 8 if plen == 127 else 0) + (4 if head[1] & 0x80 else 0)


def whole_frames(data: bytes | bytearray | memoryview, masked: bool, allowed_rsv: int) -> bool:
    """Is ``data`` one or more whole, well-formed frames and nothing else?"""
    n = len(data)
    at = 0
    while at < n:
        if n - at < 2:
            return False
        b0, b1 = data[at], data[at + 1]
        opcode = b0 & 0x0F
        if (b0 >> 4) & 7 & ~allowed_rsv or bool(b1 & 0x80) != masked:
            return False
        length = b1 & 0x7F
        head = 2
        if opcode in _CONTROL:
            if not b0 & 0x80 or length > 125:
                return False
        elif opcode not in _DATA:
            return False
        if length == 126:
            head = 4
            length = int.from_bytes(data[at + 2 : at + 4], "big")
            if n - at < 4 or length < 126:
                return False
        elif length == 127:
            head = 10
            length = int.from_bytes(data[at + 2 : at + 10], "big")
            if n - at < 10 or length <= 0xFFFF:
                return False
        at += head + (4 if masked else 0) + length
    return 0 < at == n
