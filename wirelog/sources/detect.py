"""What an input is, from its content, never its name.

Every source registers nothing: this one function looks at the first
octets (decompressed when the file is compressed: gzip, zstd, lz4, xz,
bzip2) and names the reader.
"""

from __future__ import annotations

import json
import os
import re

from wirelog.errors import InputError, UnknownFormatError
from wirelog.sources.pcap.inflate import Codec, CorruptData, Inflate, codec_of
from wirelog.sources.pcap.streams import (
    READ_ERRORS,
    STDIN,
    Prefixed,
    Source,
    held_kind,
    hold,
    is_stream,
    read_head,
)

#: How much of an input detection reads.
HEAD = 4096

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
#: A mitmproxy flow file: tnetstrings, each flow a dictionary whose first
#: key is a short name (``4:type;``, ``9:websocket;``...).
TNETSTRING_FLOW = re.compile(rb"\d{1,12}:\d{1,3}:[a-z_]{1,40};")


def detect(path: str) -> str:
    """The input kind, from content: ``folder`` (of captures, HARs...),
    ``autobahn-folder``, ``autobahn-index``,
    ``autobahn-json``, ``autobahn-html``, ``autobahn-text``, ``pcap``, ``pcapng``,
    ``har``, ``mitmproxy``.

    ``-`` is standard input. An input that can be read only once (stdin, a
    FIFO, a process substitution) is not reopened: the octets read here are
    held with the open stream, and the reader continues from them
    (:func:`wirelog.sources.pcap.streams.open_raw`); asking again gives the
    same answer without reading."""
    kind = held_kind(path)
    if kind is not None:
        return kind
    if path != STDIN and os.path.isdir(path):
        return _folder_kind(path)
    once = is_stream(path)
    head, fh = read_head(path, HEAD, 4 if once else HEAD)
    try:
        plain = head
        codec = codec_of(head)
        if codec is not None:
            head, plain = _plain_head(path, codec, head, fh, once)
        kind = _kind(path, plain, once)
    except BaseException:
        fh.close()
        raise
    if once:
        hold(path, kind, head, fh)
    else:
        fh.close()
    return kind


def _folder_kind(path: str) -> str:
    """``autobahn-folder`` when the folder holds Autobahn reports (an
    index.json, ``*_case_*`` files) or nothing, else ``folder``: a folder of
    inputs of their own kinds (:mod:`wirelog.sources.folder`)."""
    try:
        names = os.listdir(path)
    except OSError:
        return "autobahn-folder"  # its reader names the error
    if "index.json" in names or any(_CASE_NAME.search(n) for n in names):
        return "autobahn-folder"
    if not any(os.path.isfile(os.path.join(path, n)) for n in names if not n.startswith(".")):
        return "autobahn-folder"
    return "folder"


_CASE_NAME = re.compile(r"_case_\d", re.IGNORECASE)


class _Seen:
    """A source that remembers the octets it handed out (a stream's, which
    the reader must get again)."""

    def __init__(self, head: bytes, fh: Source) -> None:
        self.src = Prefixed(head, fh)
        self.parts: list[bytes] = []

    def read1(self, n: int, /) -> bytes:
        out = self.src.read1(n)
        self.parts.append(out)
        return out

    def close(self) -> None:
        self.src.close()


def _plain_head(
    path: str, codec: Codec, head: bytes, fh: Source, once: bool
) -> tuple[bytes, bytes]:
    """The octets read and the first ones inside a compressed input (for a
    stream, reading on only until four are decompressed)."""
    seen = _Seen(head, fh)
    try:
        plain = Inflate(seen, codec).read(4 if once else HEAD)
    except READ_ERRORS as exc:
        why = str(exc) if isinstance(exc, CorruptData) else f"corrupt {codec.name} data ({exc})"
        raise InputError(path, why) from None
    return b"".join(seen.parts), plain


def _kind(path: str, head: bytes, once: bool) -> str:
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    if TNETSTRING_FLOW.match(head):
        return "mitmproxy"
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        return _json_kind(path, text, once)
    low = text[:2048].lower()
    if low.startswith("<!doctype html") or low.startswith("<html") or "<pre class=" in low:
        return "autobahn-html"
    if "Wire Log" in text or "TX OCTETS" in text or "RX OCTETS" in text or "Autobahn" in text:
        return "autobahn-text"
    if not head:
        raise UnknownFormatError(path, "empty file")
    raise UnknownFormatError(
        path,
        "not an Autobahn report (JSON, HTML or text), a reports folder, a pcap/pcapng "
        "capture, a HAR or a mitmproxy flow file",
    )


def _json_kind(path: str, head: str, once: bool) -> str:
    if _har(head):
        return "har"
    if '"wirelog"' in head or ('"agent"' in head[:200] and '"case"' in head):
        return "autobahn-json"
    if '"reportfile"' in head:
        return "autobahn-index"
    if once:
        return "autobahn-json"  # a stream is read once: the parser will say
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            doc = json.load(fh)
    except (ValueError, OSError, RecursionError):
        # The report reader says where it breaks (nesting too deep included).
        return "autobahn-json"
    if isinstance(doc, dict) and isinstance(doc.get("log"), dict) and "entries" in doc["log"]:
        return "har"
    if isinstance(doc, dict) and "wirelog" in doc:
        return "autobahn-json"
    if isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()):
        return "autobahn-index"
    raise UnknownFormatError(
        path, "JSON, but neither an Autobahn case report, an index.json nor a HAR"
    )


def _har(head: str) -> bool:
    """A HAR opens with its ``log`` object (HAR 1.2 §log), whose first keys
    are among version, creator, browser, pages and entries."""
    start = head[:200].replace(" ", "").replace("\n", "").replace("\t", "").replace("\r", "")
    return start.startswith('{"log":{') and any(
        f'"{k}"' in head[:4096] for k in ("version", "creator", "entries", "pages")
    )
