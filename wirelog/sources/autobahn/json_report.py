"""Autobahn's per-case JSON report (spec ``autobahn-wirelog.md`` §1).

The JSON is the richest form: every wire-log entry keeps its declared
length and TO keeps its sync flag. It was written by Python 2's ``json``
with ``ensure_ascii``, so text may hold lone surrogates (``"\\ud800"``),
which Python 3 loads as surrogate code points and which map back to the
original bytes with ``surrogatepass``.
"""

from __future__ import annotations

import json
from typing import Any

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import Direction
from wirelog.sources.autobahn.encoding import LogDataError, octets_from_log, payload_from_log
from wirelog.sources.autobahn.entries import (
    MARKER_TAGS,
    Entry,
    FrameEntry,
    MarkerEntry,
    OctetsEntry,
    Report,
)
from wirelog.stats import WireStats


def load_json(path: str) -> Any:
    """Load a JSON file; a syntax error says on which line, and a document
    that ends early raises :class:`TruncatedInputError`."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            # A string that never closes also ran into the end of the file.
            end = f"line {text.rstrip().count(chr(10)) + 1}"
            raise TruncatedInputError(path, "JSON ends early (truncated file?)", end) from None
        raise InputError(path, f"not valid JSON: {exc.msg}", where) from None


def parse_report(path: str, doc: Any | None = None) -> Report:
    """A case report: its facts, typed wire-log entries and statistics."""
    if doc is None:
        doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("wirelog"), list):
        raise InputError(path, "JSON, but not an Autobahn case report (no 'wirelog' list)")
    facts = {k: v for k, v in doc.items() if k != "wirelog"}
    entries = [_entry(path, i, raw) for i, raw in enumerate(doc["wirelog"])]
    try:
        stats = WireStats.from_autobahn(doc)
    except (TypeError, ValueError, AttributeError):
        raise InputError(path, "statistics are not {size: count} objects") from None
    return Report(
        source=path,
        form="json",
        facts=facts,
        entries=entries,
        request=_head(doc.get("httpRequest")),
        response=_head(doc.get("httpResponse")),
        is_server=bool(doc.get("isServer")),
        dropped_by_me=bool(doc.get("droppedByMe")),
        stats=stats,
    )


def _head(value: Any) -> bytes | None:
    """``"?"`` (or nothing) means the head was never captured (§1.2)."""
    if not isinstance(value, str) or value in ("", "?"):
        return None
    return value.encode("utf-8", "surrogatepass")


def _entry(path: str, i: int, raw: Any) -> Entry:
    where = f"entry {i}"
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        raise InputError(path, f"wire-log entry is not [kind, ...]: {str(raw)[:60]}", where)
    kind = raw[0]
    try:
        if kind in ("RO", "TO"):
            length, text = raw[1]
            _int(length)
            data = octets_from_log(text, length)
            if kind == "RO":
                return OctetsEntry(i, Direction.RX, length, data)
            return OctetsEntry(i, Direction.TX, length, data, sync=bool(raw[2]))
        if kind == "RF":
            (length, text), opcode, fin, rsv, masked, mask = raw[1:7]
            return FrameEntry(
                i,
                Direction.RX,
                _int(length),
                payload_from_log(text, length),
                _int(opcode),
                bool(fin),
                _int(rsv),
                bool(masked),
                _mask(mask),
            )
        if kind == "TF":
            (length, text), opcode, fin, rsv, mask, repeat, chop, sync = raw[1:9]
            return FrameEntry(
                i,
                Direction.TX,
                _int(length),
                payload_from_log(text, length),
                _int(opcode),
                bool(fin),
                _int(rsv),
                mask is not None,
                _mask(mask),
                None if repeat is None else _int(repeat),
                None if chop is None else _int(chop),
                bool(sync),
            )
        marker = MARKER_TAGS.get(kind)
        if marker is None:
            raise InputError(path, f"unknown wire-log entry kind {kind!r}", where)
        if kind in ("CT", "KL", "TI"):
            delay = raw[1]
            if not isinstance(delay, int | float) or isinstance(delay, bool):
                raise ValueError(delay)
            tag = raw[2] if kind == "CT" and len(raw) > 2 else None
            return MarkerEntry(i, marker, value=delay, tag=tag, raw=delay)
        if kind == "CTE":
            return MarkerEntry(i, marker, tag=raw[1] if len(raw) > 1 else None)
        if kind == "WLM":
            return MarkerEntry(i, marker, value=bool(raw[1]), raw=raw[1])
        return MarkerEntry(i, marker)
    except InputError:
        raise
    except LogDataError as exc:
        raise InputError(path, str(exc), where) from None
    except (TypeError, ValueError, IndexError, AttributeError, UnicodeError):
        raise InputError(path, f"malformed {kind} entry: {str(raw)[:80]}", where) from None


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(value)
    return value


def _mask(value: Any) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 8:
        raise ValueError(value)
    return bytes.fromhex(value)
