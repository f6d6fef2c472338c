"""Record protection undone: one direction's keys and sequence number.

* TLS 1.3 (RFC 8446 §5.2-§5.3): AEAD over the whole record, nonce = IV
  XOR the 64-bit sequence number, the record header as additional data;
  the plaintext ends with the real content type after zero padding.
* TLS 1.2 AES-GCM and AES-CCM (RFC 5288 §3, RFC 6655 §3): an 8-octet
  explicit nonce opens the fragment, the 4-octet salt comes from the key
  block; ChaCha20-Poly1305
  (RFC 7905 §2) XORs the sequence number into a 12-octet IV. The
  additional data is ``seq type version length`` (RFC 5246 §6.2.3.3).
* TLS 1.2 CBC (RFC 5246 §6.2.3.2): explicit IV, ciphertext of
  ``content MAC padding``, the HMAC over ``seq type version length
  content``; with encrypt-then-MAC (RFC 7366 §3) the HMAC follows the
  ciphertext and covers ``seq type version length IV+ciphertext``.

Every primitive is ``cryptography``'s. A record that does not verify gives
None, never an exception: it is a finding for the caller.
"""

from __future__ import annotations

import hmac as _compare
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from wirelog.sources.tls.keys import CBC, CCM, CHACHA, Suite, hmac_of

_SEQ = struct.Struct("!Q")
_AAD = struct.Struct("!QBHH")


class RecordCipher:
    """One direction's record protection, from one key."""

    __slots__ = ("_aead", "_iv_int", "etm", "iv", "key", "mac_key", "seq", "suite")

    def __init__(
        self, suite: Suite, key: bytes, iv: bytes, mac_key: bytes = b"", etm: bool = False
    ) -> None:
        self.suite = suite
        self.key = key
        self.iv = iv
        self.mac_key = mac_key
        self.etm = etm
        self.seq = 0
        self._iv_int = int.from_bytes(iv, "big") if len(iv) == 12 else 0
        self._aead: AESGCM | AESCCM | ChaCha20Poly1305 | None
        if suite.cipher == CHACHA:
            self._aead = ChaCha20Poly1305(key)
        elif suite.cipher == CCM:
            self._aead = AESCCM(key, tag_length=suite.tag)
        elif suite.cipher == CBC:
            self._aead = None
        else:
            self._aead = AESGCM(key)

    def overhead(self) -> int:
        """Octets of a fragment that are not plaintext (CBC: at least)."""
        s = self.suite
        if s.tls13:
            return s.tag + 1
        if s.cipher == CBC:
            return 16 + s.mac_len + 1
        return s.tag + (8 if s.fixed_iv == 4 else 0)

    def open(self, header: bytes, fragment: bytes) -> tuple[int, bytes] | None:
        """The content type and plaintext of the next record, the sequence
        number advanced; None (the number unchanged) when it does not verify."""
        found = self.open_at(self.seq, header, fragment)
        if found is not None:
            self.seq += 1
        return found

    def open_at(self, seq: int, header: bytes, fragment: bytes) -> tuple[int, bytes] | None:
        """:meth:`open` as record number ``seq``, without advancing."""
        suite = self.suite
        aead = self._aead
        if suite.tls13:
            assert aead is not None
            nonce = (self._iv_int ^ seq).to_bytes(12, "big")
            try:
                inner = aead.decrypt(nonce, fragment, header)
            except InvalidTag:
                return None
            end = len(inner)
            while end and not inner[end - 1]:
                end -= 1
            if not end:
                return None  # no content type: RFC 8446 §5.4 makes it an error
            return inner[end - 1], inner[: end - 1]
        ctype, version = header[0], header[1] << 8 | header[2]
        if aead is None:
            return self._cbc(seq, ctype, version, header, fragment)
        if suite.fixed_iv == 4:
            nonce, body = self.iv + fragment[:8], fragment[8:]
        else:
            nonce, body = (self._iv_int ^ seq).to_bytes(12, "big"), fragment
        if len(body) < suite.tag:
            return None
        aad = _AAD.pack(seq, ctype, version, len(body) - suite.tag)
        try:
            return ctype, aead.decrypt(nonce, body, aad)
        except InvalidTag:
            return None

    def _cbc(
        self, seq: int, ctype: int, version: int, header: bytes, fragment: bytes
    ) -> tuple[int, bytes] | None:
        suite = self.suite
        mac_len = suite.mac_len
        assert suite.mac is not None
        if self.etm:
            body, tag = fragment[:-mac_len], fragment[-mac_len:]
            if len(body) < 32 or len(body) % 16:
                return None
            aad = _AAD.pack(seq, ctype, version, len(body))
            want = hmac_of(suite.mac, self.mac_key, aad + body)
            if not _compare.compare_digest(want, tag):
                return None
            padded = self._decrypt(body)
            pad = padded[-1]
            if pad + 1 > len(padded):
                return None
            return ctype, padded[: len(padded) - pad - 1]
        if len(fragment) < 32 or len(fragment) % 16:
            return None
        padded = self._decrypt(fragment)
        pad = padded[-1]
        end = len(padded) - pad - 1 - mac_len
        if end < 0:
            return None
        content, tag = padded[:end], padded[end : end + mac_len]
        want = hmac_of(suite.mac, self.mac_key, _AAD.pack(seq, ctype, version, end) + content)
        if not _compare.compare_digest(want, tag):
            return None
        return ctype, content

    def _decrypt(self, body: bytes) -> bytes:
        """AES-CBC with the explicit IV that opens ``body``."""
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(body[:16])).decryptor()
        return decryptor.update(body[16:]) + decryptor.finalize()
