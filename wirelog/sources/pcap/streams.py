"""Octets of an input as they arrive: files, stdin, FIFOs, compressed, never a seek.

A capture may come through a pipe (``tcpdump -U -w - | wirelog decode -``,
``<(zcat x.pcap.gz)``): it can be read once, and only forwards. So the
readers here never seek and never ask for more than one read's worth:
:meth:`Window.need` reads what the source has (``read1``), so a record is
handed out as soon as its last octet arrives, and a length field that
claims a gigabyte costs only the octets that really follow it.

:func:`wirelog.sources.detect.detect` reads the head of such a stream to
name its kind, and :func:`hold` keeps that head and the open stream, so the
reader continues where detection stopped (:func:`open_raw`).
"""

from __future__ import annotations

import os
import select
import stat
import sys
from typing import Protocol, cast

from wirelog.errors import InputError
from wirelog.sources.pcap.inflate import MAGIC_LENGTH, CorruptData, Inflate, codec_of

#: The path that names standard input.
STDIN = "-"

#: The most one read asks for (a record larger than that is read in steps).
READ_SIZE = 4 * 1024 * 1024

#: One captured packet: (1-based number, link type, timestamp, buffer,
#: start, end) -- the record is ``buffer[start:end]``, never copied; the
#: timestamp is integer nanoseconds since the epoch.
Record = tuple[int, int, int, bytes, int, int]

#: The exceptions a read of a damaged input may raise (a decompressor says
#: EOFError for a cut stream, CorruptData for corrupt data).
READ_ERRORS = (OSError, EOFError, CorruptData)


class Source(Protocol):
    """What the readers read from: ``read1`` returns at least one octet,
    or ``b""`` at the end, and waits only when nothing has arrived."""

    def read1(self, n: int, /) -> bytes: ...

    def close(self) -> None: ...


class Prefixed:
    """A stream whose first octets were already read (by detection)."""

    def __init__(self, head: bytes, rest: Source) -> None:
        self.head = head
        self.rest = rest

    def read1(self, n: int, /) -> bytes:
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.rest.read1(n)

    def close(self) -> None:
        self.rest.close()


class Window:
    """The octets of a source from some file offset on, in one buffer.

    ``buf[pos:]`` is what has been read and not consumed; ``offset`` is the
    file offset of ``buf[0]``, for error messages. A read that fails ends
    the window like the end of the source, what arrived before it kept,
    and :attr:`error` says why."""

    __slots__ = ("buf", "eof", "error", "offset", "pos", "src")

    def __init__(self, src: Source, offset: int = 0) -> None:
        self.src = src
        self.buf = b""
        self.pos = 0
        self.offset = offset
        self.eof = False
        self.error: Exception | None = None

    def at(self) -> int:
        """The file offset of the next unconsumed octet."""
        return self.offset + self.pos

    def avail(self) -> int:
        return len(self.buf) - self.pos

    def need(self, n: int) -> bool:
        """Make ``n`` octets available from ``pos``; False at the end of the
        source (what did arrive stays in the buffer). Reads only what
        arrives: never allocates ``n`` octets ahead of them.

        An empty window takes one read as its buffer, as it came (no copy);
        a window still holding the start of a record reads only what that
        record lacks, so the record is the only copy made and the next read
        starts at a record boundary (joining the rest of a buffer to each
        ``READ_SIZE`` read copied every octet of a capture once more)."""
        have = len(self.buf) - self.pos
        if have >= n:
            return True
        if self.eof:
            return False
        parts = [self.buf[self.pos :]] if have else []
        read1 = self.src.read1
        while have < n:
            try:
                chunk = read1(min(n - have, READ_SIZE) if have else READ_SIZE)
            except READ_ERRORS as exc:
                self.error = exc
                chunk = b""
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.offset += self.pos
        self.buf = b"".join(parts)
        self.pos = 0
        return have >= n


_held: dict[str, tuple[str, bytes, Source]] = {}


def is_stream(path: str) -> bool:
    """Whether ``path`` can be read only once, forwards (stdin, a FIFO,
    ``/dev/fd/N`` of a process substitution, a character device, a held
    stream such as a live capture's, until it is opened)."""
    if path == STDIN or path in _held:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class _Pipe:
    """A pipe's octets, as many as have arrived in one call: a pipe hands
    out 64 KiB per read, and a capture piped from ``cat`` would otherwise
    be decoded in steps of a packet or two."""

    def __init__(self, fh: Source, fd: int) -> None:
        self.fh = fh
        self.fd = fd

    def read1(self, n: int, /) -> bytes:
        first = self.fh.read1(n)
        if not first or len(first) >= n:
            return first
        parts = [first]
        have = len(first)
        while have < n and select.select([self.fd], [], [], 0)[0]:
            more = self.fh.read1(n - have)
            if not more:
                break
            parts.append(more)
            have += len(more)
        return b"".join(parts)

    def close(self) -> None:
        self.fh.close()


def pipe(fh: Source, fd: int) -> Source:
    """A pipe read as :func:`_open_binary` reads one (a live capture's)."""
    return _Pipe(fh, fd)


def _open_binary(path: str) -> Source:
    if path == STDIN:
        stdin = cast(Source, sys.stdin.buffer)  # a BufferedReader: it has read1
        return _Pipe(stdin, sys.stdin.fileno())
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
        return _Pipe(fh, fh.fileno()) if is_stream(path) else fh
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None


def read_head(path: str, size: int, enough: int) -> tuple[bytes, Source]:
    """Open ``path`` and read its first octets: up to ``size``, stopping
    once ``enough`` have arrived and the source would wait for more."""
    fh = _open_binary(path)
    parts: list[bytes] = []
    have = 0
    try:
        while have < size:
            chunk = fh.read1(size - have)
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
            if have >= enough and _head_is_enough(b"".join(parts)):
                break
    except OSError as exc:
        fh.close()
        raise InputError(path, exc.strerror or str(exc)) from None
    return b"".join(parts), fh


def _head_is_enough(head: bytes) -> bool:
    """A capture's magic or a compressed stream's is enough to name the kind;
    waiting for 4 KiB of a live capture would hold its first packets back."""
    return head[:4] in _MAGICS or codec_of(head) is not None


_MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
}


def hold(path: str, kind: str, head: bytes, fh: Source) -> None:
    """Keep a stream whose head detection read, for the reader to continue."""
    _held[path] = (kind, head, fh)


def held_kind(path: str) -> str | None:
    """The kind detection gave a held stream, if ``path`` is one."""
    held = _held.get(path)
    return held[0] if held else None


def open_raw(path: str) -> Source:
    """The octets of ``path`` as stored (compressed or not), from the first:
    a held stream continues after the head detection read."""
    held = _held.pop(path, None)
    if held is not None:
        return Prefixed(held[1], held[2])
    return Prefixed(b"", _open_binary(path))


def open_input(path: str) -> tuple[Source, bytes]:
    """The octets of ``path``, decompressed when they are compressed
    (:mod:`~wirelog.sources.pcap.inflate`), and their first four (read
    already, handed out again by the source)."""
    raw = open_raw(path)
    try:
        head = _first(raw, MAGIC_LENGTH)
        codec = codec_of(head)
        src: Source = Prefixed(head, raw) if codec is None else Inflate(Prefixed(head, raw), codec)
        magic = _first(src, 4)
    except READ_ERRORS as exc:
        raw.close()
        raise InputError(path, f"unreadable ({exc})") from None
    return Prefixed(magic, src), magic


def read_all(path: str) -> bytes:
    """The whole input (a file, ``-``, a FIFO; decompressed when it is
    compressed), for the formats parsed whole: JSON and HTML reports, HARs."""
    src, _ = open_input(path)
    parts = []
    try:
        while part := src.read1(READ_SIZE):
            parts.append(part)
    except READ_ERRORS as exc:
        raise InputError(path, f"unreadable ({exc})") from None
    finally:
        src.close()
    return b"".join(parts)


def _first(src: Source, n: int) -> bytes:
    parts = []
    have = 0
    while have < n:
        chunk = src.read1(n - have)
        if not chunk:
            break
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)
