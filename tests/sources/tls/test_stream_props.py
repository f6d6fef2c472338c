"""Properties of the decrypting layer on real TLS sessions made by Python's
``ssl`` over memory BIOs (OpenSSL on both ends, the client logging its
keys): any cut of the TCP stream gives the same plaintext, and corrupted
octets never raise."""

from __future__ import annotations

import contextlib
import itertools
import ssl
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from wss import make_cert

from wirelog.sources.pcap.tcp import DATA, FIN, GAP, Piece
from wirelog.sources.tls.keylog import KeyStore
from wirelog.sources.tls.stream import TlsStream

WRITES = [b"GET / HTTP/1.1\r\n\r\n", b"x" * 40_000, b"", b"last"]


def session(tls12: bool) -> tuple[list[tuple[bool, int]], bytes, bytes, str]:
    """A whole session: its flights in order (who, where its octets end in
    that side's stream), the client's octets, the server's, the key log.
    The handshake, then the client writes :data:`WRITES`, the server answers
    each with its reverse."""
    folder = Path(tempfile.mkdtemp(prefix="wirelog-tls-props-"))
    cert, key = make_cert(folder)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    cctx.keylog_filename = str(folder / "keys.log")
    if tls12:
        cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    bios = [ssl.MemoryBIO() for _ in range(4)]
    client = cctx.wrap_bio(bios[0], bios[1], server_hostname="wirelog.test")
    server = sctx.wrap_bio(bios[2], bios[3], server_side=True)
    wire = {True: bytearray(), False: bytearray()}
    flights: list[tuple[bool, int]] = []

    def move() -> None:
        for src, dst, side in ((bios[1], bios[2], True), (bios[3], bios[0], False)):
            out = src.read()
            if out:
                wire[side] += out
                flights.append((side, len(wire[side])))
            dst.write(out)

    for _ in range(4):
        for obj in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                obj.do_handshake()
            move()
    for data in WRITES:
        if data:
            client.write(data)
            move()
            got = b""
            with contextlib.suppress(ssl.SSLWantReadError):
                while len(got) < len(data):
                    got += server.read(1 << 20)
            server.write(got[::-1])
            move()
            with contextlib.suppress(ssl.SSLWantReadError):
                while client.read(1 << 20):
                    pass
            move()
    return flights, bytes(wire[True]), bytes(wire[False]), str(folder / "keys.log")


SESSIONS = {False: session(False), True: session(True)}


def feed(
    stream: TlsStream, tls12: bool, cuts: dict[bool, list[int]], client: bytes | None = None
) -> dict[bool, list[Piece]]:
    """Each side's octets cut at ``cuts`` (and where its flights end), fed
    in the order the flights went; what comes out, per side."""
    flights, c, s, _ = SESSIONS[tls12]
    data = {True: client if client is not None else c, False: s}
    out: dict[bool, list[Piece]] = {True: [], False: []}
    at = {True: 0, False: 0}
    for side, end in flights:
        points = {at[side], end, *(x % (len(data[side]) + 1) for x in cuts[side])}
        stops = sorted(p for p in points if at[side] <= p <= end)
        for a, b in itertools.pairwise(stops):
            out[side] += stream.feed(side, [(DATA, data[side][a:b], b - a, float(a), a)])
        at[side] = end
    return out


def plaintext(tls12: bool, c_cuts: list[int], s_cuts: list[int]) -> tuple[bytes, bytes, list[str]]:
    found: list[str] = []
    stream = TlsStream(KeyStore(SESSIONS[tls12][3]), True, found.append)
    out = feed(stream, tls12, {True: c_cuts, False: s_cuts})
    for side in (True, False):
        out[side] += stream.feed(side, [(FIN, b"", 0, 0.0, 0)])
    joined = [b"".join(p[1] for p in out[side] if p[0] == DATA) for side in (True, False)]
    return joined[0], joined[1], found


@settings(max_examples=40, deadline=None)
@given(st.booleans(), st.lists(st.integers(0, 1 << 20), max_size=30), st.lists(st.integers()))
def test_any_cut_gives_the_same_plaintext(
    tls12: bool, c_cuts: list[int], s_cuts: list[int]
) -> None:
    tx, rx, found = plaintext(tls12, c_cuts, s_cuts[:30])
    assert tx == b"".join(WRITES)
    assert rx == b"".join(w[::-1] for w in WRITES)
    assert found == []


@settings(max_examples=60, deadline=None)
@given(
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), min_size=1, max_size=5),
    st.lists(st.integers(0, 1 << 20), max_size=10),
)
def test_corrupted_octets_never_raise_and_are_reported(
    tls12: bool, flips: list[tuple[int, int]], cuts: list[int]
) -> None:
    _, client, _, keys = SESSIONS[tls12]
    data = bytearray(client)
    for at, mask in flips:
        data[at % len(data)] ^= mask
    found: list[str] = []
    stream = TlsStream(KeyStore(keys), True, found.append)
    parts = feed(stream, tls12, {True: cuts, False: []}, bytes(data))
    out = parts[True] + stream.feed(True, [(GAP, b"", 1000, 0.0, 0), (FIN, b"", 0, 0.0, 0)])
    sent = b"".join(WRITES)
    # Records verify or are dropped: whatever comes out was sent...
    assert all(p[1] in sent for p in out if p[0] == DATA)
    # ...and a session that lost plaintext says so.
    tx = b"".join(p[1] for p in out if p[0] == DATA)
    assert tx == sent or found or stream.undecrypted() is not None
