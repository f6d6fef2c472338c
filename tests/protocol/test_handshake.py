"""Handshake parsing and extension negotiation (RFC 6455 §4, RFC 7692 §7)."""

from __future__ import annotations

import pytest

from wirelog.model import DeflateParams, ViolationKind
from wirelog.protocol.handshake import accept_for, deflate_params, parse_extensions, parse_handshake

REQ = (
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
)


def resp(accept: str, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n" + extra + b"\r\n"
    )


def test_rfc_example_accept() -> None:
    # RFC 6455 §1.3 gives this exact pair.
    assert accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_accept_agrees_with_websockets() -> None:
    from websockets.utils import accept_key

    for key in ("pKZMnrfgxQewKsfiO39oBQ==", "vA5TEBCn+NVy14WBNkcVSw=="):
        assert accept_for(key) == accept_key(key)


def test_good_handshake_with_deflate() -> None:
    ext = (
        b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
        b"client_max_window_bits=10\r\n"
    )
    hs, problems = parse_handshake(REQ, resp("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ext))
    assert problems == []
    assert (hs.method, hs.target, hs.status, hs.accept_ok) == ("GET", "/chat", 101, True)
    assert hs.deflate == DeflateParams(server_no_context_takeover=True, client_max_window_bits=10)
    assert hs.offered_extensions == "permessage-deflate; client_max_window_bits"


def test_bad_accept_and_rejection_are_reported() -> None:
    _, problems = parse_handshake(REQ, resp("AAAA"))
    assert [p.kind for p in problems] == [ViolationKind.BAD_ACCEPT]
    _, problems = parse_handshake(REQ, b"HTTP/1.1 403 Forbidden\r\n\r\n")
    assert [p.kind for p in problems] == [ViolationKind.HANDSHAKE_REJECTED]
    _, problems = parse_handshake(b"\x16\x03\x01garbage\r\n\r\n", None)
    assert [p.kind for p in problems] == [ViolationKind.BAD_HANDSHAKE]


def test_extension_parsing() -> None:
    assert parse_extensions('permessage-deflate; client_max_window_bits="12", x-foo') == [
        ("permessage-deflate", {"client_max_window_bits": "12"}),
        ("x-foo", {}),
    ]
    assert deflate_params("x-foo") is None
    assert deflate_params("permessage-deflate") == DeflateParams()


def test_head_length_and_request_sniffing() -> None:
    from wirelog.protocol.handshake import head_length, looks_like_request

    assert head_length(REQ + b"\x81\x00") == len(REQ)
    assert head_length(REQ[:-1]) is None
    assert looks_like_request(REQ) and looks_like_request(b"GET /")
    assert not looks_like_request(b"POST / HTTP/1.1\r\n")
    assert not looks_like_request(b"GET " + b"x" * 9000)


def test_split_head_is_lenient() -> None:
    from wirelog.protocol.handshake import split_head

    start, headers = split_head(b"GET / HTTP/1.1\nA: 1\n\tcontinued\nnot a header\nB:2\n\nbody: x")
    assert start == "GET / HTTP/1.1"
    assert headers == [("A", "1 continued"), ("B", "2")]


def test_odd_extension_offers() -> None:
    assert parse_extensions(", permessage-deflate;; server_no_context_takeover,") == [
        ("permessage-deflate", {"server_no_context_takeover": None})
    ]
    assert deflate_params("permessage-deflate; client_max_window_bits=big") == DeflateParams()


def test_requests_and_responses_that_are_not_upgrades() -> None:
    _, problems = parse_handshake(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", None)
    assert [p.kind for p in problems] == [ViolationKind.BAD_HANDSHAKE]
    assert "lacks GET, Upgrade" in problems[0].detail
    hs, problems = parse_handshake(None, b"SSH-2.0-OpenSSH\r\n\r\n")
    assert hs.status is None and [p.kind for p in problems] == [ViolationKind.BAD_HANDSHAKE]
    hs, problems = parse_handshake(None, resp("whatever"))
    assert hs.upgraded and hs.accept_ok is None and problems == []


def test_a_status_code_is_three_ascii_digits() -> None:
    """``isdigit`` takes ``¹01`` and 4,400 digits; int() then failed."""
    for status in ("¹01".encode(), b"1" * 4400, b"1O1", b"10"):
        hs, problems = parse_handshake(None, b"HTTP/1.1 " + status + b" OK\r\n\r\n")
        assert hs.status is None
        assert [p.kind for p in problems] == [ViolationKind.BAD_HANDSHAKE]


@pytest.mark.parametrize("bits", ["16", "7", "100", "1" + "0" * 20, "", "08x", "-9"])
def test_window_bits_outside_8_to_15_are_a_finding(bits: str) -> None:
    """RFC 7692 §7.1.2.1: 8 to 15 only. Another value is no agreement: it is
    reported, and the inflater gets 15 bits (which reads any smaller window)."""
    head = (
        "HTTP/1.1 101 Switching Protocols\r\n"
        f"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits={bits}\r\n\r\n"
    )
    hs, problems = parse_handshake(None, head.encode())
    assert hs.deflate is not None and hs.deflate.server_max_window_bits == 15
    assert any("server_max_window_bits" in p.detail for p in problems), problems


@pytest.mark.parametrize("bits", ["8", "9", "12", "15"])
def test_window_bits_from_8_to_15_are_kept(bits: str) -> None:
    head = (
        "HTTP/1.1 101 Switching Protocols\r\n"
        f"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits={bits}\r\n\r\n"
    )
    hs, problems = parse_handshake(None, head.encode())
    assert hs.deflate is not None and hs.deflate.client_max_window_bits == int(bits)
    assert problems == []
