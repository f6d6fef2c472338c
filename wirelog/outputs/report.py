"""Autobahn-style case reports for any input, as text or a self-contained page.

The layout follows Autobahn's case report (spec ``autobahn-wirelog.md`` §2.1):
a summary line, Opening Handshake, Closing Behavior, Wire Statistics and the
Wire Log, whose lines follow Autobahn's grammar exactly (§2.2): a ``%03d``
entry counter, 9-character prefixes, 15-space continuation lines,
``textwrap.wrap(s, 100)``, octets as hex of at most 64 bytes with ``" ..."``
past 60, payloads as UTF-8 text or ``0x``-hex, the RF ``MASK`` printed as the
hex of its hex (Autobahn's quirk), and a final ``TCP DROPPED BY ME/PEER``.

Where the log comes from:

* An Autobahn input carries its own wire log: TO/RO are its chunks, TF/RF
  its claims, CT/KL/TI/WLM its markers, all in entry order.
* Any other input (a pcap connection) has no log, so one is derived: TO/RO
  are the recorded chunks (a capture's TCP payloads), a TF is placed before
  the chunk holding its first header octet (Autobahn logs TF before writing)
  and an RF after the chunk that completes the frame (Autobahn logs RF when a
  frame completes). ``ME`` is the recorder (``tx``; for a pcap the client).

Closing Behavior shows the report's own values where the input has them;
otherwise what the decoded traffic tells, and ``?`` for what a capture
cannot know (timeouts, whether a side *failed* the connection).

Wire Statistics are computed by :mod:`wirelog.stats` from the recording
(what ``wirelog stats`` prints), not copied from the report, so a report
round-trip checks wirelog's counting against Autobahn's.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from wirelog.model import Marker, MarkerKind
from wirelog.outputs.statsview import TITLES, stats_entry
from wirelog.protocol.connection import DecodedConnection
from wirelog.sources.autobahn.grammar import LOG_OFF_NOTE, WRAP, LogLine, marker_line
from wirelog.sources.autobahn.render import log_items, wire_log
from wirelog.stats import STAT_KEYS
from wirelog.summary import closing_of, summarize

# -- closing behavior -----------------------------------------------------------------

CLOSING_KEYS: tuple[tuple[str, str], ...] = (
    ("isServer", "True, iff I (the fuzzer) am a server, and the peer is a client."),
    ("closedByMe", "True, iff I have initiated closing handshake (that is, did send close first)."),
    (
        "failedByMe",
        "True, iff I have failed the WS connection (i.e. due to protocol error). Failing can be "
        "either by initiating closing handshake or brutal drop TCP.",
    ),
    ("droppedByMe", "True, iff I dropped the TCP connection."),
    (
        "wasClean",
        "True, iff full WebSockets closing handshake was performed (close frame sent and "
        "received) _and_ the server dropped the TCP (which is its responsibility).",
    ),
    ("wasNotCleanReason", "When wasClean == False, the reason what happened."),
    (
        "wasServerConnectionDropTimeout",
        "When we are a client, and we expected the server to drop the TCP, but that didn't "
        "happen in time, this gets True.",
    ),
    (
        "wasOpenHandshakeTimeout",
        "When performing the opening handshake, but the peer did not finish in time, this gets "
        "True.",
    ),
    (
        "wasCloseHandshakeTimeout",
        "When we initiated a closing handshake, but the peer did not respond in time, this gets "
        "True.",
    ),
    ("localCloseCode", "The close code I sent in close frame (if any)."),
    ("localCloseReason", "The close reason I sent in close frame (if any)."),
    ("remoteCloseCode", "The close code the peer sent me in close frame (if any)."),
    ("remoteCloseReason", "The close reason the peer sent me in close frame (if any)."),
)

UNKNOWN = "?"


def closing_behavior(dc: DecodedConnection) -> tuple[list[tuple[str, str, str]], bool]:
    """Rows (key, value, description) and whether they were derived (not reported).

    The values are :meth:`wirelog.summary.Closing.autobahn`: the report's own
    where it has them, else what the decoded traffic tells, else ``?``."""
    closing = closing_of(dc)
    reported = dict(closing.reported)
    if all(k in reported for k, _ in CLOSING_KEYS):
        return [(k, str(reported[k]), d) for k, d in CLOSING_KEYS], False
    values = closing.autobahn()
    return [(k, str(values[k]) if k in values else UNKNOWN, d) for k, d in CLOSING_KEYS], True


# -- statistics tables -----------------------------------------------------------------


def stats_tables(dc: DecodedConnection) -> tuple[dict[str, Any], list[tuple[str, list[list[str]]]]]:
    """The ``wirelog stats`` entry and the four tables as rows of cells."""
    entry = stats_entry(dc.connection, summarize(dc).stats)
    tables: list[tuple[str, list[list[str]]]] = []
    for key in STAT_KEYS:
        hist = {int(k): int(v) for k, v in entry[key].items()}
        if key.endswith("OctetStats"):
            rows = [["Chop Size", "Count", "Octets"]]
            rows += [[str(s), str(c), str(s * c)] for s, c in sorted(hist.items())]
            rows.append(
                ["Total", str(sum(hist.values())), str(sum(s * c for s, c in hist.items()))]
            )
        else:
            rows = [["Opcode", "Count"]]
            rows += [[str(o), str(c)] for o, c in sorted(hist.items())]
            rows.append(["Total", str(sum(hist.values()))])
        tables.append((TITLES[key], rows))
    return entry, tables


def _hidden_note(entry: dict[str, Any]) -> str | None:
    if entry.get("complete", True):
        return None
    parts = []
    for key in STAT_KEYS:
        h = entry.get("hidden", {}).get(key)
        if h:
            parts.append(f"{TITLES[key]}: " + ", ".join(f"{k}: {v}" for k, v in h.items()))
    return (
        "The wire log does not cover the whole connection; the tables count what it shows. "
        "The report's own statistics count beyond it: " + "; ".join(parts)
        if parts
        else "The wire log and the report's own statistics differ."
    )


# -- summary ----------------------------------------------------------------------------

_VERDICT = {"OK": "Pass", "NON-STRICT": "Non-Strict", "INFORMATIONAL": "Informational"}


def summary_line(dc: DecodedConnection) -> str:
    conn = dc.connection
    meta = conn.meta
    case = meta.get("id") or meta.get("case_id")
    if case is not None:
        agent = meta.get("agent") or "?"
        verdict = _VERDICT.get(str(meta.get("behavior")), "Fail")
        duration = meta.get("duration")
        started = meta.get("started")
        tail = f" - {duration} ms" if duration is not None else ""
        tail += f" @ {started}" if started else ""
        return f"{agent} - Case {case} : {verdict}{tail}"
    ends = f" ({conn.client or '?'} -> {conn.server or '?'})" if conn.client or conn.server else ""
    line = f"{conn.source} - Connection {conn.conn}{ends}: recorded as the {conn.recorder.value}"
    tls = conn.tls
    if tls is not None:
        facts = [tls.cipher, f"SNI {tls.sni}" if tls.sni else None]
        facts.append(f"ALPN {tls.alpn}" if tls.alpn else None)
        line += f", over {tls.version or 'TLS'} ({', '.join(f for f in facts if f)})"
    return line


def _strip_tags(s: str) -> str:
    return re.sub(r"<[^>]+>", "", s.replace("<br>", "\n").replace("<br/>", "\n"))


def _case_texts(dc: DecodedConnection) -> list[tuple[str, str]]:
    meta = dc.connection.meta
    out = []
    for title, key in (
        ("Case Description", "description"),
        ("Case Expectation", "expectation"),
        ("Case Outcome", "result"),
    ):
        v = meta.get(key)
        if isinstance(v, str) and v:
            out.append((title, _strip_tags(v).strip()))
    if "result" in meta and ("expected" in meta or "received" in meta):
        # Autobahn's Case Outcome: the result, then what it expected and what
        # it observed (Python reprs, cut to 1000 characters: spec §2.1).
        body = out.pop()[1] if out and out[-1][0] == "Case Outcome" else ""
        for label, key in (("Expected", "expected"), ("Observed", "received")):
            if key in meta:
                body += f"\n\n{label}:\n{_cut(str(meta[key]))}"
        out.append(("Case Outcome", body.strip()))
    rc = meta.get("resultClose")
    if isinstance(rc, str):
        out.append(("Case Closing Behavior", f"{rc} ({meta.get('behaviorClose')})"))
    return out


def _cut(s: str, limit: int = 1000) -> str:
    return s if len(s) <= limit else s[: limit - 4] + " ..."


_RECORDER_WORDS = (
    ("I (the fuzzer) am a server", "the recorder is the server"),
    ("I have initiated", "the recorder initiated"),
    ("I have failed", "the recorder failed"),
    ("I dropped", "the recorder dropped"),
    ("When we are a client, and we expected", "When the recorder is the client and expected"),
    ("When we initiated", "When the recorder initiated"),
    ("The close code I sent", "The close code the recorder sent"),
    ("The close reason I sent", "The close reason the recorder sent"),
    ("the peer sent me", "the peer sent the recorder"),
)
"""Autobahn's descriptions speak as the fuzzer; a capture's report speaks of
its recorder (the side whose ``tx`` it is: for a pcap, the client)."""


def describe(text: str, autobahn: bool) -> str:
    if autobahn:
        return text
    for mine, theirs in _RECORDER_WORDS:
        text = text.replace(mine, theirs)
    return text


def _is_autobahn(dc: DecodedConnection) -> bool:
    meta = dc.connection.meta
    return meta.get("id") is not None or meta.get("case_id") is not None


def timed_log(dc: DecodedConnection) -> list[LogLine]:
    """:func:`wire_log`, and for an input with times (a capture) each entry's
    first line ends with its time since the connection began: Autobahn's
    logs carry no times, so its own reports are left exactly as printed."""
    log = wire_log(dc)
    start = summarize(dc).start
    if start is None or _is_autobahn(dc):
        return log
    times: list[float | None] = []
    n = 0
    for it in log_items(dc):  # the entries wire_log numbers, in its order
        if isinstance(it, Marker) and (
            it.kind in (MarkerKind.DROPPED, MarkerKind.FIN, MarkerKind.RST)
            or marker_line(n, it) is None
        ):
            continue
        times.append(getattr(it, "ts", None))
        n += 1
    out = []
    for i, entry in enumerate(log):
        ts = times[i] if i < len(times) else None
        if ts is None or not entry.lines:
            out.append(entry)
            continue
        first = f"{entry.lines[0]}   [t={ts - start:.6f}s]"
        out.append(LogLine(entry.css, (first, *entry.lines[1:])))
    return out


def _handshake_heads(dc: DecodedConnection) -> list[str]:
    conn = dc.connection
    heads: list[str] = []
    req = conn.handshake_request or (dc.handshake.request if dc.handshake else None)
    resp = conn.handshake_response or (dc.handshake.response if dc.handshake else None)
    for h in (req, resp):
        if h:
            heads.append(h.decode("utf-8", "replace").strip().replace("\r\n", "\n"))
    return heads


# -- text -------------------------------------------------------------------------------


def _table_text(rows: Sequence[Sequence[str]], numeric: bool = True) -> list[str]:
    """Aligned columns; numbers right-aligned, text left-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) if numeric else c.ljust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        out.append("   ".join(cells).rstrip())
    return out


def render_text_one(dc: DecodedConnection) -> str:
    lines = ["Autobahn-style WebSocket report (wirelog)", "", summary_line(dc), ""]
    for title, body in _case_texts(dc):
        lines += [title, "", body, ""]
    lines += ["", "Opening Handshake", ""]
    heads = _handshake_heads(dc)
    lines += [*heads] if heads else ["(no handshake in the recording)"]
    lines += ["", "", "Closing Behavior", ""]
    rows, derived = closing_behavior(dc)
    if derived:
        lines += ["(derived from the decoded traffic; ? = cannot be known from this input)", ""]
    ab = _is_autobahn(dc)
    table = [[k, v, describe(d, ab)] for k, v, d in rows]
    lines += _table_text([["Key", "Value", "Description"], *table], False)
    lines += ["", "", "Wire Statistics", ""]
    entry, tables = stats_tables(dc)
    note = _hidden_note(entry)
    if note:
        lines += [textwrap.fill(note, WRAP), ""]
    for title, trows in tables:
        lines += [title, "", *_table_text(trows), ""]
    lines += ["", "Wire Log", ""]
    if dc.connection.meta.get("createWirelog") is False:
        lines += [LOG_OFF_NOTE, ""]
    lines += [line for entry_ in timed_log(dc) for line in entry_.lines]
    return "\n".join(lines) + "\n"


def render_text(dcs: Iterable[DecodedConnection]) -> str:
    return ("\n" + "=" * WRAP + "\n\n").join(render_text_one(dc) for dc in dcs)


# -- html -------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1em; margin-bottom: .3em; }
.case_ok { color: #070; } .case_failed { color: #a00; } .case_info { color: #555; }
table { border-collapse: collapse; margin: .5em 0 1em 0; }
th, td { border: 1px solid #bbb; padding: 2px 8px; text-align: right; font-size: .9em; }
th { background: #eee; } td.key, td.desc { text-align: left; }
table.closing th { text-align: left; }
table.closing td:nth-child(2) { text-align: left; font-family: monospace; }
pre { margin: 0; font-size: 12px; line-height: 1.3; white-space: pre-wrap; }
pre.http_dump { background: #f6f6f6; padding: .5em; margin-bottom: .5em; }
.note { color: #a60; }
#wirelog pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.wirelog_rx_octets { color: #0050a0; } .wirelog_tx_octets { color: #a05000; }
.wirelog_tx_octets_sync { color: #a05000; background: #fff3e0; }
.wirelog_rx_frame { color: #0050a0; font-weight: bold; }
.wirelog_tx_frame { color: #a05000; font-weight: bold; }
.wirelog_tx_frame_sync { color: #a05000; font-weight: bold; background: #fff3e0; }
.wirelog_delay, .wirelog_kill_after { color: #666; }
.wirelog_tcp_closed_by_me, .wirelog_tcp_closed_by_peer, .wirelog_open, .wirelog_gap
  { color: #a00; font-weight: bold; }
nav a { margin-right: 1em; }
p.case_text { white-space: pre-line; }
table.index td { text-align: left; } .case_duration { font-size: .8em; margin-left: 1em; }
"""


_LONE = re.compile("[\ud800-\udfff]")


def _h(s: str) -> str:
    """Escaped (Autobahn inserts payloads raw, which can break its pages) and
    valid UTF-8: a lone surrogate from a fuzzed payload shows as U+FFFD."""
    return html.escape(_LONE.sub("\ufffd", s), quote=True)


def _table_html(rows: Sequence[Sequence[str]], cls: str) -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in rows[0])
    body = []
    for r in rows[1:]:
        cells = "".join(f"<td>{_h(c)}</td>" for c in r)
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def render_html_one(dc: DecodedConnection, anchor: str) -> str:
    meta = dc.connection.meta
    b = str(meta.get("behavior", ""))
    cls = {"OK": "case_ok", "INFORMATIONAL": "case_info"}.get(b, "case_failed" if b else "")
    parts = [f'<section id="{anchor}">', f'<h1 class="{cls}">{_h(summary_line(dc))}</h1>']
    for title, body in _case_texts(dc):
        parts.append(f'<h3>{_h(title)}</h3><p class="case_text">{_h(body)}</p>')
    parts.append("<h2>Opening Handshake</h2>")
    heads = _handshake_heads(dc)
    parts += [f'<pre class="http_dump">{_h(h)}</pre>' for h in heads] or [
        "<p>(no handshake in the recording)</p>"
    ]
    parts.append("<h2>Closing Behavior</h2>")
    rows, derived = closing_behavior(dc)
    if derived:
        parts.append(
            '<p class="note">Derived from the decoded traffic; ? = cannot be known from '
            "this input.</p>"
        )
    body = "".join(
        f'<tr><td class="key">{_h(k)}</td><td>{_h(v)}</td>'
        f'<td class="desc">{_h(describe(d, _is_autobahn(dc)))}</td></tr>'
        for k, v, d in rows
    )
    parts.append(
        '<table class="closing"><thead><tr><th>Key</th><th>Value</th><th>Description</th>'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )
    parts.append("<h2>Wire Statistics</h2>")
    entry, tables = stats_tables(dc)
    note = _hidden_note(entry)
    if note:
        parts.append(f'<p class="note">{_h(note)}</p>')
    for title, trows in tables:
        parts.append(f"<h3>{_h(title)}</h3>" + _table_html(trows, "stats"))
    parts.append("<h2>Wire Log</h2>")
    if dc.connection.meta.get("createWirelog") is False:
        parts.append(f'<p class="note">{LOG_OFF_NOTE}</p>')
    parts.append('<div class="wirelog" id="wirelog">')
    for entry_ in timed_log(dc):
        parts += [f'<pre class="{entry_.css}">{_h(line)}</pre>' for line in entry_.lines]
    parts.append("</div></section>")
    return "\n".join(parts)


def render_html(dcs: Iterable[DecodedConnection], title: str | None = None) -> str:
    """A complete, self-contained HTML page (inline CSS, no scripts, no fetches)."""
    done: list[DecodedConnection] = []
    parts: list[str] = []
    for i, dc in enumerate(dcs):
        parts.append(render_html_one(dc, f"c{i}"))
        done.append(dc)
    dcs = done
    title = title or (summary_line(dcs[0]) if len(dcs) == 1 else f"{len(dcs)} connections")
    nav = ""
    if len(dcs) > 1:  # a folder: Autobahn's index table first, linking to each case
        from wirelog.outputs.index import index_table, rows_of

        nav = f"<nav>{index_table(rows_of(dcs, [f'#c{i}' for i in range(len(dcs))]))}</nav>"
    sections = "\n<hr>\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_h(title)}</title><style>{CSS}</style></head>\n<body>\n"
        f"{nav}\n{sections}\n</body></html>\n"
    )
