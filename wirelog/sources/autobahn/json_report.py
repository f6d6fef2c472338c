"""Autobahn's per-case JSON report (spec ``autobahn-wirelog.md`` §1).

The JSON is the richest form: every wire-log entry keeps its declared
length and TO keeps its sync flag. It was written by Python 2's ``json``
with ``ensure_ascii``, so text may hold lone surrogates (``"\\ud800"``),
which Python 3 loads as surrogate code points and which map back to the
original bytes with ``surrogatepass``.

The file is untrusted (:mod:`.limits`): numbers JSON cannot hold (``NaN``,
``Infinity``, floats that overflow, integers of more than
:data:`~.limits.MAX_DIGITS` digits) and nesting deeper than any report's
are refused with the line they are on, before anything recurses over them.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
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
from wirelog.sources.autobahn.limits import (
    MAX_DELAY,
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_LENGTH,
    MAX_OPCODE,
    MAX_RSV,
    delay_ok,
    digits_ok,
)
from wirelog.sources.pcap.streams import read_all
from wirelog.stats import STAT_KEYS, WireStats

_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _short_repr() -> reprlib.Repr:
    """A repr bounded in depth and length, for quoting untrusted values."""
    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother, short.maxlist, short.maxdict = 2, 40, 40, 6, 4
    return short


_SHORT = _short_repr()


class _BadNumber(ValueError):
    """A number token JSON should not hold; ``token`` finds its line."""

    def __init__(self, token: str, why: str) -> None:
        super().__init__(why)
        self.token = token


class _OutOfRange(ValueError):
    """A header field or length no frame can carry."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _BadNumber(text, f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(text, f"{text[:40]} does not fit a float")
    return value


def _parse_constant(name: str) -> Any:
    raise _BadNumber(name, f"{name} is not a JSON number")


def load_json(path: str) -> Any:
    """Load a JSON file; a syntax error says on which line, and a document
    that ends early raises :class:`TruncatedInputError`."""
    # Through the stream reader: ``-``, FIFOs and gzip work as for captures.
    text = read_all(path).decode("utf-8", "surrogateescape")
    try:
        doc = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _BadNumber as exc:
        at = text.find(exc.token)
        raise InputError(path, f"not valid JSON: {exc}", _line(text, at)) from None
    except RecursionError:
        raise InputError(
            path, f"JSON nested more than {MAX_DEPTH} levels deep", _deep_line(text)
        ) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            # A string that never closes also ran into the end of the file.
            end = f"line {text.rstrip().count(chr(10)) + 1}"
            raise TruncatedInputError(path, "JSON ends early (truncated file?)", end) from None
        raise InputError(path, f"not valid JSON: {exc.msg}", where) from None
    if _too_deep(doc):
        raise InputError(
            path, f"JSON nested more than {MAX_DEPTH} levels deep", _deep_line(text)
        ) from None
    return doc


def _line(text: str, pos: int) -> str | None:
    return None if pos < 0 else f"line {text.count(chr(10), 0, pos) + 1}"


def _too_deep(doc: Any) -> bool:
    """Deeper than :data:`MAX_DEPTH`, found without recursion."""
    todo: list[tuple[Any, int]] = [(doc, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth > MAX_DEPTH:
                return True
            todo += [(v, depth + 1) for v in value if isinstance(v, list | dict)]
    return False


def _deep_line(text: str) -> str | None:
    """The line where brackets (outside strings) first nest too deep."""
    depth = 0
    for m in _BRACKETS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return _line(text, m.start())
        elif token in "]}":
            depth -= 1
    return None


def parse_report(path: str, doc: Any | None = None) -> Report:
    """A case report: its facts, typed wire-log entries and statistics."""
    if doc is None:
        doc = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("wirelog"), list):
        raise InputError(path, "JSON, but not an Autobahn case report (no 'wirelog' list)")
    for key in ("id", "agent"):
        if key in doc and not isinstance(doc[key], str):
            raise InputError(path, f"{key!r} is not a string: {_SHORT.repr(doc[key])}")
    facts = {k: v for k, v in doc.items() if k != "wirelog"}
    entries = [_entry(path, i, raw) for i, raw in enumerate(doc["wirelog"])]
    stats = WireStats.from_autobahn({key: _histogram(path, key, doc.get(key)) for key in STAT_KEYS})
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


def _histogram(path: str, key: str, raw: Any) -> dict[str, int]:
    """One statistics object (§1.5): decimal sizes or opcodes to counts."""
    if raw is None:
        return {}
    bad: Any = raw
    if isinstance(raw, dict):
        bad = next(
            (
                (k, v)
                for k, v in raw.items()
                if not digits_ok(k)
                or not isinstance(v, int)
                or isinstance(v, bool)
                or not 0 <= v <= MAX_LENGTH
            ),
            None,
        )
        if bad is None:
            return raw
    raise InputError(path, f"{key} is not a {{size: count}} object: {_SHORT.repr(bad)}")


def _head(value: Any) -> bytes | None:
    """``"?"`` (or nothing) means the head was never captured (§1.2)."""
    if not isinstance(value, str) or value in ("", "?"):
        return None
    return value.encode("utf-8", "surrogatepass")


def _entry(path: str, i: int, raw: Any) -> Entry:
    where = f"entry {i}"
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        raise InputError(path, f"wire-log entry is not [kind, ...]: {_SHORT.repr(raw)}", where)
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
                _int(opcode, MAX_OPCODE),
                bool(fin),
                _int(rsv, MAX_RSV),
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
                _int(opcode, MAX_OPCODE),
                bool(fin),
                _int(rsv, MAX_RSV),
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
            if not delay_ok(delay):
                raise _OutOfRange(f"{delay} s is out of range (0 to {MAX_DELAY:g} s)")
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
    except _OutOfRange as exc:
        raise InputError(path, f"{kind} entry: {exc}: {_SHORT.repr(raw)}", where) from None
    except (TypeError, ValueError, IndexError, AttributeError, UnicodeError):
        raise InputError(path, f"malformed {kind} entry: {_SHORT.repr(raw)}", where) from None


def _int(value: Any, top: int = MAX_LENGTH) -> int:
    """A length, count or header field within what a frame can carry (:mod:`.limits`)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(value)
    if not 0 <= value <= top:
        raise _OutOfRange(f"{value} is out of range (0 to {top})")
    return value


def _mask(value: Any) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 8:
        raise ValueError(value)
    return bytes.fromhex(value)
