"""permessage-deflate inflation (RFC 7692) for one sender.

The window size and context takeover follow the parameters the handshake
agreed for this sender. When the sender may keep its compression context
across messages, one lost or corrupt message breaks every later one: those
are flagged instead of inflated into garbage.

A message inflates frame by frame as its frames arrive (:meth:`Inflater.start`,
:meth:`~Inflater.feed`, :meth:`~Inflater.finish`), never to more than the
limit (``--max-message-size``): zlib is asked for at most what is left, so a
bomb (a gigabyte of zeros in a megabyte) costs the limit, not its size. Past
the limit the message is cut and flagged; when the window is shared the rest
is still inflated, a block at a time and thrown away, so that the next
message inflates against the right window, up to :data:`DRAIN_BUDGET`
(CPU time is bounded too).
"""

from __future__ import annotations

import zlib

from wirelog.model import DeflateParams, Role, ViolationKind

V = ViolationKind

DEFAULT_MAX_MESSAGE_SIZE = 32 * 1024 * 1024
"""What one message may inflate or assemble to (``--max-message-size``):
twice the largest message Autobahn Testsuite sends (16 MiB, cases 9.1.6 and
9.2.6), far below what would strain memory when every message of an input
is kept."""

_DRAIN = 1024 * 1024
"""Octets inflated (and dropped) at a time past the limit."""
DRAIN_BUDGET = 64 * 1024 * 1024
"""Octets a shared window is drained past the limit, at least (8 times the
limit when that is more): about 0.2 s of CPU at the default. A message that
inflates further is given up: its window is lost, and the sender's later
messages are flagged ``inflate_error`` rather than inflated for seconds
per gigabyte."""

#: RFC 7692 §7.2.2: every compressed message ends with an empty stored block
#: whose last four octets the sender removes.
_TAIL = b"\x00\x00\xff\xff"


class Inflater:
    """Inflate one sender's compressed messages in order."""

    def __init__(
        self, params: DeflateParams, sender: Role, limit: int = DEFAULT_MAX_MESSAGE_SIZE
    ) -> None:
        self.params = params
        self.limit = max(0, limit)
        self._takeover = not params.no_context_takeover(sender)
        # zlib refuses 8-bit raw windows; 9 reads everything 8 wrote.
        self._bits = max(9, params.window_bits(sender))
        self._zlib: zlib._Decompress | None = None
        self.broken = False
        """A lost, cut or corrupt message broke the shared window."""
        self._out: list[bytes] = []
        self._size = 0
        """Octets of this message kept in :attr:`_out`."""
        self.total = 0
        """Octets this message inflated to so far, the dropped ones included
        (known past the limit only while the window is shared)."""
        self._over = False
        self._failed = False
        self._abandoned = False
        """Past the drain budget: the shared window is given up."""

    def start(self) -> None:
        """A compressed message begins."""
        self._out = []
        self._size = self.total = 0
        self._over = self._abandoned = False
        self._failed = self.broken and self._takeover
        if self._zlib is None or not self._takeover:
            self._zlib = zlib.decompressobj(-self._bits)

    def feed(self, raw: bytes) -> None:
        """The next compressed octets of the message (a frame's payload)."""
        if self._failed or self._abandoned or (self._over and not self._takeover) or not raw:
            return
        assert self._zlib is not None
        inflater = self._zlib
        try:
            if not self._over:
                room = self.limit - self._size
                if room:  # (a max_length of 0 would mean no limit at all)
                    data = inflater.decompress(raw, room)
                    self.total += len(data)
                    self._keep(data)
                    if len(data) < room:
                        return  # all of ``raw`` inflated, nothing held back
                    raw = inflater.unconsumed_tail
                # At the limit: one octet more tells a message that ends
                # there from one that goes on (without copying the rest).
                if not inflater.decompress(raw, 1):
                    return
                self.total += 1
                self._over = True
                if not self._takeover:
                    return
                raw = inflater.unconsumed_tail
            budget = self.limit + max(DRAIN_BUDGET, 8 * self.limit)
            while True:
                data = inflater.decompress(raw, _DRAIN)
                self.total += len(data)
                raw = inflater.unconsumed_tail
                if not raw and len(data) < _DRAIN:
                    return
                if self.total > budget:
                    self._abandoned = True
                    return
        except zlib.error:
            self._failed = True

    def finish(self, complete: bool, violations: list[ViolationKind]) -> tuple[bytes, bool]:
        """The message's payload (at most :attr:`limit` octets) and whether it
        is whole. Problems are added to ``violations``; nothing raises."""
        if complete:
            self.feed(_TAIL)
        out, self._out = self._out, []
        data = out[0] if len(out) == 1 else b"".join(out)
        if self._failed:
            violations.append(V.INFLATE_ERROR)
            self.broken = True
            return b"", False
        if self._over:
            # The window is still in step (drained) or not shared: later
            # messages inflate as usual, unless the drain was given up.
            violations.append(V.INFLATE_LIMIT)
            self.broken = self._abandoned
            return data, False
        if not complete:
            self.broken = True
        return data, complete

    def inflate(
        self, raw: bytes, complete: bool, violations: list[ViolationKind]
    ) -> tuple[bytes, bool]:
        """One message's payload in one piece: :meth:`start`, :meth:`feed`,
        :meth:`finish`."""
        self.start()
        self.feed(raw)
        return self.finish(complete, violations)

    @property
    def over(self) -> bool:
        """The message being inflated went past :attr:`limit`."""
        return self._over

    def _keep(self, data: bytes) -> None:
        if data:
            self._out.append(data)
            self._size += len(data)
