"""Compressed inputs, decompressed as their octets arrive: gzip, zstd, lz4, xz, bzip2.

Wireshark reads captures compressed with gzip, zstd and lz4 (``tshark -r
x.pcapng.zst``); archives of captures are as often xz or bzip2. Any input
wirelog reads (captures, Autobahn reports, HARs, flows) may be any of them,
from a file, ``-`` or a FIFO, and the kind is told from the first octets,
never the name (``cat a.zst b.zst`` is one stream, as the tools read it).

One class for all five, because the libraries share one streaming shape:
``decompress(data, max_length)``, ``eof``, ``unused_data`` (zlib returns
the input it did not take in ``unconsumed_tail`` instead of keeping it).
``max_length`` is what keeps a decompression bomb harmless: each call hands
out at most what the reader asked for, so memory is bounded by the request
whatever the ratio. The window a decompressor keeps is bounded too: gzip's
32 KiB, bzip2's 900 KiB, lz4's 4 MiB blocks, zstd's 128 MiB unless a frame
asks for more (then it is refused, as by zstd(1)), xz's by :data:`XZ_MEMORY`.
A stream cut short hands out every octet before the cut, then says so
(:class:`EOFError`); corrupt data is :class:`CorruptData` naming the format.
The zstd and lz4 modules are imported when a stream of theirs is met.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class CorruptData(ValueError):
    """The compressed octets are not valid data of their format."""


class _Raw(Protocol):
    def read1(self, n: int, /) -> bytes: ...

    def close(self) -> None: ...


def _gzip() -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)


def _zstd_module() -> Any:
    """The standard library's zstd (Python 3.14), else PEP 784's backport of it."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef,unused-ignore]
    return zstd


def _zstd() -> Any:
    return _zstd_module().ZstdDecompressor()


def _lz4() -> Any:
    import lz4.frame

    return lz4.frame.LZ4FrameDecompressor()


#: The most memory an xz stream's header may make liblzma take: its
#: dictionary size is a header field (up to 4 GiB); ``xz -9`` needs 65 MiB.
XZ_MEMORY = 128 << 20


def _xz() -> Any:
    import lzma

    return lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=XZ_MEMORY)


def _lzma_error() -> type[BaseException]:
    import lzma

    return lzma.LZMAError


def _bzip2() -> Any:
    import bz2

    return bz2.BZ2Decompressor()


def _zstd_errors() -> tuple[type[BaseException], ...]:
    return (_zstd_module().ZstdError,)


@dataclass(frozen=True, slots=True)
class Codec:
    """One compressed format: how to tell it and how to open a decompressor."""

    name: str
    magics: tuple[bytes, ...]
    """First octets of a stream (zstd: also its skippable frames, which
    ``pzstd`` and seekable writers put first)."""
    new: Callable[[], Any]
    errors: Callable[[], tuple[type[BaseException], ...]]
    """What its decompressor raises on corrupt data (lz4: RuntimeError)."""
    keeps_input: bool = True
    """The decompressor keeps input it has not used (zlib hands it back)."""

    def matches(self, head: bytes) -> bool:
        return any(head.startswith(m) for m in self.magics)


CODECS = (
    Codec("gzip", (b"\x1f\x8b",), _gzip, lambda: (zlib.error,), keeps_input=False),
    Codec(
        "zstd",
        (b"\x28\xb5\x2f\xfd", *(bytes([0x50 + i]) + b"\x2a\x4d\x18" for i in range(16))),
        _zstd,
        _zstd_errors,
    ),
    Codec("lz4", (b"\x04\x22\x4d\x18",), _lz4, lambda: (RuntimeError,)),
    Codec("xz", (b"\xfd7zXZ\x00",), _xz, lambda: (_lzma_error(),)),
    Codec(
        "bzip2",
        tuple(b"BZh" + bytes([c]) + b"1AY&SY" for c in b"123456789"),
        _bzip2,
        lambda: (OSError,),
    ),
)
"""Every format read, by its magic (bzip2's includes the first block's, so
a text that starts with ``BZh`` is not taken for one)."""

#: Octets that tell every codec apart.
MAGIC_LENGTH = max(len(m) for c in CODECS for m in c.magics)


def codec_of(head: bytes) -> Codec | None:
    """The format whose magic ``head`` starts with, if any."""
    for c in CODECS:
        if c.matches(head):
            return c
    return None


#: The most one read of the compressed source asks for.
_READ = 1 << 20


class Inflate:
    """A compressed source's octets, decompressed, handed out as they arrive.

    Streams joined one after the other (``cat a.gz b.gz``, several zstd
    frames) are one; the zeros some writers pad a file with between or
    after them (gzip(1) and xz(1) skip them) are skipped.
    """

    def __init__(self, raw: _Raw, codec: Codec) -> None:
        self.raw = raw
        self.codec = codec
        self.d: Any = codec.new()
        self._errors = codec.errors()
        self.pending = b""
        self.truncated = False

    def read(self, n: int) -> bytes:
        """Exactly ``n`` octets, fewer only at the end."""
        parts: list[bytes] = []
        have = 0
        while have < n:
            try:
                part = self.read1(n - have)
            except EOFError:
                if parts:
                    break  # raised again by the next call
                raise
            if not part:
                break
            parts.append(part)
            have += len(part)
        return b"".join(parts)

    def read1(self, n: int, /) -> bytes:
        """At most ``n`` octets, at least one unless the stream has ended:
        as much as one read of the compressed source gives."""
        if self.pending:
            out, self.pending = self.pending[:n], self.pending[n:]
            return out
        while True:
            d = self.d
            if d.eof:
                src = d.unused_data or self.raw.read1(_READ)
                while src and not src.strip(b"\x00"):
                    src = self.raw.read1(_READ)
                if not src:
                    return b""
                src = src.lstrip(b"\x00")
                self.d = d = self.codec.new()
            elif self.codec.keeps_input:
                src = self.raw.read1(_READ) if d.needs_input else b""
                if not src and d.needs_input:
                    self.truncated = True
                    raise EOFError("compressed data ends before the end-of-stream marker")
            else:
                src = d.unconsumed_tail or self.raw.read1(_READ)
                if not src:
                    tail: bytes = d.flush()  # what zlib still holds (bounded by its window)
                    self.truncated = not d.eof
                    if tail:
                        out, self.pending = tail[:n], tail[n:]
                        return out
                    if self.truncated:
                        raise EOFError("compressed data ends before the end-of-stream marker")
                    return b""
            try:
                data: bytes = d.decompress(src, n)
            except self._errors as exc:
                raise CorruptData(f"corrupt {self.codec.name} data ({exc})") from None
            if data:
                return data

    def seek(self, pos: int) -> None:
        raise OSError("not seekable")

    def close(self) -> None:
        self.raw.close()
