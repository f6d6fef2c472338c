"""What a skipped connection's first octets look like: real TLS ClientHellos
from Python's ssl, real frames from the ``websockets`` library's encoder."""

from __future__ import annotations

import os
import ssl

import pytest
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOp
from websockets.streams import StreamReader

from wirelog.sources.pcap.sniff import Start, classify, frames_start
from wirelog.sources.tls.handshake import looks_like_client_hello as client_hello


def real_client_hello(version: ssl.TLSVersion) -> bytes:
    """The first flight of a real TLS client, through memory BIOs."""
    ctx = ssl.create_default_context()
    ctx.minimum_version = ctx.maximum_version = version
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="example.org")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def ws_frames(*frames: WsFrame, mask: bool) -> bytes:
    return b"".join(f.serialize(mask=mask, extensions=[]) for f in frames)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_client_hello(version: ssl.TLSVersion) -> None:
    hello = real_client_hello(version)
    assert client_hello(hello)
    assert classify(hello, 50000, 443) == (Start.TLS, 443)
    assert not client_hello(hello[:5]) and not client_hello(b"GET / HTTP/1.1\r\n")


def test_http_requests_and_responses() -> None:
    assert classify(b"POST /x HTTP/1.1\r\n", 50000, 8080) == (Start.HTTP, 8080)
    assert classify(b"HTTP/1.1 200 OK\r\n", 8080, 50000) == (Start.HTTP, 8080)


def test_masked_frames_come_from_the_client_unmasked_from_the_server() -> None:
    text = WsFrame(WsOp.TEXT, b"hello")
    ping = WsFrame(WsOp.PING, b"p")
    big = WsFrame(WsOp.BINARY, os.urandom(70000))
    mid = WsFrame(WsOp.BINARY, b"m" * 300)
    client = ws_frames(text, ping, mid, big, text, mask=True)
    assert frames_start(client) is True
    assert classify(client, 50000, 9001) == (Start.FRAMES, 9001)
    server = ws_frames(text, mid, mask=False)
    assert frames_start(server) is False
    assert classify(server, 9001, 50000) == (Start.FRAMES, 9001)
    # a frame running past the octets, a header cut in its length: still frames
    assert frames_start(ws_frames(big, mask=False)[:1000]) is False
    assert frames_start(ws_frames(text, mask=True) + ws_frames(big, mask=True)[:5]) is True
    assert frames_start(ws_frames(text, mask=True) + b"\x81") is True
    # the websockets library reads back what was taken for frames
    reader = StreamReader()
    reader.feed_data(client)
    parsed = []
    while True:
        gen = WsFrame.parse(reader.read_exact, mask=True, extensions=[])
        try:
            next(gen)
        except StopIteration as done:
            parsed.append(done.value.opcode)
        if not reader.buffer:
            break
    assert parsed == [WsOp.TEXT, WsOp.PING, WsOp.BINARY, WsOp.BINARY, WsOp.TEXT]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x81",  # one octet
        b"\x00\x00\x00\x00",  # zeros: a continuation first
        b"\xb1\x05hello",  # RSV3
        b"\x83\x00",  # reserved opcode
        b"\x09\x00",  # a ping not final
        b"\x89\x7e\x00\x80" + b"x" * 128,  # a control frame over 125
        b"\x81\x7e\x00\x05hello",  # 16-bit length for 5
        b"\x82\x7f" + (5).to_bytes(8, "big") + b"hello",  # 64-bit length for 5
        b"\x82\x7f" + (1 << 63).to_bytes(8, "big"),  # the top bit set
        b"\x82\x7e\x00",  # cut in the 16-bit length of the first frame
        b"\x82\x7f\x00\x00",  # cut in the 64-bit length of the first frame
        b"\x81\x85abcdhello\x81\x05hello",  # masked, then not
        b"SSH-2.0-OpenSSH_9.2\r\n",
    ],
)
def test_what_is_not_frames(data: bytes) -> None:
    assert frames_start(data) is None
    assert classify(data, 1, 2)[0] in (Start.OTHER, Start.HTTP)
