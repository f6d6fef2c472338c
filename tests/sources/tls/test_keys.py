"""The key schedules against OpenSSL's own KDFs (``openssl kdf``) and
RFC 8448's trace; every suite wirelog names is one OpenSSL knows."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from wirelog.sources.tls.keys import (
    CBC,
    SUITES,
    hkdf_expand_label,
    prf,
    tls12_keys,
    tls13_key_iv,
    tls13_update,
)

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

#: RFC 8448 §3, the server's handshake traffic secret and its key and IV.
SERVER_HS = bytes.fromhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")


def openssl_kdf(kdf: str, length: int, *opts: str) -> bytes:
    cmd = ["openssl", "kdf", "-keylen", str(length)]
    for o in opts:
        cmd += ["-kdfopt", o]
    out = subprocess.run([*cmd, kdf], capture_output=True, text=True, check=True).stdout
    return bytes.fromhex(out.strip().replace(":", ""))


def test_tls13_key_and_iv_are_rfc8448s() -> None:
    key, iv = tls13_key_iv(SERVER_HS, SUITES[0x1301])
    assert key.hex() == "3fce516009c21727d0f2e4e86ee403bc"
    assert iv.hex() == "5d313eb2671276ee13000b30"


@pytest.mark.parametrize(
    ("label", "size", "digest"),
    [("key", 32, "SHA384"), ("traffic upd", 48, "SHA384"), ("iv", 12, "SHA256")],
)
def test_hkdf_expand_label_is_openssls_hkdf_expand(label: str, size: int, digest: str) -> None:
    full = b"tls13 " + label.encode()
    info = size.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    theirs = openssl_kdf(
        "HKDF", size, f"digest:{digest}", "mode:EXPAND_ONLY", f"hexkey:{SERVER_HS.hex()}",
        f"hexinfo:{info.hex()}",
    )  # fmt: skip
    assert hkdf_expand_label(SERVER_HS, label, size, digest.lower()) == theirs


def test_a_key_update_is_the_traffic_upd_label() -> None:
    suite = SUITES[0x1302]
    assert tls13_update(SERVER_HS + bytes(16), suite) == hkdf_expand_label(
        SERVER_HS + bytes(16), "traffic upd", 48, "sha384"
    )


@pytest.mark.parametrize("digest", ["SHA256", "SHA384"])
def test_the_tls12_prf_is_openssls(digest: str) -> None:
    secret, seed = bytes(range(48)), b"\x07" * 64
    theirs = openssl_kdf(
        "TLS1-PRF", 104, f"digest:{digest}", f"hexsecret:{secret.hex()}",
        f"hexseed:{(b'key expansion' + seed).hex()}",
    )  # fmt: skip
    assert prf(secret, b"key expansion", seed, 104, digest.lower()) == theirs


def test_the_key_block_is_cut_client_first() -> None:
    master, cr, sr = bytes(range(48)), b"c" * 32, b"s" * 32
    suite = SUITES[0xC027]  # ECDHE-RSA-AES128-SHA256: MAC keys 32, keys 16, no fixed IV
    block = prf(master, b"key expansion", sr + cr, 96, "sha256")
    client, server = tls12_keys(master, cr, sr, suite)
    assert (client.mac_key, server.mac_key) == (block[:32], block[32:64])
    assert (client.key, server.key) == (block[64:80], block[80:96])
    assert client.iv == server.iv == b""
    gcm_client, gcm_server = tls12_keys(master, cr, sr, SUITES[0xC030])
    assert (len(gcm_client.key), len(gcm_server.iv), gcm_client.mac_key) == (32, 4, b"")


TLS13 = ":".join(s.name for s in SUITES.values() if s.tls13)


def test_every_suite_is_one_openssl_knows_by_that_number() -> None:
    """OpenSSL's list of ciphers (its IANA names) holds every TLS 1.2 suite
    wirelog decrypts, under the same name."""
    out = subprocess.run(
        ["openssl", "ciphers", "-stdname", "-V", "-ciphersuites", TLS13, "ALL:@SECLEVEL=0"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    by_code = {}
    for line in out.splitlines():
        parts = line.split()
        code = int(parts[0].replace(",0x", "").replace("0x", ""), 16)
        by_code[code] = parts[2]
    for code, suite in SUITES.items():
        assert by_code.get(code) == suite.name, hex(code)
        assert (suite.mac is not None) == (suite.cipher == CBC)
