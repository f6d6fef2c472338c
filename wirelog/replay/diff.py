"""Compare two recordings and print the result as Autobahn prints a case.

:func:`diff_recordings` is what ``wirelog diff A B`` calls; :func:`render`
prints any :class:`~wirelog.replay.verdict.Verdict` (the replay command uses
it too): an Autobahn-like summary (Case Outcome with Expected/Observed
events, Case Closing Behavior side by side), then a readable diff, ``-`` for
what only A has and ``+`` for what only B has.
"""

from __future__ import annotations

from wirelog.errors import UsageError
from wirelog.model import Recording
from wirelog.protocol.connection import DecodedConnection
from wirelog.replay.verdict import Verdict, compare


def pick(decoded: list[DecodedConnection], conn: int | None, source: str) -> DecodedConnection:
    """The connection numbered ``conn``; without a number the input must hold
    exactly one WebSocket connection (the first with a handshake wins if
    several connections exist but only one upgraded)."""
    if not decoded:
        raise UsageError(f"{source}: no connections")
    if conn is not None:
        for dc in decoded:
            if dc.conn == conn:
                return dc
        have = ", ".join(str(dc.conn) for dc in decoded[:20])
        raise UsageError(f"{source}: no connection {conn} (have {have})")
    if len(decoded) == 1:
        return decoded[0]
    upgraded = [dc for dc in decoded if dc.handshake is not None and dc.handshake.upgraded]
    if len(upgraded) == 1:
        return upgraded[0]
    have = ", ".join(str(dc.conn) for dc in decoded[:20])
    raise UsageError(f"{source}: {len(decoded)} connections ({have}); pick one with --conn")


def decode_all(recording: Recording) -> list[DecodedConnection]:
    from wirelog.pipeline import decode_recording

    return decode_recording(recording)


def diff_recordings(
    a: Recording,
    b: Recording,
    *,
    conn_a: int | None = None,
    conn_b: int | None = None,
) -> Verdict:
    da = pick(decode_all(a), conn_a, a.source)
    db = pick(decode_all(b), conn_b, b.source)
    return compare(da, db)


def _events(events: list[tuple[object, ...]]) -> str:
    return "[" + ", ".join("(" + ", ".join(repr(x) for x in e) + ")" for e in events) + "]"


def render(v: Verdict, *, title: str, a_name: str = "A", b_name: str = "B", ref: str = "A") -> str:
    lines = [title, ""]
    lines.append(f"  {a_name}: {v.a}")
    lines.append(f"  {b_name}: {v.b}")
    lines.append("")
    lines.append("Case Outcome")
    same_events = v.a_events == v.b_events
    lines.append(f"  Actual events {'match' if same_events else 'differ from'} {ref}.")
    lines.append(f"  Expected: {_events(v.a_events)}")
    lines.append(f"  Observed: {_events(v.b_events)}")
    lines.append("")
    lines.append("Case Closing Behavior")
    if v.a_closing and v.b_closing:
        rows = [("Key", a_name, b_name)] + [
            (k, x, y) for (k, x), (_, y) in zip(v.a_closing.rows(), v.b_closing.rows(), strict=True)
        ]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        for k, x, y in rows:
            mark = " " if x == y or k == "Key" else "*"
            lines.append(f"{mark} {k.ljust(w0)}  {x.ljust(w1)}  {y}")
    for note in v.notes:
        lines.append(f"  note: {note}")
    lines.append("")
    if v.differences:
        lines.append("Differences")
        for d in v.differences:
            lines.append(f"  {d.topic}:")
            lines.extend(f"    {line}" for line in d.lines[:40])
            if len(d.lines) > 40:
                lines.append(f"    ... {len(d.lines) - 40} more")
        lines.append("")
    for f in v.faults:
        lines.append(f"Fault: {f}")
    verdict = "EQUIVALENT" if v.equivalent else "FAULT" if v.faults else "DIFFERENT"
    lines.append(f"Verdict: {verdict}")
    return "\n".join(lines) + "\n"
