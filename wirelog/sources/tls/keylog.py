"""Session secrets by client random: the NSS key log and pcapng DSBs.

The NSS key log format (what ``SSLKEYLOGFILE`` makes Firefox, Chromium,
curl, Go and Python's ``ssl`` write, and what Wireshark reads) is one
secret a line: ``LABEL <client random, hex> <secret, hex>``; ``#`` starts a
comment. TLS 1.2 sessions log ``CLIENT_RANDOM`` (the master secret);
TLS 1.3 sessions log the traffic secrets (``CLIENT_HANDSHAKE_TRAFFIC_SECRET``,
``SERVER_TRAFFIC_SECRET_0``...). A pcapng Decryption Secrets Block of type
``TLSK`` carries the very same text (``editcap --inject-secrets tls,KEYS``).

Like Wireshark, lines that are not secrets are skipped, not fatal: key logs
are appended to by several programs at once. The key log may still be
growing while a live capture is read, so a client random that is not known
makes the store read what was appended since (bounded: once per miss, only
the new octets).
"""

from __future__ import annotations

import binascii
import os

from wirelog.errors import InputError

#: The labels wirelog uses; others (EXPORTER_SECRET) are kept too, they
#: cost nothing.
CLIENT_RANDOM = "CLIENT_RANDOM"
CLIENT_EARLY = "CLIENT_EARLY_TRAFFIC_SECRET"
CLIENT_HANDSHAKE = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_TRAFFIC = "CLIENT_TRAFFIC_SECRET_0"
SERVER_TRAFFIC = "SERVER_TRAFFIC_SECRET_0"

Secrets = dict[str, bytes]


def parse(text: bytes, into: dict[bytes, Secrets]) -> int:
    """Add the secrets of key-log ``text`` to ``into``; the number of lines
    that were not secrets (skipped)."""
    skipped = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            skipped += 1
            continue
        try:
            label = parts[0].decode("ascii")
            random = binascii.unhexlify(parts[1])
            secret = binascii.unhexlify(parts[2])
        except (UnicodeDecodeError, binascii.Error, ValueError):
            skipped += 1
            continue
        if len(random) != 32 or not secret:
            skipped += 1
            continue
        into.setdefault(random, {})[label] = secret
    return skipped


class KeyStore:
    """Every secret known for a capture: a key-log file (re-read where it
    grew) and the Decryption Secrets Blocks met so far in the capture."""

    def __init__(self, path: str | None = None, blocks: list[bytes] | None = None) -> None:
        self.path = path
        self.blocks: list[bytes] = blocks if blocks is not None else []
        """DSB payloads, appended by the pcapng reader as it meets them."""
        self._seen_blocks = 0
        self._read_to = 0
        self._tail = b""
        self.secrets: dict[bytes, Secrets] = {}
        if path is not None:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise InputError(path, f"cannot read the TLS key log ({exc.strerror})") from None
            self._read_more()

    def lookup(self, client_random: bytes) -> Secrets | None:
        """The secrets of the session with this client random, if known."""
        found = self.secrets.get(client_random)
        if found is None:
            self._read_more()
            found = self.secrets.get(client_random)
        return found

    def _read_more(self) -> None:
        while self._seen_blocks < len(self.blocks):
            parse(self.blocks[self._seen_blocks], self.secrets)
            self._seen_blocks += 1
        if self.path is None:
            return
        try:
            size = os.path.getsize(self.path)
            if size <= self._read_to:
                if self._tail:
                    # A last line without its newline, and nothing more came.
                    parse(self._tail, self.secrets)
                    self._tail = b""
                return
            with open(self.path, "rb") as fh:
                fh.seek(self._read_to)
                new = fh.read(size - self._read_to)
        except OSError:
            return  # it could be read at the start: keep what was read then
        self._read_to += len(new)
        text = self._tail + new
        cut = text.rfind(b"\n") + 1
        # A line still being written waits for its end.
        self._tail = text[cut:]
        parse(text[:cut], self.secrets)


def from_environment(path: str | None) -> str | None:
    """The key log to read: ``path``, else ``SSLKEYLOGFILE`` when it names
    a file that exists (a browser creates it only when it first writes)."""
    if path is not None:
        return path
    env = os.environ.get("SSLKEYLOGFILE")
    if env and os.path.isfile(env):
        return env
    return None
