"""Cross-checking frames decoded from octets against frames a log claims.

An Autobahn wire log says twice what happened: the octets (RO/TO, cut at
64 bytes) and the frames (RF/TF). wirelog decodes frames from the octets
and uses the claims in two ways (spec ``autobahn-wirelog.md`` §7.3):

* **gap filling**: where the octets cannot show a frame (the decoder lost
  the frame boundaries, or a direction's head was never recorded), the
  claimed frame is taken instead (``from_log=True``, ``offset=None``), so
  that no frame is lost;
* **cross-checking**: a decoded frame and its claim must agree on opcode,
  FIN, RSV, mask and length, and the payload prefixes must match. A
  disagreement is a ``claim_mismatch`` finding, never an exception.

Known Autobahn behaviours are not mismatches (§1.3-§3.3): a TF without TO
(the connection died before the write), decoded frames without TF (the
streaming API of 6.4.3/6.4.4) or without RF (data after the fuzzer closed,
a frame cut by the connection's end), RF ``len`` 0 for data frames after
``failedByMe``, and RF payloads of compressed frames (decompressed).
"""

from __future__ import annotations

import re
from dataclasses import replace

from wirelog.model import (
    ClaimedFrame,
    Connection,
    Direction,
    Frame,
    Opcode,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.protocol.handshake import deflate_params, parse_extensions, split_head

V = ViolationKind
_WS = re.compile(rb"\s+")
#: How far alignment looks ahead for a frame or claim that matches.
LOOKAHEAD = 16
_KNOWN = frozenset(int(o) for o in Opcode)


def _key_match(frame: Frame, claim: ClaimedFrame) -> bool:
    """Could this claim describe this frame? Same header bits, and in the
    order the fuzzer logs them: TF before its TO, RF after the RO that
    completed the frame."""
    if (frame.opcode, frame.fin, frame.rsv) != (claim.opcode, claim.fin, claim.rsv):
        return False
    if frame.chunk is not None:
        if claim.direction is Direction.TX and frame.chunk < claim.index:
            return False
        if claim.direction is Direction.RX and frame.chunk > claim.index:
            return False
    return True


def align(
    frames: list[Frame], claims: list[ClaimedFrame]
) -> list[tuple[Frame | None, ClaimedFrame | None]]:
    """Pair frames with claims in order; unpaired items stand alone."""
    pairs: list[tuple[Frame | None, ClaimedFrame | None]] = []
    i = j = 0
    while i < len(frames) and j < len(claims):
        f, c = frames[i], claims[j]
        if _key_match(f, c):
            pairs.append((f, c))
            i += 1
            j += 1
            continue
        k = next(
            (k for k in range(i + 1, min(len(frames), i + LOOKAHEAD)) if _key_match(frames[k], c)),
            None,
        )
        m = next(
            (m for m in range(j + 1, min(len(claims), j + LOOKAHEAD)) if _key_match(f, claims[m])),
            None,
        )
        if k is None and m is None:
            if _order_ok(f, c):
                pairs.append((f, c))  # the same frame, told differently: a mismatch
                i += 1
                j += 1
            elif c.direction is Direction.TX and f.chunk is not None and f.chunk < c.index:
                pairs.append((f, None))
                i += 1
            else:
                pairs.append((None, c))
                j += 1
        elif k is not None and (m is None or k - i <= m - j):
            pairs.extend((frames[x], None) for x in range(i, k))
            i = k
        else:
            assert m is not None
            pairs.extend((None, claims[x]) for x in range(j, m))
            j = m
    pairs.extend((frames[x], None) for x in range(i, len(frames)))
    pairs.extend((None, claims[x]) for x in range(j, len(claims)))
    return pairs


def _order_ok(frame: Frame, claim: ClaimedFrame) -> bool:
    if frame.chunk is None:
        return True
    if claim.direction is Direction.TX:
        return frame.chunk > claim.index
    return frame.chunk < claim.index


def reconcile(
    conn: Connection,
    direction: Direction,
    frames: list[Frame],
    claims: list[ClaimedFrame],
    lost: bool,
) -> tuple[list[Frame], list[Violation]]:
    """Merge one direction's decoded frames with its claims (module docstring).

    ``lost``: the octets stopped showing frame boundaries at some point (or
    never showed them), so claims after the last decoded frame are taken
    from the log.
    """
    findings: list[Violation] = []
    if not claims:
        return frames, findings
    pairs = align(frames, claims)
    last_decoded = max((n for n, (f, _) in enumerate(pairs) if f is not None), default=-1)
    failed = bool(conn.meta.get("failedByMe"))
    lossy = set(conn.meta.get("lossy_claims") or ())
    tx_chunks = [ch.index for ch in conn.chunks if ch.direction is Direction.TX]
    allowed_rsv = _allowed_rsv(conn)
    sender = conn.sender(direction)
    leftover = _octets_after_frames(conn, direction, frames)
    out: list[Frame] = []
    for n, (f, c) in enumerate(pairs):
        if f is not None and c is not None:
            problems = cross_check(f, c, failed, c.index in lossy)
            if problems:
                findings.append(
                    Violation(
                        V.CLAIM_MISMATCH,
                        f"entry {c.index}: " + "; ".join(problems),
                        direction,
                        len(out),
                        f.offset,
                        c.index,
                    )
                )
            out.append(_fill_payload(f, c) if not problems and c.index not in lossy else f)
        elif f is not None:
            out.append(f)
        elif c is not None:
            if n > last_decoded and not lost:
                if direction is Direction.TX:
                    if leftover > 0:
                        # Octets after the last whole frame: this frame's
                        # start was written, its header never completed
                        # (a chop-1 write cut by the connection's end).
                        leftover = 0
                        frame = claimed_frame(c, sender, allowed_rsv)
                        cut = (*frame.violations, V.TRUNCATED_FRAME)
                        out.append(replace(frame, violations=cut))
                    # Otherwise the octets are complete and in step, yet show
                    # no such frame: it was queued but never written (§3.2).
                    continue
                findings.append(
                    Violation(
                        V.CLAIM_MISMATCH,
                        f"entry {c.index}: the log claims a received frame "
                        f"({Opcode.name_of(c.opcode)}, {c.length} bytes) the octets do not show",
                        direction,
                        len(out),
                        None,
                        c.index,
                    )
                )
            elif n < last_decoded:
                findings.append(
                    Violation(
                        V.CLAIM_MISMATCH,
                        f"entry {c.index}: the log claims a frame "
                        f"({Opcode.name_of(c.opcode)}, {c.length} bytes) that the octets "
                        "do not show here",
                        direction,
                        len(out),
                        None,
                        c.index,
                    )
                )
            elif direction is Direction.TX and not any(i > c.index for i in tx_chunks):
                # Lost octets, but nothing was written after this TF at all:
                # it never reached the wire (a TF without TO).
                continue
            out.append(claimed_frame(c, sender, allowed_rsv))
    return [replace(f, index=i) if f.index != i else f for i, f in enumerate(out)], findings


def _octets_after_frames(conn: Connection, direction: Direction, frames: list[Frame]) -> int:
    """Octets of a direction beyond its head and its last decoded frame."""
    ends = [f.offset + f.wire_length for f in frames if f.offset is not None]
    if ends:
        end = max(ends)
    else:
        head = (
            conn.handshake_request
            if conn.sender(direction) is Role.CLIENT
            else conn.handshake_response
        )
        if head is None:
            return 0
        end = len(head)
    total = sum(ch.length for ch in conn.chunks if ch.direction is direction)
    return total - end


def cross_check(
    frame: Frame, claim: ClaimedFrame, failed_by_me: bool, lossy: bool = False
) -> list[str]:
    """What a decoded frame and its claim disagree on (empty when nothing).

    ``lossy``: the claim's payload text went through the HTML renderer's
    whitespace changes, so payloads are compared with whitespace removed."""
    problems: list[str] = []
    for name, got, said in (
        ("opcode", frame.opcode, claim.opcode),
        ("fin", frame.fin, claim.fin),
        ("rsv", frame.rsv, claim.rsv),
        ("masked", frame.masked, claim.masked),
    ):
        if got != said:
            problems.append(f"{name} is {got} on the wire but {said} in the log")
    if frame.mask is not None and claim.mask is not None and frame.mask != claim.mask:
        problems.append(f"mask is {frame.mask.hex()} on the wire but {claim.mask.hex()} in the log")
    if _payload_checkable(frame, claim, failed_by_me):
        if frame.length != claim.length:
            problems.append(
                f"payload length is {frame.length} on the wire but {claim.length} in the log"
            )
        wire, logged = frame.payload, claim.payload
        if lossy:
            # The logged text stands for the payload's first bytes (at most
            # ``logged_len``); only its whitespace is in doubt.
            wire, logged = _WS.sub(b"", wire[: claim.logged_len]), _WS.sub(b"", logged)
        n = min(len(wire), len(logged))
        if wire[:n] != logged[:n]:
            problems.append(
                f"payload differs: {frame.payload[:n][:16].hex()} on the wire, "
                f"{claim.payload[:n][:16].hex()} in the log"
            )
    return problems


def _payload_checkable(frame: Frame, claim: ClaimedFrame, failed_by_me: bool) -> bool:
    if claim.direction is Direction.RX:
        if claim.rsv & 4:
            return False  # RF logs the inflated payload (§1.3)
        if failed_by_me and not Opcode.is_control(claim.opcode) and claim.logged_len == 0:
            return False  # payload thrown away after the fuzzer failed (§1.3)
    return True


def _fill_payload(frame: Frame, claim: ClaimedFrame) -> Frame:
    """A frame whose octets were cut keeps the longer prefix the claim logged."""
    if frame.complete or len(claim.payload) <= len(frame.payload):
        return frame
    if V.TRUNCATED_FRAME in frame.violations:
        return frame  # the wire itself ended: what the log meant to send never left
    if claim.length != frame.length or not claim.payload.startswith(frame.payload):
        return frame
    if claim.direction is Direction.RX and claim.rsv & 4:
        return frame
    payload = claim.payload[: frame.length]
    violations = frame.violations
    if len(payload) == frame.length:
        # The log kept what the octets lost: nothing of the frame is missing.
        violations = tuple(v for v in violations if v is not V.MISSING_OCTETS)
    return replace(frame, payload=payload, violations=violations)


def _allowed_rsv(conn: Connection) -> int:
    response = conn.handshake_response
    if response is None:
        return 0
    _, headers = split_head(response)
    value = ", ".join(v for k, v in headers if k.lower() == "sec-websocket-extensions")
    names = [name for name, _ in parse_extensions(value)]
    return 4 if deflate_params(value) is not None or "permessage-deflate" in names else 0


def claimed_frame(claim: ClaimedFrame, sender: Role, allowed_rsv: int = 0) -> Frame:
    """A frame taken from a log claim, with the header checks the decoder
    would have made (RFC 6455 §5.2, §5.5, §5.1)."""
    length = claim.length
    header = 2 + (0 if length <= 125 else 2 if length <= 0xFFFF else 8)
    header += 4 if claim.masked else 0
    violations: list[ViolationKind] = []
    if claim.opcode not in _KNOWN:
        violations.append(V.RESERVED_OPCODE)
    if claim.rsv & ~allowed_rsv:
        violations.append(V.RSV_WITHOUT_EXTENSION)
    if Opcode.is_control(claim.opcode):
        if length > 125:
            violations.append(V.CONTROL_FRAME_TOO_LONG)
        if not claim.fin:
            violations.append(V.CONTROL_FRAME_FRAGMENTED)
    if claim.masked != (sender is Role.CLIENT):
        violations.append(V.UNMASKED_CLIENT_FRAME if not claim.masked else V.MASKED_SERVER_FRAME)
    return Frame(
        direction=claim.direction,
        sender=sender,
        index=0,
        fin=claim.fin,
        rsv=claim.rsv,
        opcode=claim.opcode,
        masked=claim.masked,
        mask=claim.mask,
        length=length,
        payload=claim.payload[:length],
        header_length=header,
        offset=None,
        chunk=claim.index,
        violations=tuple(violations),
        from_log=True,
    )
