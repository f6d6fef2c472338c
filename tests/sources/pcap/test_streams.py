"""Octets as they arrive: gzip that hands out every octet before a cut,
bounded output, joined members; windows that read only what arrives."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from wirelog.sources.pcap import streams
from wirelog.sources.pcap.inflate import CODECS, CorruptData, Inflate

GZIP = CODECS[0]


def _Gunzip(raw: io.BytesIO) -> Inflate:
    return Inflate(raw, GZIP)


def test_gunzip_hands_out_every_octet_and_joins_members() -> None:
    data = bytes(range(256)) * 40
    two = gzip.compress(data[:5000]) + gzip.compress(data[5000:])
    z = _Gunzip(io.BytesIO(two))
    assert z.read(3) == data[:3]
    assert z.read(len(data)) == data[3:]
    assert z.read(10) == b""
    with pytest.raises(OSError, match="not seekable"):
        z.seek(0)
    z.close()
    cut = _Gunzip(io.BytesIO(gzip.compress(data)[:-30]))
    got = cut.read(len(data) - 100)
    assert data.startswith(got)
    with pytest.raises(EOFError):
        while cut.read(1000):
            pass


def test_gunzip_output_is_bounded_by_the_request() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    blob = bomb.compress(bytes(50_000_000)) + bomb.flush()
    z = _Gunzip(io.BytesIO(blob))
    assert z.read(1000) == bytes(1000)
    assert len(z.d.unconsumed_tail) > 0  # the rest was not inflated


def test_gunzip_ignores_the_zeros_a_file_is_padded_with() -> None:
    data = bytes(range(256)) * 40
    padded = gzip.compress(data) + b"\x00" * 5000
    assert _Gunzip(io.BytesIO(padded)).read(len(data) + 10) == data
    then = gzip.compress(data) + b"\x00" * 7 + gzip.compress(b"more")
    assert _Gunzip(io.BytesIO(then)).read(len(data) + 10) == data + b"more"
    junk = _Gunzip(io.BytesIO(gzip.compress(data) + b"\x00\x00junk"))
    assert junk.read(len(data)) == data
    with pytest.raises(CorruptData, match="corrupt gzip data"):
        junk.read(10)


class _Reads:
    """A file's octets through ``read1``, every request recorded."""

    def __init__(self, data: bytes) -> None:
        self.fh = io.BytesIO(data)
        self.asked: list[int] = []
        self.given: list[bytes] = []

    def read1(self, n: int, /) -> bytes:
        self.asked.append(n)
        out = self.fh.read1(n)
        self.given.append(out)
        return out

    def close(self) -> None:
        self.fh.close()


def test_window_reads_what_a_straddling_record_lacks_then_whole_reads() -> None:
    size = streams.READ_SIZE
    data = bytes(range(256)) * (2 * size // 256 + 64)
    src = _Reads(data)
    w = streams.Window(src)
    assert w.need(10)
    assert w.buf is src.given[0]  # an empty window takes the read as it came
    w.pos = size - 6  # a record of 100 octets starts 6 before the read's end
    assert w.need(100)
    assert src.asked == [size, 94]  # only what that record lacks
    assert w.buf == data[size - 6 : size + 94] and w.at() == size - 6
    w.pos = 100
    assert w.need(1)
    assert src.asked[-1] == size and w.buf is src.given[-1] and w.at() == size + 94
    w.pos = len(w.buf)
    rest = data[2 * size + 94 :]
    assert w.need(len(rest))  # the rest: the last read is cut short by the end
    assert w.buf == rest and not w.need(len(rest) + 1) and w.eof


def test_window_never_asks_a_read_larger_than_read_size() -> None:
    big = streams.READ_SIZE * 3
    src = _Reads(bytes(big - 5))
    w = streams.Window(src)
    assert w.need(1)
    assert not w.need(big)  # more than the source holds: False, what came kept
    assert max(src.asked) == streams.READ_SIZE and w.avail() == big - 5
