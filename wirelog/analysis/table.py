"""The one table schema of decoded traffic: column names, dtypes and meaning.

Every DataFrame wirelog hands out (``Capture.chops()``, ``frames()``,
``messages()``, ``violations()``, ``connections()``), every Parquet file
``wirelog decode --format parquet`` writes and every CSV
:func:`read_csv` reads back is described by :data:`SCHEMAS` and nowhere
else. The first columns of the four event tables are exactly the keys of the row functions
in :mod:`wirelog.outputs.formats` (the JSONL/CSV contract), in the same order and with the
same values; the schema only adds derived columns (``time``, ``t``...) and dtypes.

Conventions:

* ``dir`` is the recorder's view (``tx`` = what the recorder sent; for a pcap
  the client's side), ``sender`` the role that sent it (RFC 6455 §5.1: the
  client masks). Both are categoricals with a fixed category order.
* ``opcode`` is the 4-bit number, ``opcode_name`` a categorical of all 16 names.
* Timestamps: ``ts_ns`` is integer nanoseconds since the epoch (NA when the
  input has none: Autobahn logs), ``ts`` the same in float seconds, ``time``
  a UTC datetime (to the µs), ``t`` seconds since the *connection's* start
  (a capture's first packet): exact, from the integers (:mod:`~wirelog.outputs.times`).
* Bytes are lowercase hex strings (``payload``, ``data``, ``mask``), as in
  the JSONL contract; ``violations`` is a list of
  :class:`~wirelog.model.ViolationKind` values (``;``-joined in CSV).
* A length is NA only where a forbidden top bit (RFC 6455 §5.2) declares 2**63 octets or more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wirelog.enums import nanoseconds
from wirelog.errors import UsageError
from wirelog.model import Opcode
from wirelog.outputs.times import since

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: str
    """``int64``, ``Int64`` (nullable), ``uint8``, ``float64``, ``bool``,
    ``string``, ``datetime``, ``list``, or ``category:<name>``."""
    meaning: str


#: The fixed categories, so that every table (and every Parquet file) has
#: the same categories in the same order whatever the data holds.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "dir": ("tx", "rx"),
    "sender": ("client", "server"),
    "opcode_name": tuple(Opcode.name_of(i) for i in range(16)),
}

_C = Column
_HEAD = (
    _C("source", "string", "The input (file or folder) the row comes from."),
    _C("conn", "int64", "Connection number within the input (0-based)."),
    _C("dir", "category:dir", "Recorder's view: tx = sent by the recorder, rx = received."),
    _C("sender", "category:sender", "Role of the sending endpoint: client or server."),
    _C("index", "int64", "Position: chunk index in the recording; frame/message index per dir."),
    _C("ts", "float64", "Seconds since the epoch, NaN when the input has no times."),
)
_TIME = (
    _C("time", "datetime", "ts as a UTC datetime, to the microsecond (NaT when unknown)."),
    _C("t", "float64", "Seconds since the connection's start (NaN when unknown), exact."),
    _C("ts_ns", "Int64", "Nanoseconds since the epoch (NA when unknown): every digit kept."),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "chops": (
        *_HEAD,
        _C("length", "int64", "Octets really on the wire in this write/read (Autobahn chop)."),
        _C("present", "int64", "Octets the recording kept (< length when it cut them)."),
        _C("complete", "bool", "present == length."),
        _C("sync", "bool", "Autobahn's sync flag: the fuzzer forced this write out alone."),
        _C("rebuilt", "bool", "Octets rebuilt from other facts, not read from the log."),
        _C("record", "Int64", "TLS: the record (per dir, from 0) whose plaintext this is."),
        _C("data", "string", "The octets present, hex."),
        *_TIME,
    ),
    "frames": (
        *_HEAD,
        _C("fin", "bool", "FIN bit (RFC 6455 §5.2)."),
        _C("rsv", "uint8", "RSV1-3 as a 3-bit number (4 = RSV1, permessage-deflate)."),
        _C("opcode", "uint8", "Opcode number, 0-15."),
        _C("opcode_name", "category:opcode_name", "Opcode name (CONT, TEXT, ... RESERVED_n)."),
        _C("masked", "bool", "MASK bit."),
        _C("mask", "string", "Masking key, hex (NA when unmasked)."),
        _C("length", "Int64", "Declared payload length."),
        _C("header_length", "int64", "Header octets (2-14)."),
        _C("offset", "Int64", "Stream offset of the first header octet (handshake included)."),
        _C("chunk", "Int64", "Recording index of the chunk holding the first header octet."),
        _C("record", "Int64", "TLS: the record (per dir, from 0) holding the first header octet."),
        _C("payload", "string", "Unmasked payload octets present, hex."),
        _C("complete", "bool", "All payload octets are present."),
        _C("from_log", "bool", "Taken from an Autobahn TF/RF entry (octets incomplete)."),
        _C("violations", "list", "Violation kinds of this frame."),
        *_TIME,
    ),
    "messages": (
        *_HEAD,
        _C("opcode", "uint8", "Opcode of the first frame."),
        _C("opcode_name", "category:opcode_name", "Opcode name."),
        _C("length", "Int64", "Application payload length (after inflation)."),
        _C("wire_length", "Int64", "Payload octets on the wire (compressed size if compressed)."),
        _C("frames", "int64", "Number of frames."),
        _C("first_frame", "int64", "Index (per dir) of the first frame."),
        _C("compressed", "bool", "permessage-deflate compressed (RFC 7692)."),
        _C("complete", "bool", "Every octet of every frame is present."),
        _C("text", "string", "Text messages and close reasons: the decoded text (else NA)."),
        _C("data", "string", "Non-text payload, hex (NA for text)."),
        _C("code", "Int64", "Close code (close frames)."),
        _C("reason", "string", "Close reason (close frames)."),
        _C("violations", "list", "Violation kinds of this message."),
        *_TIME,
    ),
    "violations": (
        _C("source", "string", "The input."),
        _C("conn", "Int64", "Connection number (NA for a finding about the whole input)."),
        _C("kind", "string", "ViolationKind value (stable name)."),
        _C("finding", "bool", "True for findings about the recording, not the peer."),
        _C("dir", "category:dir", "Direction concerned (NA when none)."),
        _C("frame", "Int64", "Frame index within its direction."),
        _C("offset", "Int64", "Octet offset within the direction's stream."),
        _C("chunk", "Int64", "Chunk / wire-log entry index where it shows."),
        _C("detail", "string", "One line for a human."),
        _C(
            "on",
            "string",
            "What carries it: stream (a stand-alone event), frame or message (a kind "
            "attached to that frame/message, which `frames()`/`messages()` list too), "
            "input (a finding about the whole input: ignored traffic).",
        ),
    ),
    "connections": (
        _C("source", "string", "The input."),
        _C("conn", "int64", "Connection number."),
        _C("recorder", "category:sender", "Role of the recorder (whose tx it is)."),
        _C("client", "string", "Client endpoint ip:port when known."),
        _C("server", "string", "Server endpoint ip:port when known."),
        _C("start", "datetime", "Connection start, UTC (NaT when unknown)."),
        _C("duration", "float64", "Seconds from start to the last timestamped chunk."),
        _C("status", "Int64", "HTTP status of the handshake response (101 = upgraded)."),
        _C("target", "string", "Request target of the handshake."),
        _C("subprotocol", "string", "Agreed Sec-WebSocket-Protocol."),
        _C("extensions", "string", "Agreed Sec-WebSocket-Extensions."),
        _C("tls_version", "string", "TLS version of a decrypted wss:// connection (NA: none)."),
        _C("tls_cipher", "string", "Its TLS cipher suite (IANA name)."),
        _C("sni", "string", "The server name the TLS client asked for."),
        _C("alpn", "string", "The application protocol TLS agreed (ALPN)."),
        _C("chops_tx", "int64", "Chunks sent by the recorder."),
        _C("chops_rx", "int64", "Chunks received."),
        _C("octets_tx", "int64", "Octets sent (sum of chunk lengths)."),
        _C("octets_rx", "int64", "Octets received."),
        _C("frames_tx", "int64", "Frames decoded, tx."),
        _C("frames_rx", "int64", "Frames decoded, rx."),
        _C("messages_tx", "int64", "Messages decoded, tx."),
        _C("messages_rx", "int64", "Messages decoded, rx."),
        _C("close_tx", "Int64", "Close code the recorder sent."),
        _C("close_rx", "Int64", "Close code the peer sent."),
        _C("violations", "int64", "Protocol violations (findings excluded)."),
        _C("findings", "int64", "Findings about the recording itself."),
        _C("case", "string", "Autobahn case id (NA for captures)."),
        _C("behavior", "string", "Autobahn verdict (NA for captures)."),
    ),
}

STRING = "string[python]"
"""The pandas dtype of ``string`` columns: pandas' nullable string type with
Python storage. Arrow storage would copy every payload's hex on the way in
(measured: 5.8 s against 0.04 s for 200,000 2 KiB payloads)."""

LEVELS = ("chops", "frames", "messages", "violations")
"""The tables whose rows come from :mod:`wirelog.outputs.formats` row functions."""
DERIVED = frozenset({"time"})
"""Columns computed from others when a table is built (``time``, from ``ts_ns``)."""


def columns(level: str) -> tuple[str, ...]:
    return tuple(c.name for c in _schema(level))


def describe(level: str | None = None) -> pd.DataFrame:
    """The schema itself as a DataFrame (table, column, dtype, meaning)."""
    import pandas as pd

    levels = [level] if level else list(SCHEMAS)
    rows = [(lv, c.name, c.dtype, c.meaning) for lv in levels for c in _schema(lv)]
    return pd.DataFrame(rows, columns=["table", "column", "dtype", "meaning"])


def _schema(level: str) -> tuple[Column, ...]:
    try:
        return SCHEMAS[level]
    except KeyError:
        raise UsageError(f"unknown table {level!r}; one of {', '.join(SCHEMAS)}") from None


# -- building -------------------------------------------------------------------


class Builder:
    """Collects rows of one level; :meth:`frame` makes the DataFrame.

    Rows are the dicts of :mod:`wirelog.outputs.formats` (the JSONL contract), so a
    DataFrame holds exactly what ``wirelog decode --format jsonl`` prints.
    Columns are pulled out of the rows one column at a time (a list
    comprehension per column beats transposing tuples), then one DataFrame.
    """

    def __init__(self, level: str) -> None:
        self.level = level
        self.names = tuple(n for n in columns(level) if n not in DERIVED)
        self._rows: list[Mapping[str, Any]] = []

    def add(self, row: Mapping[str, Any]) -> None:
        self._rows.append(row)

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self._rows.extend(rows)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def cols(self) -> dict[str, list[Any]]:
        rows = self._rows
        return {n: [r[n] for r in rows] for n in self.names}

    def frame(self, starts: Mapping[tuple[str, int], float] | None = None) -> pd.DataFrame:
        return from_columns(self.level, self.cols, starts)


def from_rows(
    rows: Iterable[Mapping[str, Any]],
    level: str,
    starts: Mapping[tuple[str, int], float] | None = None,
) -> pd.DataFrame:
    b = Builder(level)
    b.extend(rows)
    return b.frame(starts)


def from_columns(
    level: str,
    cols: Mapping[str, Sequence[Any]],
    starts: Mapping[tuple[str, int], float] | None = None,
) -> pd.DataFrame:
    """One DataFrame in schema order and dtypes from plain column lists.

    ``t`` comes with the rows (:func:`wirelog.outputs.times.cells`); rows
    without it get it from ``starts`` ((source, conn) -> epoch seconds) or
    the connection's earliest time here; rows without ``ts_ns`` (an older
    CSV) get it from ``ts``, to the microsecond."""
    import numpy as np
    import pandas as pd

    schema = _schema(level)
    n = len(next(iter(cols.values()))) if cols else 0
    if "ts" in cols and "ts_ns" not in cols:
        cols = {**cols, "ts_ns": [nanoseconds(v) for v in cols["ts"]]}
    data: dict[str, Any] = {}
    for c in schema:
        if c.name in ("time", "t") and c.name not in cols:
            continue
        if c.name == "opcode_name" and c.name not in cols:
            data[c.name] = _convert(c, [Opcode.name_of(int(o)) for o in cols["opcode"]], n)
            continue
        values = cols.get(c.name)
        if values is None:
            raise UsageError(f"{level} table: column {c.name!r} is missing")
        data[c.name] = _convert(c, values, n)
    if any(c.name == "ts_ns" for c in schema):
        ts_ns = data["ts_ns"]
        if "time" not in cols:
            data["time"] = _ns_datetimes(ts_ns)
        if "t" not in cols:
            data["t"] = _relative(data["source"], data["conn"], ts_ns, starts or {}, np)
    return pd.DataFrame(data, columns=[c.name for c in schema])


def _convert(c: Column, values: Sequence[Any], n: int) -> Any:
    import numpy as np
    import pandas as pd

    dt = c.dtype
    if dt.startswith("category:"):
        cats = CATEGORIES[dt.split(":", 1)[1]]
        return pd.Categorical(values, categories=list(cats))
    if dt == "datetime":  # epoch seconds (a connection's start)
        return _ns_datetimes([None if v != v else nanoseconds(v) for v in values])
    if dt == "float64":
        return np.array([math.nan if v is None else v for v in values], dtype="float64")
    if dt == "string":
        return pd.array(values, dtype=pd.StringDtype("python"))
    if dt == "Int64":
        try:
            return pd.array(values, dtype="Int64")
        except OverflowError:  # a length 64 bits declare (see the module docstring)
            return pd.array([v if v is None or v < 1 << 63 else None for v in values], "Int64")
    if dt == "list":
        arr = np.empty(n, dtype=object)
        for i, v in enumerate(values):
            arr[i] = list(v) if v is not None else []
        return arr
    return np.asarray(values, dtype=dt)


def _ns_datetimes(ts_ns: Any) -> Any:
    """Integer nanoseconds to UTC datetimes, rounded to the microsecond as
    the lines' ``time`` is (:func:`wirelog.outputs.times.utc_time`)."""
    import pandas as pd

    us = (pd.array(ts_ns, dtype="Int64") + 500) // 1000
    return pd.to_datetime(us, unit="us", utc=True).astype("datetime64[us, UTC]")


def _relative(
    source: Any, conn: Any, ts_ns: Any, starts: Mapping[tuple[str, int], float], np: Any
) -> Any:
    """``t`` for rows that lack it (an older CSV): since the given start, or
    the connection's earliest time in these rows; exact from the integers."""
    import pandas as pd

    values = [None if v is pd.NA else int(v) for v in ts_ns]
    first: dict[tuple[str, int], int | None] = {k: nanoseconds(v) for k, v in starts.items()}
    for key, v in zip(zip(source, conn, strict=True), values, strict=True):
        known = first.get(key)
        if v is not None and key not in starts and (known is None or v < known):
            first[key] = v
    keys = zip(source, conn, strict=True)
    out = [since(v, first.get(k)) for k, v in zip(keys, values, strict=True)]
    return np.array([math.nan if r is None else r for r in out], dtype="float64")


# -- files ------------------------------------------------------------------------


def arrow_schema(level: str) -> Any:
    """The schema's Arrow types: the same in every file and every query,
    whatever the rows hold (an empty ``violations`` column is still
    ``list<string>``, a column of NAs still ``string``)."""
    import pyarrow as pa

    types = {"int64": pa.int64(), "Int64": pa.int64(), "uint8": pa.uint8(),
             "float64": pa.float64(), "bool": pa.bool_(), "string": pa.string(),
             "datetime": pa.timestamp("us", tz="UTC"), "list": pa.list_(pa.string())}  # fmt: skip
    cat = pa.dictionary(pa.int8(), pa.string())
    return pa.schema(
        [pa.field(c.name, cat if ":" in c.dtype else types[c.dtype]) for c in _schema(level)]
    )


def arrow_table(df: pd.DataFrame, level: str) -> Any:
    """The DataFrame as a pyarrow Table in :func:`arrow_schema` (lists stay
    lists). Arrow holds UTF-8 only: a lone surrogate (what a report's invalid
    UTF-8 or a JSON ``\\udcae`` escape loads as) becomes U+FFFD there."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(df, schema=arrow_schema(level), preserve_index=False)
    except UnicodeEncodeError:
        text = {c.name for c in _schema(level) if c.dtype == "string"}
        fixed = df.assign(**{n: df[n].map(_utf8, na_action="ignore") for n in text if n in df})
        return pa.Table.from_pandas(fixed, schema=arrow_schema(level), preserve_index=False)


def _utf8(v: str) -> str:
    return re.sub("[\ud800-\udfff]", "\ufffd", v)


def write_frame_parquet(df: pd.DataFrame, level: str, path: str) -> None:
    import pyarrow.parquet as pq

    pq.write_table(arrow_table(df, level), path)


def read_parquet(path: str, level: str | None = None) -> pd.DataFrame:
    """Read a Parquet file written by wirelog back into the schema's dtypes
    (``level`` is found from the column names when not given)."""
    import pandas as pd

    df = pd.read_parquet(path)
    if level is None:
        level = next((lv for lv in SCHEMAS if columns(lv) == tuple(df.columns)), None)
    for c in _schema(level) if level else ():
        if c.name not in df:
            continue
        if c.dtype == "list":
            df[c.name] = pd.Series([list(v) for v in df[c.name]], index=df.index, dtype=object)
        elif c.dtype == "string":
            df[c.name] = df[c.name].astype(pd.StringDtype("python"))
        elif c.dtype.startswith("category:"):
            cats = list(CATEGORIES[c.dtype.split(":", 1)[1]])
            df[c.name] = pd.Categorical(df[c.name].astype(object), categories=cats)
    return df


def write_csv(df: pd.DataFrame, level: str, path: str) -> None:
    """CSV in the schema: lists ``;``-joined, NA as an empty cell, times ISO 8601."""
    out = df.copy()
    for c in _schema(level):
        if c.dtype == "list" and c.name in out:
            out[c.name] = [";".join(v) for v in out[c.name]]
    out.to_csv(path, index=False)


def read_csv(path: str, level: str) -> pd.DataFrame:
    """A CSV of :func:`write_csv` or ``decode -f csv`` in the schema's dtypes. Columns
    it lacks are derived (``time``, ``t``, ``opcode_name``); ``t`` then counts from
    the first timestamp of each connection in the file."""
    import pandas as pd

    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    cols: dict[str, list[Any]] = {}
    for c in _schema(level):
        if c.name not in raw.columns or c.name == "time":
            continue  # time is derived from ts, exactly
        cols[c.name] = [_parse_cell(c.name, c.dtype, v) for v in raw[c.name].tolist()]
    return from_columns(level, cols)


#: String columns where an empty CSV cell means "absent" (NA), not "".
NULLABLE_STRINGS = frozenset({"mask", "text", "data", "reason", "client", "server", "target",
                              "subprotocol", "extensions", "case", "behavior"})  # fmt: skip


def _parse_cell(name: str, dtype: str, v: str) -> Any:
    if dtype == "list":
        return [x for x in v.split(";") if x]
    if v == "":
        return "" if dtype == "string" and name not in NULLABLE_STRINGS else None
    if dtype in ("int64", "Int64", "uint8"):
        return int(v)
    if dtype == "float64":
        return float(v)
    if dtype == "bool":
        return v in ("True", "true", "1")
    if dtype == "datetime":
        import pandas as pd

        return pd.Timestamp(v).timestamp()
    return v
