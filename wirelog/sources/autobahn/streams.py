"""What a report's byte streams must hold, beyond what its log printed.

The HTML/text forms print no chunk lengths, and every form cuts octets at
64 bytes (spec ``autobahn-wirelog.md`` §1.4, §2.3). Both are recovered
where that is exact: the handshake heads and TF entries whose payload is
fully known predict each direction's stream (§3.1, §3.2), and the report's
own chop statistics hold the multiset of all lengths (§1.5).

Bytes rebuilt from ``PAYLOAD-REPEAT-LEN`` come out of one
:class:`~.limits.RebuildBudget` per input: a report's claims never decide
how much memory it takes (:data:`~.limits.REBUILD_LIMIT`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from wirelog.model import Direction, Violation, ViolationKind
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.masking import unmask
from wirelog.sources.autobahn.encoding import MAXLEN
from wirelog.sources.autobahn.entries import FrameEntry, OctetsEntry, Report
from wirelog.sources.autobahn.limits import RebuildBudget


def solve_lengths(report: Report, budget: RebuildBudget | None = None) -> list[Violation]:
    """Give every RO/TO entry a length: the HTML/text forms print none, and a
    chunk cut at 64 bytes is longer than what it shows.

    The report's chop statistics hold the multiset of all lengths (§1.5).
    Lengths of complete chunks are known; handshake heads and TF entries
    predict the rest (:func:`_predict`); what remains is taken from the
    statistics when that choice is unique, else the smallest fitting size
    is taken and a finding says so. ``budget`` is what the input has left to
    rebuild; it is only read, so the build that follows rebuilds the same.
    """
    findings: list[Violation] = []
    unknown = [e for e in report.entries if isinstance(e, OctetsEntry) and e.length is None]
    if not unknown:
        return findings
    predicted = _predict(report, budget.copy() if budget else RebuildBudget())
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
class Piece:
    """A run of bytes the fuzzer is known to have queued: a head or a TF frame."""

    known: bytes
    """Known prefix of the piece's bytes (all of them when complete)."""
    length: int
    chop: int | None = None
    sync: bool = False


@dataclass(slots=True)
class Expected:
    """What one direction's stream should hold, consumed write by write."""

    pieces: list[Piece] = field(default_factory=list)
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


def tf_piece(e: FrameEntry, budget: RebuildBudget) -> Piece:
    """The wire bytes of a TF entry, as far as they are determinable (§3.1);
    a repeated payload is rebuilt only while ``budget`` lasts."""
    length = e.repeat_len if e.repeat_len is not None else e.logged_len
    full: bytes | None = None
    if e.logged_len <= MAXLEN and len(e.payload) == e.logged_len:
        if e.repeat_len is None:
            full = e.payload
        elif e.payload and budget.take(e.index, e.repeat_len):
            reps, rest = divmod(e.repeat_len, len(e.payload))
            full = e.payload * reps + e.payload[:rest]
    prefix = full if full is not None else e.payload[: min(length, MAXLEN)]
    mask = e.mask if e.masked else None
    head = encode_frame(e.opcode, b"", fin=e.fin, rsv=e.rsv, mask=mask, length=length)
    body = unmask(prefix, mask) if mask is not None else prefix
    return Piece(head + body, len(head) + length, e.chopsize, e.sync or e.chopsize is not None)


def expectations(report: Report) -> dict[Direction, Expected]:
    client_dir = Direction.RX if report.is_server else Direction.TX
    exp = {d: Expected() for d in Direction}
    for direction, head in (
        (client_dir, report.request),
        (client_dir.other, report.response),
    ):
        if head is not None:
            exp[direction].pieces.append(Piece(head, len(head)))
    return exp


def walk(report: Report, exp: dict[Direction, Expected], entry: OctetsEntry) -> tuple[bytes, bool]:
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


def _predict(report: Report, budget: RebuildBudget) -> dict[int, int]:
    """Entry index -> length predicted from heads and TF entries."""
    exp = expectations(report)
    out: dict[int, int] = {}
    for entry in report.entries:
        if isinstance(entry, FrameEntry) and entry.direction is Direction.TX:
            exp[Direction.TX].pieces.append(tf_piece(entry, budget))
        elif isinstance(entry, OctetsEntry):
            e = exp[entry.direction]
            if entry.length is None:
                n = e.next_length()
                if n is not None and n >= len(entry.data):
                    out[entry.index] = n
                    probe = OctetsEntry(entry.index, entry.direction, n, entry.data)
                    walk(report, exp, probe)
                else:
                    e.broken = True
            else:
                walk(report, exp, entry)
    return out
