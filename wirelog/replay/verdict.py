"""Did two recordings behave the same? (a replay and its original, one
Autobahn case on two implementations, two pcap connections).

Both connections are decoded by the one decoder; then, per role (client,
server), messages and frames are compared on what the protocol means
(opcode, FIN, RSV, payload, close code) and not on how it travelled (masks,
chunking, TCP segments, header octets such as ``Date:``). Where a recording
kept only a payload prefix (Autobahn logs 64 octets, spec §1.4), lengths must
agree and payloads are compared as far as both go.

The closing behaviour is compared as Autobahn describes it (spec §3.7): who
sent the first close frame, each side's close code, whether the closing
handshake completed, and who dropped TCP (and whether by reset), each side
derived by :func:`wirelog.summary.closing_of`, the rule the report and the
replay's recording use too.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wirelog.model import Frame, Message, Opcode, Role, ViolationKind
from wirelog.protocol.connection import DecodedConnection
from wirelog.summary import Closing, closing_of

__all__ = ["Closing", "Difference", "Verdict", "closing_of", "compare", "events_of"]

V_TRUNCATED = ViolationKind.TRUNCATED_FRAME

#: Compare at most this much payload through the sequence matcher; longer
#: complete payloads are then compared in full pair by pair.
PREFIX = 64


@dataclass(slots=True)
class Difference:
    topic: str
    """``handshake``, ``client messages``, ``server frames``, ``closing``..."""
    lines: list[str]


@dataclass(slots=True)
class Verdict:
    a: str
    b: str
    differences: list[Difference] = field(default_factory=list)
    a_closing: Closing | None = None
    b_closing: Closing | None = None
    a_events: list[tuple[Any, ...]] = field(default_factory=list)
    b_events: list[tuple[Any, ...]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    """Target misbehaviour in ``b`` the recording ``a`` did not show."""
    notes: list[str] = field(default_factory=list)
    new_violations: dict[Role, list[str]] = field(default_factory=dict)
    """Violation kinds per sender that ``b`` shows and ``a`` does not."""

    @property
    def equivalent(self) -> bool:
        return not self.differences and not self.faults

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "equivalent": self.equivalent,
            "faults": self.faults,
            "notes": self.notes,
            "differences": [{"topic": d.topic, "lines": d.lines} for d in self.differences],
            "closing": {
                "a": dict(self.a_closing.rows()) if self.a_closing else None,
                "b": dict(self.b_closing.rows()) if self.b_closing else None,
            },
            "events": {"a": self.a_events, "b": self.b_events},
        }


_RESET = " (reset)"
"""How a closing row marks that the side dropping TCP reset it."""


def events_of(dc: DecodedConnection, role: Role) -> list[tuple[Any, ...]]:
    """What ``role`` received, as Autobahn lists it (spec §1.6): messages and
    pongs from the other side."""
    out: list[tuple[Any, ...]] = []
    for m in dc.messages:
        if m.sender is role:
            continue
        if m.opcode in (Opcode.TEXT, Opcode.BINARY):
            out.append(("message", _show(m.data, m.length), m.opcode == Opcode.BINARY))
        elif m.opcode == Opcode.PONG:
            out.append(("pong", _show(m.data, m.length)))
    return out


def _show(data: bytes, length: int | None = None, limit: int = 40) -> str:
    """Text when it is text, else ``0x`` hex, cut like Autobahn's logs."""
    cut = data[:limit]
    try:
        s = cut.decode("utf-8")
        printable = s.isprintable()
    except UnicodeDecodeError:
        printable = False
    s = s if printable else "0x" + cut.hex()
    total = len(data) if length is None else length
    return s + (" ..." if total > limit else "")


def _frame_key(f: Frame, k: int) -> tuple[Any, ...]:
    if f.opcode == Opcode.CLOSE and len(f.payload) >= 2:
        return (f.opcode, f.fin, f.rsv, f.payload[:2])
    if f.rsv & 4 and f.opcode < 8:
        # A compressed frame's octets depend on the compressor's state and
        # settings, not on behaviour; its message is compared inflated.
        return (f.opcode, f.fin, f.rsv)
    return (f.opcode, f.fin, f.rsv, f.length, f.payload[:k])


def _message_key(m: Message, k: int) -> tuple[Any, ...]:
    if m.opcode == Opcode.CLOSE and m.close_code is not None:
        # A close reason is free text (RFC 6455 §7.1.6): a note, not a difference.
        return (m.opcode, m.close_code)
    return (m.opcode, m.length, m.data[:k], m.close_code)


def _reasons(ma: list[Message], mb: list[Message], role: Role, v: Verdict) -> None:
    """A note when the first close frames agree on the code, not the reason."""
    ca = next((m for m in ma if m.opcode == Opcode.CLOSE), None)
    cb = next((m for m in mb if m.opcode == Opcode.CLOSE), None)
    if ca is None or cb is None or ca.close_code != cb.close_code:
        return
    if (ca.close_reason or "") != (cb.close_reason or ""):
        v.notes.append(
            f"{role.value} close reason {ca.close_reason or ''!r} -> {cb.close_reason or ''!r}"
        )


def _known(x: Any) -> int:
    """Payload octets a recording kept of a frame or message that it cut."""
    data: bytes = x.payload if isinstance(x, Frame) else x.data
    return PREFIX if x.complete else len(data)


def _describe_frame(f: Frame) -> str:
    return (
        f"frame {f.index}: {f.opcode_name} fin={int(f.fin)} rsv={f.rsv} len={f.length} "
        f"{_show(f.payload, f.length)!r}"
    )


def _describe_message(m: Message) -> str:
    extra = f" code={m.close_code}" if m.close_code is not None else ""
    body = m.data[2:] if m.opcode == Opcode.CLOSE else m.data
    return f"message {m.index}: {m.opcode_name} len={m.length}{extra} {_show(body)!r}"


def _seq_diff(a: Sequence[Any], b: Sequence[Any], key: Any, describe: Any, full: Any) -> list[str]:
    # Match on as much payload as every cut item kept; pairs are then
    # compared as far as both go.
    k = min([PREFIX, *(_known(x) for x in (*a, *b))])
    ka = [key(x, k) for x in a]
    kb = [key(x, k) for x in b]
    lines: list[str] = []
    sm = difflib.SequenceMatcher(a=ka, b=kb, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                why = full(x, y)
                if why:
                    lines.append(f"~ {describe(x)}: {why}")
            continue
        lines.extend(f"- {describe(x)}" for x in a[i1:i2])
        lines.extend(f"+ {describe(y)}" for y in b[j1:j2])
    return lines


def _full_payload(x: Any, y: Any) -> str | None:
    if isinstance(x, Frame) and x.rsv & 4 and x.opcode < 8:
        return None
    if x.opcode == Opcode.CLOSE:  # the code is in the key; the reason is a note
        return None
    pa: bytes = x.payload if isinstance(x, Frame) else x.data
    pb: bytes = y.payload if isinstance(y, Frame) else y.data
    if len(pa) == len(pb) and pa != pb:
        at = next(i for i, (p, q) in enumerate(zip(pa, pb, strict=True)) if p != q)
        return f"payload differs from octet {at}"
    n = min(len(pa), len(pb))
    if pa[:n] != pb[:n]:
        at = next(i for i, (p, q) in enumerate(zip(pa[:n], pb[:n], strict=True)) if p != q)
        return f"payload differs from octet {at}"
    return None


def _whole(dc: DecodedConnection, role: Role) -> tuple[list[Frame], list[Message]]:
    """``role``'s frames and messages in the decoder's emission order (the
    same whichever path, octets or log claims, built the lists), without
    frames cut short by the end of the connection.

    A frame the connection ended inside is an accident of when TCP went
    down (an Autobahn log even claims the whole frame from its TF entry
    while only a few octets left); who dropped TCP is compared on its own.
    """
    cut = {f.index for f in dc.frames if f.sender is role and V_TRUNCATED in f.violations}
    frames = sorted(
        (f for f in dc.frames if f.sender is role and f.index not in cut), key=lambda f: f.index
    )
    messages = sorted(
        (
            m
            for m in dc.messages
            if m.sender is role
            and not any(i in cut for i in range(m.first_frame, m.first_frame + m.frames))
        ),
        key=lambda m: m.index,
    )
    return frames, messages


def _violations(frames: list[Frame], messages: list[Message]) -> set[str]:
    out: set[str] = set()
    for f in frames:
        out.update(v.value for v in f.violations if not v.is_finding)
    for m in messages:
        out.update(v.value for v in m.violations if not v.is_finding)
    return out


def compare(
    a: DecodedConnection,
    b: DecodedConnection,
    *,
    roles: Sequence[Role] = (Role.CLIENT, Role.SERVER),
    a_label: str | None = None,
    b_label: str | None = None,
) -> Verdict:
    """Compare ``b`` with ``a`` (the reference)."""
    v = Verdict(a_label or a.connection.label, b_label or b.connection.label)
    _handshake(a, b, v)
    for role in roles:
        fa, ma = _whole(a, role)
        fb, mb = _whole(b, role)
        mlines = _seq_diff(ma, mb, _message_key, _describe_message, _full_payload)
        if mlines:
            v.differences.append(Difference(f"{role.value} messages", mlines))
        lines = _seq_diff(fa, fb, _frame_key, _describe_frame, _full_payload)
        if lines and not mlines:
            # The same messages in other frames (another fragmentation, a
            # ping of its own): how it travelled, not what it said.
            v.notes.append(f"{role.value} frames differ, messages agree: {lines[0]}")
        elif lines:
            v.differences.append(Difference(f"{role.value} frames", lines))
        _reasons(ma, mb, role, v)
        va, vb = _violations(fa, ma), _violations(fb, mb)
        if va != vb:
            lines = [f"- {k}" for k in sorted(va - vb)] + [f"+ {k}" for k in sorted(vb - va)]
            v.differences.append(Difference(f"{role.value} protocol violations", lines))
            if vb - va:
                v.new_violations[role] = sorted(vb - va)
    v.a_closing, v.b_closing = closing_of(a), closing_of(b)
    # A reference that does not know who dropped TCP (a capture that stopped
    # early) cannot disagree about it.
    unknown = {"droppedBy"} if v.a_closing.dropped_by is None else set()
    lines = []
    for (k, x), (_, y) in zip(v.a_closing.rows(), v.b_closing.rows(), strict=True):
        if x == y or k in unknown:
            continue
        if k == "droppedBy" and str(x).removesuffix(_RESET) == str(y).removesuffix(_RESET):
            # The same side dropped TCP, by FIN here and RST there: Autobahn's
            # closing keys (droppedByMe, wasClean) do not tell them apart.
            v.notes.append(f"closing: {k}: {x} → {y}")
            continue
        lines.append(f"{k}: {x} → {y}")
    if lines:
        v.differences.append(Difference("closing", lines))
    # Events as the client saw them (Autobahn's "Observed"), or the server when
    # only server frames are compared.
    who = Role.CLIENT if Role.SERVER in roles else Role.SERVER
    v.a_events, v.b_events = events_of(a, who), events_of(b, who)
    return v


def _handshake(a: DecodedConnection, b: DecodedConnection, v: Verdict) -> None:
    ha, hb = a.handshake, b.handshake
    if ha is None and hb is None:
        return
    lines: list[str] = []
    if ha is None or hb is None:
        lines.append(
            f"handshake: {'present' if ha else 'absent'} → {'present' if hb else 'absent'}"
        )
    else:
        if ha.status != hb.status:
            lines.append(f"status: {ha.status} → {hb.status}")
        if hb.status == 101 and hb.accept_ok is False and ha.accept_ok is not False:
            lines.append(f"Sec-WebSocket-Accept {hb.accept!r} does not fit key {hb.key!r}")
        if (
            ha.key == hb.key
            and ha.accept_ok
            and hb.accept_ok is not None
            and ha.accept != hb.accept
        ):
            lines.append(f"Sec-WebSocket-Accept: {ha.accept} → {hb.accept}")
        for name, x, y in (
            ("subprotocol", ha.subprotocol, hb.subprotocol),
            ("extensions", _norm(ha.extensions), _norm(hb.extensions)),
        ):
            if x != y:
                lines.append(f"{name}: {x} → {y}")
    if lines:
        v.differences.append(Difference("handshake", lines))


def _norm(ext: str | None) -> str | None:
    if not ext:
        return None
    return ", ".join("; ".join(p.strip() for p in e.split(";")) for e in ext.lower().split(","))
