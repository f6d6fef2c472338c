"""What an input is, from its content, never its name.

Every source registers nothing: this one function looks at the first
octets (through gzip when the file is compressed) and names the reader.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib

from wirelog.errors import InputError, UnknownFormatError

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def detect(path: str) -> str:
    """The input kind, from content: ``autobahn-folder``, ``autobahn-index``,
    ``autobahn-json``, ``autobahn-html``, ``autobahn-text``, ``pcap``, ``pcapng``."""
    if os.path.isdir(path):
        return "autobahn-folder"
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        return "autobahn-folder"
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as gz:
                head = gz.read(4096)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(path, f"corrupt gzip data ({exc})") from None
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        return _json_kind(path, text)
    low = text[:2048].lower()
    if low.startswith("<!doctype html") or low.startswith("<html") or "<pre class=" in low:
        return "autobahn-html"
    if "Wire Log" in text or "TX OCTETS" in text or "RX OCTETS" in text or "Autobahn" in text:
        return "autobahn-text"
    if not head:
        raise UnknownFormatError(path, "empty file")
    raise UnknownFormatError(
        path,
        "not an Autobahn report (JSON, HTML or text), a reports folder, or a pcap/pcapng capture",
    )


def _json_kind(path: str, head: str) -> str:
    if '"wirelog"' in head or ('"agent"' in head[:200] and '"case"' in head):
        return "autobahn-json"
    if '"reportfile"' in head:
        return "autobahn-index"
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            doc = json.load(fh)
    except (ValueError, OSError):
        return "autobahn-json"  # the parser will say where it breaks
    if isinstance(doc, dict) and "wirelog" in doc:
        return "autobahn-json"
    if isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()):
        return "autobahn-index"
    raise UnknownFormatError(path, "JSON, but neither an Autobahn case report nor an index.json")
