"""The replay package's results as text, the way the ``wirelog`` command
prints them (a notebook can print the same).

:func:`render` prints any :class:`~wirelog.replay.verdict.Verdict`: an
Autobahn-like summary (Case Outcome with Expected/Observed events, Case
Closing Behavior side by side), then a readable diff, ``-`` for what only A
has and ``+`` for what only B has. :func:`render_replay` puts what the
replay sent and got above it; :func:`render_load` prints a load run.
"""

from __future__ import annotations

from wirelog.model import Direction
from wirelog.replay.run import LoadReport, Report
from wirelog.replay.verdict import Verdict

#: Lines of one difference shown before "... N more".
_DIFF_LINES = 40
#: Chop sizes listed in a replay's header.
_CHOPS = 12


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
            lines.extend(f"    {line}" for line in d.lines[:_DIFF_LINES])
            if len(d.lines) > _DIFF_LINES:
                lines.append(f"    ... {len(d.lines) - _DIFF_LINES} more")
        lines.append("")
    for f in v.faults:
        lines.append(f"Fault: {f}")
    verdict = "EQUIVALENT" if v.equivalent else "FAULT" if v.faults else "DIFFERENT"
    lines.append(f"Verdict: {verdict}")
    return "\n".join(lines) + "\n"


def render_replay(report: Report, *, title: str) -> str:
    """A replay: what it sent and received, then its verdict against the
    recording."""
    o = report.result.outcome
    plan = report.plan
    chunks = report.result.connection.chunks
    sent = sum(c.length for c in chunks if c.direction is Direction.TX)
    got = [c for c in chunks if c.direction is Direction.RX]
    rebuilt = sum(1 for w in plan.writes if w.rebuilt)
    synth = sum(w.synthesized for w in plan.writes)
    sizes = [len(w.data) for w in plan.writes]
    shown = ", ".join(str(n) for n in sizes[:_CHOPS]) + (", ..." if len(sizes) > _CHOPS else "")
    lines = [
        f"writes    {o.writes_sent} of {o.writes_planned} sent, {sent} octets"
        f" ({rebuilt} rebuilt from the log, {synth} octets synthesized)",
        f"chops     {shown}",
        f"received  {len(got)} chunks, {sum(c.length for c in got)} octets"
        f" in {o.duration * 1000:.1f} ms",
    ]
    verdict = render(
        report.verdict, title=title, a_name="recording", b_name="replay", ref="the recording"
    )
    return "\n".join(lines) + "\n\n" + verdict


def render_load(report: LoadReport) -> str:
    """A load run; with no completed session there is no rate and no
    latency to print, only the failures."""
    d = report.as_dict()
    lat = d["latency_ms"]
    if d["sessions_per_s"] is None:
        head = f"sessions     {d['sessions']} tried in {d['elapsed_s']} s, none completed\n"
    else:
        rate = f"{d['sessions_per_s']} sessions/s"
        failed = f", {d['errors']} failed" if d["errors"] else ""
        head = f"sessions     {d['sessions']} in {d['elapsed_s']} s ({rate}{failed})\n"
    text = (
        head + f"equivalent   {d['equivalent']}\n"
        f"mismatches   {d['mismatches']}\n"
        f"errors       {d['errors']}\n"
    )
    if lat is not None:
        text += f"latency ms   p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}\n"
    if report.first_difference:
        text += f"first mismatch: {report.first_difference}\n"
    return text
