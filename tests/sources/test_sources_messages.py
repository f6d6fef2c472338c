"""Messages-only recordings into the sink: heads, one frame per message."""

from __future__ import annotations

from wirelog.model import Direction, Frame, Handshake, Message, Violation
from wirelog.pipeline import ConnectionEnd, Decoding
from wirelog.sources.messages import Recorded, Socket, head, push_sockets, server_of
from wirelog.sources.share import share_of

REQUEST = [
    ("Host", "a"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
]
RESPONSE = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),  # RFC 6455 §1.3's example
]


def test_server_of_urls() -> None:
    assert server_of("ws://example.org/x") == "example.org:80"
    assert server_of("wss://example.org/x") == "example.org:443"
    assert server_of("ws://[::1]:9001/") == "[::1]:9001"
    assert server_of("ws://host:99999/") is None
    assert server_of("nothing") is None


def test_heads_leave_the_extensions_out() -> None:
    ext = ("Sec-WebSocket-Extensions", "permessage-deflate")
    raw, found = head("GET / HTTP/1.1", [("Host", "a"), ext])
    assert (raw, found) == (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "permessage-deflate")


def test_sockets_decode_through_the_one_decoder() -> None:
    request, _ = head("GET /chat HTTP/1.1", REQUEST)
    response, _ = head("HTTP/1.1 101 Switching Protocols", RESPONSE)
    msgs = [
        Recorded(Direction.TX, 1, b"hi", 1_000_000_000),
        Recorded(Direction.RX, 2, b"\x00" * 200, 2_000_000_000),
    ]
    socks = [
        Socket("ws://a/chat", request, response, 500_000_000, msgs),
        Socket("ws://b/", None, None, None, []),
    ]
    sink = Decoding()
    for _ in push_sockets("mem", "a test", socks, sink, conns=(0,)):
        pass
    assert sink.summary is not None and sink.summary.websocket == 1
    items = [i for _, i in sink.out]
    (hs,) = [i for i in items if isinstance(i, Handshake)]
    assert hs.accept_ok and hs.target == "/chat"
    frames = [i for i in items if isinstance(i, Frame)]
    assert [(f.masked, f.mask, f.payload) for f in frames] == [
        (True, b"\0\0\0\0", b"hi"),
        (False, None, b"\x00" * 200),
    ]
    assert [m.data for m in items if isinstance(m, Message)] == [b"hi", b"\x00" * 200]
    (v,) = [i for i in items if isinstance(i, Violation)]
    assert v.kind.value == "messages_only" and "a test records messages" in v.detail
    assert isinstance(items[-1], ConnectionEnd)


def test_a_socket_without_a_start_starts_at_its_first_message() -> None:
    msgs = [Recorded(Direction.TX, 1, b"a", None), Recorded(Direction.TX, 1, b"b", 7_000_000_123)]
    sink = Decoding()
    for _ in push_sockets("mem", "a test", [Socket("ws://a/", None, None, None, msgs)], sink):
        pass
    conn, _ = sink.out[0]
    assert conn.start_ts_ns == 7_000_000_123  # every line's t counts from it


def test_shares_of_sockets_are_the_whole_input_split_by_connection() -> None:
    """A HAR or a flow file shares out its connections as a capture does
    (``Options.share``): each socket in exactly one share, numbered as in
    the whole, the shares' frames together the whole input's."""
    request, _ = head("GET /chat HTTP/1.1", REQUEST)
    response, _ = head("HTTP/1.1 101 Switching Protocols", RESPONSE)
    socks = [
        Socket(f"ws://a/{n}", request, response, n, [Recorded(Direction.TX, 1, b"m%d" % n, n + 1)])
        for n in range(12)
    ]

    def frames(share: tuple[int, int] | None) -> tuple[list[tuple[int, bytes]], int]:
        sink = Decoding()
        for _ in push_sockets("mem", "a test", socks, sink, share=share):
            pass
        assert sink.summary is not None
        got = [(c.conn, i.payload) for c, i in sink.out if isinstance(i, Frame)]
        return got, sink.summary.websocket

    whole, counted = frames(None)
    assert counted == 12 and len(whole) == 12
    for n in (2, 3):
        parts = [frames((i, n)) for i in range(n)]
        assert all(c == 12 for _, c in parts)  # every share counts the input's connections
        kept = [{conn for conn, _ in got} for got, _ in parts]
        assert all(share_of(conn, n) == i for i, k in enumerate(kept) for conn in k)
        assert all(kept)  # 12 connections: none of the shares is empty
        assert sorted(f for got, _ in parts for f in got) == sorted(whole)
