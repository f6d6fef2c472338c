"""The decode table as a person reads it: ``t`` instead of epoch seconds,
payloads as text when they are text.

The JSONL and CSV rows stay the contract (:mod:`wirelog.outputs.formats`);
the table is for eyes, so it shows ``t`` (seconds since the connection's
first packet, as the DataFrames' ``t``) in place of ``ts``, and a payload
whose octets are printable UTF-8 as that text in double quotes (hex stays
hex, unquoted, so the two cannot be confused).
"""

from __future__ import annotations

from typing import Any

from wirelog.model import Connection
from wirelog.outputs import formats

PAYLOADS = ("payload", "data")
"""Hex cells shown as text when printable (frames' payload; messages' and chops' data)."""


def columns(level: str) -> tuple[str, ...]:
    """The table's columns of ``level``: ``t`` where the rows have ``ts``
    (once: the rows' own ``t`` at the end moves there), no ``ts_ns``."""
    return tuple("t" if c == "ts" else c for c in formats.COLUMNS[level] if c not in ("t", "ts_ns"))


def printable(hexed: str | None) -> str | None:
    """``hexed`` as ``"text"`` when its octets are UTF-8 text a terminal can
    show (tabs and newlines allowed, they are escaped in the cell), else None."""
    if not hexed:
        return None
    try:
        text = bytes.fromhex(hexed).decode("utf-8")
    except ValueError:  # odd hex, or not UTF-8
        return None
    if not text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable():
        return None
    return f'"{text}"'


class TableRows:
    """Turns rows into the table's. Every timed row carries its ``t`` already
    (:mod:`wirelog.outputs.times`, the one place it is computed)."""

    def row(self, conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
        return shown(row)


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (which has its ``t``) with its printable payloads as text."""
    out = dict(row)
    for key in PAYLOADS:
        text = printable(out.get(key))
        if text is not None:
            out[key] = text
    return out
