"""Autobahn's per-case HTML page (spec ``autobahn-wirelog.md`` §2).

The page is rendered from the same Python objects as the JSON, by string
formatting and **without HTML escaping**, so the text between tags is taken
verbatim (never unescaped). Pages are read as UTF-8 with
``surrogateescape``: encoded lone surrogates make some pages invalid UTF-8,
and the escaped bytes map back to exactly the payload bytes.

What the page loses compared with the JSON (§2.3) is recovered where that
is exact: the chunk lengths of cut octets come from the statistics tables
(see :func:`~.streams.solve_lengths`), the RF mask printed hex-encoded
twice is decoded once more, the heads get their CRLF and final blank line
back. The TO sync flag lives only in the CSS class.

Both renderings are read: Autobahn's own (one ``<pre>`` per output line,
RF masks double-hexed, logos on autobahn.ws or readthedocs) and pages whose
``<pre>`` blocks hold several lines or whose RF masks are printed once.

Elements are found by scanning forward with ``str.find`` (:func:`elements`),
never by a lazy ``(.*?)</tag>`` regex: such a regex rescans to the end of
the page from every unclosed tag, so a 500 KB page of unclosed ``<pre>``,
``<tr>`` or ``<td>`` took minutes. Every scan here is linear in the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from wirelog.errors import InputError, TruncatedInputError
from wirelog.sources.autobahn.entries import CLOSING_KEYS, Report
from wirelog.sources.autobahn.grammar import LOG_OFF_NOTE, parse_wirelog
from wirelog.sources.autobahn.limits import MAX_DIGITS, digits_ok
from wirelog.sources.pcap.streams import read_all
from wirelog.stats import STAT_KEYS, WireStats

STAT_TITLES = {
    "Octets Received by Chop Size": "rxOctetStats",
    "Octets Transmitted by Chop Size": "txOctetStats",
    "Frames Received by Opcode": "rxFrameStats",
    "Frames Transmitted by Opcode": "txFrameStats",
}
_TAG = re.compile(r"<[^>]*>")
_PRE_CLASS = re.compile(r"""\s+class=["']?([\w ]*)["']?""")
_SUMMARY = re.compile(r'<p class="case[^"]*">')
_OUTCOME = re.compile(r'case_outcome">\s*<b>Case Outcome</b><br/><br/>')
SUMMARY = re.compile(
    r"^(?P<agent>.*) - Case (?P<id>\S+) : (?P<outcome>[\w-]+) - (?P<ms>-?\d{1,40}) ms @ (?P<at>\S*)"
)
OUTCOMES = {
    "Pass": "OK",
    "Non-Strict": "NON-STRICT",
    "Informational": "INFORMATIONAL",
    "No Close": "NO_CLOSE",
}


def read_page(path: str) -> str:
    # Through the stream reader: ``-``, FIFOs and gzip work as for captures.
    return read_all(path).decode("utf-8", "surrogateescape")


def python_value(text: str) -> Any:
    """A value the page printed with Python's ``str()``."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    if digits_ok(text, signed=True):
        return int(text)
    return text


def restore_head(text: str) -> bytes | None:
    """A ``http_dump`` block back to the head's bytes: the page printed
    ``head.strip()``, so the CRLF line ends and the final blank line return
    (spec §2.1 item 5)."""
    text = text.strip("\r\n")
    if not text.strip() or text.strip() == "?":
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def elements(text: str, tag: str) -> Iterator[tuple[str, str]]:
    """``(attributes, content)`` of each ``<tag ...>content</tag>`` in order,
    as ``<tag[^>]*>(.*?)</tag>`` would find them, in one forward scan: when
    no closing tag follows an opening one, none follows a later one either."""
    opener, closer = "<" + tag, "</" + tag + ">"
    pos = 0
    while True:
        start = text.find(opener, pos)
        if start < 0:
            return
        gt = text.find(">", start)
        end = text.find(closer, gt + 1) if gt >= 0 else -1
        if end < 0:
            return
        yield text[start + len(opener) : gt], text[gt + 1 : end]
        pos = end + len(closer)


def pre_blocks(text: str) -> Iterator[tuple[str, str]]:
    """``(css class, content)`` of each ``<pre class=...>``."""
    for attrs, content in elements(text, "pre"):
        m = _PRE_CLASS.fullmatch(attrs)
        if m:
            yield m.group(1), content


def _after(page: str, opener: re.Pattern[str], prefix: str, closer: str) -> str | None:
    """The text between the first ``opener`` (which starts with the literal
    ``prefix``) and the next ``closer``; linear, unlike a lazy regex search."""
    at = page.find(prefix)
    while at >= 0:
        m = opener.match(page, at)
        if m:
            end = page.find(closer, m.end())
            return None if end < 0 else page[m.end() : end]
        at = page.find(prefix, at + 1)
    return None


# -- the wire log ----------------------------------------------------------------


def wirelog_lines(page: str) -> tuple[list[tuple[str | None, str]], bool, int] | None:
    """The ``(css class, line)`` pairs of the page's ``<div id=wirelog>``,
    whether it holds the "log disabled" note, and the page line it starts
    on; None when the page has no wire log."""
    start = page.find('<div id="wirelog">')
    if start < 0:
        start = page.find("<div id=wirelog>")
    if start < 0:
        return None
    end = page.find("</div>", start)
    end = len(page) if end < 0 else end
    section = page[start:end]
    lines: list[tuple[str | None, str]] = []
    for css, content in pre_blocks(section):
        if css.startswith("wirelog_"):
            lines += [(css, line) for line in content.split("\n")]
    return lines, LOG_OFF_NOTE in section, page.count("\n", 0, start)


# -- statistics tables -------------------------------------------------------------


def stats_from_rows(rows: dict[str, list[list[str]]]) -> WireStats:
    """``{title key: [[cell, ...], ...]}`` (header and Total rows dropped)."""
    report: dict[str, dict[str, int]] = {}
    for key in STAT_KEYS:
        report[key] = {r[0]: int(r[1]) for r in rows.get(key, [])}
    return WireStats.from_autobahn(report)


# -- the page ---------------------------------------------------------------------------


def _text(html: str) -> str:
    """The text without tags. A ``<`` with no ``>`` after it is kept as text;
    cutting at the last ``>`` keeps the regex from rescanning to the end of
    the text from each of them."""
    cut = html.rfind(">") + 1
    return _TAG.sub("", html[:cut]) + html[cut:]


def _line_of(page: str, pos: int) -> str:
    return f"line {page.count(chr(10), 0, pos) + 1}"


def summary_facts(line: str) -> dict[str, Any]:
    """The case summary line ("<agent> - Case <id> : <outcome> - <n> ms @ <time>"),
    as the HTML page and its flattened text both print it; {} if it is not one."""
    m = SUMMARY.match(" ".join(line.split()))
    if not m:
        return {}
    facts: dict[str, Any] = {
        "agent": m.group("agent"),
        "id": m.group("id"),
        "duration": int(m.group("ms")),
        "started": m.group("at"),
        "outcome": m.group("outcome"),
    }
    if m.group("outcome") in OUTCOMES:
        # "Fail" also stands for UNIMPLEMENTED and others (spec §2.1).
        facts["behavior"] = OUTCOMES[m.group("outcome")]
    return facts


def parse_report(path: str) -> Report:
    page = read_page(path)
    if "</html>" not in page[-4096:].lower():
        last = page.rstrip().count("\n") + 1
        raise TruncatedInputError(path, "the page ends early (no </html>)", f"line {last}")
    facts: dict[str, Any] = {}
    summary = _after(page, _SUMMARY, '<p class="case', "</p>")
    if summary is not None:
        facts.update(summary_facts(_text(summary)))
    for cls, key in (("case_desc", "description"), ("case_expect", "expectation")):
        prefix = f'<p class="case_text_block {cls}"><b>'
        text = _after(page, re.compile(re.escape(prefix) + "[^<]*</b><br/><br/>"), prefix, "</p>")
        if text is not None:
            facts[key] = text
    outcome = _after(page, _OUTCOME, 'case_outcome">', "<br/><br/>")
    if outcome is not None:
        facts["result"] = outcome
    prefix = 'case_closing_beh"><b>'
    closing_text = _after(page, re.compile(prefix + "[^<]*</b><br/><br/>"), prefix, "</p>")
    if closing_text is not None and closing_text.endswith(")"):
        result, sep, behavior = closing_text[:-1].rpartition(" (")
        if sep and "(" not in behavior and ")" not in behavior:
            facts["resultClose"], facts["behaviorClose"] = result, behavior

    dumps = [content for css, content in pre_blocks(page) if css == "http_dump"]
    request = restore_head(dumps[0]) if len(dumps) > 0 else None
    response = restore_head(dumps[1]) if len(dumps) > 1 else None

    closing = page.find("<h2>Closing Behavior</h2>")
    if closing >= 0:
        table_end = page.find("</table>", closing)
        for _, row in elements(page[closing:table_end], "tr"):
            cells = [cell for _, cell in elements(row, "td")]
            if len(cells) >= 2 and cells[0] in CLOSING_KEYS:
                facts[cells[0]] = python_value(cells[1])

    rows: dict[str, list[list[str]]] = {}
    for title, key in STAT_TITLES.items():
        at = page.find(f"<h3>{title}</h3>")
        if at < 0:
            continue
        end = page.find("</table>", at)
        width = 3 if key.endswith("OctetStats") else 2
        body: list[list[str]] = []
        for _, row in elements(page[at:end], "tr"):
            cells = [_text(c).strip() for _, c in elements(row, "td")]
            if not cells or not cells[0].isdigit():
                continue  # header and Total rows
            if len(cells) != width or not all(digits_ok(c) for c in cells):
                shown = [c[:MAX_DIGITS] + ("..." if len(c) > MAX_DIGITS else "") for c in cells]
                raise InputError(
                    path,
                    f"statistics row {shown[:4]} is not {width} numbers of at most "
                    f"{MAX_DIGITS} digits",
                    _line_of(page, at),
                )
            body.append(cells)
        rows[key] = body
    stats = stats_from_rows(rows) if rows else None

    found = wirelog_lines(page)
    if found is None:
        raise InputError(path, "HTML, but not an Autobahn case report (no wire log)")
    lines, disabled, first_line = found
    entries, dropped = parse_wirelog(path, lines, first_line)
    if "isServer" not in facts:
        raise InputError(path, "no Closing Behavior table (isServer unknown)")
    if dropped is None:
        dropped = facts.get("droppedByMe") if isinstance(facts.get("droppedByMe"), bool) else None
    facts["httpRequest"] = _head_text(request)
    facts["httpResponse"] = _head_text(response)
    if stats is not None:
        facts.update(stats.to_autobahn())
    return Report(
        source=path,
        form="html",
        facts=facts,
        entries=entries,
        request=request,
        response=response,
        is_server=bool(facts["isServer"]),
        dropped_by_me=dropped,
        stats=stats,
        logging_disabled_note=disabled,
    )


def _head_text(head: bytes | None) -> str:
    return "?" if head is None else head.decode("utf-8", "surrogateescape")
