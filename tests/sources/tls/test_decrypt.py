"""Record protection undone, against records protected by
``cryptography``'s own encryptors (AEAD encrypt, AES-CBC + HMAC as RFC 5246
and RFC 7366 lay them out): each suite family opens, a wrong tag, MAC or
padding gives None and leaves the sequence number alone."""

from __future__ import annotations

import os
import struct

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from wirelog.sources.tls.decrypt import RecordCipher
from wirelog.sources.tls.keys import SUITES

V12 = 0x0303


def header(ctype: int, length: int) -> bytes:
    return struct.pack("!BHH", ctype, V12, length)


def aad(seq: int, ctype: int, length: int) -> bytes:
    return struct.pack("!QBHH", seq, ctype, V12, length)


def tls13_record(
    aead: AESGCM | AESCCM | ChaCha20Poly1305, iv: bytes, seq: int, inner: bytes, tag: int = 16
) -> bytes:
    nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
    head = header(23, len(inner) + tag)
    return head + aead.encrypt(nonce, inner, head)


@pytest.mark.parametrize("code", [0x1301, 0x1302, 0x1303, 0x1304, 0x1305])
def test_tls13_records_open_in_sequence(code: int) -> None:
    suite = SUITES[code]
    key, iv = os.urandom(suite.key_len), os.urandom(12)
    aead: AESGCM | AESCCM | ChaCha20Poly1305 = AESGCM(key)
    if code == 0x1303:
        aead = ChaCha20Poly1305(key)
    elif code >= 0x1304:
        aead = AESCCM(key, tag_length=suite.tag)
    cipher = RecordCipher(suite, key, iv)
    for seq, (ctype, text) in enumerate([(22, b"\x14\x00\x00\x00"), (23, b"hello"), (23, b"")]):
        inner = text + bytes([ctype]) + bytes(seq * 3)  # zero padding
        rec = tls13_record(aead, iv, seq, inner, suite.tag)
        assert cipher.open(rec[:5], rec[5:]) == (ctype, text)
    assert cipher.seq == 3
    # The same record again is out of sequence: it does not verify.
    assert cipher.open(rec[:5], rec[5:]) is None and cipher.seq == 3
    assert cipher.open_at(2, rec[:5], rec[5:]) == (23, b"")
    # Only padding, no content type: not a record (RFC 8446 §5.4).
    pad = tls13_record(aead, iv, 3, bytes(4), suite.tag)
    assert cipher.open(pad[:5], pad[5:]) is None


@pytest.mark.parametrize("code", [0xC02F, 0xC030, 0xCCA8])
def test_tls12_aead_records_open(code: int) -> None:
    suite = SUITES[code]
    key, iv = os.urandom(suite.key_len), os.urandom(suite.fixed_iv)
    cipher = RecordCipher(suite, key, iv)
    for seq, text in enumerate([b"\x14\x00\x00\x0cfinished....", b"GET / HTTP/1.1\r\n"]):
        ctype = 22 if seq == 0 else 23
        if code == 0xCCA8:
            nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
            body = ChaCha20Poly1305(key).encrypt(nonce, text, aad(seq, ctype, len(text)))
        else:
            explicit = os.urandom(8)
            sealed = AESGCM(key).encrypt(iv + explicit, text, aad(seq, ctype, len(text)))
            body = explicit + sealed
        assert cipher.open(header(ctype, len(body)), body) == (ctype, text)
        bad = body[:-1] + bytes([body[-1] ^ 1])
        assert cipher.open_at(seq, header(ctype, len(bad)), bad) is None
    assert cipher.open(header(23, 4), b"abcd") is None  # shorter than a tag
    assert cipher.overhead() == (16 if code == 0xCCA8 else 24)


def _mac(name: str, key: bytes, data: bytes) -> bytes:
    h = hmac.HMAC(key, {"sha1": hashes.SHA1(), "sha256": hashes.SHA256()}[name])
    h.update(data)
    return h.finalize()


def _cbc(key: bytes, iv: bytes, plain: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(plain) + enc.finalize()


def _pad(data: bytes) -> bytes:
    n = 15 - len(data) % 16
    return data + bytes([n]) * (n + 1)


@pytest.mark.parametrize("code", [0x002F, 0xC027])
@pytest.mark.parametrize("etm", [False, True])
def test_cbc_records_open_with_and_without_encrypt_then_mac(code: int, etm: bool) -> None:
    suite = SUITES[code]
    assert suite.mac is not None
    key, mac_key = os.urandom(suite.key_len), os.urandom(suite.mac_len)
    cipher = RecordCipher(suite, key, b"", mac_key, etm)
    text = b"a WebSocket frame, in a CBC record"
    for seq in range(2):
        if etm:
            body = _cbc(key, os.urandom(16), _pad(text))
            body += _mac(suite.mac, mac_key, aad(seq, 23, len(body)) + body)
        else:
            tag = _mac(suite.mac, mac_key, aad(seq, 23, len(text)) + text)
            body = _cbc(key, os.urandom(16), _pad(text + tag))
        assert cipher.open(header(23, len(body)), body) == (23, text)
    # A flipped octet: the MAC (after or before decryption) does not match.
    bad = bytearray(body)
    bad[20] ^= 1
    assert cipher.open_at(1, header(23, len(bad)), bytes(bad)) is None
    assert cipher.open(header(23, 20), bytes(20)) is None  # not whole blocks
    assert cipher.overhead() == 16 + suite.mac_len + 1


def test_cbc_padding_longer_than_the_record_does_not_open() -> None:
    suite = SUITES[0x002F]
    key, mac_key = os.urandom(16), os.urandom(20)
    for etm in (False, True):
        body = _cbc(key, os.urandom(16), bytes([255]) * 32)
        if etm:
            body += _mac("sha1", mac_key, aad(0, 23, len(body)) + body)
        assert RecordCipher(suite, key, b"", mac_key, etm).open(header(23, len(body)), body) is None
    assert RecordCipher(suite, key, b"", mac_key, True).open(header(23, 30), bytes(30)) is None
