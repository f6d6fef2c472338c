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
  (:class:`~wirelog.protocol.connection.DecodedConnection`).

Sources live in :mod:`wirelog.sources`; this module only dispatches.
"""

from __future__ import annotations

from collections.abc import Iterator

from wirelog.errors import InputError
from wirelog.model import Connection, Recording
from wirelog.protocol.connection import DecodedConnection, decode_connection
from wirelog.protocol.events import ConnectionEnd, StreamItem
from wirelog.sources.detect import detect
from wirelog.sources.options import Options

__all__ = [
    "ConnectionEnd",
    "Options",
    "StreamItem",
    "decode",
    "decode_recording",
    "decoded_events",
    "detect",
    "read",
    "stream",
]


def read(path: str, options: Options | None = None) -> Recording:
    """Read any input into a materialized recording."""
    opts = options or Options()
    kind = detect(path)
    if kind in ("pcap", "pcapng"):
        from wirelog.sources.pcap.capture import read as read_capture

        return read_capture(path, opts)
    from wirelog.sources.autobahn.reader import parse as parse_report

    return parse_report(path, kind)


def decode_recording(recording: Recording) -> list[DecodedConnection]:
    from wirelog.protocol.claims import reconcile

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
        from wirelog.sources.pcap.capture import stream as stream_capture

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
