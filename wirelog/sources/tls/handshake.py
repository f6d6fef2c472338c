"""The handshake messages the decryption needs, and the facts users want.

A handshake message is ``type(1) length(3) body`` and may span records, or
share one (RFC 8446 §4, RFC 5246 §7.4); :class:`Messages` joins them per
direction. From the ClientHello wirelog takes the client random (the key
log's index), SNI (RFC 6066 §3), ALPN offers and whether encrypt-then-MAC
was offered (RFC 7366); from the ServerHello the server random, the
cipher suite, the version (``supported_versions``, RFC 8446 §4.2.1, over
the legacy field) and encrypt-then-MAC; ALPN's answer is in the
ServerHello (TLS 1.2) or the EncryptedExtensions (TLS 1.3), as is whether
0-RTT data was offered (ClientHello) and taken (EncryptedExtensions). A
message that cannot be parsed yields nothing: an analyzer records what it
can.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

CLIENT_HELLO = 1
SERVER_HELLO = 2
NEW_SESSION_TICKET = 4
END_OF_EARLY_DATA = 5
ENCRYPTED_EXTENSIONS = 8
FINISHED = 20
KEY_UPDATE = 24

_SNI = 0
_ALPN = 16
_ETM = 22
_EARLY_DATA = 42
_SUPPORTED_VERSIONS = 43

#: The ServerHello random that makes it a HelloRetryRequest (RFC 8446 §4.1.3).
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

#: Handshake messages larger than this are not held (a certificate chain
#: is the largest real one).
MAX_MESSAGE = 1 << 20

VERSIONS = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}


@dataclass(slots=True)
class Hello:
    """What one hello message said."""

    random: bytes
    version: int
    suites: tuple[int, ...] = ()
    sni: str | None = None
    alpn: tuple[str, ...] = ()
    etm: bool = False
    extensions: list[int] = field(default_factory=list)

    @property
    def early_data(self) -> bool:
        """The ``early_data`` extension (RFC 8446 §4.2.10): in a ClientHello,
        0-RTT data follows it; in EncryptedExtensions, the server took it."""
        return _EARLY_DATA in self.extensions


def looks_like_client_hello(data: bytes) -> bool:
    """Do these first octets of a connection start a TLS ClientHello?"""
    if len(data) < 6:
        return False
    return data[0] == 22 and data[1] == 3 and data[2] <= 4 and data[5] == CLIENT_HELLO


class Messages:
    """One direction's handshake messages, joined across records."""

    __slots__ = ("_buf", "broken")

    def __init__(self) -> None:
        self._buf = b""
        self.broken = False

    def feed(self, fragment: bytes) -> Iterator[tuple[int, bytes]]:
        """The complete messages (type, body) this fragment ends."""
        if self.broken:
            return
        buf = self._buf + fragment if self._buf else fragment
        at = 0
        while len(buf) - at >= 4:
            size = int.from_bytes(buf[at + 1 : at + 4], "big")
            if size > MAX_MESSAGE:
                self.broken = True
                self._buf = b""
                return
            if len(buf) - at - 4 < size:
                break
            yield buf[at], buf[at + 4 : at + 4 + size]
            at += 4 + size
        self._buf = buf[at:]


def parse_hello(body: bytes, server: bool) -> Hello | None:
    """A ClientHello's or ServerHello's facts; None when it is cut or malformed."""
    try:
        (legacy,) = struct.unpack_from("!H", body, 0)
        random = body[2:34]
        if len(random) != 32:
            return None
        at = 34
        at += 1 + body[at]  # legacy session id
        if server:
            suites: tuple[int, ...] = struct.unpack_from("!H", body, at)
            at += 3  # the suite and the compression method
        else:
            (n,) = struct.unpack_from("!H", body, at)
            suites = struct.unpack_from(f"!{n // 2}H", body, at + 2)
            at += 2 + n
            at += 1 + body[at]  # compression methods
        hello = Hello(random, legacy, suites)
        if at + 2 <= len(body):
            (total,) = struct.unpack_from("!H", body, at)
            extensions(hello, body[at + 2 : at + 2 + total], server)
        return hello
    except (struct.error, IndexError):
        return None


def extensions(hello: Hello, data: bytes, server: bool) -> None:
    """Read the extensions wirelog uses into ``hello``."""
    at = 0
    while at + 4 <= len(data):
        kind, size = struct.unpack_from("!HH", data, at)
        value = data[at + 4 : at + 4 + size]
        at += 4 + size
        hello.extensions.append(kind)
        if kind == _SNI and not server and len(value) >= 5 and value[2] == 0:
            (n,) = struct.unpack_from("!H", value, 3)
            hello.sni = value[5 : 5 + n].decode("ascii", "replace")
        elif kind == _ALPN:
            hello.alpn = alpn(value)
        elif kind == _ETM:
            hello.etm = True
        elif kind == _SUPPORTED_VERSIONS and server and len(value) == 2:
            (hello.version,) = struct.unpack_from("!H", value, 0)


def alpn(value: bytes) -> tuple[str, ...]:
    """The protocol names of an ALPN extension (RFC 7301 §3.1)."""
    names = []
    at = 2
    while at < len(value):
        n = value[at]
        names.append(value[at + 1 : at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    return tuple(names)


def encrypted_extensions(body: bytes) -> Hello:
    """A TLS 1.3 EncryptedExtensions message: the ALPN answer, and whether
    the server accepted 0-RTT data (:attr:`Hello.early_data`)."""
    hello = Hello(b"", 0)
    if len(body) >= 2:
        extensions(hello, body[2:], server=True)
    return hello
