"""The overview of many cases, as Autobahn's ``index.html`` shows it: one row
per case, its verdict cell in Autobahn's text and colour linking to the case
page, the case's duration, and the closing-behaviour cell.

:func:`index_table` takes plain :class:`IndexRow` values, so a report of a
folder (:func:`wirelog.outputs.report.render_html`: links to the sections of
the one page) and a suite run's ``index.html`` (links to the per-case pages)
can draw the same table; :func:`rows_of` makes the rows of decoded cases.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from wirelog.protocol.connection import DecodedConnection
from wirelog.sources.autobahn.reader import case_key

CELLS = {
    "OK": ("Pass", "#0a0"),
    "NON-STRICT": ("Non-Strict", "#9c0"),
    "INFORMATIONAL": ("Info", "#aaa"),
    "UNIMPLEMENTED": ("Unimplemented", "#9ac"),
    "FAILED": ("Fail", "#e00"),
}
"""Autobahn's verdict cell texts and colours (its report CSS)."""
CLOSE_COLOURS = {
    "OK": "#0a0",
    "FAILED BY CLIENT": "#dc0",
    "WRONG CODE": "#9c0",
    "INFORMATIONAL": "#aaa",
}


@dataclass(frozen=True, slots=True)
class IndexRow:
    case: str
    """The case id (``1.1.1``), or a connection's label for a capture."""
    behavior: str | None
    """Autobahn's verdict (``OK``, ``FAILED``...); None: no verdict (a capture)."""
    behavior_close: str | None
    close_code: int | None
    duration: int | None
    """Milliseconds."""
    link: str


def rows_of(dcs: Sequence[DecodedConnection], anchors: Sequence[str]) -> list[IndexRow]:
    """One row per decoded connection, in case order, linking to ``anchors``."""
    rows = []
    for dc, link in zip(dcs, anchors, strict=True):
        meta = dc.connection.meta
        case = meta.get("id")
        code = meta.get("remoteCloseCode")
        duration = meta.get("duration")
        rows.append(
            IndexRow(
                case=str(case) if case is not None else dc.connection.label,
                behavior=str(meta["behavior"]) if "behavior" in meta else None,
                behavior_close=str(meta["behaviorClose"]) if "behaviorClose" in meta else None,
                close_code=code if isinstance(code, int) else None,
                duration=duration if isinstance(duration, int) else None,
                link=link,
            )
        )
    return sorted(rows, key=lambda r: case_key(r.case) if r.behavior else (1 << 30,))


def index_table(rows: Sequence[IndexRow]) -> str:
    """The case table in Autobahn's colours (an HTML fragment)."""
    out = [
        '<table class="index"><thead><tr><th>Case</th><th>Verdict</th>'
        "<th>Close</th></tr></thead><tbody>"
    ]
    for r in rows:
        text, colour = CELLS.get(r.behavior or "", ("Fail", "#e00"))
        if r.behavior is None:
            text, colour = "Recorded", "#ddd"
        close = r.behavior_close
        ctext = str(r.close_code) if close in CLOSE_COLOURS and r.close_code is not None else "-"
        if close is not None and close not in CLOSE_COLOURS:
            ctext = "Fail" if close == "FAILED" else "Unclean"
        ccolour = CLOSE_COLOURS.get(close or "", "#e00" if close else "#ddd")
        took = (
            f' <span class="case_duration">{r.duration} ms</span>' if r.duration is not None else ""
        )
        out.append(
            f'<tr><td class="key">{html.escape(r.case)}</td>'
            f'<td style="background:{colour}"><a href="{html.escape(r.link)}">{text}</a>{took}</td>'
            f'<td style="background:{ccolour}">{html.escape(ctext)}</td></tr>'
        )
    out.append("</tbody></table>")
    return "\n".join(out)
