"""Octets as they arrive: gzip that hands out every octet before a cut,
bounded output, joined members; windows that read only what arrives."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from wirelog.sources.pcap.streams import Gunzip as _Gunzip


def test_gunzip_hands_out_every_octet_and_joins_members() -> None:
    data = bytes(range(256)) * 40
    two = gzip.compress(data[:5000]) + gzip.compress(data[5000:])
    z = _Gunzip(io.BytesIO(two))  # type: ignore[arg-type]
    assert z.read(3) == data[:3]
    assert z.read(len(data)) == data[3:]
    assert z.read(10) == b""
    with pytest.raises(OSError, match="not seekable"):
        z.seek(0)
    z.close()
    cut = _Gunzip(io.BytesIO(gzip.compress(data)[:-30]))  # type: ignore[arg-type]
    got = cut.read(len(data) - 100)
    assert data.startswith(got)
    with pytest.raises(EOFError):
        while cut.read(1000):
            pass


def test_gunzip_output_is_bounded_by_the_request() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    blob = bomb.compress(bytes(50_000_000)) + bomb.flush()
    z = _Gunzip(io.BytesIO(blob))  # type: ignore[arg-type]
    assert z.read(1000) == bytes(1000)
    assert len(z.z.unconsumed_tail) > 0  # the rest was not inflated


def test_gunzip_ignores_the_zeros_a_file_is_padded_with() -> None:
    data = bytes(range(256)) * 40
    padded = gzip.compress(data) + b"\x00" * 5000
    assert _Gunzip(io.BytesIO(padded)).read(len(data) + 10) == data  # type: ignore[arg-type]
    then = gzip.compress(data) + b"\x00" * 7 + gzip.compress(b"more")
    assert _Gunzip(io.BytesIO(then)).read(len(data) + 10) == data + b"more"  # type: ignore[arg-type]
    junk = _Gunzip(io.BytesIO(gzip.compress(data) + b"\x00\x00junk"))  # type: ignore[arg-type]
    assert junk.read(len(data)) == data
    with pytest.raises(zlib.error):
        junk.read(10)
