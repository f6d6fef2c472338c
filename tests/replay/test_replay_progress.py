"""Peer progress in protocol units: the causal-order model a replay waits on."""

from __future__ import annotations

from servers import SEED_RESPONSE, seed_connection

from wirelog.model import Role
from wirelog.protocol.frames import encode_frame
from wirelog.replay.plan import build_plan
from wirelog.replay.progress import Need, Progress


def test_progress_counts_units_not_octets() -> None:
    need = build_plan(seed_connection()).writes[2].need
    p = Progress(Role.SERVER)
    longer = SEED_RESPONSE.replace(b"\r\n\r\n", b"\r\nServer: x" + b"y" * 100 + b"\r\n\r\n")
    p.feed(longer[:150])  # more octets than recorded, head not complete yet
    assert p.octets >= need.octets and not p.satisfies(need)
    p.feed(longer[150:])
    assert not p.satisfies(need)  # the pong is still missing
    p.feed(encode_frame(10, b"Hello, world!"))
    assert p.satisfies(need)


def test_undecodable_recordings_fall_back_to_octets() -> None:
    assert Progress(Role.SERVER).satisfies(Need(units=False, octets=0))
    p = Progress(Role.SERVER)
    p.feed(b"HTTP/1.1 101 OK\r\n\r\n")
    assert not p.satisfies(Need(units=False, octets=30))
    p.feed(b"x" * 11)
    assert p.satisfies(Need(units=False, octets=30))


def test_the_octet_fallback_counts_past_the_http_head() -> None:
    """A recording whose answers cannot be decoded (a log cut at 64 octets)
    waits in octets; another server's head of another length (here 5 octets
    shorter, as AutobahnPython's against nim-websock's) must not shift them."""
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    need = Need(True, 8, 22, len(head) + 5 + 110, units=False, head_octets=len(head) + 5)
    p = Progress(Role.SERVER)
    p.feed(head + encode_frame(10, b"payload-0") * 9)
    assert p.need().head_octets == len(head)
    assert not p.satisfies(need)  # 99 of the 110 octets past the head
    p.feed(encode_frame(10, b"payload-9"))
    assert p.satisfies(need)
    assert p.octets < need.octets  # counted from the start, it would still wait


def test_more_frames_cover_a_need_whatever_the_extra_octets() -> None:
    assert Need(True, 2, 0, 10).covers(Need(True, 1, 5, 10))
    assert not Need(True, 1, 4, 10).covers(Need(True, 1, 5, 10))
    assert not Need(False, 3, 0, 10).covers(Need(True, 0, 0, 1))


def test_close_status_and_boundaries() -> None:
    p = Progress(Role.SERVER)
    assert p.describe() == "nothing" and p.handshake_status is None
    p.feed(SEED_RESPONSE)
    assert p.handshake_status == 101 and p.boundary == len(SEED_RESPONSE)
    pong = encode_frame(10, b"hi")
    p.feed(pong + b"\x88")
    assert p.boundary == len(SEED_RESPONSE) + len(pong) and p.extra == 1
    assert not p.close_seen
    p.feed(b"\x02\x03\xe8")
    assert p.close_seen and p.frames == 2
    assert p.describe() == f"{p.octets} octets, the HTTP head + 2 frames"


def test_needs_describe_themselves() -> None:
    assert Need().describe() == "0 octets"
    assert Need(True, 1, 3, 50).describe() == "the HTTP head + 1 frame + 3 more octets"
    assert Need(frames=2, octets=9).describe() == "2 frames"


def test_a_stream_without_handshake_starts_at_a_frame() -> None:
    p = Progress(Role.CLIENT, handshake=False)
    assert p.head and p.boundary == 0
    (f,) = p.feed(encode_frame(1, b"x", mask=b"abcd"))
    assert f.payload == b"x" and not p.lost


def test_a_head_that_cannot_be_http_is_known_at_once() -> None:
    """The first octets tell: no wait for a timeout (issue 11's garbage peers)."""
    server = Progress(Role.SERVER)
    server.feed(b"HT")
    assert server.no_head is None and not server.upgraded
    server.feed(b"TP/1.1 101 Switching Protocols\r\n\r\n")
    assert server.no_head is None and server.upgraded
    garbage = Progress(Role.SERVER)
    garbage.feed(b"\x00\x01\x02\x03\x04\x05")
    assert (
        garbage.no_head
        == "its first octets start no HTTP status line (b'\\x00\\x01\\x02\\x03\\x04')"
    )
    client = Progress(Role.CLIENT)
    client.feed(b"POST / HTTP/1.1\r\n")
    assert client.no_head == "its first octets start no HTTP GET request (b'POST')"
    assert not client.upgraded
    endless = Progress(Role.SERVER)
    endless.feed(b"HTTP/1.1 101 OK\r\nX: " + b"a" * 70000)
    assert endless.no_head == "no end of an HTTP head within the first 65536 octets"
    refused = Progress(Role.SERVER)
    refused.feed(b"HTTP/1.1 403 Forbidden\r\n\r\n")
    assert refused.no_head is None and not refused.upgraded and refused.handshake_status == 403
