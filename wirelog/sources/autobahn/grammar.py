"""The wire-log line grammar of Autobahn's case page, both ways (spec §2.2).

Each entry prints as ``NNN`` (the entry counter, ``%03d``), a 9-character
prefix and its fields; data strings go through ``textwrap.wrap(s, 100)``
and continue on lines indented by 15 spaces, so that they line up after
``"NNN XX XXXXXX: "``. The page ends with a synthetic
``TCP DROPPED BY ME/PEER`` line. The RF mask is printed as the hex of its
hex (Autobahn's renderer hex-encodes the stored hex again), TF masks once.
:func:`parse_wirelog` reads what the ``*_line`` functions write, and what
Autobahn wrote.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any

from wirelog.errors import InputError
from wirelog.model import Chunk, Direction, Marker, MarkerKind
from wirelog.sources.autobahn.encoding import (
    ELLIPSIS,
    MAXLEN,
    LogDataError,
    bin_log,
    is_hex_form,
    octets_from_log,
    payload_from_log,
)
from wirelog.sources.autobahn.entries import Entry, FrameEntry, MarkerEntry, OctetsEntry
from wirelog.sources.autobahn.limits import (
    MAX_DIGITS,
    MAX_LENGTH,
    MAX_OPCODE,
    MAX_RSV,
    delay_ok,
    digits_ok,
)

WRAP = 100
INDENT = " " * 15
"""Continuation lines line up after ``"NNN XX XXXXXX: "``."""
LOG_OFF_NOTE = "Wire log after handshake disabled!"
"""Autobahn's note when the log was off at the end (``createWirelog`` false, spec §2.1)."""
_HEAD = re.compile(rf"^(\d{{3,{MAX_DIGITS}}}) (.*)$")
#: A key starts where a run of capitals starts: tried from inside a run too,
#: a long run without "=" cost the square of its length.
_KV = re.compile(r"(?<![A-Z-])([A-Z][A-Z-]*)=([^,]*)(?:, |$)")
_DELAY = re.compile(r"^DELAY (\S+) sec for TAG (.*)$")


# -- rendering ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogLine:
    """One rendered wire-log entry: its lines and Autobahn's CSS class."""

    css: str
    lines: tuple[str, ...]


def rx_mask_text(mask: bytes | None) -> str:
    """How Autobahn prints an RF mask: the hex of its hex (``c1b30ab6`` ->
    ``6331623330616236``), a quirk every real page shows."""
    return str(mask.hex().encode().hex() if mask else None)


def rx_mask_from_text(text: str) -> bytes | None:
    """:func:`rx_mask_text` reversed; pages that print the mask once are
    read as they are."""
    if text == "None":
        return None
    raw = bytes.fromhex(text)
    if len(raw) == 8:
        return bytes.fromhex(raw.decode("ascii"))
    if len(raw) == 4:
        return raw
    raise ValueError(text)


def octets_line(n: int, ch: Chunk) -> LogLine:
    prefix = "TX OCTETS" if ch.direction is Direction.TX else "RX OCTETS"
    parts = textwrap.wrap(bin_log(ch.data, ch.length), WRAP) or [""]
    css = "wirelog_rx_octets" if ch.direction is Direction.RX else "wirelog_tx_octets"
    if ch.direction is Direction.TX and ch.sync:
        css += "_sync"
    return LogLine(css, (f"{n:03d} {prefix}: {parts[0]}", *(INDENT + p for p in parts[1:])))


def rf_line(
    n: int, opcode: int, fin: bool, rsv: int, plen: int, masked: bool, mask: bytes | None, text: str
) -> LogLine:
    head = (
        f"{n:03d} RX FRAME : OPCODE={opcode}, FIN={fin}, RSV={rsv}, PAYLOAD-LEN={plen}, "
        f"MASKED={masked}, MASK={rx_mask_text(mask)}"
    )
    return LogLine("wirelog_rx_frame", (head, *(INDENT + p for p in textwrap.wrap(text, WRAP))))


def tf_line(
    n: int,
    opcode: int,
    fin: bool,
    rsv: int,
    plen: int,
    mask: bytes | None,
    repeat: int | None,
    chopsize: int | None,
    sync: bool,
    text: str,
) -> LogLine:
    head = (
        f"{n:03d} TX FRAME : OPCODE={opcode}, FIN={fin}, RSV={rsv}, PAYLOAD-LEN={plen}, "
        f"MASK={mask.hex() if mask else None}, PAYLOAD-REPEAT-LEN={repeat}, "
        f"CHOPSIZE={chopsize}, SYNC={sync}"
    )
    css = "wirelog_tx_frame_sync" if sync or chopsize is not None else "wirelog_tx_frame"
    return LogLine(css, (head, *(INDENT + p for p in textwrap.wrap(text, WRAP))))


def _fmt_delay(v: Any) -> str:
    try:
        return f"{float(v):f}"
    except (TypeError, ValueError):
        return str(v)


def marker_line(n: int, m: Marker) -> LogLine | None:
    """A timer or switch entry; None for markers Autobahn has no line for."""
    k = m.kind
    if k is MarkerKind.WIRELOG:
        return LogLine(
            "wirelog_delay", (f"{n:03d} WIRELOG {'ENABLED' if m.value else 'DISABLED'}",)
        )
    if k is MarkerKind.DELAY:
        return LogLine(
            "wirelog_delay", (f"{n:03d} DELAY {_fmt_delay(m.value)} sec for TAG {m.tag}",)
        )
    if k is MarkerKind.DELAY_FIRED:
        return LogLine("wirelog_delay", (f"{n:03d} DELAY TIMEOUT on TAG {m.tag}",))
    if k is MarkerKind.KILL_AFTER:
        line = f"{n:03d} FAIL CONNECTION AFTER {_fmt_delay(m.value)} sec"
        return LogLine("wirelog_kill_after", (line,))
    if k is MarkerKind.KILL_FIRED:
        return LogLine("wirelog_kill_after", (f"{n:03d} FAILING CONNECTION",))
    if k is MarkerKind.CLOSE_AFTER:
        line = f"{n:03d} CLOSE CONNECTION AFTER {_fmt_delay(m.value)} sec"
        return LogLine("wirelog_kill_after", (line,))
    if k is MarkerKind.CLOSE_FIRED:
        return LogLine("wirelog_kill_after", (f"{n:03d} CLOSING CONNECTION",))
    if k is MarkerKind.GAP:
        # Not in Autobahn's grammar: a capture hole is a fact worth a line.
        side = "TX" if m.direction is Direction.TX else "RX"
        return LogLine("wirelog_gap", (f"{n:03d} {side} GAP    : {m.value} octets not captured",))
    return None


def dropped_line(n: int, by_me: bool) -> LogLine:
    if by_me:
        return LogLine("wirelog_tcp_closed_by_me", (f"{n:03d} TCP DROPPED BY ME",))
    return LogLine("wirelog_tcp_closed_by_peer", (f"{n:03d} TCP DROPPED BY PEER",))


# -- parsing ------------------------------------------------------------------------


def parse_wirelog(
    source: str, lines: list[tuple[str | None, str]], first_line: int = 0
) -> tuple[list[Entry], bool | None]:
    """Entries from the printed wire-log lines.

    ``lines`` are ``(css class or None, text)``; the result is the entries
    plus ``droppedByMe`` from the final synthetic line (None if missing).
    """
    groups: list[tuple[str | None, str, list[str]]] = []
    for n, (css, line) in enumerate(lines):
        line = line.rstrip("\r\n")
        if _HEAD.match(line):
            groups.append((css, line, []))
        elif groups and line.startswith(INDENT):
            groups[-1][2].append(line[len(INDENT) :])
        elif line.strip():
            raise InputError(
                source, f"not a wire-log line: {line[:60]!r}", f"line {first_line + n + 1}"
            )
    entries: list[Entry] = []
    dropped: bool | None = None
    for css, line, more in groups:
        m = _HEAD.match(line)
        assert m is not None
        number = int(m.group(1))
        where = f"entry {number}"
        if number != len(entries):
            raise InputError(
                source, f"wire-log entry {number} where {len(entries)} was expected", where
            )
        body = m.group(2)
        if body.startswith("TCP DROPPED BY "):
            dropped = body.endswith("ME")
            continue
        try:
            entries.append(_entry(source, number, body, more, css, where))
        except LogDataError as exc:
            raise InputError(source, str(exc), where) from None
    return entries, dropped


def _entry(source: str, i: int, body: str, more: list[str], css: str | None, where: str) -> Entry:
    kind, _, rest = body.partition(": ")
    kind = kind.rstrip()
    if kind in ("RX OCTETS", "TX OCTETS"):
        text = _join_hex([rest, *more])
        data = octets_from_log(text, None)
        # A cut chunk prints its 64-byte prefix and " ..."; shorter ones are whole.
        length = None if text.endswith(ELLIPSIS) and len(data) >= MAXLEN else len(data)
        if kind == "RX OCTETS":
            return OctetsEntry(i, Direction.RX, length, data)
        sync = None if css is None else css.endswith("_sync")
        return OctetsEntry(i, Direction.TX, length, data, sync=sync)
    if kind in ("RX FRAME", "TX FRAME"):
        fields = dict(_KV.findall(rest))
        try:
            length = _number(fields["PAYLOAD-LEN"])
            payload, lossy = _payload(more, length)
            head = (length, payload, _number(fields["OPCODE"], MAX_OPCODE), fields["FIN"] == "True")
            rsv = _number(fields["RSV"], MAX_RSV)
            if kind == "RX FRAME":
                masked = fields["MASKED"] == "True"
                mask = rx_mask_from_text(fields["MASK"])
                return FrameEntry(i, Direction.RX, *head, rsv, masked, mask, lossy=lossy)
            mask = None if fields["MASK"] == "None" else _mask(fields["MASK"])
            repeat = fields["PAYLOAD-REPEAT-LEN"]
            chop = fields["CHOPSIZE"]
            return FrameEntry(
                i,
                Direction.TX,
                *head,
                rsv,
                mask is not None,
                mask,
                None if repeat == "None" else _number(repeat),
                None if chop == "None" else _number(chop),
                fields["SYNC"] == "True",
                lossy=lossy,
            )
        except (KeyError, ValueError):
            raise InputError(source, f"malformed frame line: {body[:80]!r}", where) from None
    return _marker(source, i, body, where)


def _number(text: str, top: int = MAX_LENGTH) -> int:
    """A header field or length as the page prints it: plain decimal digits,
    within what a frame can carry (:mod:`.limits`)."""
    if not digits_ok(text) or int(text) > top:
        raise ValueError(text)
    return int(text)


def _mask(text: str) -> bytes:
    """A TF mask, printed once: RFC 6455 §5.3's 32 bits."""
    mask = bytes.fromhex(text)
    if len(mask) != 4:
        raise ValueError(text)
    return mask


def _delay(text: str) -> float:
    """A timer's seconds; ``inf``/``nan`` or a negative or hour-long delay
    are none Autobahn prints (:data:`~.limits.MAX_DELAY`)."""
    value = float(text)
    if not delay_ok(value):
        raise ValueError(text)
    return value


def _payload(lines: list[str], length: int) -> tuple[bytes, bool]:
    """The payload lines of RF/TF: hex forms wrap without spaces, text forms
    wrap at whitespace. The second value says the text may differ from the
    payload: textwrap turned tabs and line breaks into spaces and dropped
    whitespace at line ends, and the page cannot say where."""
    if not lines:
        return b"", length > 0
    if lines[0].startswith("0x"):
        joined = _join_hex(lines)
        if is_hex_form(joined, length):
            return payload_from_log(joined, length), False
    data = payload_from_log(" ".join(lines), length, "surrogateescape")
    return data, len(data) != min(length, MAXLEN) or b" " in data


def _join_hex(lines: list[str]) -> str:
    """Hex wrapped at 100 columns; the " ..." may have gone to a line of its own."""
    joined = "".join(line.strip() for line in lines)
    if joined.endswith("...") and not joined.endswith(ELLIPSIS):
        joined = joined[:-3] + ELLIPSIS
    return joined


def _marker(source: str, i: int, body: str, where: str) -> Entry:
    try:
        if body == "WIRELOG ENABLED":
            return MarkerEntry(i, MarkerKind.WIRELOG, value=True, raw=True)
        if body == "WIRELOG DISABLED":
            return MarkerEntry(i, MarkerKind.WIRELOG, value=False, raw=False)
        m = _DELAY.match(body)
        if m:
            tag = None if m.group(2) == "None" else m.group(2)
            delay = _delay(m.group(1))
            return MarkerEntry(i, MarkerKind.DELAY, value=delay, tag=tag, raw=delay)
        if body.startswith("DELAY TIMEOUT on TAG "):
            tag = body[len("DELAY TIMEOUT on TAG ") :]
            return MarkerEntry(i, MarkerKind.DELAY_FIRED, tag=None if tag == "None" else tag)
        for prefix, kind in (
            ("FAIL CONNECTION AFTER ", MarkerKind.KILL_AFTER),
            ("CLOSE CONNECTION AFTER ", MarkerKind.CLOSE_AFTER),
        ):
            if body.startswith(prefix) and body.endswith(" sec"):
                delay = _delay(body[len(prefix) : -4])
                return MarkerEntry(i, kind, value=delay, raw=delay)
        if body == "FAILING CONNECTION":
            return MarkerEntry(i, MarkerKind.KILL_FIRED)
        if body == "CLOSING CONNECTION":
            return MarkerEntry(i, MarkerKind.CLOSE_FIRED)
    except ValueError:
        pass
    raise InputError(source, f"unknown wire-log line: {body[:60]!r}", where)
