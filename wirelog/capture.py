"""One entry point for every input kind: the CLI, the library and notebooks
all come through here, so an input decodes the same way everywhere.

* :func:`detect` tells an input's kind from its *content*, never its name.
* :func:`stream` yields ``(connection, event)`` pairs in recorded order:
  chunks, frames, messages, violations, the handshake, and a
  :class:`ConnectionEnd` when a connection is complete. Captures stream in
  memory bounded by open connections; Autobahn reports are small and are
  decoded whole.
* :func:`read` returns the materialized :class:`~wirelog.model.Recording`.
* :func:`decode` returns every connection decoded
  (:class:`~wirelog.connection.DecodedConnection`).

Parsers live in :mod:`wirelog.parsers`; this module only dispatches.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from wirelog.connection import DecodedConnection, Event, decode_connection
from wirelog.errors import InputError, UnknownFormatError
from wirelog.model import Chunk, Connection, Recording

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


@dataclass(frozen=True, slots=True)
class ConnectionEnd:
    """Every event of this connection has been yielded."""


StreamItem = Event | Chunk | ConnectionEnd


@dataclass(frozen=True, slots=True)
class Options:
    """How captures are read; Autobahn inputs ignore what does not apply."""

    ws_ports: tuple[int, ...] = ()
    """Treat TCP traffic on these ports as WebSocket frames from the first
    octet (captures that start after the handshake)."""
    ports: tuple[int, ...] = ()
    """Only connections with one of these ports (either end)."""
    conns: tuple[int, ...] = ()
    """Only these connection numbers."""
    keep_data: bool = True
    extra: dict[str, object] = field(default_factory=dict)


def detect(path: str) -> str:
    """The input kind, from content: ``autobahn-folder``, ``autobahn-index``,
    ``autobahn-json``, ``autobahn-html``, ``autobahn-text``, ``pcap``, ``pcapng``."""
    if os.path.isdir(path):
        return "autobahn-folder"
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        return "autobahn-folder"
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as gz:
                head = gz.read(4096)
        except (OSError, EOFError) as exc:
            raise InputError(path, f"corrupt gzip data ({exc})") from None
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        return _json_kind(path, text)
    low = text[:2048].lower()
    if low.startswith("<!doctype html") or low.startswith("<html") or "<pre class=" in low:
        return "autobahn-html"
    if "Wire Log" in text or "TX OCTETS" in text or "RX OCTETS" in text or "Autobahn" in text:
        return "autobahn-text"
    if not head:
        raise UnknownFormatError(path, "empty file")
    raise UnknownFormatError(
        path,
        "not an Autobahn report (JSON, HTML or text), a reports folder, or a pcap/pcapng capture",
    )


def _json_kind(path: str, head: str) -> str:
    if '"wirelog"' in head or ('"agent"' in head[:200] and '"case"' in head):
        return "autobahn-json"
    if '"reportfile"' in head:
        return "autobahn-index"
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            doc = json.load(fh)
    except (ValueError, OSError):
        return "autobahn-json"  # the parser will say where it breaks
    if isinstance(doc, dict) and "wirelog" in doc:
        return "autobahn-json"
    if isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()):
        return "autobahn-index"
    raise UnknownFormatError(path, "JSON, but neither an Autobahn case report nor an index.json")


def read(path: str, options: Options | None = None) -> Recording:
    """Read any input into a materialized recording."""
    opts = options or Options()
    kind = detect(path)
    if kind in ("pcap", "pcapng"):
        from wirelog.parsers.pcap import read as read_capture

        return read_capture(path, opts)
    from wirelog.parsers.autobahn import parse as parse_report

    return parse_report(path, kind)


def decode_recording(recording: Recording) -> list[DecodedConnection]:
    from wirelog.claims import reconcile

    return [decode_connection(c, reconcile=reconcile) for c in recording.connections]


def decode(path: str, options: Options | None = None) -> list[DecodedConnection]:
    """Every connection of an input, decoded."""
    return decode_recording(read(path, options))


def stream(path: str, options: Options | None = None) -> Iterator[tuple[Connection, StreamItem]]:
    """Yield ``(connection, item)`` in recorded order; see the module docstring.

    For captures the connection objects carry no chunks (they stream past as
    items); for Autobahn inputs they are complete.
    """
    opts = options or Options()
    kind = detect(path)
    if kind in ("pcap", "pcapng"):
        from wirelog.parsers.pcap import stream as stream_capture

        yield from stream_capture(path, opts)
        return
    failure: InputError | None = None
    try:
        recording = read(path, opts)
    except InputError as exc:
        # A folder with an unreadable case: the readable ones still stream,
        # then the error is raised.
        if not isinstance(exc.partial, Recording):
            raise
        recording, failure = exc.partial, exc
    for dc in decode_recording(recording):
        conn = dc.connection
        if opts.conns and conn.conn not in opts.conns:
            continue
        yield from decoded_events(dc)
    if failure is not None:
        raise failure


def decoded_events(dc: DecodedConnection) -> Iterator[tuple[Connection, StreamItem]]:
    """A decoded connection as stream items: the order :func:`stream` yields
    for inputs decoded whole (handshake, chunks, frames, messages, problems)."""
    conn = dc.connection
    if dc.handshake is not None:
        yield conn, dc.handshake
    for ch in conn.chunks:
        yield conn, ch
    for f in dc.frames:
        yield conn, f
    for m in dc.messages:
        yield conn, m
    for v in dc.violations:
        yield conn, v
    yield conn, ConnectionEnd()
