"""The text of an Autobahn case page, flattened by copying it out of a
browser (the seed report; spec ``autobahn-wirelog.md`` §2.3).

Flattening runs table cells together: a Closing Behavior row reads
``isServerFalseTrue, iff ...`` and a statistics row ``1291129`` means
129 | 1 | 129. The rows are split back by constraint solving: in an octet
table size × count = octets, sizes rise, and the Total row holds the sums;
in a frame table opcodes are 0-15 and rise, and counts add up to the
Total. Where several splits satisfy all of that, the one that agrees best
with the wire log (its complete chunk lengths, its frame claims) wins, and
a finding records the ambiguity. The wire log reads as on the page, minus
the CSS classes (so the TO sync flag is inferred from the TF entries).

Splitting costs the square of a row's digits and the search over rows can
branch at every row, so both are bounded: a row of more than three
:data:`~.limits.MAX_DIGITS`-digit numbers, or a table that needs more than
:data:`MAX_STEPS` steps to split, is not a flattened Autobahn table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from wirelog.errors import InputError
from wirelog.model import Direction, Violation, ViolationKind
from wirelog.sources.autobahn.entries import CLOSING_KEYS, FrameEntry, OctetsEntry, Report
from wirelog.sources.autobahn.grammar import LOG_OFF_NOTE, parse_wirelog
from wirelog.sources.autobahn.html_page import (
    STAT_TITLES,
    python_value,
    read_page,
    restore_head,
    summary_facts,
)
from wirelog.sources.autobahn.limits import MAX_DIGITS
from wirelog.stats import STAT_KEYS, WireStats

#: How each Closing Behavior description begins (both suite generations).
DESCRIPTION_STARTS = {
    "isServer": "True, iff",
    "closedByMe": "True, iff",
    "failedByMe": "True, iff",
    "droppedByMe": "True, iff",
    "wasClean": "True, iff",
    "wasNotCleanReason": "When wasClean",
    "wasServerConnectionDropTimeout": "When we are a client",
    "wasOpenHandshakeTimeout": "When performing the opening handshake",
    "wasCloseHandshakeTimeout": "When we initiated a closing handshake",
    "localCloseCode": "The close code I sent",
    "localCloseReason": "The close reason I sent",
    "remoteCloseCode": "The close code the peer sent",
    "remoteCloseReason": "The close reason the peer sent",
}
HEADINGS = (
    "Case Description",
    "Case Expectation",
    "Case Outcome",
    "Case Closing Behavior",
    "Opening Handshake",
    "Closing Behavior",
    "Wire Statistics",
    "Wire Log",
    *STAT_TITLES,
)
#: More candidate splits than this is not a flattened Autobahn table.
MAX_SOLUTIONS = 10_000
#: Choices tried while splitting one table, found or not.
MAX_STEPS = 200_000


class _TooManySteps(Exception):
    pass


def _sections(lines: list[str]) -> dict[str, tuple[int, list[str]]]:
    """Heading -> (line number of its first line, its lines)."""
    out: dict[str, tuple[int, list[str]]] = {}
    current: str | None = None
    for n, line in enumerate(lines):
        title = line.strip()
        if title in HEADINGS and title not in out:
            current = title
            out[current] = (n + 1, [])
        elif current is not None:
            out[current][1].append(line)
    return out


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def closing_row(line: str) -> tuple[str, Any] | None:
    """``isServerFalseTrue, iff I ...`` -> ("isServer", False)."""
    keys = [k for k in CLOSING_KEYS if line.startswith(k)]
    if not keys:
        return None
    key = max(keys, key=len)
    rest = line[len(key) :]
    cut = rest.rfind(DESCRIPTION_STARTS[key])
    if cut < 0:
        m = re.match(r"(True|False|None|-?\d+)", rest)
        if not m:
            return None
        value = m.group(1)
    else:
        value = rest[:cut]
    return key, python_value(value.strip())


# -- splitting run-together table rows -----------------------------------------------


def _octet_splits(row: str) -> list[tuple[int, int]]:
    """(size, count) pairs with size × count = octets for a row like "1291129"."""
    out = []
    for i in range(1, len(row) - 1):
        for j in range(i + 1, len(row)):
            a, b, c = row[:i], row[i:j], row[j:]
            if any(len(x) > 1 and x[0] == "0" for x in (a, b, c)):
                continue
            s, n, o = int(a), int(b), int(c)
            if s >= 1 and n >= 1 and s * n == o:
                out.append((s, n))
    return out


def _pair_splits(row: str, first_max: int | None) -> list[tuple[int, int]]:
    out = []
    for i in range(1, len(row)):
        a, b = row[:i], row[i:]
        if any(len(x) > 1 and x[0] == "0" for x in (a, b)):
            continue
        x, y = int(a), int(b)
        if (first_max is None or x <= first_max) and y >= 1:
            out.append((x, y))
    return out


def _solve(
    rows: list[list[tuple[int, int]]], totals: list[tuple[int, int]], octets: bool
) -> Iterator[list[tuple[int, int]]]:
    """Every choice of one split per row with rising keys that adds up to a
    Total split (count, and octets for octet tables), if there is a Total.
    Raises :class:`_TooManySteps` past :data:`MAX_STEPS` choices."""
    found = steps = 0

    def walk(
        k: int, last: int, count: int, total: int, acc: list[tuple[int, int]]
    ) -> Iterator[list[tuple[int, int]]]:
        nonlocal found, steps
        steps += 1
        if steps > MAX_STEPS:
            raise _TooManySteps
        if k == len(rows):
            if not totals or any(count == c and (not octets or total == o) for c, o in totals):
                found += 1
                yield list(acc)
            return
        for key, n in rows[k]:
            if key <= last or found >= MAX_SOLUTIONS:
                continue
            acc.append((key, n))
            yield from walk(k + 1, key, count + n, total + key * n, acc)
            acc.pop()

    yield from walk(0, -1, 0, 0, [])


def solve_table(
    source: str, key: str, rows: list[str], total: str | None, hint: Counter[int], where: str
) -> tuple[dict[int, int], bool]:
    """Split one flattened table; ``hint`` are values the wire log shows
    (chunk lengths or claimed opcodes with their counts). Returns the
    histogram and whether the choice was ambiguous."""
    octets = key.endswith("OctetStats")
    if not all(r.isascii() and r.isdigit() for r in [*rows, *([] if total is None else [total])]):
        raise InputError(source, f"statistics rows are not numeric: {_shown(rows)}", where)
    widest = max((len(r) for r in [*rows, total or ""]), default=0)
    if widest > 3 * MAX_DIGITS:
        raise InputError(
            source, f"a statistics row of {widest} digits (not size, count and octets)", where
        )
    cands = [_octet_splits(r) if octets else _pair_splits(r, 15) for r in rows]
    if total is None:
        sums: list[tuple[int, int]] = []
    elif octets:
        sums = _pair_splits(total, None)
    else:
        sums = [(int(total), 0)]
    try:
        solutions = list(_solve(cands, sums, octets))
    except _TooManySteps:
        raise InputError(
            source, f"the flattened rows {_shown(rows)} split too many ways to solve", where
        ) from None
    if not solutions:
        raise InputError(
            source, f"cannot split the flattened rows {_shown(rows)} (Total {total})", where
        )

    def score(sol: list[tuple[int, int]]) -> int:
        hist = dict(sol)
        return sum(min(hint[k], hist.get(k, 0)) for k in hint)

    best = max(score(s) for s in solutions)
    top = [s for s in solutions if score(s) == best]
    return dict(top[0]), len(top) > 1


def _shown(rows: list[str]) -> str:
    """Rows for a one-line message: at most five, none longer than 40 digits."""
    cut = [r if len(r) <= MAX_DIGITS else r[:MAX_DIGITS] + "..." for r in rows[:5]]
    return str(cut) + (f" (and {len(rows) - 5} more)" if len(rows) > 5 else "")


def _tables(
    source: str, sections: dict[str, tuple[int, list[str]]]
) -> dict[str, tuple[list[str], str | None, str]]:
    out: dict[str, tuple[list[str], str | None, str]] = {}
    for title, key in STAT_TITLES.items():
        if title not in sections:
            continue
        start, lines = sections[title]
        rows: list[str] = []
        total: str | None = None
        for line in lines:
            s = line.strip()
            if not s or s.startswith("Chop Size") or s.startswith("Opcode"):
                continue
            if s.startswith("Total"):
                total = s[len("Total") :].strip()
                break
            if s.startswith("Statistics for"):
                break
            rows.append(s.replace(" ", "").replace("\t", ""))
        out[key] = (rows, total, f"line {start}")
    return out


def parse_report(path: str) -> Report:
    text = read_page(path)
    lines = text.replace("\r\n", "\n").split("\n")
    sections = _sections(lines)
    if "Wire Log" not in sections:
        raise InputError(path, "text, but not an Autobahn case report (no Wire Log section)")
    facts: dict[str, Any] = {}
    for line in lines[:40]:
        found = summary_facts(line)
        if found:
            facts.update(found)
            break
    for title, key in (("Case Description", "description"), ("Case Expectation", "expectation")):
        if title in sections:
            facts[key] = "\n".join(_strip_blank(sections[title][1]))

    request = response = None
    if "Opening Handshake" in sections:
        head = _strip_blank(sections["Opening Handshake"][1])
        split = next((n for n, line in enumerate(head) if line.startswith("HTTP/")), len(head))
        request = restore_head("\n".join(head[:split]))
        response = restore_head("\n".join(head[split:]))
    if "Closing Behavior" in sections:
        for line in sections["Closing Behavior"][1]:
            row = closing_row(line.strip())
            if row is not None:
                facts[row[0]] = row[1]
    if not isinstance(facts.get("isServer"), bool):
        raise InputError(path, "no Closing Behavior table (isServer unknown)")

    start, log_lines = sections["Wire Log"]
    disabled = any(LOG_OFF_NOTE in line for line in log_lines)
    log: list[tuple[str | None, str]] = [
        (None, line) for line in log_lines if LOG_OFF_NOTE not in line
    ]
    entries, dropped = parse_wirelog(path, log, start)

    findings: list[Violation] = []
    stats: WireStats | None = None
    tables = _tables(path, sections)
    if tables:
        hints: dict[str, Counter[int]] = {k: Counter() for k in STAT_KEYS}
        for e in entries:
            if isinstance(e, OctetsEntry) and e.length is not None:
                hints["txOctetStats" if e.direction is Direction.TX else "rxOctetStats"][
                    e.length
                ] += 1
            elif isinstance(e, FrameEntry):
                hints["txFrameStats" if e.direction is Direction.TX else "rxFrameStats"][
                    e.opcode
                ] += 1
        for e in entries:
            if isinstance(e, OctetsEntry) and e.length is None:
                # A cut chunk: a handshake head's length is a good guess.
                known = request if (e.direction is Direction.RX) == facts["isServer"] else response
                if known is not None:
                    key = "txOctetStats" if e.direction is Direction.TX else "rxOctetStats"
                    hints[key][len(known)] += 1
        report: dict[str, dict[str, int]] = {}
        for key in STAT_KEYS:
            if key not in tables:
                continue
            rows, total, where = tables[key]
            hist, ambiguous = solve_table(path, key, rows, total, hints[key], where)
            report[key] = {str(k): v for k, v in hist.items()}
            if ambiguous:
                findings.append(
                    Violation(
                        ViolationKind.STATS_MISMATCH,
                        f"{key}: the flattened rows {rows} split more than one way; "
                        "the split closest to the wire log was taken",
                    )
                )
        stats = WireStats.from_autobahn(report)
        facts.update(stats.to_autobahn())
    if dropped is None and isinstance(facts.get("droppedByMe"), bool):
        dropped = facts["droppedByMe"]
    facts["httpRequest"] = "?" if request is None else request.decode("utf-8", "surrogateescape")
    facts["httpResponse"] = "?" if response is None else response.decode("utf-8", "surrogateescape")
    return Report(
        source=path,
        form="text",
        facts=facts,
        entries=entries,
        request=request,
        response=response,
        is_server=facts["isServer"],
        dropped_by_me=dropped,
        stats=stats,
        logging_disabled_note=disabled,
        findings=findings,
    )
