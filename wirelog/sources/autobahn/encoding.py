"""The 64-octet cut and Autobahn's two log encodings, both ways (spec §1.4).

autobahn 0.10.9 logs every socket read/write with ``binLogData`` (hex) and
every frame payload with ``asciiLogData`` (UTF-8 text, or ``0x`` + hex when
the bytes are not UTF-8). Both keep :data:`MAXLEN` bytes and append
:data:`ELLIPSIS` when the data is longer than :data:`CUT_AT`, so 61-64 byte
data is complete although it ends in ``" ..."``. Autobahn ran under
Python 2, whose UTF-8 codec let encoded surrogates through: the octets
``ed a0 80`` are logged as the text ``"\\ud800"``, not as hex. Every reader
and writer of the format in wirelog goes through this module.
"""

from __future__ import annotations

import re

from wirelog.sources.autobahn.limits import MAX_FIELD_OCTETS

MAXLEN = 64
"""Autobahn's ``maxlen``: octets and payloads keep this many bytes."""
CUT_AT = 60
"""Data longer than this gets :data:`ELLIPSIS` (and loses what lies past 64)."""
ELLIPSIS = " ..."
HEX = re.compile(r"(?:[0-9a-f]{2})*")
_ELLIPSIS = ELLIPSIS.encode()
_SURROGATE = re.compile("[\ud800-\udfff]")
_HEX_FIELD = re.compile(r"\s*((?:[0-9a-f]{2})*)\s*")


class LogDataError(ValueError):
    """A log data string that no Autobahn encoder can have written."""


def bin_log(data: bytes, length: int | None = None) -> str:
    """``binLogData``: hex of the first 64 bytes, ``" ..."`` past 60.

    ``length`` is the declared length when ``data`` is already a cut
    prefix of a longer chunk (defaults to ``len(data)``)."""
    n = len(data) if length is None else length
    if n > CUT_AT:
        return data[:MAXLEN].hex() + ELLIPSIS
    return data.hex()


def ascii_log(data: bytes, length: int | None = None) -> str:
    """``asciiLogData``: UTF-8 text when the (cut) bytes decode strictly with
    Python 2's rules, which let surrogates through, else ``0x`` + :func:`bin_log`.

    An encoded surrogate *pair* comes out as one code point, as Python 2's
    UTF-8 encoder joined it when writing the HTML and as Python 3's ``json``
    joins the escaped pair when reading the JSON."""
    n = len(data) if length is None else length
    raw = data[:MAXLEN] + _ELLIPSIS if n > CUT_AT else data
    try:
        text = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return "0x" + bin_log(data, n)
    # Both tests in C: ASCII text (most payloads) holds no surrogate, and
    # the search scans once (a generator per character made a suite case
    # of 65,536 fragments spend 1.7 s here).
    if not text.isascii() and _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


def octets_from_log(text: str, length: int | None) -> bytes:
    """``binLogData`` reversed: drop a trailing " ...", hex-decode.

    A writer that does not cut (wirelog's own replay reports) writes all
    ``length`` bytes; that is accepted as well as Autobahn's prefix, up to
    :data:`~.limits.MAX_FIELD_OCTETS`. The hex is matched in place and
    sliced only when it is padded, so a long field is copied once, into
    its bytes."""
    check_field(text)
    cut = text.endswith(ELLIPSIS)
    m = _HEX_FIELD.fullmatch(text, 0, len(text) - len(ELLIPSIS) if cut else len(text))
    if m is None:
        raise LogDataError(f"octets are not lowercase hex: {text[:40]!r}")
    check_field(text, (m.end(1) - m.start(1)) // 2)
    data = bytes.fromhex(text[m.start(1) : m.end(1)])
    if length is not None:
        expect = min(length, MAXLEN) if cut or length > MAXLEN else length
        if len(data) != expect and len(data) != length:
            raise LogDataError(f"declared {length} octets but the log holds {len(data)}")
    return data


def check_field(text: str, octets: int | None = None) -> None:
    """Refuse a field longer than any log writer writes, before decoding it:
    ``octets`` when known, else what its length allows (hex is two
    characters an octet, text never longer than its UTF-8)."""
    if octets is None:
        octets = (len(text) - 2 - len(ELLIPSIS)) // 2
    if octets > MAX_FIELD_OCTETS:
        raise LogDataError(
            f"a log field of {len(text):,} characters (more than the "
            f"{MAX_FIELD_OCTETS:,} octets one field may hold)"
        )


def is_hex_form(text: str, length: int) -> bool:
    """A payload string is ``asciiLogData``'s hex form iff after "0x" (and
    without a trailing " ...") it is lowercase hex of exactly
    ``min(length, 64)`` bytes; text that merely starts with "0x" never is."""
    if not text.startswith("0x"):
        return False
    body = text[2:]
    if body.endswith(ELLIPSIS):
        body = body[: -len(ELLIPSIS)]
    return len(body) == 2 * min(length, MAXLEN) and HEX.fullmatch(body) is not None


def payload_from_log(text: str, length: int, errors: str = "surrogatepass") -> bytes:
    """``asciiLogData`` reversed, including its hex-vs-text rule.

    ``errors`` is how the text's code points map back to bytes:
    ``surrogatepass`` for JSON (lone surrogates came from ``\\u`` escapes),
    ``surrogateescape`` for pages read with that handler.
    """
    check_field(text)
    want = min(length, MAXLEN)
    if is_hex_form(text, length):
        body = text[2:]
        return bytes.fromhex(body[: -len(ELLIPSIS)] if body.endswith(ELLIPSIS) else body)
    if length > CUT_AT and text.endswith(ELLIPSIS):
        text = text[: -len(ELLIPSIS)]
    data = text.encode("utf-8", errors)
    check_field(text, len(data))
    if len(data) < want:
        data = _split_pairs(text, want - len(data), errors) or data
    return data


def _split_pairs(text: str, short: int, errors: str) -> bytes | None:
    """Python 3's ``json`` joins ``"\\ud800\\udc00"`` into one code point, but
    Python 2 wrote that pair for the *six* bytes of two encoded surrogates
    as well as for one 4-byte character (and its UTF-8 encoder, writing the
    HTML, joined such pairs into 4 bytes too). The declared length tells
    which: each pair that was two surrogates adds 2 bytes."""
    if short % 2:
        return None
    need = short // 2
    out = bytearray()
    for ch in text:
        if need and ord(ch) > 0xFFFF:
            v = ord(ch) - 0x10000
            pair = chr(0xD800 + (v >> 10)) + chr(0xDC00 + (v & 0x3FF))
            out += pair.encode("utf-8", "surrogatepass")
            need -= 1
        else:
            out += ch.encode("utf-8", errors)
    if need:
        return None
    return bytes(out)
