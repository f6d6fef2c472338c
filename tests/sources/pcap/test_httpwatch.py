"""Walking HTTP/1.1 (RFC 9112) up to the Upgrade: bodies by Content-Length
or chunked coding are skipped, whatever the segment boundaries, and what
cannot be walked is given up on with a reason."""

from __future__ import annotations

import time

from wirelog.sources.pcap.httpwatch import HttpWatch
from wirelog.sources.pcap.tcp import DATA, GAP, Piece

UPGRADE = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
SWITCH = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"


def piece(data: bytes, n: int = 1) -> Piece:
    return (DATA, data, len(data), float(n), n)


def walk(watch: HttpWatch, stream: bytes, size: int) -> list[Piece] | None:
    """Feed ``stream`` in pieces of ``size`` octets; the released pieces."""
    for i in range(0, len(stream), size):
        released = watch.feed(piece(stream[i : i + size], i))
        if released is not None:
            return released
    return None


def test_client_side_skips_plain_requests_with_bodies_in_any_split() -> None:
    plain = b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    chunked = b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    stream = plain + chunked + UPGRADE + b"\x81\x80WS"
    for size in (1, 2, 7, 64, len(stream)):
        watch = HttpWatch(response=False)
        released = walk(watch, stream, size)
        assert released is not None, size
        assert b"".join(p[1] for p in released).startswith(UPGRADE[: min(size, len(UPGRADE))])
        assert watch.count == 2 and watch.found
        assert watch.feed(piece(b"more")) is None  # done: nothing more is walked


def test_server_side_releases_the_answer_to_the_upgrade() -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    early = b"HTTP/1.1 100 Continue\r\n\r\n"
    empty = b"HTTP/1.1 204 No Content\r\n\r\n"
    stream = first + early + empty + SWITCH + b"\x81\x02hi"
    watch = HttpWatch(response=True)
    watch.target = 2  # the client's third request asked to upgrade
    released = walk(watch, stream, 5)
    assert released is not None
    got = b"".join(p[1] for p in released)
    # from the 101's first octet to the end of the piece that completed its head
    assert len(got) >= len(SWITCH) and got == stream[len(first + early + empty) :][: len(got)]
    assert watch.count == 2


def test_what_cannot_be_walked_is_given_up_with_a_reason() -> None:
    cases = {
        "octets missing before the Upgrade": [(GAP, b"", 10, 0.0, 1)],
        "not an HTTP response": [piece(b"SSH-2.0-OpenSSH\r\n\r\n")],
        "bad Content-Length": [piece(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")],
        "response body delimited by the connection close": [piece(b"HTTP/1.1 200 OK\r\n\r\nbody")],
        "no end of HTTP head": [piece(b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000)],
    }
    for why, pieces in cases.items():
        watch = HttpWatch(response=True)
        for p in pieces:
            assert watch.feed(p) is None
        assert watch.failed and watch.why == why
        assert watch.feed(piece(SWITCH)) is None  # failed for good


def test_a_content_length_is_digits_only() -> None:
    """Issue 11: ``Content-Length: -40`` on a pipelined request made a
    negative skip that walked the index backwards for ever."""
    # 4,400 digits: past what int() converts (a ValueError escaped, found by
    # the fuzz campaign); 20: past any length an octet count can have.
    for bad in (b"-40", b"+4", b"4_0", b"\xc2\xb2", b"0x10", b"", b"1" * 4400, b"9" * 20):
        head = b"POST /a HTTP/1.1\r\nContent-Length: " + bad + b"\r\n\r\n"
        stream = head + b"x" * 60 + UPGRADE
        for size in (len(stream), 7):
            watch = HttpWatch(response=False)
            start = time.monotonic()
            assert walk(watch, stream, size) is None
            assert time.monotonic() - start < 1.0
            assert watch.failed and watch.why == "bad Content-Length", bad
    watch = HttpWatch(response=False)
    stream = b"POST /a HTTP/1.1\r\nContent-Length:  3 \r\n\r\nabc" + UPGRADE
    assert walk(watch, stream, 5) is not None and watch.count == 1
