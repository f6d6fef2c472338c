"""Autobahn's per-case HTML page (spec ``autobahn-wirelog.md`` §2).

The page is rendered from the same Python objects as the JSON, by string
formatting and **without HTML escaping**, so the text between tags is taken
verbatim (never unescaped). Pages are read as UTF-8 with
``surrogateescape``: encoded lone surrogates make some pages invalid UTF-8,
and the escaped bytes map back to exactly the payload bytes.

What the page loses compared with the JSON (§2.3) is recovered where that
is exact: the chunk lengths of cut octets come from the statistics tables
(see :func:`~.autobahn_log.solve_lengths`), the RF mask printed hex-encoded
twice is decoded once more, the heads get their CRLF and final blank line
back. The TO sync flag lives only in the CSS class.

Both renderings are read: Autobahn's own (one ``<pre>`` per output line,
RF masks double-hexed, logos on autobahn.ws or readthedocs) and pages whose
``<pre>`` blocks hold several lines or whose RF masks are printed once.
"""

from __future__ import annotations

import re
from typing import Any

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import Direction, MarkerKind
from wirelog.sources.autobahn.log import (
    ELLIPSIS,
    MAXLEN,
    Entry,
    FrameEntry,
    MarkerEntry,
    OctetsEntry,
    Report,
    is_hex_form,
    octets_from_log,
    payload_from_log,
)
from wirelog.stats import STAT_KEYS, WireStats

#: Continuation lines line up after ``"NNN XX XXXXXX: "`` (§2.2).
INDENT = " " * 15
CLOSING_KEYS = (
    "isServer",
    "closedByMe",
    "failedByMe",
    "droppedByMe",
    "wasClean",
    "wasNotCleanReason",
    "wasServerConnectionDropTimeout",
    "wasOpenHandshakeTimeout",
    "wasCloseHandshakeTimeout",
    "localCloseCode",
    "localCloseReason",
    "remoteCloseCode",
    "remoteCloseReason",
)
STAT_TITLES = {
    "Octets Received by Chop Size": "rxOctetStats",
    "Octets Transmitted by Chop Size": "txOctetStats",
    "Frames Received by Opcode": "rxFrameStats",
    "Frames Transmitted by Opcode": "txFrameStats",
}
_HEAD = re.compile(r"^(\d{3,}) (.*)$")
_KV = re.compile(r"([A-Z][A-Z-]*)=([^,]*)(?:, |$)")
_TAG = re.compile(r"<[^>]*>")
_PRE = re.compile(r"""<pre class=["']?([\w ]*)["']?>(.*?)</pre>""", re.DOTALL)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.DOTALL)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.DOTALL)
SUMMARY = re.compile(
    r"^(?P<agent>.*) - Case (?P<id>\S+) : (?P<outcome>[\w-]+) - (?P<ms>-?\d+) ms @ (?P<at>\S*)"
)
_DELAY = re.compile(r"^DELAY (\S+) sec for TAG (.*)$")
OUTCOMES = {
    "Pass": "OK",
    "Non-Strict": "NON-STRICT",
    "Informational": "INFORMATIONAL",
    "No Close": "NO_CLOSE",
}


def read_page(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    return raw.decode("utf-8", "surrogateescape")


def python_value(text: str) -> Any:
    """A value the page printed with Python's ``str()``."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    if re.fullmatch(r"-?\d+", text):
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


# -- the wire log ----------------------------------------------------------------


def parse_wirelog(
    source: str, lines: list[tuple[str | None, str]], first_line: int = 0
) -> tuple[list[Entry], bool | None]:
    """Entries from the printed wire-log lines (grammar of spec §2.2).

    ``lines`` are ``(css class or None, text)``; the result is the entries
    plus ``droppedByMe`` from the final synthetic line (None if missing).
    """
    groups: list[tuple[int, str | None, str, list[str]]] = []
    for n, (css, line) in enumerate(lines):
        line = line.rstrip("\r\n")
        m = _HEAD.match(line)
        if m and not line.startswith(" "):
            groups.append((n, css, line, []))
        elif groups and line.startswith(INDENT):
            groups[-1][3].append(line[len(INDENT) :])
        elif not line.strip():
            continue
        else:
            raise InputError(
                source, f"not a wire-log line: {line[:60]!r}", f"line {first_line + n + 1}"
            )
    entries: list[Entry] = []
    dropped: bool | None = None
    for _n, css, line, more in groups:
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
        entries.append(_entry(source, number, body, more, css, where))
    return entries, dropped


def _entry(source: str, i: int, body: str, more: list[str], css: str | None, where: str) -> Entry:
    kind, _, rest = body.partition(": ")
    kind = kind.rstrip()
    if kind in ("RX OCTETS", "TX OCTETS"):
        text = _join_hex([rest, *more])
        data = octets_from_log(text, None, source, where)
        # A cut chunk prints its 64-byte prefix and " ..."; shorter ones are whole.
        length = None if text.endswith(ELLIPSIS) and len(data) >= 64 else len(data)
        if kind == "RX OCTETS":
            return OctetsEntry(i, Direction.RX, length, data)
        sync = None if css is None else css.endswith("_sync")
        return OctetsEntry(i, Direction.TX, length, data, sync=sync)
    if kind in ("RX FRAME", "TX FRAME"):
        fields = dict(_KV.findall(rest))
        try:
            length = int(fields["PAYLOAD-LEN"])
            payload, lossy = _payload(more, length)
            opcode = int(fields["OPCODE"])
            fin = fields["FIN"] == "True"
            rsv = int(fields["RSV"])
            if kind == "RX FRAME":
                masked = fields["MASKED"] == "True"
                return FrameEntry(
                    i,
                    Direction.RX,
                    length,
                    payload,
                    opcode,
                    fin,
                    rsv,
                    masked,
                    _rx_mask(fields["MASK"]),
                    lossy=lossy,
                )
            mask = None if fields["MASK"] == "None" else bytes.fromhex(fields["MASK"])
            repeat = fields["PAYLOAD-REPEAT-LEN"]
            chop = fields["CHOPSIZE"]
            return FrameEntry(
                i,
                Direction.TX,
                length,
                payload,
                opcode,
                fin,
                rsv,
                mask is not None,
                mask,
                None if repeat == "None" else int(repeat),
                None if chop == "None" else int(chop),
                fields["SYNC"] == "True",
                lossy=lossy,
            )
        except (KeyError, ValueError):
            raise InputError(source, f"malformed frame line: {body[:80]!r}", where) from None
    return _marker(source, i, body, where)


def _payload(lines: list[str], length: int) -> tuple[bytes, bool]:
    """The payload lines of RF/TF: hex forms wrap without spaces, text forms
    wrap at whitespace. The second value says the text may differ from the
    payload: textwrap turned tabs and line breaks into spaces and dropped
    whitespace at line ends (spec §2.2), and the page cannot say where."""
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


def _rx_mask(text: str) -> bytes | None:
    """RF masks are hex-encoded twice by Autobahn's renderer (§2.2):
    ``6331623330616236`` is the mask ``c1b30ab6``. Pages that print it once
    are read as they are."""
    if text == "None":
        return None
    raw = bytes.fromhex(text)
    if len(raw) == 8:
        return bytes.fromhex(raw.decode("ascii"))
    if len(raw) == 4:
        return raw
    raise ValueError(text)


def _marker(source: str, i: int, body: str, where: str) -> Entry:
    try:
        if body == "WIRELOG ENABLED":
            return MarkerEntry(i, MarkerKind.WIRELOG, value=True, raw=True)
        if body == "WIRELOG DISABLED":
            return MarkerEntry(i, MarkerKind.WIRELOG, value=False, raw=False)
        m = _DELAY.match(body)
        if m:
            tag = None if m.group(2) == "None" else m.group(2)
            delay = float(m.group(1))
            return MarkerEntry(i, MarkerKind.DELAY, value=delay, tag=tag, raw=delay)
        if body.startswith("DELAY TIMEOUT on TAG "):
            tag = body[len("DELAY TIMEOUT on TAG ") :]
            return MarkerEntry(i, MarkerKind.DELAY_FIRED, tag=None if tag == "None" else tag)
        for prefix, kind in (
            ("FAIL CONNECTION AFTER ", MarkerKind.KILL_AFTER),
            ("CLOSE CONNECTION AFTER ", MarkerKind.CLOSE_AFTER),
        ):
            if body.startswith(prefix) and body.endswith(" sec"):
                delay = float(body[len(prefix) : -4])
                return MarkerEntry(i, kind, value=delay, raw=delay)
        if body == "FAILING CONNECTION":
            return MarkerEntry(i, MarkerKind.KILL_FIRED)
        if body == "CLOSING CONNECTION":
            return MarkerEntry(i, MarkerKind.CLOSE_FIRED)
    except ValueError:
        pass
    raise InputError(source, f"unknown wire-log line: {body[:60]!r}", where)


# -- statistics tables -------------------------------------------------------------


def stats_from_rows(rows: dict[str, list[list[str]]]) -> WireStats:
    """``{title key: [[cell, ...], ...]}`` (header and Total rows dropped)."""
    report: dict[str, dict[str, int]] = {}
    for key in STAT_KEYS:
        report[key] = {r[0]: int(r[1]) for r in rows.get(key, [])}
    return WireStats.from_autobahn(report)


# -- the page ---------------------------------------------------------------------------


def _text(html: str) -> str:
    return _TAG.sub("", html)


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
    summary = re.search(r'<p class="case[^"]*">(.*?)</p>', page, re.DOTALL)
    if summary:
        facts.update(summary_facts(_text(summary.group(1))))
    for cls, key in (("case_desc", "description"), ("case_expect", "expectation")):
        m = re.search(
            rf'<p class="case_text_block {cls}"><b>[^<]*</b><br/><br/>(.*?)</p>', page, re.S
        )
        if m:
            facts[key] = m.group(1)
    m = re.search(r'case_outcome">\s*<b>Case Outcome</b><br/><br/>(.*?)<br/><br/>', page, re.S)
    if m:
        facts["result"] = m.group(1)
    m = re.search(r'case_closing_beh"><b>[^<]*</b><br/><br/>(.*?) \(([^()]*)\)</p>', page, re.S)
    if m:
        facts["resultClose"], facts["behaviorClose"] = m.group(1), m.group(2)

    dumps = [m.group(2) for m in _PRE.finditer(page) if m.group(1) == "http_dump"]
    request = restore_head(dumps[0]) if len(dumps) > 0 else None
    response = restore_head(dumps[1]) if len(dumps) > 1 else None

    closing = page.find("<h2>Closing Behavior</h2>")
    if closing >= 0:
        table_end = page.find("</table>", closing)
        for row in _ROW.findall(page[closing:table_end]):
            cells = _CELL.findall(row)
            if len(cells) >= 2 and cells[0] in CLOSING_KEYS:
                facts[cells[0]] = python_value(cells[1])

    rows: dict[str, list[list[str]]] = {}
    for title, key in STAT_TITLES.items():
        at = page.find(f"<h3>{title}</h3>")
        if at < 0:
            continue
        end = page.find("</table>", at)
        body: list[list[str]] = []
        for row in _ROW.findall(page[at:end]):
            cells = [_text(c).strip() for c in _CELL.findall(row)]
            if not cells or not cells[0].isdigit():
                continue  # header and Total rows
            if not all(c.isdigit() for c in cells):
                raise InputError(path, f"statistics row {cells} is not numeric", _line_of(page, at))
            body.append(cells)
        rows[key] = body
    stats = stats_from_rows(rows) if rows else None

    start = page.find('<div id="wirelog">')
    if start < 0:
        start = page.find("<div id=wirelog>")
    if start < 0:
        raise InputError(path, "HTML, but not an Autobahn case report (no wire log)")
    end = page.find("</div>", start)
    end = len(page) if end < 0 else end
    section = page[start:end]
    first_line = page.count("\n", 0, start)
    lines: list[tuple[str | None, str]] = []
    disabled = "Wire log after handshake disabled!" in section
    for m in _PRE.finditer(section):
        css = m.group(1)
        if not css.startswith("wirelog_"):
            continue
        for line in m.group(2).split("\n"):
            lines.append((css, line))
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
