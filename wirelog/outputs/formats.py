"""The output contracts other tools script against, in one place.

Each ``*_row`` function turns a model object into a flat dict whose keys and
value types are documented in README.md ("Output contracts"); the writers
print those rows as JSON lines, CSV or an aligned table. The CLI, the
DataFrame builders and the tests all use these functions, so the three
views of a frame cannot drift apart.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from typing import IO, Any

from wirelog.model import (
    Chunk,
    Connection,
    Direction,
    Frame,
    Marker,
    Message,
    Opcode,
    Role,
    Violation,
)
from wirelog.outputs.hexcells import NUMPY_FROM, hex_text
from wirelog.outputs.times import cells, line_times, seconds_cell

FRAME_COLUMNS = (
    "source", "conn", "dir", "sender", "index", "ts", "fin", "rsv", "opcode", "opcode_name",
    "masked", "mask", "length", "header_length", "offset", "chunk", "record", "payload",
    "complete", "from_log", "violations", "time", "t", "ts_ns",
)  # fmt: skip
CHOP_COLUMNS = (
    "source", "conn", "dir", "sender", "index", "ts", "length", "present", "complete", "sync",
    "rebuilt", "record", "data", "time", "t", "ts_ns",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "source", "conn", "dir", "sender", "index", "ts", "opcode", "opcode_name", "length",
    "wire_length", "frames", "first_frame", "compressed", "complete", "text", "data", "code",
    "reason", "violations", "time", "t", "ts_ns",
)  # fmt: skip
VIOLATION_COLUMNS = (
    "source", "conn", "kind", "finding", "dir", "frame", "offset", "chunk", "detail",
)  # fmt: skip

COLUMNS = {
    "chops": CHOP_COLUMNS,
    "frames": FRAME_COLUMNS,
    "messages": MESSAGE_COLUMNS,
    "violations": VIOLATION_COLUMNS,
}


def chunk_row(conn: Connection, ch: Chunk | Marker) -> dict[str, Any]:
    """A chop: a chunk, or a TLS connection's TCP segment (a ``SEGMENT``
    marker: its ciphertext in ``data``, no record of its own)."""
    if isinstance(ch, Marker):
        data = ch.raw if isinstance(ch.raw, bytes) else b""
        length, sync, rebuilt, record = int(ch.value or 0), False, False, None
    else:
        data, length, sync, rebuilt, record = ch.data, ch.length, ch.sync, ch.rebuilt, ch.record
    assert ch.direction is not None
    return {
        "source": conn.source,
        "conn": conn.conn,
        "dir": ch.direction.value,
        "sender": conn.sender(ch.direction).value,
        "index": ch.index,
        "ts": seconds_cell(ch.ts_ns),
        "length": length,
        "present": len(data),
        "complete": len(data) == length,
        "sync": sync,
        "rebuilt": rebuilt,
        "record": record,
        "data": hex_text(data),
        **cells(conn, ch.ts_ns),
    }


_OPCODE_NAMES = [Opcode.name_of(i) for i in range(16)]


def frame_row(conn: Connection, f: Frame) -> dict[str, Any]:
    # The hot path of ``decode --format jsonl``: identity tests instead of
    # Enum.value lookups, a table instead of Opcode.name_of.
    mask = f.mask
    payload = f.payload
    return {
        "source": conn.source,
        "conn": conn.conn,
        "dir": "tx" if f.direction is Direction.TX else "rx",
        "sender": "client" if f.sender is Role.CLIENT else "server",
        "index": f.index,
        "ts": seconds_cell(f.ts_ns),
        "fin": f.fin,
        "rsv": f.rsv,
        "opcode": f.opcode,
        "opcode_name": _OPCODE_NAMES[f.opcode & 15],
        "masked": f.masked,
        "mask": mask.hex() if mask is not None else None,
        "length": f.length,
        "header_length": f.header_length,
        "offset": f.offset,
        "chunk": f.chunk,
        "record": f.record,
        "payload": hex_text(payload),
        "complete": len(payload) == f.length,
        "from_log": f.from_log,
        "violations": [v.value for v in f.violations] if f.violations else [],
        **cells(conn, f.ts_ns),
    }


_TX = Direction.TX  # a module global is looked up ten times faster than an Enum member
_CLIENT = Role.CLIENT


def _flags_cell(fin: bool, rsv: int, opcode: int, masked: bool) -> str:
    """From ``,"fin":`` to ``"mask":`` (the mask itself excluded)."""
    return (
        (',"fin":true,"rsv":' if fin else ',"fin":false,"rsv":')
        + f'{rsv},"opcode":{opcode},"opcode_name":"{_OPCODE_NAMES[opcode & 15]}'
        + ('","masked":true,"mask":' if masked else '","masked":false,"mask":')
    )


#: The cells every frame line has one of 2 * 2 * 8 * 16 ways, made once, by
#: masked and fin (bools index tuples), rsv and opcode (dicts: a missing key
#: is a frame made by hand): no key tuple to make and hash per frame.
_FLAGS = tuple(
    tuple(
        {rsv: {op: _flags_cell(fin, rsv, op, masked) for op in range(16)} for rsv in range(8)}
        for fin in (False, True)
    )
    for masked in (False, True)
)

#: Per connection object, its first cells (source, conn, dir, sender) in
#: the four combinations of dir and sender, and its start (nanoseconds).
_conns: dict[int, tuple[Connection, tuple[str, ...], int | None]] = {}
#: The latest connection looked up there (most lines follow one another).
_last_conn: list[Any] = [None, None]
#: The last finite timestamp written, its connection and its two texts (the
#: ``ts`` cell and the ``time``/``t``/``ts_ns`` cells that end the line): frames
#: of one segment share a time, and a float's repr is the costliest cell.
_last_ts: list[Any] = [None, None, "", ""]
#: The end of most lines: complete, decoded from octets, no violations.
_PLAIN_TAIL = ',"complete":true,"from_log":false,"violations":[]'


def _conn_cells(conn: Connection) -> tuple[Connection, tuple[str, ...], int | None]:
    entry = _conns.get(id(conn))
    if entry is None or entry[0] is not conn:
        if len(_conns) > 4096:
            _conns.clear()
        head = '{"source":' + _dumps(conn.source) + ',"conn":' + _dumps(conn.conn) + ',"dir":"'
        senders = ("server", "client")
        prefixes = tuple(
            f'{head}{d}","sender":"{s}","index":' for d in ("rx", "tx") for s in senders
        )
        entry = _conns[id(conn)] = (conn, prefixes, conn.start_ts_ns)
    _last_conn[0] = conn
    _last_conn[1] = entry
    return entry


def frame_line(conn: Connection, f: Frame) -> str:
    """The JSON line ``decode --format jsonl`` prints for a frame: equal to
    ``_jsonl(frame_row(conn, f)) + "\n"`` (tests hold the two equal), built
    without a dict and a JSON encoder per frame (three times faster)."""
    entry = _last_conn[1] if conn is _last_conn[0] else _conn_cells(conn)
    ts = f.ts_ns
    memo = _last_ts
    if ts is memo[0] and conn is memo[1] and ts is not None:
        t = memo[2]
        when = memo[3]
    elif ts is None:
        t = "null"
        when = ',"time":null,"t":null,"ts_ns":null}\n'
    else:
        t, when = line_times(ts, entry[2])
        memo[0] = ts
        memo[1] = conn
        memo[2] = t
        memo[3] = when
    try:
        flags = _FLAGS[f.masked][f.fin][f.rsv][f.opcode]
    except (KeyError, TypeError):  # not a header's bits: a frame made by hand
        flags = _flags_cell(f.fin, f.rsv, f.opcode, f.masked)
    mask = f.mask
    m = "null" if mask is None else f'"{mask.hex()}"'
    offset = f.offset
    chunk = f.chunk
    record = f.record
    payload = f.payload
    length = f.length
    present = len(payload)
    complete = present == length
    hx = payload.hex() if present < NUMPY_FROM else hex_text(payload)  # the common case inline
    violations = f.violations
    if complete and not violations and not f.from_log:
        tail = _PLAIN_TAIL
    else:
        v = ",".join(['"' + x.value + '"' for x in violations]) if violations else ""
        tail = (
            f',"complete":{"true" if complete else "false"}'
            f',"from_log":{"true" if f.from_log else "false"},"violations":[{v}]'
        )
    # Identity tests and constant indexes: a bool shifted and or-ed goes
    # through the generic number protocol (-3 M instructions per 20,000 frames).
    heads = entry[1]
    if f.direction is _TX:
        head = heads[3] if f.sender is _CLIENT else heads[2]
    else:
        head = heads[1] if f.sender is _CLIENT else heads[0]
    # One f-string (a single BUILD_STRING): a third faster than a join.
    return (
        f"{head}{f.index}"
        f',"ts":{t}{flags}{m}'
        f',"length":{length},"header_length":{f.header_length}'
        f',"offset":{"null" if offset is None else offset}'
        f',"chunk":{"null" if chunk is None else chunk}'
        f',"record":{"null" if record is None else record},"payload":"{hx}"{tail}{when}'
    )


def message_row(conn: Connection, m: Message) -> dict[str, Any]:
    is_text = m.text is not None
    return {
        "source": conn.source,
        "conn": conn.conn,
        "dir": m.direction.value,
        "sender": m.sender.value,
        "index": m.index,
        "ts": seconds_cell(m.ts_ns),
        "opcode": m.opcode,
        "opcode_name": Opcode.name_of(m.opcode),
        "length": m.length,
        "wire_length": m.wire_length,
        "frames": m.frames,
        "first_frame": m.first_frame,
        "compressed": m.compressed,
        "complete": m.complete,
        "text": m.text if is_text else None,
        "data": None if is_text else hex_text(m.data),
        "code": m.close_code,
        "reason": m.close_reason,
        "violations": [v.value for v in m.violations],
        **cells(conn, m.ts_ns),
    }


def violation_row(conn: Connection | str, v: Violation) -> dict[str, Any]:
    """A violation's row; ``conn`` is the input's name for a finding about
    the whole input (``conn`` is then None)."""
    source, number = (conn, None) if isinstance(conn, str) else (conn.source, conn.conn)
    return {
        "source": source,
        "conn": number,
        "kind": v.kind.value,
        "finding": v.kind.is_finding,
        "dir": v.direction.value if v.direction is not None else None,
        "frame": v.frame,
        "offset": v.offset,
        "chunk": v.chunk,
        "detail": v.detail,
    }


class Writer:
    """Prints rows in one format. ``table`` prints in batches under one
    header, with column widths that only grow, so a pager shows one table."""

    def __init__(
        self,
        fmt: str,
        columns: tuple[str, ...],
        out: IO[str] | None = None,
        *,
        show_source: bool | None = None,
    ) -> None:
        self.fmt = fmt
        self.columns = columns
        self.out = out or sys.stdout
        self.show_source = show_source
        self._csv: Any = None
        self._table: list[dict[str, Any]] = []
        self._layout: dict[str, int] = {}

    def row(self, row: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.out.write(_jsonl(row) + "\n")
        elif self.fmt == "csv":
            if self._csv is None:
                self._csv = csv.DictWriter(
                    self.out, fieldnames=list(self.columns), extrasaction="ignore"
                )
                self._csv.writeheader()
            self._csv.writerow({k: _csv_value(row.get(k)) for k in self.columns})
        else:
            self._table.append(row)
            if len(self._table) >= 2000:
                self.flush()

    def rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            self.row(r)

    def flush(self) -> None:
        if self._table:
            self.out.write(
                render_table(
                    self._table, self.columns, show_source=self.show_source, layout=self._layout
                )
            )
            self._table = []
        self.out.flush()


def _no_default(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _make_encoder() -> Any:
    """``json.dumps(row, ensure_ascii=False, separators=(",", ":"))`` without
    building a new encoder per row (a fifth of the cost of a small row)."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)  # CPython's C accelerator
    if make is None:  # pragma: no cover
        return None
    return make(None, _no_default, encoder.encode_basestring, None, ":", ",", False, False, True)


_C_ENCODER = _make_encoder()


def _dumps(row: Any) -> str:
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(row, 0))
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))  # pragma: no cover


_HEX_KEYS = ("payload", "data")
_HEX_SPLICE = '"\\u0000hex"'


def _jsonl(row: dict[str, Any]) -> str:
    """One JSON line. Long hex cells (payloads) need no escaping, and the
    JSON encoder's escaping scan is most of the time a multi-MiB payload
    costs, so they are spliced in afterwards."""
    big = None
    for key in _HEX_KEYS:
        v = row.get(key)
        if type(v) is str and len(v) > 4096 and v.isascii() and v.encode().isalnum():
            big = (key, v)
            row = dict(row)
            row[key] = "\0hex"
            break
    line = _dumps(row)
    if big is not None:
        if line.count(_HEX_SPLICE) != 1:  # another cell held the marker: no shortcut
            return json.dumps(
                dict(row, **{big[0]: big[1]}), ensure_ascii=False, separators=(",", ":")
            )
        line = line.replace(_HEX_SPLICE, '"' + big[1] + '"', 1)
    return line


def _csv_value(v: Any) -> Any:
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    if v is None:
        return ""
    return v


TABLE_SKIP = {"source", "opcode", "sender", "header_length", "chunk", "from_log", "time"}
TABLE_WHEN_SET = {"record"}
"""Columns the table shows only when a row of its first batch has a value:
a TLS record number is noise in every row of a capture without TLS."""


def render_table(
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    width: int = 48,
    *,
    show_source: bool | None = None,
    layout: dict[str, int] | None = None,
) -> str:
    """Aligned plain-text columns; long cells are cut so a line stays readable.

    ``layout`` carries column widths from one batch to the next: the header
    is printed only with the first batch, widths never shrink, and the
    columns are the first batch's.
    """
    # The source is noise for one input and essential for several.
    several = len({r.get("source") for r in rows}) > 1 if show_source is None else show_source
    cols = [c for c in columns if c not in TABLE_SKIP or (several and c == "source")]
    if layout:
        cols = [c for c in cols if c in layout]
    else:
        cols = [
            c for c in cols if c not in TABLE_WHEN_SET or any(r.get(c) is not None for r in rows)
        ]
    cells = [[_cell(r.get(c), width) for c in cols] for r in rows]
    known = layout or {}
    widths = [
        max([len(c), known.get(c, 0)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)
    ]
    lines = []
    if not known:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    if layout is not None:
        layout.update(zip(cols, widths, strict=True))
    return "\n".join(lines) + "\n"


def _cell(v: Any, width: int) -> str:
    if v is None:
        s = "-"
    elif isinstance(v, bool):
        s = "1" if v else "0"
    elif isinstance(v, float):
        s = f"{v:.6f}"
    elif isinstance(v, list):
        s = ",".join(str(x) for x in v) or "-"
    else:
        s = str(v)
    s = s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return s if len(s) <= width else s[: width - 1] + "…"
