"""The 64-octet cut and Autobahn's two log encodings (spec §1.4).

Oracles: the spec's rules, and the strings Autobahn itself wrote into the
shared corpus (every TF/RF payload of 1,034 reports).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from autobahn_json_docs import ascii_log as reference_ascii_log
from hypothesis import assume, given
from hypothesis import strategies as st

from wirelog.sources.autobahn.encoding import (
    ELLIPSIS,
    MAXLEN,
    LogDataError,
    ascii_log,
    bin_log,
    is_hex_form,
    octets_from_log,
    payload_from_log,
)

REPORTS = Path(__file__).resolve().parents[4] / "shared" / "autobahn-reports"


def test_bin_log_cuts_past_60_and_keeps_64() -> None:
    assert MAXLEN == 64
    assert bin_log(b"\x01\x02") == "0102"
    assert bin_log(bytes(60), 60) == "00" * 60
    assert bin_log(bytes(61)) == "00" * 61 + " ..."  # complete, yet marked
    assert bin_log(bytes(70)) == "00" * 64 + " ..."
    assert bin_log(bytes(range(100)), 100) == bytes(range(64)).hex() + " ..."
    assert bin_log(bytes(64), 239) == "00" * 64 + " ..."  # a cut log chunk


def test_ascii_log_text_or_hex() -> None:
    assert ascii_log(b"Hello, world!", 13) == ascii_log(b"Hello, world!") == "Hello, world!"
    assert ascii_log(b"\x03\xe8") == "0x03e8"  # the seed's close payload
    assert ascii_log(b"\x00\x00", 2) == "\x00\x00"  # both bytes < 0x80: text
    assert ascii_log(b"*" * 70) == "*" * 64 + " ..."
    assert ascii_log(b"*" * 61) == "*" * 61 + " ..."
    cut = "€".encode() * 30  # a code point split at byte 64: hex
    assert ascii_log(cut) == "0x" + cut[:64].hex() + " ..."
    assert ascii_log(b"", 0) == ""


def test_encoded_surrogates_are_text_as_autobahn_wrote_them() -> None:
    """Python 2's UTF-8 codec let surrogates through (6.20.x, 6.21.x)."""
    assert ascii_log(b"\xed\xa0\x80") == "\ud800"
    assert ascii_log(b"\xed\xa0\x80\xed\xb0\x80") == "\U00010000"  # a pair joins
    assert payload_from_log("\ud800", 3) == b"\xed\xa0\x80"
    assert payload_from_log("\U00010000", 6) == b"\xed\xa0\x80\xed\xb0\x80"
    assert payload_from_log("\U00010000", 4) == "\U00010000".encode()


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
def test_every_payload_string_of_the_corpus_is_reproduced() -> None:
    seen = surrogates = 0
    for path in sorted(REPORTS.glob("*/*_case_*.json")):
        doc = json.loads(path.read_text(encoding="utf-8", errors="surrogateescape"))
        for entry in doc["wirelog"]:
            if entry[0] in ("RF", "TF"):
                length, text = entry[1]
                assert ascii_log(payload_from_log(text, length), length) == text, path.name
                seen += 1
                surrogates += any("\ud800" <= c <= "\udfff" or c > "\uffff" for c in text)
            elif entry[0] in ("RO", "TO"):
                length, text = entry[1]
                data = octets_from_log(text, length)
                assert bin_log(data, length) == text
                assert len(data) == min(length, MAXLEN)
    assert seen == 2122
    assert surrogates >= 15  # 6.20.x / 6.21.x in both runs


def test_hex_form_rule() -> None:
    assert is_hex_form("0x03e8", 2)
    assert not is_hex_form("0x03e8", 3)
    assert not is_hex_form("0xab", 4)  # text that merely starts with 0x
    assert is_hex_form("0x" + "00" * 64 + ELLIPSIS, 100)
    assert payload_from_log("0xab", 4) == b"0xab"


def test_octets_that_no_encoder_wrote_are_refused() -> None:
    with pytest.raises(LogDataError, match="not lowercase hex"):
        octets_from_log("ABCD", 2)
    with pytest.raises(LogDataError, match="declared 3 octets but the log holds 2"):
        octets_from_log("abcd", 3)
    assert octets_from_log("00" * 100, 100) == bytes(100)  # an uncut writer
    assert octets_from_log("00" * 64 + ELLIPSIS, 200) == bytes(64)


# -- properties ---------------------------------------------------------------------

PIECES = st.one_of(
    st.binary(max_size=8),
    st.text(max_size=4).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.integers(0xD800, 0xDFFF).map(lambda c: chr(c).encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xf0\x90\x80\x80", b"\xed\xa0\x80\xed\xb0\x80", b" ", b"\t", b"0x"]),
)
DATA = st.lists(PIECES, max_size=24).map(b"".join)


@given(DATA)
def test_bin_log_round_trips(data: bytes) -> None:
    text = bin_log(data)
    assert octets_from_log(text, len(data)) == data[:MAXLEN]
    assert text.endswith(ELLIPSIS) == (len(data) > 60)


@given(DATA, st.integers(0, 200))
def test_bin_log_of_a_cut_chunk_round_trips(data: bytes, extra: int) -> None:
    length = len(data) + extra
    assume(length == len(data) or len(data) >= MAXLEN or extra == 0)
    assert octets_from_log(bin_log(data, length), length) == data[:MAXLEN]


@given(DATA)
def test_ascii_log_is_stable_through_the_reader(data: bytes) -> None:
    """What the reader makes of a logged string logs as that string again."""
    text = ascii_log(data)
    back = payload_from_log(text, len(data))
    assert ascii_log(back, len(data)) == text
    assert len(back) == min(len(data), MAXLEN)


@given(DATA)
def test_ascii_log_round_trips_the_bytes(data: bytes) -> None:
    """Bytes come back exactly, except where Autobahn's text cannot tell an
    encoded surrogate pair from the 4-byte character it stands for."""
    kept = data[:MAXLEN]
    try:
        decoded = kept.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        decoded = ""
    pair = any(
        "\ud800" <= a <= "\udbff" and "\udc00" <= b <= "\udfff"
        for a, b in itertools.pairwise(decoded)
    )
    assume(not (pair and any(c > "\uffff" for c in decoded)))
    assert payload_from_log(ascii_log(data), len(data)) == kept


@given(DATA)
def test_pages_read_with_surrogateescape_give_the_bytes_back(data: bytes) -> None:
    """An HTML page holds the text's UTF-8 (surrogates as their own octets)
    and is read with ``surrogateescape``."""
    assume(len(data) <= 60)
    text = ascii_log(data)
    page = text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")
    back = payload_from_log(page, len(data), "surrogateescape")
    if not any(c > "\uffff" for c in text):
        assert back == data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Hello, world!",
        b"0x12",  # text that merely starts with "0x"
        b"0x" + b"ab" * 30,  # ... even when what follows looks like hex
        b"\x03\xe8",  # close 1000: hex form
        b"\x00\x00",  # close code 0: text form
        b"x" * 61,  # 61-64 bytes: complete, yet " ..." is appended
        b"x" * 64,
        "\u00e9".encode() * 40,  # 80 bytes, cut at a code point boundary
        b"\xfe" * 200,  # cut, hex form
        b"a" * 63 + "\u00e9".encode(),  # a code point split at byte 64: hex form
        b"\xed\xa0\x80",  # a lone surrogate, as Python 2 let it through
        b"\xed\xa0\x80\xed\xb0\x80",  # a surrogate pair as six bytes (6.21.x)
        "\U00010000".encode(),  # the same pair as one 4-byte character
    ],
)
def test_payload_round_trip(data: bytes) -> None:
    length, text = reference_ascii_log(data)
    # What the parser sees went through a JSON file written by Python 2.
    text = json.loads(json.dumps(text))
    assert payload_from_log(text, length) == data[:64]
