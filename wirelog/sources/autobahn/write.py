"""Autobahn's per-case JSON report, written (spec ``autobahn-wirelog.md`` §1).

The entries have Autobahn's shapes (§1.3) and encodings (§1.4, through
:mod:`.encoding`), and the document is dumped the way Autobahn dumps it:
``sort_keys``, ``indent=3``, ``ensure_ascii`` (lone surrogates become
``\\udXXX`` escapes), with the statistics' integer keys sorted as numbers
before they become strings, as Python 2 did. So a report read by
:mod:`.json_report` and written here comes out byte for byte as Autobahn
wrote it. Autobahn's readers and wirelog's read what this writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from wirelog.model import Chunk, ClaimedFrame, Connection, Direction, Marker
from wirelog.sources.autobahn.build import DERIVED_META
from wirelog.sources.autobahn.encoding import ascii_log, bin_log
from wirelog.sources.autobahn.entries import TAG_OF
from wirelog.stats import STAT_KEYS

LogItem = Chunk | ClaimedFrame | Marker


def octets_entry(ch: Chunk, *, cut: bool = True) -> list[Any]:
    """RO/TO. ``cut=False`` keeps every octet (wirelog's own replay reports):
    readers following the spec's rule ("complete iff the decoded length
    equals ``len``") then get the whole chunk back."""
    text = bin_log(ch.data, ch.length) if cut else ch.data.hex()
    if ch.direction is Direction.RX:
        return ["RO", [ch.length, text]]
    return ["TO", [ch.length, text], ch.sync]


def claim_entry(c: ClaimedFrame) -> list[Any]:
    """RF/TF with the payload as ``asciiLogData`` logs it."""
    data = [c.logged_len, ascii_log(c.payload, c.logged_len)]
    mask = c.mask.hex() if c.mask is not None else None
    if c.direction is Direction.RX:
        return ["RF", data, c.opcode, c.fin, c.rsv, c.masked, mask]
    return ["TF", data, c.opcode, c.fin, c.rsv, mask, c.repeat_len, c.chopsize, c.sync]


def marker_entry(m: Marker) -> list[Any] | None:
    """CT/CTE/KL/KLE/TI/TIE/WLM; None for markers Autobahn has no entry for
    (TCP ends, capture gaps: the report tells those by other keys)."""
    tag = TAG_OF.get(m.kind)
    if tag is None:
        return None
    if tag in ("CT", "KL", "TI"):
        delay = m.raw if m.raw is not None else m.value
        return [tag, delay, m.tag] if tag == "CT" else [tag, delay]
    if tag == "CTE":
        return [tag, m.tag]
    if tag == "WLM":
        return [tag, bool(m.value)]
    return [tag]


def wirelog_entries(items: Iterable[LogItem], *, cut: bool = True) -> list[list[Any]]:
    """The ``wirelog`` array of items already in log order."""
    out: list[list[Any]] = []
    for it in items:
        if isinstance(it, Chunk):
            out.append(octets_entry(it, cut=cut))
        elif isinstance(it, ClaimedFrame):
            out.append(claim_entry(it))
        else:
            entry = marker_entry(it)
            if entry is not None:
                out.append(entry)
    return out


def log_order(conn: Connection) -> list[LogItem]:
    """A connection's chunks, claims and markers by entry number."""
    items: list[LogItem] = [*conn.chunks, *conn.claims, *conn.markers]
    items.sort(key=lambda it: it.index)
    return items


def report_doc(conn: Connection) -> dict[str, Any]:
    """The report of a connection read from an Autobahn report: its facts
    (``meta`` without what the builder added) and its wire log."""
    doc = {k: v for k, v in conn.meta.items() if k not in DERIVED_META}
    doc["wirelog"] = wirelog_entries(log_order(conn))
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """The document as Autobahn writes it (see the module docstring)."""
    out = dict(doc)
    for key in STAT_KEYS:
        hist = out.get(key)
        if isinstance(hist, dict) and all(isinstance(k, str) and k.isdigit() for k in hist):
            out[key] = {int(k): v for k, v in hist.items()}
    return json.dumps(out, sort_keys=True, indent=3, separators=(",", ": "))


def write_report(doc: dict[str, Any], path: str) -> None:
    """``doc`` to ``path``: ASCII and no final newline, as Autobahn's files are."""
    with open(path, "w", encoding="ascii") as fh:
        fh.write(dumps(doc))
