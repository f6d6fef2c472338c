"""The fuzzing server's answer to a live client's permessage-deflate offer
(12.x, 13.x in ``suite serve``).

A server-mode reference holds the 101 Autobahn sent, whose
``Sec-WebSocket-Extensions`` is the answer the case gives (12.x accept the
default; 13.x ask for context takeover off or a smaller window). That
answer was fitted to the recorded client's offer; another client offers
other parameters, and a response may only hold what RFC 7692 lets a server
answer to the offer it got:

* no permessage-deflate offered: no extension (the case then closes at
  once, as Autobahn's does, spec §3.7);
* ``client_max_window_bits`` and ``server_max_window_bits`` only when the
  offer has them (§7.1.2.1, §7.1.2.2), the server's never above the value
  offered;
* ``*_no_context_takeover`` as the case says (a server may always ask).

The server's window is what the answer leaves it (15 when unsaid).
"""

from __future__ import annotations

from wirelog.protocol.handshake import deflate_params, parse_extensions
from wirelog.replay.head import header

_NAME = "sec-websocket-extensions"


def answer_offer(response: bytes, request: bytes) -> tuple[bytes, int]:
    """``response`` (a recorded 101) with its extension answer fitted to the
    offer in ``request``; and the window bits the server compresses with."""
    answer = parse_extensions(header(response, _NAME))
    deflate = next((params for name, params in answer if name == "permessage-deflate"), None)
    if deflate is None:
        return response, 15
    offers = [p for name, p in parse_extensions(header(request, _NAME)) if name == _PMD]
    value: str | None = None
    if offers:
        offer = offers[0]
        fitted: dict[str, str | None] = {}
        for key, v in deflate.items():
            if key.endswith("_max_window_bits"):
                if key not in offer:
                    continue
                asked = offer[key]
                if v is not None and asked is not None and asked.isdigit() and v.isdigit():
                    v = str(min(int(v), int(asked)))
            fitted[key] = v
        value = "; ".join([_PMD] + [k if v is None else f"{k}={v}" for k, v in fitted.items()])
    head = _set_header(response, value)
    agreed = deflate_params(value)
    return head, agreed.server_max_window_bits if agreed is not None else 15


_PMD = "permessage-deflate"


def _set_header(head: bytes, value: str | None) -> bytes:
    """``head`` with its ``Sec-WebSocket-Extensions`` line set to ``value``
    (removed when None)."""
    lines = head.split(b"\r\n")
    end = lines.index(b"") if b"" in lines else len(lines)
    kept = [ln for ln in lines[:end] if ln.split(b":", 1)[0].strip().lower() != _NAME.encode()]
    if value is not None:
        kept.append(b"Sec-WebSocket-Extensions: " + value.encode())
    return b"\r\n".join(kept) + b"\r\n\r\n"


__all__ = ["answer_offer"]
