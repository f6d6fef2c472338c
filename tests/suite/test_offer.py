"""The fuzzing server's permessage-deflate answer fitted to a live offer
(RFC 7692 §7.1), read back with the decoder's own handshake parser."""

from __future__ import annotations

from wirelog.protocol.handshake import deflate_params
from wirelog.replay.head import header
from wirelog.suite.offer import answer_offer

HEAD = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"


def _response(ext: str | None) -> bytes:
    line = f"Sec-WebSocket-Extensions: {ext}\r\n".encode() if ext else b""
    return HEAD + line + b"\r\n"


def _request(ext: str | None) -> bytes:
    line = f"Sec-WebSocket-Extensions: {ext}\r\n".encode() if ext else b""
    return b"GET /runCase?case=1 HTTP/1.1\r\nHost: x\r\n" + line + b"\r\n"


def _ext(head: bytes) -> str | None:
    return header(head, "sec-websocket-extensions")


def test_an_answer_without_extension_is_kept() -> None:
    assert answer_offer(_response(None), _request("permessage-deflate")) == (_response(None), 15)


def test_no_offer_no_extension() -> None:
    head, bits = answer_offer(_response("permessage-deflate"), _request(None))
    assert _ext(head) is None and bits == 15 and head.endswith(b"Upgrade\r\n\r\n")


def test_window_bits_only_when_offered() -> None:
    recorded = _response("permessage-deflate; client_no_context_takeover; client_max_window_bits=9")
    head, _ = answer_offer(recorded, _request("permessage-deflate"))
    assert _ext(head) == "permessage-deflate; client_no_context_takeover"
    head, _ = answer_offer(recorded, _request("permessage-deflate; client_max_window_bits"))
    assert _ext(head) == "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"


def test_the_server_window_never_above_the_offer() -> None:
    recorded = _response("permessage-deflate; server_max_window_bits=12")
    head, bits = answer_offer(recorded, _request("permessage-deflate; server_max_window_bits=10"))
    assert _ext(head) == "permessage-deflate; server_max_window_bits=10" and bits == 10
    agreed = deflate_params(_ext(head))
    assert agreed is not None and agreed.server_max_window_bits == 10
    head, bits = answer_offer(recorded, _request("x-webkit-deflate-frame, permessage-deflate"))
    assert _ext(head) == "permessage-deflate" and bits == 15
