"""Hello messages as Python's ``ssl`` (OpenSSL) writes them, over memory
BIOs: the client random, SNI, ALPN, the suite and the version are read;
messages are joined across records; cut or oversized ones yield nothing."""

from __future__ import annotations

import contextlib
import ssl
import struct
from pathlib import Path

from wss import make_cert

from wirelog.sources.tls import handshake as hs


def hellos(tmp_path: Path, tls12: bool) -> tuple[bytes, bytes]:
    """The first flight of each side, as records."""
    cert, key = make_cert(tmp_path)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    sctx.set_alpn_protocols(["http/1.1"])
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    cctx.set_alpn_protocols(["h2", "http/1.1"])
    if tls12:
        cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = cctx.wrap_bio(c_in, c_out, server_hostname="wirelog.test")
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    for obj in (client, server):
        with contextlib.suppress(ssl.SSLWantReadError):
            obj.do_handshake()
        if obj is client:
            first = c_out.read()
            s_in.write(first)
    return first, s_out.read()


def messages(records: bytes) -> list[tuple[int, bytes]]:
    """The plaintext handshake messages of the leading handshake records,
    one record at a time through one joiner."""
    joiner = hs.Messages()
    out, at = [], 0
    while at + 5 <= len(records) and records[at] == 22:
        size = struct.unpack_from("!H", records, at + 3)[0]
        out += list(joiner.feed(records[at + 5 : at + 5 + size]))
        at += 5 + size
    return out


def test_tls13_hellos(tmp_path: Path) -> None:
    first, answer = hellos(tmp_path, tls12=False)
    assert hs.looks_like_client_hello(first)
    ((kind, body),) = messages(first)
    assert kind == hs.CLIENT_HELLO
    ch = hs.parse_hello(body, server=False)
    assert ch is not None
    assert ch.random == body[2:34] and ch.sni == "wirelog.test"
    assert ch.alpn == ("h2", "http/1.1") and 0x1301 in ch.suites
    kind, body = messages(answer)[0]
    sh = hs.parse_hello(body, server=True)
    assert kind == hs.SERVER_HELLO and sh is not None
    assert sh.version == 0x0304 and sh.suites[0] in (0x1301, 0x1302, 0x1303)
    assert sh.alpn == ()  # TLS 1.3 answers ALPN in the EncryptedExtensions


def test_tls12_hellos(tmp_path: Path) -> None:
    first, answer = hellos(tmp_path, tls12=True)
    ch = hs.parse_hello(messages(first)[0][1], server=False)
    kinds = [k for k, _ in messages(answer)]
    assert kinds[0] == hs.SERVER_HELLO and len(kinds) >= 3  # + Certificate, ...
    sh = hs.parse_hello(messages(answer)[0][1], server=True)
    assert ch is not None and sh is not None
    assert sh.version == 0x0303 and sh.alpn == ("http/1.1",) and sh.random != ch.random


def test_a_message_split_over_records_and_cut_ones(tmp_path: Path) -> None:
    first, _ = hellos(tmp_path, tls12=False)
    fragment = first[5:]
    joiner = hs.Messages()
    assert list(joiner.feed(fragment[:3])) == []
    assert list(joiner.feed(fragment[3:100])) == []
    ((kind, body),) = list(joiner.feed(fragment[100:]))
    assert kind == hs.CLIENT_HELLO and hs.parse_hello(body, server=False) is not None
    assert hs.parse_hello(body[:20], server=False) is None
    assert hs.parse_hello(body[:36], server=False) is None
    huge = hs.Messages()
    assert list(huge.feed(b"\x0b\xff\xff\xff" + bytes(10))) == [] and huge.broken
    assert list(huge.feed(fragment)) == []


def test_encrypted_extensions() -> None:
    ext = struct.pack("!HHH", 16, 11, 9) + b"\x08http/1.1"
    ee = hs.encrypted_extensions(struct.pack("!H", len(ext)) + ext)
    assert ee.alpn == ("http/1.1",) and not ee.early_data
    assert hs.encrypted_extensions(b"").alpn == ()
    # early_data (42), empty: the server took the client's 0-RTT data (RFC 8446 §4.2.10).
    ext += struct.pack("!HH", 42, 0)
    ee = hs.encrypted_extensions(struct.pack("!H", len(ext)) + ext)
    assert ee.alpn == ("http/1.1",) and ee.early_data
    assert not hs.looks_like_client_hello(b"GET / HTTP/1.1\r\n")
