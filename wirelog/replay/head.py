"""Edits a replay makes to a recorded HTTP head (pure apart from the key).

A replay sends the recorded octets, but a few header values only make sense
for the original peer: the Host of a client replay (virtual hosts route on
it), a fresh ``Sec-WebSocket-Key`` on request, and a server replay's
``Sec-WebSocket-Accept``, which must answer the live client's key
(RFC 6455 §4.2.2) or no client goes on. Reading a header goes through
:func:`wirelog.protocol.handshake.split_head`; editing needs the value's
position in the octets, so it has its own span search, used for nothing else.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import replace

from wirelog.protocol.handshake import accept_for, head_length, split_head
from wirelog.replay.steps import Plan, Write

_HEADER = re.compile(rb"\r?\n([A-Za-z0-9-]+)[ \t]*:[ \t]*([^\r\n]*)")


def header(head: bytes, name: str) -> str | None:
    """The first value of header ``name`` (any case) in ``head``."""
    want = name.lower()
    _, headers = split_head(head)
    return next((v for k, v in headers if k.lower() == want), None)


def request_key(head: bytes) -> str | None:
    """The Sec-WebSocket-Key of a request head."""
    return header(head, "sec-websocket-key")


def new_key() -> str:
    """A fresh Sec-WebSocket-Key (RFC 6455 §4.1: 16 random bytes, base64)."""
    return base64.b64encode(os.urandom(16)).decode()


def edit_head(plan: Plan, headers: dict[str, str]) -> Plan:
    """Replace header values in the replayed HTTP head (see
    :func:`edit_writes`); a new ``Sec-WebSocket-Key`` is kept on the plan."""
    writes = edit_writes(plan.writes, headers)
    if writes is plan.writes:
        return plan
    key = headers.get("Sec-WebSocket-Key", plan.request_key)
    return replace(plan, writes=writes, request_key=key)


def edit_path(plan: Plan, path: str) -> Plan:
    """Replace the request target of a client's request line (RFC 7230
    §5.3) with ``path``, when the first write carries the whole line."""
    first = plan.writes[0] if plan.writes else None
    if first is None or not first.head or not first.data.startswith(b"GET "):
        return plan
    end = first.data.find(b" HTTP/", 4)
    if end < 0:
        return plan
    data = b"GET " + path.encode("latin-1") + first.data[end:]
    return replace(plan, writes=(replace(first, data=data), *plan.writes[1:]))


def edit_writes(writes: tuple[Write, ...], headers: dict[str, str]) -> tuple[Write, ...]:
    """Replace header values in the head the ``head`` writes carry, keeping
    every other octet and the chop boundaries (a boundary inside an edited
    value stays at the value's start; later ones shift by the length
    change)."""
    head_writes = [i for i, w in enumerate(writes) if w.head]
    if not head_writes or not headers:
        return writes
    stream = b"".join(writes[i].data for i in head_writes)
    end = head_length(stream) or len(stream)
    bounds: list[int] = []
    acc = 0
    for i in head_writes:
        acc += len(writes[i].data)
        bounds.append(acc)
    for name, value in headers.items():
        for m in _HEADER.finditer(stream[:end]):
            if m.group(1).decode("latin-1").lower() != name.lower():
                continue
            start, stop = m.span(2)
            new = value.encode("latin-1")
            delta = len(new) - (stop - start)
            stream = stream[:start] + new + stream[stop:]
            end += delta
            bounds = [
                b if b <= start else (b + delta if b >= stop else min(b, start + len(new)))
                for b in bounds
            ]
            break
    out = list(writes)
    prev = 0
    for i, b in zip(head_writes, bounds, strict=True):
        out[i] = replace(out[i], data=stream[prev:b])
        prev = b
    return tuple(out)


def answer_key(writes: tuple[Write, ...], client_key: str) -> tuple[Write, ...]:
    """Server replay: make the recorded 101's accept value fit the live
    client's key (RFC 6455 §4.2.2), or no client could accept it."""
    return edit_writes(writes, {"Sec-WebSocket-Accept": accept_for(client_key)})
