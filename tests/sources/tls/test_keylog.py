"""The NSS key log: what Python's ``ssl`` writes is read, junk lines are
skipped, a growing file is re-read, DSB payloads count as key logs."""

from __future__ import annotations

import os
import socket
import ssl
import threading
from pathlib import Path

import pytest
from wss import make_cert

from wirelog.errors import InputError
from wirelog.sources.tls import keylog
from wirelog.sources.tls.keylog import KeyStore, from_environment, parse

RANDOM = bytes(range(32))
LINE = f"CLIENT_RANDOM {RANDOM.hex()} {'ab' * 48}\n".encode()


def _handshake(tmp_path: Path, keys: Path, tls12: bool) -> None:
    """One real TLS handshake over a socket pair, the client logging keys."""
    cert, key = make_cert(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.keylog_filename = str(keys)
    if tls12:
        client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    a, b = socket.socketpair()
    server = threading.Thread(target=lambda: server_ctx.wrap_socket(b, server_side=True).close())
    server.start()
    with client_ctx.wrap_socket(a, server_hostname="wirelog.test"):
        pass
    server.join(10)


@pytest.mark.parametrize("tls12", [False, True])
def test_what_python_ssl_writes_is_read(tmp_path: Path, tls12: bool) -> None:
    keys = tmp_path / "keys.log"
    _handshake(tmp_path, keys, tls12)
    store = KeyStore(str(keys))
    assert len(store.secrets) == 1
    ((random, secrets),) = store.secrets.items()
    assert len(random) == 32
    want = (
        {keylog.CLIENT_RANDOM}
        if tls12
        else {
            keylog.CLIENT_HANDSHAKE,
            keylog.SERVER_HANDSHAKE,
            keylog.CLIENT_TRAFFIC,
            keylog.SERVER_TRAFFIC,
        }
    )
    assert want <= set(secrets)
    assert store.lookup(random) is secrets


def test_junk_lines_are_skipped_and_counted() -> None:
    into: dict[bytes, dict[str, bytes]] = {}
    text = b"# a comment\n\nCLIENT_RANDOM zz 00\nONLY two\nX " + b"ab" * 31 + b" 00\n" + LINE
    text += b"CLIENT_RANDOM " + RANDOM.hex().encode() + b" \xff\xfe\n"
    assert parse(text, into) == 4
    assert into == {RANDOM: {"CLIENT_RANDOM": bytes.fromhex("ab" * 48)}}


def test_a_growing_key_log_is_read_again_on_a_miss(tmp_path: Path) -> None:
    keys = tmp_path / "keys.log"
    keys.write_bytes(b"")
    store = KeyStore(str(keys))
    assert store.lookup(RANDOM) is None
    half = len(LINE) // 2
    with keys.open("ab") as fh:
        fh.write(LINE[:half])
    assert store.lookup(RANDOM) is None  # the line is still being written...
    with keys.open("ab") as fh:
        fh.write(LINE[half:-1])
    assert store.lookup(RANDOM) is None  # grown, but no end of line yet
    # A last line that never gets its newline counts once nothing more comes.
    assert store.lookup(RANDOM) == {"CLIENT_RANDOM": bytes.fromhex("ab" * 48)}
    os.remove(keys)
    assert store.lookup(bytes(32)) is None  # gone: what was read stays


def test_decryption_secrets_blocks_are_read_as_they_arrive() -> None:
    blocks: list[bytes] = []
    store = KeyStore(None, blocks)
    assert store.lookup(RANDOM) is None
    blocks.append(LINE)
    assert store.lookup(RANDOM) == {"CLIENT_RANDOM": bytes.fromhex("ab" * 48)}


def test_an_unreadable_key_log_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the TLS key log"):
        KeyStore(str(tmp_path / "missing.log"))


def test_sslkeylogfile_is_the_default_when_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keys))
    assert from_environment(None) is None  # not created yet
    keys.write_bytes(LINE)
    assert from_environment(None) == str(keys)
    assert from_environment("other.log") == "other.log"
    monkeypatch.delenv("SSLKEYLOGFILE")
    assert from_environment(None) is None
