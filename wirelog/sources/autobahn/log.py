"""The wire log of one Autobahn case, whatever form it was read from.

The JSON, HTML and flattened-text parsers all reduce a case report to a
:class:`Report` (typed wire-log entries plus the report's own facts), and
:func:`build_connection` turns that into one :class:`~wirelog.model.Connection`.
So the three forms cannot drift apart: they differ only in what they lose
(spec ``autobahn-wirelog.md`` §2.3), and the builder fills what can be
determined exactly from other facts:

* chunk lengths the HTML/text forms do not print (octets cut at 64 bytes),
  solved from the report's own chop statistics (§1.5, §2.3);
* chunk bytes beyond the 64-byte cut, rebuilt from the handshake heads and
  from TF entries whose payload is fully known (§3.1, §3.2), and marked
  ``rebuilt``; a rebuilt chunk always agrees with the prefix the log kept.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from wirelog.errors import InputError
from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    Direction,
    Marker,
    MarkerKind,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.masking import unmask
from wirelog.stats import WireStats

#: Autobahn's ``binLogData``/``asciiLogData`` keep this many bytes (spec §1.4).
MAXLEN = 64
ELLIPSIS = " ..."
_HEX = re.compile(r"(?:[0-9a-f]{2})*")
#: Chunks rebuilt beyond this size are left cut: nothing in the suite needs more.
REBUILD_LIMIT = 64 * 1024 * 1024


@dataclass(slots=True)
class OctetsEntry:
    """RO/TO: one socket read or write."""

    index: int
    direction: Direction
    length: int | None
    """Declared length; None when the form does not print it (HTML/text)
    and the bytes were cut, so that it must be solved from the statistics."""
    data: bytes
    sync: bool | None = None
    """TO's queue flag; None when the form lost it (flattened text)."""


@dataclass(slots=True)
class FrameEntry:
    """RF/TF: a frame the fuzzer received complete or passed to sendFrame."""

    index: int
    direction: Direction
    logged_len: int
    payload: bytes
    opcode: int
    fin: bool
    rsv: int
    masked: bool
    mask: bytes | None
    repeat_len: int | None = None
    chopsize: int | None = None
    sync: bool = False
    lossy: bool = False
    """The payload text went through the HTML renderer's whitespace changes."""


@dataclass(slots=True)
class MarkerEntry:
    """CT/CTE/KL/KLE/TI/TIE/WLM."""

    index: int
    kind: MarkerKind
    value: float | int | bool | None = None
    tag: str | None = None
    raw: Any = None


Entry = OctetsEntry | FrameEntry | MarkerEntry


@dataclass(slots=True)
class Report:
    """One case report reduced to what every form can carry."""

    source: str
    form: str
    """``json``, ``html`` or ``text``."""
    facts: dict[str, Any]
    """The report's keys (without ``wirelog``), as far as the form has them."""
    entries: list[Entry]
    request: bytes | None
    response: bytes | None
    is_server: bool
    dropped_by_me: bool | None
    stats: WireStats | None
    logging_disabled_note: bool = False
    """The HTML's "Wire log after handshake disabled!" note (createWirelog false)."""
    findings: list[Violation] = field(default_factory=list)


# -- decoding the log's data strings (spec §1.4) ----------------------------------


def octets_from_log(text: str, length: int | None, source: str, where: str) -> bytes:
    """``binLogData`` reversed: drop a trailing " ...", hex-decode."""
    body = text[: -len(ELLIPSIS)] if text.endswith(ELLIPSIS) else text
    body = body.strip()
    if not _HEX.fullmatch(body):
        raise InputError(source, f"octets are not lowercase hex: {text[:40]!r}", where)
    data = bytes.fromhex(body)
    if length is not None:
        expect = min(length, MAXLEN) if text.endswith(ELLIPSIS) or length > MAXLEN else length
        if len(data) != expect and len(data) != length:
            raise InputError(
                source, f"declared {length} octets but the log holds {len(data)}", where
            )
    return data


def is_hex_form(text: str, length: int) -> bool:
    """A payload string is ``asciiLogData``'s hex form iff after "0x" (and
    without a trailing " ...") it is lowercase hex of exactly
    ``min(length, 64)`` bytes; text that merely starts with "0x" never is."""
    if not text.startswith("0x"):
        return False
    body = text[2:]
    if body.endswith(ELLIPSIS):
        body = body[: -len(ELLIPSIS)]
    return len(body) == 2 * min(length, MAXLEN) and _HEX.fullmatch(body) is not None


def payload_from_log(text: str, length: int, errors: str = "surrogatepass") -> bytes:
    """``asciiLogData`` reversed, including its hex-vs-text rule (spec §1.4).

    ``errors`` is how the text's code points map back to bytes:
    ``surrogatepass`` for JSON (lone surrogates came from ``\\u`` escapes),
    ``surrogateescape`` for pages read with that handler.
    """
    want = min(length, MAXLEN)
    if is_hex_form(text, length):
        body = text[2:]
        return bytes.fromhex(body[: -len(ELLIPSIS)] if body.endswith(ELLIPSIS) else body)
    if length > 60 and text.endswith(ELLIPSIS):
        text = text[: -len(ELLIPSIS)]
    data = text.encode("utf-8", errors)
    if len(data) < want:
        data = _split_pairs(text, want - len(data), errors) or data
    return data


def _split_pairs(text: str, short: int, errors: str) -> bytes | None:
    """Python 3's ``json`` joins ``"\\ud800\\udc00"`` into one code point, but
    Python 2 wrote that pair for the *six* bytes of two encoded surrogates
    as well as for one 4-byte character (and its UTF-8 encoder, writing the
    HTML, joined such pairs into 4 bytes too). The declared length tells
    which: each pair that was two surrogates adds 2 bytes."""
    if short % 2:
        return None
    need = short // 2
    out = bytearray()
    for ch in text:
        if need and ord(ch) > 0xFFFF:
            v = ord(ch) - 0x10000
            pair = chr(0xD800 + (v >> 10)) + chr(0xDC00 + (v & 0x3FF))
            out += pair.encode("utf-8", "surrogatepass")
            need -= 1
        else:
            out += ch.encode("utf-8", errors)
    if need:
        return None
    return bytes(out)


# -- statistics the forms print ---------------------------------------------------


def solve_lengths(report: Report) -> list[Violation]:
    """Give every RO/TO entry a length: the HTML/text forms print none, and a
    chunk cut at 64 bytes is longer than what it shows.

    The report's chop statistics hold the multiset of all lengths (§1.5).
    Lengths of complete chunks are known; handshake heads and TF entries
    predict the rest (:func:`_predict`); what remains is taken from the
    statistics when that choice is unique, else the smallest fitting size
    is taken and a finding says so.
    """
    findings: list[Violation] = []
    unknown = [e for e in report.entries if isinstance(e, OctetsEntry) and e.length is None]
    if not unknown:
        return findings
    predicted = _predict(report)
    for direction in Direction:
        todo = [e for e in unknown if e.direction is direction]
        if not todo:
            continue
        pool: Counter[int] = Counter()
        if report.stats is not None:
            pool = Counter(
                report.stats.tx_octets if direction is Direction.TX else report.stats.rx_octets
            )
        for e in report.entries:
            if isinstance(e, OctetsEntry) and e.direction is direction and e.length is not None:
                pool[e.length] -= 1
        rest: list[OctetsEntry] = []
        for e in todo:
            p = predicted.get(e.index)
            if p is not None and (pool[p] > 0 or report.stats is None):
                e.length = p
                pool[p] -= 1
            else:
                rest.append(e)
        for e in rest:
            fits = sorted(s for s, c in pool.items() if c > 0 and s >= len(e.data))
            if not fits:
                e.length = len(e.data)
                findings.append(
                    Violation(
                        ViolationKind.MISSING_OCTETS,
                        f"entry {e.index}: octets cut at {len(e.data)} bytes and the statistics "
                        "leave no length for them; taken as complete",
                        direction,
                        chunk=e.index,
                    )
                )
                continue
            e.length = fits[0]
            pool[fits[0]] -= 1
            if len(fits) > 1 and sum(pool[s] for s in fits) >= 1:
                findings.append(
                    Violation(
                        ViolationKind.MISSING_OCTETS,
                        f"entry {e.index}: length not printed; {fits[0]} chosen among "
                        f"{', '.join(map(str, fits))} from the statistics",
                        direction,
                        chunk=e.index,
                    )
                )
    return findings


# -- the expected byte streams ------------------------------------------------------


@dataclass(slots=True)
class _Piece:
    """A run of bytes the fuzzer is known to have queued: a head or a TF frame."""

    known: bytes
    """Known prefix of the piece's bytes (all of them when complete)."""
    length: int
    chop: int | None = None
    sync: bool = False


@dataclass(slots=True)
class _Expect:
    """What one direction's stream should hold, consumed write by write."""

    pieces: list[_Piece] = field(default_factory=list)
    pos: int = 0
    """Index of the current piece."""
    off: int = 0
    """Offset inside the current piece."""
    broken: bool = False

    def empty(self) -> bool:
        return self.pos >= len(self.pieces)

    def next_length(self) -> int | None:
        if self.broken or self.empty():
            return None
        p = self.pieces[self.pos]
        left = p.length - self.off
        return min(p.chop, left) if p.chop else left

    def take(self, n: int) -> tuple[bytes, bool]:
        """Consume ``n`` bytes: their known prefix, and whether the write was sync."""
        out = bytearray()
        contiguous = True
        sync = False
        while n > 0 and not self.empty():
            p = self.pieces[self.pos]
            sync = sync or p.sync
            k = min(n, p.length - self.off)
            if contiguous:
                have = p.known[self.off : self.off + k]
                out += have
                contiguous = len(have) == k
            self.off += k
            n -= k
            if self.off >= p.length:
                self.pos += 1
                self.off = 0
        return bytes(out), sync


def _tf_piece(e: FrameEntry) -> _Piece:
    """The wire bytes of a TF entry, as far as they are determinable (§3.1)."""
    length = e.repeat_len if e.repeat_len is not None else e.logged_len
    full: bytes | None = None
    if e.logged_len <= MAXLEN and len(e.payload) == e.logged_len:
        if e.repeat_len is None:
            full = e.payload
        elif e.payload and e.repeat_len <= REBUILD_LIMIT:
            reps = e.repeat_len // len(e.payload) + 1
            full = (e.payload * reps)[: e.repeat_len]
    prefix = full if full is not None else e.payload[: min(length, MAXLEN)]
    mask = e.mask if e.masked else None
    head = encode_frame(e.opcode, b"", fin=e.fin, rsv=e.rsv, mask=mask, length=length)
    body = unmask(prefix, mask) if mask is not None else prefix
    return _Piece(head + body, len(head) + length, e.chopsize, e.sync or e.chopsize is not None)


def _expectations(report: Report) -> dict[Direction, _Expect]:
    client_dir = Direction.RX if report.is_server else Direction.TX
    exp = {d: _Expect() for d in Direction}
    for direction, head in (
        (client_dir, report.request),
        (client_dir.other, report.response),
    ):
        if head is not None:
            exp[direction].pieces.append(_Piece(head, len(head)))
    return exp


def _walk(report: Report, exp: dict[Direction, _Expect], entry: OctetsEntry) -> tuple[bytes, bool]:
    """Match one RO/TO against the expected stream; return the known bytes of
    its range (empty when nothing is known) and the inferred sync flag."""
    e = exp[entry.direction]
    if e.broken or e.empty():
        return b"", False
    n = entry.length if entry.length is not None else e.next_length()
    if n is None:
        return b"", False
    known, sync = e.take(n)
    common = min(len(known), len(entry.data))
    if known[:common] != entry.data[:common]:
        # Not the bytes expected (a write outside sendFrame, or an unknown
        # quirk): stop predicting this direction rather than guess.
        e.broken = True
        return b"", False
    return known, sync


def _predict(report: Report) -> dict[int, int]:
    """Entry index -> length predicted from heads and TF entries."""
    exp = _expectations(report)
    out: dict[int, int] = {}
    for entry in report.entries:
        if isinstance(entry, FrameEntry) and entry.direction is Direction.TX:
            exp[Direction.TX].pieces.append(_tf_piece(entry))
        elif isinstance(entry, OctetsEntry):
            e = exp[entry.direction]
            if entry.length is None:
                n = e.next_length()
                if n is not None and n >= len(entry.data):
                    out[entry.index] = n
                    probe = OctetsEntry(entry.index, entry.direction, n, entry.data)
                    _walk(report, exp, probe)
                else:
                    e.broken = True
            else:
                _walk(report, exp, entry)
    return out


# -- the connection ------------------------------------------------------------------


def _is_logging_off_case(case_id: str | None) -> bool:
    """9.1-9.6 set ``createWirelog = False`` directly: no WLM entry (§1.3)."""
    if not case_id:
        return False
    parts = case_id.split(".")
    return len(parts) >= 2 and parts[0] == "9" and parts[1] in {"1", "2", "3", "4", "5", "6"}


def build_connection(report: Report, conn: int = 0) -> Connection:
    """Turn a parsed case report into one connection (see module docstring)."""
    findings = list(report.findings)
    findings += solve_lengths(report)
    recorder = Role.SERVER if report.is_server else Role.CLIENT
    connection = Connection(conn=conn, source=report.source, recorder=recorder)
    connection.handshake_request = report.request
    connection.handshake_response = report.response
    exp = _expectations(report)
    for entry in report.entries:
        if isinstance(entry, OctetsEntry):
            length = entry.length if entry.length is not None else len(entry.data)
            entry.length = length
            known, inferred_sync = _walk(report, exp, entry)
            data = entry.data
            rebuilt = False
            if len(known) > len(data) and len(data) < length:
                data = known[:length]
                rebuilt = True
            sync = entry.sync if entry.sync is not None else inferred_sync
            connection.chunks.append(
                Chunk(
                    entry.direction,
                    data,
                    length,
                    entry.index,
                    sync=entry.direction is Direction.TX and sync,
                    rebuilt=rebuilt,
                )
            )
        elif isinstance(entry, FrameEntry):
            if entry.direction is Direction.TX:
                exp[Direction.TX].pieces.append(_tf_piece(entry))
            length = entry.repeat_len if entry.repeat_len is not None else entry.logged_len
            connection.claims.append(
                ClaimedFrame(
                    direction=entry.direction,
                    index=entry.index,
                    opcode=entry.opcode,
                    fin=entry.fin,
                    rsv=entry.rsv,
                    masked=entry.masked,
                    mask=entry.mask,
                    length=length,
                    payload=entry.payload,
                    logged_len=entry.logged_len,
                    repeat_len=entry.repeat_len,
                    chopsize=entry.chopsize,
                    sync=entry.sync,
                )
            )
        else:
            connection.markers.append(
                Marker(entry.kind, entry.index, value=entry.value, tag=entry.tag, raw=entry.raw)
            )
            if entry.kind is MarkerKind.WIRELOG and entry.value is False:
                findings.append(
                    Violation(
                        ViolationKind.LOGGING_OFF,
                        f"wire log switched off at entry {entry.index}; traffic until it is "
                        "switched on again shows only in the statistics",
                        chunk=entry.index,
                    )
                )
    end = len(report.entries)
    if report.dropped_by_me is not None:
        by_me = report.dropped_by_me
        connection.markers.append(
            Marker(
                MarkerKind.DROPPED,
                end,
                direction=Direction.TX if by_me else Direction.RX,
                raw="TCP DROPPED BY ME" if by_me else "TCP DROPPED BY PEER",
            )
        )
    facts = report.facts
    case_id = facts.get("id")
    has_wlm = any(m.kind is MarkerKind.WIRELOG for m in connection.markers)
    if facts.get("createWirelog") is False or report.logging_disabled_note:
        findings.append(
            Violation(
                ViolationKind.LOGGING_OFF,
                "the wire log was off when the case ended (createWirelog false); "
                "traffic after the handshake shows only in the statistics",
                chunk=end,
            )
        )
    elif _is_logging_off_case(case_id) and not has_wlm:
        findings.append(
            Violation(
                ViolationKind.LOGGING_OFF,
                f"case {case_id} switches the wire log off without a WLM entry; its data "
                "phase shows only in the statistics",
            )
        )
    connection.findings = findings
    meta = dict(facts)
    meta["form"] = report.form
    lossy = [e.index for e in report.entries if isinstance(e, FrameEntry) and e.lossy]
    if lossy:
        # Claims whose payload text may differ from the bytes in whitespace
        # only (HTML/text forms): compared and used accordingly (claims.py).
        meta["lossy_claims"] = lossy
    meta["case_id"] = case_id
    meta["agent"] = facts.get("agent")
    if report.stats is not None:
        meta["reported_stats"] = report.stats
    connection.meta = meta
    return connection
