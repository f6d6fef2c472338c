"""permessage-deflate inflation (RFC 7692) for one sender.

The window size and context takeover follow the parameters the handshake
agreed for this sender. When the sender may keep its compression context
across messages, one lost or corrupt message breaks every later one: those
are flagged instead of inflated into garbage.
"""

from __future__ import annotations

import zlib

from wirelog.model import DeflateParams, Role, ViolationKind

V = ViolationKind

#: Inflated messages larger than this are cut (and flagged) so that a
#: deflate bomb in a fuzzed capture cannot exhaust memory.
DEFAULT_INFLATE_LIMIT = 256 * 1024 * 1024

#: RFC 7692 §7.2.2: every compressed message ends with an empty stored block
#: whose last four octets the sender removes.
_TAIL = b"\x00\x00\xff\xff"


class Inflater:
    """Inflate one sender's compressed messages in order."""

    def __init__(
        self, params: DeflateParams, sender: Role, limit: int = DEFAULT_INFLATE_LIMIT
    ) -> None:
        self.params = params
        self.limit = limit
        self._takeover = not params.no_context_takeover(sender)
        # zlib refuses 8-bit raw windows; 9 reads everything 8 wrote.
        self._bits = max(9, params.window_bits(sender))
        self._zlib: zlib._Decompress | None = None
        self.broken = False
        """A lost, cut or corrupt message broke the shared window."""

    def inflate(
        self, raw: bytes, complete: bool, violations: list[ViolationKind]
    ) -> tuple[bytes, bool]:
        """The message's payload, and whether it is whole. Problems are added
        to ``violations``; nothing raises."""
        if self.broken and self._takeover:
            # Later messages cannot be inflated faithfully, and guessing would lie.
            violations.append(V.INFLATE_ERROR)
            return b"", False
        if self._zlib is None or not self._takeover:
            self._zlib = zlib.decompressobj(-self._bits)
        inflater = self._zlib
        try:
            data = inflater.decompress(raw + _TAIL if complete else raw, self.limit)
        except zlib.error:
            violations.append(V.INFLATE_ERROR)
            self.broken = True
            return b"", False
        if inflater.unconsumed_tail:
            violations.append(V.INFLATE_LIMIT)
            self.broken = True
            return data, False
        if not complete:
            self.broken = True
        return data, complete
