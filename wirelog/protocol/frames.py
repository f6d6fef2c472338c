"""The frame layer (RFC 6455 §5.2): one direction's octets in, frames out.

Sans-I/O, as in wsproto: :class:`FrameDecoder` never sees a socket or a
file, so the Autobahn parsers, the pcap reader, the replayer and the tests
all drive the very same code. Unlike an endpoint (python-websockets fails
the connection on the first error), an analyzer must *record* what it saw
and carry on: bad wire data never raises here. It becomes a violation
attached to the frame, or a free-standing :class:`~wirelog.model.Violation`
event (gaps, desynchronisation, truncation).

Every frame takes one path: one header parser (in :meth:`FrameDecoder.feed`),
one set of header rules (:func:`header_violations`), one unmask and one
finish (:meth:`FrameDecoder._frame`), whether it sits inside one chunk or
spans many. Memory is spent on bytes that arrived, never on bytes a length
field promises: a frame that declares 2**63 octets costs nothing until
octets come.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from wirelog.builders import new_frame
from wirelog.model import Direction, Frame, Opcode, Role, Violation, ViolationKind
from wirelog.protocol.masking import unmask
from wirelog.protocol.resync import min_header, whole_frames

V = ViolationKind
KNOWN_OPCODES = frozenset(int(o) for o in Opcode)
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")
_CLOSE = int(Opcode.CLOSE)
#: A header's length (7-, 16- or 64-bit length field, a mask or none) by its second octet.
_HEADER_LENGTH = tuple(
    (2 if b & 0x7F < 126 else 4 if b & 0x7F == 126 else 10) + (4 if b & 0x80 else 0)
    for b in range(256)
)


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    length: int | None = None,
    width: int | None = None,
) -> bytes:
    """Build a frame's wire bytes. Used to rebuild chunks from log claims and
    by tests; ``length`` and ``width`` (7, 16 or 64 bits) let a test forge a
    lying or non-minimal length field."""
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    declared = len(payload) if length is None else length
    if width is None:
        width = 7 if declared <= 125 else 16 if declared <= 0xFFFF else 64
    mbit = 0x80 if mask is not None else 0
    if width == 7:
        head = bytes((b0, mbit | declared))
    elif width == 16:
        head = bytes((b0, mbit | 126)) + _U16.pack(declared)
    else:
        head = bytes((b0, mbit | 127)) + _U64.pack(declared)
    if mask is not None:
        return head + mask + unmask(payload, mask)
    return head + payload


def header_violations(
    b0: int,
    masked: bool,
    plen: int,
    length: int,
    allowed_rsv: int,
    expect_masked: bool,
    closed: bool,
) -> tuple[ViolationKind, ...]:
    """Every rule a frame header can break, for every frame (RFC 6455 §5.1,
    §5.2, §5.5). ``plen`` is the 7-bit length field, ``length`` the decoded
    length; ``closed``: this direction already sent a Close frame.

    A pure function of its arguments: :class:`FrameDecoder` remembers its
    answers by the header's two octets and the few facts a longer length
    field adds (below 126, above 125, at most 16 bits, top bit set).
    """
    found: list[ViolationKind] = []
    if plen == 126:
        if length < 126:
            found.append(V.NON_MINIMAL_LENGTH)
    elif plen == 127:
        if length >> 63:
            found.append(V.LENGTH_MSB_SET)
        if length <= 0xFFFF:
            found.append(V.NON_MINIMAL_LENGTH)
    opcode = b0 & 0x0F
    if opcode not in KNOWN_OPCODES:
        found.append(V.RESERVED_OPCODE)
    if (b0 >> 4) & 7 & ~allowed_rsv:
        found.append(V.RSV_WITHOUT_EXTENSION)
    if opcode >= 8:
        if length > 125:
            found.append(V.CONTROL_FRAME_TOO_LONG)
        if b0 < 0x80:
            found.append(V.CONTROL_FRAME_FRAGMENTED)
    if masked != expect_masked:
        found.append(V.UNMASKED_CLIENT_FRAME if not masked else V.MASKED_SERVER_FRAME)
    if closed:
        found.append(V.FRAME_AFTER_CLOSE)
    return tuple(found)


@dataclass(slots=True)
class _Partial:
    """A frame whose header is known and whose payload is still arriving."""

    b0: int
    """The header's first octet: FIN, RSV and opcode."""
    mask: bytes | None
    """The masking key, None for an unmasked frame."""
    length: int
    header_length: int
    offset: int
    chunk: int | None
    ts: int | None
    violations: tuple[ViolationKind, ...]
    remaining: int
    parts: list[bytes] = field(default_factory=list)
    holed: bool = False
    """Octets went missing inside the payload: later bytes are not kept,
    because the payload is only ever a prefix of the real one."""


class FrameDecoder:
    """Decode one direction's octet stream into frames (RFC 6455 §5.2).

    Feed it bytes in any split with :meth:`feed`; report missing octets with
    :meth:`gap`; call :meth:`eof` when the stream ends. Each returns the events
    it produced: :class:`Frame` objects and stand-alone :class:`Violation`
    objects (gaps, desynchronisation, truncation).
    """

    def __init__(
        self, direction: Direction, sender: Role, *, offset: int = 0, allowed_rsv: int = 0
    ) -> None:
        self.direction = direction
        self.sender = sender
        self._allowed_rsv = allowed_rsv
        self.offset = offset
        """Stream offset of the next octet to arrive."""
        self.count = 0
        self.lost = False
        """Octets of a header went missing: frame boundaries are unknown."""
        self.boundaries = False  # each feed is a TLS record: resync at whole frames (resync.py)
        self._head = b""
        self._head_chunk: int | None = None
        self._head_ts: int | None = None
        self._cur: _Partial | None = None
        self._closed = False
        self._expect_masked = sender is Role.CLIENT
        self._rules: dict[int, tuple[ViolationKind, ...]] = {}
        """:func:`header_violations` by a key of the header's two octets and
        what its longer length field tells them (everything else they read is
        fixed until a Close frame or a change of :attr:`allowed_rsv`, which
        start a new dict)."""

    @property
    def allowed_rsv(self) -> int:
        """RSV bits that negotiated extensions give meaning to (RFC 6455 §5.2)."""
        return self._allowed_rsv

    @allowed_rsv.setter
    def allowed_rsv(self, bits: int) -> None:
        self._allowed_rsv = bits
        self._rules = {}

    # -- public API -------------------------------------------------------

    def feed(
        self,
        data: bytes | bytearray | memoryview,
        ts: int | None = None,
        chunk: int | None = None,
    ) -> list[Frame | Violation]:
        """``data`` arrived (``ts``: when, integer nanoseconds since the epoch;
        ``chunk``: the recording index of the chunk it came in). Returns the
        frames it completed, and findings."""
        events: list[Frame | Violation] = []
        n = len(data)
        if self.lost:
            if not (
                self.boundaries and n and whole_frames(data, self._expect_masked, self._allowed_rsv)
            ):
                self.offset += n
                return events
            self.resync()
        if not n:
            return events
        # Payloads and masks are slices of this: bytes, never views.
        raw = data if type(data) is bytes else bytes(data)
        base = self.offset
        head = self._head
        earlier = 0
        if head:
            # A header split across feeds: parse it whole, from its first octet.
            earlier = len(head)
            raw = head + raw
            n += earlier
            base -= earlier
            self._head = b""
        pos = 0
        cur = self._cur
        while pos < n:
            if cur is not None:
                # The rest of a payload that began in an earlier feed.
                take = cur.remaining if cur.remaining < n - pos else n - pos
                if not cur.holed:
                    cur.parts.append(raw[pos : pos + take])
                cur.remaining -= take
                pos += take
                if cur.remaining:
                    break
                events.append(self._finish(cur, ts))
                cur = None
                continue
            # -- the header parser: every frame's header goes through here --
            avail = n - pos
            if avail < 2:
                self._keep_head(raw[pos:], pos < earlier, chunk, ts)
                break
            b0 = raw[pos]
            b1 = raw[pos + 1]
            hlen = _HEADER_LENGTH[b1]
            if avail < hlen:
                self._keep_head(raw[pos:], pos < earlier, chunk, ts)
                break
            plen = b1 & 0x7F
            # The key holds every fact the rules read (see :func:`header_violations`).
            if plen < 126:
                length = plen
                key = b0 << 8 | b1
            elif plen == 126:
                length = (raw[pos + 2] << 8) | raw[pos + 3]
                key = b0 << 8 | b1 | (length < 126) << 16
            else:
                length = _U64.unpack_from(raw, pos + 2)[0]
                key = b0 << 8 | b1 | (length >> 63) << 16 | (length <= 0xFFFF) << 17
                key |= (length > 125) << 18
            try:
                violations = self._rules[key]
            except KeyError:
                violations = self._rules[key] = header_violations(
                    b0, b1 >= 0x80, plen, length, self._allowed_rsv, self._expect_masked,
                    self._closed,
                )  # fmt: skip
            body = pos + hlen
            mask = raw[body - 4 : body] if b1 >= 0x80 else None
            end = body + length
            if pos >= earlier:
                first_chunk = chunk
                first_ts = last_ts = ts
            else:
                # The header began in an earlier feed, which holds the frame's
                # first octet (and gives it a time if this feed has none).
                first_chunk = self._head_chunk
                first_ts = self._head_ts
                last_ts = ts if ts is not None else first_ts
            if end <= n:
                events.append(self._frame(
                    b0, mask, length, raw[body:end], hlen, base + pos, last_ts, first_chunk,
                    violations,
                ))  # fmt: skip
                pos = end
            else:
                cur = _Partial(
                    b0, mask, length, hlen, base + pos, first_chunk, first_ts, violations,
                    end - n, [raw[body:]],
                )  # fmt: skip
                pos = n
        self._cur = cur
        self.offset = base + n
        return events

    def gap(
        self, missing: int, ts: int | None = None, chunk: int | None = None
    ) -> list[Frame | Violation]:
        """``missing`` octets were on the wire but are not in the recording.

        Inside a payload whose length is known the decoder stays in step (the
        frame is marked incomplete); anywhere else frame boundaries are lost
        and that is reported once.
        """
        events: list[Frame | Violation] = []
        if missing <= 0:
            return events
        start = self.offset
        self.offset += missing
        if self.lost:
            return events
        cur = self._cur
        if cur is not None:
            if not cur.holed:
                cur.holed = True
                cur.violations += (V.MISSING_OCTETS,)
            within = missing <= cur.remaining
            cur.remaining = cur.remaining - missing if within else 0
            if cur.remaining == 0:
                events.append(self._finish(cur, ts))
                self._cur = None
            if within:
                return events
        self.lost = True
        self._head = b""
        events.append(
            Violation(
                V.DESYNCHRONIZED,
                f"{missing} octets missing at offset {start}; later frame boundaries are unknown",
                self.direction,
                self.count,
                start,
                chunk,
            )
        )
        return events

    def resync(self) -> None:
        """Declare that the next octet fed starts a frame header (a caller that
        knows chunk boundaries coincide with frames, e.g. from a log claim)."""
        self.lost = False
        self._head = b""
        self._cur = None

    def eof(self) -> list[Frame | Violation]:
        """The stream ended: a frame still open was truncated."""
        events: list[Frame | Violation] = []
        cur = self._cur
        if cur is not None:
            cur.violations += (V.TRUNCATED_FRAME,)
            cur.remaining = 0
            events.append(self._finish(cur, cur.ts))
            self._cur = None
        elif self._head and not self.lost:
            events.append(
                Violation(
                    V.TRUNCATED_FRAME,
                    f"stream ends inside a frame header ({len(self._head)} of at least "
                    f"{min_header(self._head)} octets)",
                    self.direction,
                    self.count,
                    self.offset - len(self._head),
                    self._head_chunk,
                )
            )
            self._head = b""
        return events

    @property
    def pending(self) -> bool:
        """True while a frame has started but not finished."""
        return self._cur is not None or bool(self._head)

    # -- internals --------------------------------------------------------

    def _keep_head(
        self, octets: bytes, began_earlier: bool, chunk: int | None, ts: int | None
    ) -> None:
        """A header is not all here yet: keep its octets (at most 13) and,
        for its first octet, the chunk and time."""
        if not began_earlier:
            self._head_chunk = chunk
            self._head_ts = ts
        self._head = octets

    def _finish(self, cur: _Partial, ts: int | None) -> Frame:
        """A frame that spanned feeds (or was cut short) is done."""
        parts = cur.parts
        payload = parts[0] if len(parts) == 1 else b"".join(parts)
        ts = ts if ts is not None else cur.ts
        return self._frame(
            cur.b0,
            cur.mask,
            cur.length,
            payload,
            cur.header_length,
            cur.offset,
            ts,
            cur.chunk,
            cur.violations,
        )

    def _frame(
        self,
        b0: int,
        mask: bytes | None,
        length: int,
        payload: bytes,
        header_length: int,
        offset: int,
        ts: int | None,
        chunk: int | None,
        violations: tuple[ViolationKind, ...],
    ) -> Frame:
        """Every frame ends here: unmasked, counted, made."""
        if mask is not None:
            payload = unmask(payload, mask)
        opcode = b0 & 0x0F
        if opcode == _CLOSE and not self._closed:
            self._closed = True
            self._rules = {}
        index = self.count
        self.count = index + 1
        return new_frame(
            self.direction,
            self.sender,
            index,
            b0 >= 0x80,
            (b0 >> 4) & 7,
            opcode,
            mask is not None,
            mask,
            length,
            payload,
            header_length,
            offset,
            ts,
            chunk,
            violations,
        )


def decode_frames(
    data: bytes | bytearray | memoryview | Iterable[bytes],
    direction: Direction,
    sender: Role,
    allowed_rsv: int = 0,
) -> list[Frame | Violation]:
    """Decode a whole stream (or its pieces, in order) at once: a
    convenience for tests and notebooks."""
    dec = FrameDecoder(direction, sender, allowed_rsv=allowed_rsv)
    out: list[Frame | Violation] = []
    for piece in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
        out.extend(dec.feed(piece))
    out.extend(dec.eof())
    return out
