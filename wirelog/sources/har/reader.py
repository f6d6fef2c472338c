"""A HAR file's WebSocket entries, read as DevTools writes them.

Chromium's and Firefox's DevTools save a WebSocket connection as an entry
whose ``_resourceType`` is ``websocket``, with the Upgrade request and the
101 response as usual (HAR 1.2: ``request.headers``, ``response.status``)
and the messages in ``_webSocketMessages``: ``{type: send|receive, time,
opcode, data}``, ``time`` in seconds since the epoch, text as it was, binary
as base64. That is all a HAR knows of a WebSocket: messages, not frames
(:mod:`wirelog.sources.messages` says what that means downstream).

Each entry becomes a :class:`~wirelog.sources.messages.Socket`; a file that
is not a HAR, or an entry that breaks the shape, is one error naming the
entry and the message.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from wirelog.enums import nanoseconds
from wirelog.errors import InputError
from wirelog.model import Direction, Opcode
from wirelog.sources.messages import Recorded, Socket, head, push_sockets
from wirelog.sources.options import Options
from wirelog.sources.pcap.streams import read_all
from wirelog.sources.sink import Sink

_DIRECTIONS = {"send": Direction.TX, "receive": Direction.RX}
_OPCODES = frozenset(int(o) for o in Opcode)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def push(path: str, options: Options, sink: Sink) -> Iterator[None]:
    """Push the HAR's WebSocket entries into ``sink``, one connection each."""
    sockets = parse(path)
    return push_sockets(path, "a HAR", sockets, sink, options.conns, options.share)


def parse(path: str) -> list[Socket]:
    """The WebSocket entries of the HAR at ``path``, in file order."""
    try:
        doc = json.loads(read_all(path))
    except (ValueError, RecursionError) as exc:
        raise InputError(path, f"not a HAR: not JSON ({exc})") from None
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise InputError(path, "not a HAR: no log.entries list")
    sockets = []
    for n, entry in enumerate(entries):
        if isinstance(entry, dict) and (
            entry.get("_resourceType") == "websocket" or "_webSocketMessages" in entry
        ):
            try:
                sockets.append(_socket(entry))
            except (KeyError, TypeError, ValueError, binascii.Error) as exc:
                raise InputError(path, _why(exc), f"entry {n}") from None
    if not sockets:
        raise InputError(
            path,
            f"no WebSocket entry among the HAR's {len(entries)} entries (DevTools saves them "
            "with _webSocketMessages)",
        )
    return sockets


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    return str(exc)


def _socket(entry: dict[str, Any]) -> Socket:
    request = entry["request"]
    response = entry.get("response") or {}
    url = str(request["url"])
    start = _time(entry.get("startedDateTime"))
    target = _target(url)
    request_head, offered = head(
        f"{request.get('method', 'GET')} {target} HTTP/1.1", _headers(request)
    )
    response_head = agreed = None
    status = response.get("status")
    if isinstance(status, int) and status > 0:
        reason = response.get("statusText") or ""
        response_head, agreed = head(f"HTTP/1.1 {status} {reason}".rstrip(), _headers(response))
    messages = []
    for k, m in enumerate(entry.get("_webSocketMessages") or []):
        try:
            messages.append(_message(m))
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ValueError(f"_webSocketMessages[{k}]: {_why(exc)}") from None
    meta = {k: v for k, v in (("offered_extensions", offered), ("extensions", agreed)) if v}
    return Socket(url, request_head, response_head, start, messages, meta=meta)


def _message(m: dict[str, Any]) -> Recorded:
    direction = _DIRECTIONS.get(m["type"])
    if direction is None:
        raise ValueError(f"type {m['type']!r} is neither send nor receive")
    opcode = m["opcode"]
    if not isinstance(opcode, int) or opcode not in _OPCODES:
        raise ValueError(f"opcode {opcode!r} is no WebSocket opcode")
    data = m.get("data") or ""
    if not isinstance(data, str):
        raise ValueError("data is not a string")
    if opcode == Opcode.TEXT:
        payload = data.encode("utf-8", "surrogatepass")
    else:
        payload = base64.b64decode(data, validate=True)
    ts = m.get("time")
    return Recorded(direction, opcode, payload, nanoseconds(float(ts)) if ts is not None else None)


def _headers(part: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(h["name"]), str(h["value"])) for h in part.get("headers") or []]


def _target(url: str) -> str:
    """The request target of the URL (RFC 9112 §3.2.1: path and query)."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _time(value: object) -> int | None:
    """``startedDateTime`` (ISO 8601) as integer nanoseconds, exactly."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as datetime.timestamp() takes it
    since = when - _EPOCH
    return ((since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds) * 1000
