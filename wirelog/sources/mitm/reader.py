"""A mitmproxy flow file's WebSocket connections, read by mitmproxy itself.

mitmproxy stores flows as tnetstrings whose layout changes with its
versions (each file says which, and ``mitmproxy.io`` migrates old ones), so
wirelog does not parse them: mitmproxy's own reader
(``mitmproxy.io.FlowReader``) does. mitmproxy pins versions of
``cryptography`` and ``tornado`` that the rest of wirelog's environment
outgrew (autobahn, ipykernel), so it is used as a tool, installed apart
(``pipx install mitmproxy``, or the ``.venv-mitmproxy`` that ``.ci/setup``
makes), the way dumpcap is for live capture: the Python that runs
``mitmdump`` runs :data:`DUMP`, a short script that prints each WebSocket
flow as one JSON line, and this module turns the lines into
:class:`~wirelog.sources.messages.Socket` objects. Like a HAR, a flow keeps
messages, not frames (:mod:`wirelog.sources.messages`).

``mitmdump`` is found through ``WIRELOG_MITMDUMP`` (a path), else ``PATH``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

from wirelog.enums import nanoseconds
from wirelog.errors import InputError
from wirelog.model import Direction
from wirelog.sources.messages import Recorded, Socket, head, push_sockets
from wirelog.sources.options import Options
from wirelog.sources.sink import Sink

#: Runs in mitmproxy's own Python: ``argv[1]`` is the flow file; one JSON
#: line per flow that became a WebSocket, on stdout; an unreadable file is
#: one line on stderr and exit status 3.
DUMP = r"""
import base64, json, sys
from mitmproxy import http, io
from mitmproxy.exceptions import FlowReadException

def b64(b):
    return base64.b64encode(b or b"").decode()

def fields(headers):
    return [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers.fields]

out = sys.stdout
try:
    with open(sys.argv[1], "rb") as fh:
        for n, f in enumerate(io.FlowReader(fh).stream()):
            if not isinstance(f, http.HTTPFlow) or f.websocket is None:
                continue
            rq, rs, ws = f.request, f.response, f.websocket
            out.write(json.dumps({
                "flow": n,
                "url": rq.pretty_url,
                "method": rq.method,
                "path": rq.path,
                "request_headers": fields(rq.headers),
                "status": rs.status_code if rs else None,
                "reason": rs.reason if rs else None,
                "response_headers": fields(rs.headers) if rs else [],
                "start": rq.timestamp_start,
                "client": list(f.client_conn.peername or ()) or None,
                "close_code": ws.close_code,
                "close_reason": ws.close_reason,
                "closed_by_client": ws.closed_by_client,
                "messages": [
                    [m.from_client, int(m.type), b64(m.content), m.timestamp]
                    for m in ws.messages
                ],
            }) + "\n")
except FlowReadException as exc:
    sys.stderr.write(f"{exc}\n")
    sys.exit(3)
except OSError as exc:
    sys.stderr.write(f"{exc.strerror or exc}\n")
    sys.exit(3)
"""


def push(path: str, options: Options, sink: Sink) -> Iterator[None]:
    """Push the flow file's WebSocket connections into ``sink``."""
    sockets = parse(path)
    return push_sockets(path, "a mitmproxy flow", sockets, sink, options.conns, options.share)


def mitmdump() -> str:
    """The ``mitmdump`` to borrow mitmproxy's Python from, or an error."""
    found = os.environ.get("WIRELOG_MITMDUMP") or shutil.which("mitmdump")
    if not found or not os.access(found, os.X_OK):
        raise InputError(
            "mitmdump",
            "not found: reading mitmproxy flows needs mitmproxy (pipx install mitmproxy; "
            "or WIRELOG_MITMDUMP=/path/to/mitmdump)",
        )
    return found


def interpreter(tool: str) -> str:
    """The Python a ``mitmdump`` console script runs under (its ``#!`` line)."""
    with open(tool, "rb") as fh:
        first = fh.readline(4096)
    if first.startswith(b"#!"):
        return first[2:].decode("utf-8", "replace").split()[0]
    raise InputError(tool, "not a Python console script: cannot find mitmproxy's Python")


def parse(path: str) -> list[Socket]:
    """The WebSocket flows of the flow file at ``path``, in file order."""
    if not os.path.isfile(path):
        raise InputError(path, "mitmproxy flows are read from a file (not a pipe)")
    python = interpreter(mitmdump())
    try:
        run = subprocess.run(
            [python, "-c", DUMP, path], capture_output=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(path, f"mitmproxy's reader failed ({exc})") from None
    if run.returncode != 0:
        said = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(path, f"mitmproxy cannot read it: {said[-1] if said else run.returncode}")
    sockets = []
    for line in run.stdout.splitlines():
        try:
            sockets.append(_socket(json.loads(line)))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:  # pragma: no cover
            raise InputError(path, f"mitmproxy's reader gave a bad line ({exc})") from None
    if not sockets:
        raise InputError(path, "no WebSocket flow in the mitmproxy flow file")
    return sockets


def _socket(d: dict[str, Any]) -> Socket:
    request_head, offered = head(f"{d['method']} {d['path']} HTTP/1.1", d["request_headers"])
    response_head = agreed = None
    if d["status"] is not None:
        start = f"HTTP/1.1 {d['status']} {d['reason'] or ''}".rstrip()
        response_head, agreed = head(start, d["response_headers"])
    messages = [
        Recorded(Direction.TX if c else Direction.RX, op, base64.b64decode(data), nanoseconds(ts))
        for c, op, data, ts in d["messages"]
    ]
    url = str(d["url"])
    if url.startswith("http"):
        url = "ws" + url[4:]  # mitmproxy names the Upgrade request's URL
    client = d["client"]
    meta: dict[str, Any] = {"flow": d["flow"]}
    for key, value in (("offered_extensions", offered), ("extensions", agreed)):
        if value:
            meta[key] = value
    for key in ("close_code", "close_reason", "closed_by_client"):
        if d.get(key) is not None:
            meta[key] = d[key]
    return Socket(
        url,
        request_head,
        response_head,
        nanoseconds(d["start"]),
        messages,
        client=f"{client[0]}:{client[1]}" if client else None,
        meta=meta,
    )
