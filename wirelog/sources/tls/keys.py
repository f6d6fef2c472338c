"""Cipher suites and the key schedules, with ``cryptography``'s primitives.

TLS 1.3 (RFC 8446 §7): the key log gives the traffic secrets; a record
key and IV are ``HKDF-Expand-Label(secret, "key" | "iv", "", length)``
(§7.3) and a KeyUpdate replaces a secret by
``HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)`` (§7.2).

TLS 1.2 (RFC 5246 §6.3): the key log gives the master secret; the key
block is ``PRF(master, "key expansion", server_random + client_random)``
cut into MAC keys, write keys and IVs, client's first; the PRF is P_hash
over HMAC with the suite's PRF hash (§5). HKDF and HMAC come from
``cryptography``: nothing here is a hand-written primitive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

GCM: Final = "gcm"
CCM: Final = "ccm"
CHACHA: Final = "chacha20-poly1305"
CBC: Final = "cbc"


@dataclass(frozen=True, slots=True)
class Suite:
    """What a cipher suite means for the record layer."""

    code: int
    name: str
    """IANA's name, as Wireshark shows it."""
    cipher: str
    key_len: int
    hash: str
    """The PRF / HKDF hash (``sha256`` or ``sha384``)."""
    mac: str | None = None
    """CBC suites: the HMAC hash (``sha1``, ``sha256``, ``sha384``)."""
    tls13: bool = False
    tag: int = 16
    """AEAD tag octets (8 for the CCM_8 suites)."""

    @property
    def fixed_iv(self) -> int:
        """IV octets taken from the key block (TLS 1.2) or derived (1.3)."""
        if self.tls13 or self.cipher == CHACHA:
            return 12
        return 4 if self.cipher in (GCM, CCM) else 0

    @property
    def mac_len(self) -> int:
        return _HASHES[self.mac]().digest_size if self.mac else 0


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
}


def _suites() -> dict[int, Suite]:
    out = [
        Suite(0x1301, "TLS_AES_128_GCM_SHA256", GCM, 16, "sha256", tls13=True),
        Suite(0x1302, "TLS_AES_256_GCM_SHA384", GCM, 32, "sha384", tls13=True),
        Suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", CHACHA, 32, "sha256", tls13=True),
        Suite(0x1304, "TLS_AES_128_CCM_SHA256", CCM, 16, "sha256", tls13=True),
        Suite(0x1305, "TLS_AES_128_CCM_8_SHA256", CCM, 16, "sha256", tls13=True, tag=8),
    ]
    # TLS 1.2 AES-CCM suites (RFC 6655, RFC 7251): (code, key exchange, key length, tag).
    for code, kx, size, tag in (
        (0xC09C, "RSA", 16, 16),
        (0xC09D, "RSA", 32, 16),
        (0xC09E, "DHE_RSA", 16, 16),
        (0xC09F, "DHE_RSA", 32, 16),
        (0xC0A0, "RSA", 16, 8),
        (0xC0A1, "RSA", 32, 8),
        (0xC0A2, "DHE_RSA", 16, 8),
        (0xC0A3, "DHE_RSA", 32, 8),
        (0xC0AC, "ECDHE_ECDSA", 16, 16),
        (0xC0AD, "ECDHE_ECDSA", 32, 16),
        (0xC0AE, "ECDHE_ECDSA", 16, 8),
        (0xC0AF, "ECDHE_ECDSA", 32, 8),
    ):
        name = f"TLS_{kx}_WITH_AES_{size * 8}_CCM" + ("_8" if tag == 8 else "")
        out.append(Suite(code, name, CCM, size, "sha256", tag=tag))
    # TLS 1.2 AEAD suites: (code, key exchange, key length, hash).
    for code, kx, size, h in (
        (0xC02F, "ECDHE_RSA", 16, "sha256"),
        (0xC030, "ECDHE_RSA", 32, "sha384"),
        (0xC02B, "ECDHE_ECDSA", 16, "sha256"),
        (0xC02C, "ECDHE_ECDSA", 32, "sha384"),
        (0x009E, "DHE_RSA", 16, "sha256"),
        (0x009F, "DHE_RSA", 32, "sha384"),
        (0x009C, "RSA", 16, "sha256"),
        (0x009D, "RSA", 32, "sha384"),
    ):
        out.append(Suite(code, f"TLS_{kx}_WITH_AES_{size * 8}_GCM_{h.upper()}", GCM, size, h))
    for code, kx in ((0xCCA8, "ECDHE_RSA"), (0xCCA9, "ECDHE_ECDSA"), (0xCCAA, "DHE_RSA")):
        out.append(Suite(code, f"TLS_{kx}_WITH_CHACHA20_POLY1305_SHA256", CHACHA, 32, "sha256"))
    # CBC suites: (code, key exchange, key length, MAC hash).
    for code, kx, size, mac in (
        (0x002F, "RSA", 16, "sha1"),
        (0x0035, "RSA", 32, "sha1"),
        (0x003C, "RSA", 16, "sha256"),
        (0x003D, "RSA", 32, "sha256"),
        (0xC013, "ECDHE_RSA", 16, "sha1"),
        (0xC014, "ECDHE_RSA", 32, "sha1"),
        (0xC027, "ECDHE_RSA", 16, "sha256"),
        (0xC028, "ECDHE_RSA", 32, "sha384"),
        (0xC009, "ECDHE_ECDSA", 16, "sha1"),
        (0xC00A, "ECDHE_ECDSA", 32, "sha1"),
        (0xC023, "ECDHE_ECDSA", 16, "sha256"),
        (0xC024, "ECDHE_ECDSA", 32, "sha384"),
        (0x0033, "DHE_RSA", 16, "sha1"),
        (0x0039, "DHE_RSA", 32, "sha1"),
        (0x0067, "DHE_RSA", 16, "sha256"),
        (0x006B, "DHE_RSA", 32, "sha256"),
    ):
        suffix = "SHA" if mac == "sha1" else mac.upper()
        name = f"TLS_{kx}_WITH_AES_{size * 8}_CBC_{suffix}"
        out.append(Suite(code, name, CBC, size, "sha384" if mac == "sha384" else "sha256", mac))
    return {s.code: s for s in out}


SUITES: Final = _suites()


def hkdf_expand_label(secret: bytes, label: str, length: int, hash_name: str) -> bytes:
    """RFC 8446 §7.1 with an empty context."""
    full = b"tls13 " + label.encode("ascii")
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(_HASHES[hash_name](), length, info).derive(secret)


def tls13_key_iv(secret: bytes, suite: Suite) -> tuple[bytes, bytes]:
    """A traffic secret's record key and IV (RFC 8446 §7.3)."""
    key = hkdf_expand_label(secret, "key", suite.key_len, suite.hash)
    return key, hkdf_expand_label(secret, "iv", 12, suite.hash)


def tls13_update(secret: bytes, suite: Suite) -> bytes:
    """The next traffic secret after a KeyUpdate (RFC 8446 §7.2)."""
    size = _HASHES[suite.hash]().digest_size
    return hkdf_expand_label(secret, "traffic upd", size, suite.hash)


def prf(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    """The TLS 1.2 PRF: P_hash(secret, label + seed) (RFC 5246 §5)."""
    algorithm = _HASHES[hash_name]()
    seed = label + seed

    def mac(data: bytes) -> bytes:
        h = hmac.HMAC(secret, algorithm)
        h.update(data)
        return h.finalize()

    out = b""
    a = seed
    while len(out) < length:
        a = mac(a)
        out += mac(a + seed)
    return out[:length]


@dataclass(frozen=True, slots=True)
class WriteKeys:
    """One side's TLS 1.2 write state from the key block."""

    mac_key: bytes
    key: bytes
    iv: bytes


def tls12_keys(
    master: bytes, client_random: bytes, server_random: bytes, suite: Suite
) -> tuple[WriteKeys, WriteKeys]:
    """The client's and the server's write keys (RFC 5246 §6.3)."""
    m, k, i = suite.mac_len, suite.key_len, suite.fixed_iv
    seed = server_random + client_random
    block = prf(master, b"key expansion", seed, 2 * (m + k + i), suite.hash)
    parts = []
    at = 0
    for size in (m, m, k, k, i, i):
        parts.append(block[at : at + size])
        at += size
    cm, sm, ck, sk, ci, si = parts
    return WriteKeys(cm, ck, ci), WriteKeys(sm, sk, si)


def hmac_of(mac: str, key: bytes, data: bytes) -> bytes:
    """An HMAC with the named hash."""
    h = hmac.HMAC(key, _HASHES[mac]())
    h.update(data)
    return h.finalize()
