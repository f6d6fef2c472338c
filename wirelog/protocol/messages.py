"""The message layer (RFC 6455 §5.4-§5.5, §8.1; RFC 7692): frames in,
messages out.

:class:`MessageAssembler` joins one direction's frames: fragment
reassembly, permessage-deflate (:mod:`wirelog.protocol.deflate`), strict
UTF-8 and close payloads. Like the frame layer it never raises on bad wire
data: problems become violations on the message.

No message grows past ``limit`` (``--max-message-size``): fragments are kept
up to it and compressed frames inflate as they arrive, never past it; the
message is then cut (``complete`` false) with a ``message_limit`` or
``inflate_limit`` finding, and the next message decodes as usual.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from wirelog.model import (
    CloseCode,
    DeflateParams,
    Direction,
    Frame,
    Message,
    Opcode,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE, Inflater
from wirelog.protocol.frames import KNOWN_OPCODES

V = ViolationKind
_TEXT = int(Opcode.TEXT)
_CLOSE = int(Opcode.CLOSE)
_CONT = int(Opcode.CONT)


def parse_close(payload: bytes) -> tuple[int | None, str | None, list[ViolationKind]]:
    """Split a close payload into code and reason (RFC 6455 §5.5.1, §7.4)."""
    if not payload:
        return None, None, []
    if len(payload) == 1:
        return None, None, [V.INVALID_CLOSE_PAYLOAD]
    code = (payload[0] << 8) | payload[1]
    problems: list[ViolationKind] = []
    if not CloseCode.is_valid_on_wire(code):
        problems.append(V.INVALID_CLOSE_CODE)
    raw = payload[2:]
    try:
        reason = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(V.INVALID_UTF8)
        reason = raw.decode("utf-8", "replace")
    return code, reason, problems


_utf8_decoder = codecs.getincrementaldecoder("utf-8")


def check_utf8(data: bytes, complete: bool, violations: list[ViolationKind]) -> str:
    """Strict UTF-8 (RFC 6455 §8.1). A payload cut short may end inside a
    code point without that being the peer's fault."""
    try:
        text: str = _utf8_decoder().decode(data, final=complete)
    except UnicodeDecodeError:
        violations.append(V.INVALID_UTF8)
        return data.decode("utf-8", "replace")
    return text


@dataclass(slots=True)
class _Pending:
    opcode: int
    first: Frame
    parts: list[bytes]
    """The payload kept so far (uncompressed messages; at most the limit)."""
    size: int
    """Octets in ``parts``."""
    frames: int
    wire_length: int
    complete: bool
    compressed: bool
    violations: list[ViolationKind]
    over: bool = False
    """The payload went past the limit: later octets are not kept."""


class MessageAssembler:
    """Join one direction's frames into messages (RFC 6455 §5.4, RFC 7692).

    Control frames become one-frame messages at once, even in the middle of
    a fragmented data message, as the RFC allows. Inflation follows the
    parameters agreed for this sender: a fresh window per message when that
    sender may not take over its context (RFC 7692 §7.1.1).
    """

    def __init__(
        self,
        direction: Direction,
        sender: Role,
        deflate: DeflateParams | None = None,
        *,
        limit: int = DEFAULT_MAX_MESSAGE_SIZE,
        keep_data: bool = True,
    ) -> None:
        self.direction = direction
        self.sender = sender
        self.limit = max(0, limit)
        """Octets one message may assemble or inflate to (``--max-message-size``)."""
        self.keep_data = keep_data
        self.count = 0
        self._pending: _Pending | None = None
        self._inflater: Inflater | None = None
        self.set_deflate(deflate)

    def set_deflate(self, deflate: DeflateParams | None) -> None:
        """Inflate with these parameters from the next message on."""
        self._inflater = Inflater(deflate, self.sender, self.limit) if deflate is not None else None

    def add(self, frame: Frame) -> list[Message | Violation]:
        out: list[Message | Violation] = []
        op = frame.opcode
        if op >= 8 or op not in KNOWN_OPCODES:
            # Control frames and reserved opcodes stand alone: a reserved data
            # opcode has no defined fragmentation, so it cannot join anything.
            out.append(self._control(frame))
            return out
        pending = self._pending
        if (
            pending is None
            and frame.fin
            and op != _CONT
            and not frame.rsv
            and frame.complete
            and frame.length <= self.limit
        ):
            # The common case (one whole, uncompressed frame) skips the
            # fragment bookkeeping: this is most of the work per message.
            out.append(self._whole(frame))
            return out
        if op == _CONT:
            if pending is None:
                out.append(self._single(frame, [V.CONTINUATION_WITHOUT_START]))
                return out
            self._take(pending, frame.payload)
            pending.frames += 1
            pending.wire_length += frame.length
            pending.complete = pending.complete and frame.complete
            if frame.rsv & 4:
                # RFC 7692 §6.1: RSV1 is set on the first frame only.
                pending.violations.append(V.RSV_WITHOUT_EXTENSION)
            if frame.fin:
                out.append(self._emit(pending))
                self._pending = None
            return out
        if pending is not None:
            pending.violations.append(V.INCOMPLETE_MESSAGE)
            out.append(self._emit(pending))
            self._pending = None
            new = self._start(frame)
            new.violations.append(V.DATA_FRAME_IN_FRAGMENTED_MESSAGE)
        else:
            new = self._start(frame)
        if frame.fin:
            out.append(self._emit(new))
        else:
            self._pending = new
        return out

    def eof(self) -> list[Message | Violation]:
        """The stream ended in the middle of a fragmented message."""
        if self._pending is None:
            return []
        p = self._pending
        self._pending = None
        p.violations.append(V.INCOMPLETE_MESSAGE)
        p.complete = False
        return [self._emit(p)]

    # -- internals --------------------------------------------------------

    def _start(self, frame: Frame) -> _Pending:
        compressed = bool(frame.rsv & 4) and self._inflater is not None
        p = _Pending(frame.opcode, frame, [], 0, 1, frame.length, True, compressed, [])
        if compressed:
            assert self._inflater is not None
            self._inflater.start()
        self._take(p, frame.payload)
        p.complete = frame.complete
        return p

    def _take(self, p: _Pending, payload: bytes) -> None:
        """Add a frame's payload to the message, within the limit. A
        compressed one is inflated now, unless an earlier frame lost octets
        (what follows a hole cannot be inflated)."""
        if p.compressed:
            assert self._inflater is not None
            if p.complete:
                self._inflater.feed(payload)
            return
        if p.over:
            return
        room = self.limit - p.size
        if len(payload) > room:
            payload = payload[:room]
            p.over = True
            p.violations.append(V.MESSAGE_LIMIT)
        if payload:
            p.parts.append(payload)
            p.size += len(payload)

    def _single(self, frame: Frame, violations: list[ViolationKind]) -> Message:
        p = self._start(frame)
        p.violations.extend(violations)
        return self._emit(p)

    def _control(self, frame: Frame) -> Message:
        code = reason = None
        problems: list[ViolationKind] = []
        payload = frame.payload
        if frame.opcode == _CLOSE and frame.complete:
            code, reason, problems = parse_close(payload)
        elif frame.opcode == _CLOSE and len(payload) >= 2:
            code = (payload[0] << 8) | payload[1]
        if frame.opcode not in KNOWN_OPCODES:
            problems.append(V.RESERVED_OPCODE)
        complete = frame.complete
        if len(payload) > self.limit:
            # Only a control frame far past its 125 octets comes here.
            payload = payload[: self.limit]
            problems.append(V.MESSAGE_LIMIT)
            complete = False
        msg = Message(
            direction=self.direction,
            sender=self.sender,
            index=self.count,
            opcode=frame.opcode,
            data=payload if self.keep_data else b"",
            length=len(payload) if frame.complete else frame.length,
            frames=1,
            first_frame=frame.index,
            ts_ns=frame.ts_ns,
            compressed=False,
            wire_length=frame.length,
            complete=complete,
            text=None,
            close_code=code,
            close_reason=reason,
            violations=tuple(problems),
        )
        self.count += 1
        return msg

    def _whole(self, frame: Frame) -> Message:
        data = frame.payload
        text = None
        violations: tuple[ViolationKind, ...] = ()
        if frame.opcode == _TEXT:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("utf-8", "replace")
                violations = (V.INVALID_UTF8,)
        keep = self.keep_data
        msg = Message(
            direction=self.direction,
            sender=self.sender,
            index=self.count,
            opcode=frame.opcode,
            data=data if keep else b"",
            length=len(data),
            frames=1,
            first_frame=frame.index,
            ts_ns=frame.ts_ns,
            wire_length=frame.length,
            text=text if keep else None,
            violations=violations,
        )
        self.count += 1
        return msg

    def _emit(self, p: _Pending) -> Message:
        violations = p.violations
        complete = p.complete
        if p.compressed:
            assert self._inflater is not None
            data, ok = self._inflater.finish(complete, violations)
            complete = complete and ok
        else:
            parts = p.parts
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            complete = complete and not p.over
        text = None
        if p.opcode == _TEXT:
            text = check_utf8(data, complete, violations)
        length = len(data) if complete or p.compressed else p.wire_length
        msg = Message(
            direction=self.direction,
            sender=self.sender,
            index=self.count,
            opcode=p.opcode,
            data=data if self.keep_data else b"",
            length=length,
            frames=p.frames,
            first_frame=p.first.index,
            ts_ns=p.first.ts_ns,
            compressed=p.compressed,
            wire_length=p.wire_length,
            complete=complete,
            text=text if self.keep_data else None,
            violations=tuple(dict.fromkeys(violations)),
        )
        self.count += 1
        return msg
