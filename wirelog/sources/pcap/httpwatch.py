"""Find where a WebSocket begins inside an HTTP/1.1 connection.

Clients reuse keep-alive connections: aiohttp, for one, sends a plain GET
and then the Upgrade request on the same TCP connection. :class:`HttpWatch`
walks one direction's HTTP/1.1 messages (heads, and bodies delimited by
Content-Length or chunked encoding, RFC 9112 §6) without keeping them, and
says where the Upgrade request (client side) or the response to it (server
side) starts; from there on the octets are the WebSocket connection's.
Only the octets of a head still being read are held.
"""

from __future__ import annotations

from wirelog.protocol.handshake import MAX_HEAD, head_length, split_head
from wirelog.sources.pcap.tcp import DATA, Piece


class HttpWatch:
    """One direction of an HTTP/1.1 connection, until its WebSocket part."""

    __slots__ = (
        "_chunked_tail",
        "_head",
        "_held",
        "_hold_skip",
        "_skip",
        "count",
        "failed",
        "found",
        "response",
        "target",
        "why",
    )

    def __init__(self, response: bool) -> None:
        self.response = response
        self.count = 0
        """Complete messages passed (final responses only on the server side)."""
        self.target: int | None = None
        """Server side: the number of the response that answers the Upgrade."""
        self.found = False
        self.failed = False
        self.why = ""
        self._head = bytearray()
        self._held: list[Piece] = []
        self._hold_skip = 0
        self._skip = 0
        self._chunked_tail: bytes | None = None

    def feed(self, piece: Piece) -> list[Piece] | None:
        """Walk one piece; once the WebSocket part starts, return the pieces
        from its first octet (this one included) and stop."""
        if self.found or self.failed:
            return None
        kind, data, length, _, _ = piece
        if kind != DATA or len(data) != length:
            self._fail("octets missing before the Upgrade")
            return None
        if self._head:
            self._held.append(piece)
        n = len(data)
        i = 0
        while i < n:
            if self._skip:
                take = min(self._skip, n - i)
                self._skip -= take
                i += take
                continue
            if self._chunked_tail is not None:
                window = self._chunked_tail + data[i:]
                j = window.find(b"\r\n0\r\n\r\n")
                if j < 0:
                    self._chunked_tail = window[-6:]
                    i = n
                    continue
                i += j + 7 - len(self._chunked_tail)
                self._chunked_tail = None
                continue
            if not self._head:
                self._held = [piece]
                self._hold_skip = i
            before = len(self._head)
            self._head += data[i:]
            end = head_length(bytes(self._head))
            if end is None:
                if len(self._head) > MAX_HEAD:
                    self._fail("no end of HTTP head")
                return None
            i += end - before
            head = bytes(self._head[:end])
            self._head = bytearray()
            released = self._message(head)
            if released is not None:
                return released
            if self.failed:
                return None
        return None

    def _release(self) -> list[Piece]:
        self.found = True
        kind, data, length, ts, number = self._held[0]
        k = self._hold_skip
        first: Piece = (kind, data[k:], length - k, ts, number)
        out = [first, *self._held[1:]]
        self._held = []
        return out

    def _message(self, head: bytes) -> list[Piece] | None:
        start, headers = split_head(head)
        values: dict[str, str] = {}
        for k, v in headers:
            key = k.lower()
            values[key] = values[key] + "," + v if key in values else v
        if self.response:
            parts = start.split(None, 2)
            try:
                status = int(parts[1])
            except (IndexError, ValueError):
                self._fail("not an HTTP response")
                return None
            final = status >= 200 or status == 101
            if final and self.target is not None and self.count == self.target:
                return self._release()
            if final:
                self.count += 1
            if 100 <= status < 200 or status in (204, 304):
                return None
        else:
            if "websocket" in values.get("upgrade", "").lower():
                return self._release()
            self.count += 1
        if "chunked" in values.get("transfer-encoding", "").lower():
            self._chunked_tail = b"\r\n"
        elif "content-length" in values:
            # 1*DIGIT (RFC 9112 §6.2): int() would take "-40", "+4" or "4_0",
            # and a negative skip walked the index backwards for ever; more
            # than 19 digits is no real length (and past 4,300 int() raises).
            size = values["content-length"].split(",")[0].strip()
            if size.isascii() and size.isdigit() and len(size) <= 19:
                self._skip = int(size)
            else:
                self._fail("bad Content-Length")
        elif self.response:
            self._fail("response body delimited by the connection close")
        return None

    def _fail(self, why: str) -> None:
        self.failed = True
        self.why = why
        self._held = []
        self._head = bytearray()
