"""The HTTP/1.1 Upgrade handshake (RFC 6455 §4) and extension negotiation.

Pure functions over bytes: a head is split, checked and turned into a
:class:`~wirelog.model.Handshake`, including the permessage-deflate
parameters both sides agreed on (RFC 7692 §7), which the message layer
needs to inflate anything.
"""

from __future__ import annotations

import base64
import hashlib
import re

from wirelog.model import DeflateParams, Handshake, Violation, ViolationKind

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: Longest head wirelog looks for before it decides the stream is not HTTP.
MAX_HEAD = 64 * 1024
HEAD_END = b"\r\n\r\n"


def accept_for(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 step 5.4)."""
    return base64.b64encode(hashlib.sha1(key.strip().encode("latin-1") + GUID).digest()).decode()


def head_length(data: bytes) -> int | None:
    """Length of the HTTP head at the start of ``data`` (through the blank
    line), or None if it has not ended yet."""
    end = data.find(HEAD_END)
    return None if end < 0 else end + 4


def looks_like_request(data: bytes) -> bool:
    """A cheap test for the start of an HTTP/1.1 GET, used to detect WebSocket
    connections on any port."""
    return data[:4] == b"GET " and (b"HTTP/1." in data[:8192] or len(data) < 8192)


def split_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """Start line and headers, names kept as sent. Lenient: latin-1, bare LF."""
    text = head.decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            break
        if line[0] in " \t" and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return start, headers


def _get(headers: list[tuple[str, str]], name: str) -> str | None:
    found = [v for k, v in headers if k.lower() == name]
    return ", ".join(found) if found else None


def parse_extensions(value: str | None) -> list[tuple[str, dict[str, str | None]]]:
    """``Sec-WebSocket-Extensions`` as a list of (name, params) (RFC 6455 §9.1)."""
    result: list[tuple[str, dict[str, str | None]]] = []
    if not value:
        return result
    for item in value.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str | None] = {}
        for p in parts[1:]:
            if not p:
                continue
            k, eq, v = p.partition("=")
            params[k.strip().lower()] = v.strip().strip('"') if eq else None
        result.append((parts[0].lower(), params))
    return result


def deflate_params(response_extensions: str | None) -> DeflateParams | None:
    """What permessage-deflate settings the server accepted (RFC 7692 §7.1).

    Only the response counts: it is the agreement. Absent window bits mean 15.
    """
    for name, params in parse_extensions(response_extensions):
        if name != "permessage-deflate":
            continue

        return DeflateParams(
            server_no_context_takeover="server_no_context_takeover" in params,
            client_no_context_takeover="client_no_context_takeover" in params,
            server_max_window_bits=_window_bits(params.get("server_max_window_bits")),
            client_max_window_bits=_window_bits(params.get("client_max_window_bits")),
        )
    return None


def _window_bits(raw: str | None) -> int:
    """RFC 7692 §7.1.2: absent means the full 15-bit window. A value outside
    8-15 is no agreement at all (:func:`window_bits_problems` says so); the
    decoder then inflates with 15 bits, which reads any window up to it."""
    bits = _valid_bits(raw)
    return 15 if bits is None else bits


def _valid_bits(raw: str | None) -> int | None:
    """The window bits ``raw`` names, if it is a decimal from 8 to 15."""
    if raw is None or not re.fullmatch(r"[0-9]{1,2}", raw):
        return None
    bits = int(raw)
    return bits if 8 <= bits <= 15 else None


def window_bits_problems(response_extensions: str | None) -> list[str]:
    """What is wrong with the window bits a server answered (RFC 7692 §7.1.2.1:
    "a decimal integer value without leading zeroes between 8 to 15")."""
    found = []
    for name, params in parse_extensions(response_extensions):
        if name != "permessage-deflate":
            continue
        for key in ("server_max_window_bits", "client_max_window_bits"):
            if key in params and _valid_bits(params[key]) is None:
                value = (params[key] or "")[:20]
                found.append(f"{key}={value!r} is not a window size from 8 to 15 (RFC 7692)")
    return found


def parse_handshake(
    request: bytes | None, response: bytes | None
) -> tuple[Handshake, list[Violation]]:
    """Parse both heads (either may be missing) and check the accept value."""
    problems: list[Violation] = []
    method = target = host = key = version = offered = None
    req_headers: list[tuple[str, str]] = []
    if request is not None:
        start, req_headers = split_head(request)
        parts = start.split()
        if len(parts) >= 3 and parts[2].startswith("HTTP/"):
            method, target = parts[0], parts[1]
        else:
            problems.append(
                Violation(ViolationKind.BAD_HANDSHAKE, f"not an HTTP request: {start[:60]!r}")
            )
        host = _get(req_headers, "host")
        key = _get(req_headers, "sec-websocket-key")
        version = _get(req_headers, "sec-websocket-version")
        offered = _get(req_headers, "sec-websocket-extensions")
        upgrade = (_get(req_headers, "upgrade") or "").lower()
        if method is not None and (method != "GET" or "websocket" not in upgrade or key is None):
            problems.append(
                Violation(
                    ViolationKind.BAD_HANDSHAKE,
                    "request lacks GET, Upgrade: websocket or Sec-WebSocket-Key",
                )
            )
    status = accept = subprotocol = extensions = None
    accept_ok = None
    resp_headers: list[tuple[str, str]] = []
    deflate = None
    if response is not None:
        start, resp_headers = split_head(response)
        parts = start.split(None, 2)
        # RFC 9112 §4: the status code is three ASCII digits (``isdigit`` would
        # take ``¹01`` or a 4,000-digit number).
        if len(parts) >= 2 and parts[0].startswith("HTTP/") and re.fullmatch(r"[0-9]{3}", parts[1]):
            status = int(parts[1])
        else:
            problems.append(
                Violation(ViolationKind.BAD_HANDSHAKE, f"not an HTTP response: {start[:60]!r}")
            )
        accept = _get(resp_headers, "sec-websocket-accept")
        subprotocol = _get(resp_headers, "sec-websocket-protocol")
        extensions = _get(resp_headers, "sec-websocket-extensions")
        if status is not None and status != 101:
            problems.append(
                Violation(ViolationKind.HANDSHAKE_REJECTED, f"server answered {start[:80]!r}")
            )
        if status == 101:
            deflate = deflate_params(extensions)
            for problem in window_bits_problems(extensions):
                problems.append(Violation(ViolationKind.BAD_HANDSHAKE, problem))
            if key is not None:
                accept_ok = accept is not None and accept.strip() == accept_for(key)
                if not accept_ok:
                    problems.append(
                        Violation(
                            ViolationKind.BAD_ACCEPT,
                            f"Sec-WebSocket-Accept {accept!r} != {accept_for(key)!r} "
                            f"for key {key!r}",
                        )
                    )
    hs = Handshake(
        request=request,
        response=response,
        method=method,
        target=target,
        host=host,
        key=key,
        version=version,
        status=status,
        accept=accept,
        accept_ok=accept_ok,
        subprotocol=subprotocol,
        extensions=extensions,
        offered_extensions=offered,
        deflate=deflate,
        request_headers=tuple(req_headers),
        response_headers=tuple(resp_headers),
    )
    return hs, problems
